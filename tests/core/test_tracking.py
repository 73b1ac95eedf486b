"""The shared tracking component: matching, ids across gaps, appearance re-finding, the detect
schedule, the per-clip track log and the id-switch count."""
import numpy as np

from core.tracking import DetectSchedule, Tracker, TrackLog, greedy_match, id_switches


def test_greedy_match_takes_best_pairs_once_each():
    score = np.array([[0.9, 0.8], [0.85, 0.1], [0.2, 0.25]])
    assert greedy_match(score, 0.3) == [(0, 0)]  # row 1 wants col 0 (taken); its col 1 is 0.1
    pairs = greedy_match(score, 0.05)
    assert pairs[0] == (0, 0) and len(pairs) == 2 and {c for _, c in pairs} == {0, 1}
    assert greedy_match(np.zeros((0, 3)), 0.1) == []


def test_ids_survive_a_short_gap_and_expire_after_a_long_one():
    t = Tracker(max_missed=3)
    a = np.array([[0, 0, 50, 100]], np.float32)
    assert t.update(a, [1]).tolist() == [0]
    for _ in range(3):  # three frames missed: still remembered
        t.update(np.zeros((0, 4)), [])
    assert t.update(a + 2, [1]).tolist() == [0]
    for _ in range(4):  # four: forgotten, id 0 is free again but a new person elsewhere takes it
        t.update(np.zeros((0, 4)), [])
    assert t.ids == []


def test_embedding_refinds_a_track_that_moved_too_far_for_iou():
    t = Tracker(min_similarity=0.8)
    e_a, e_b = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    t.update(np.array([[0, 0, 10, 10], [100, 0, 110, 10]]), [0, 0], np.stack([e_a, e_b]))
    # both jump far (no overlap) and swap places: appearance keeps who is who
    ids = t.update(np.array([[200, 0, 210, 10], [300, 0, 310, 10]]), [0, 0], np.stack([e_b, e_a]))
    assert ids.tolist() == [1, 0]
    # without embeddings they would be new tracks
    t2 = Tracker()
    t2.update(np.array([[0, 0, 10, 10]]), [0])
    assert t2.update(np.array([[200, 0, 210, 10]]), [0]).tolist() == [1]


def test_detect_schedule_runs_every_k_frames_or_when_lost():
    s = DetectSchedule(redetect_every=3)
    runs = []
    for frame in range(7):
        due = s.start_frame(following=frame > 0)  # nothing to follow before the first detection
        if due:
            s.detected()
        runs.append(due)
    assert runs == [True, False, False, True, False, False, True]
    assert s.start_frame(following=False) is True and s.frames == 8


def test_track_log_and_id_switches():
    log = TrackLog()
    log.add(0, [0, 1], ["person", "person"])
    log.add(1, [0], ["person"])
    log.add(5, [1], ["person"])
    assert log.tracks() == [
        {"track_id": 0, "label": "person", "first_frame": 0, "last_frame": 1, "frames": 2},
        {"track_id": 1, "label": "person", "first_frame": 0, "last_frame": 5, "frames": 2},
    ]
    truth = [[10, 20], [10, 20], [20, 10]]
    assert id_switches(truth, [[0, 1], [0, 1], [1, 0]]) == 0
    assert id_switches(truth, [[0, 1], [1, 0], [0, 1]]) == 2  # swapped once, kept


def test_clip_ids_are_never_reused():
    t = Tracker(max_missed=0, reuse_ids=False)
    assert t.update(np.array([[0, 0, 10, 10]]), [0]).tolist() == [0]
    t.update(np.zeros((0, 4)), [])
    assert t.update(np.array([[50, 0, 60, 10]]), [0]).tolist() == [1]
    live = Tracker(max_missed=0)
    live.update(np.array([[0, 0, 10, 10]]), [0])
    live.update(np.zeros((0, 4)), [])
    assert live.update(np.array([[50, 0, 60, 10]]), [0]).tolist() == [0]


def test_colour_signature_tells_outfits_apart_and_refinds_a_lost_track():
    from core.tracking import colour_signature

    rng = np.random.default_rng(0)
    img = np.zeros((100, 200, 3), np.uint8)
    img[:, :100] = (230, 120, 40)  # an orange suit
    img[:, 100:] = (20, 30, 90)  # a navy uniform
    img = np.clip(img.astype(int) + rng.integers(-10, 10, img.shape), 0, 255).astype(np.uint8)
    sig = colour_signature(img, np.array([[0, 0, 50, 100], [50, 0, 100, 100], [120, 0, 200, 100]]))
    assert sig.shape == (3, 48) and np.allclose(np.linalg.norm(sig, axis=1), 1, atol=1e-5)
    assert sig[0] @ sig[1] > 0.95 and sig[0] @ sig[2] < 0.5
    # a mask narrows the signature to the object's own pixels
    masks = np.zeros((1, 100, 200), bool)
    masks[0, :, 100:] = True
    wide = colour_signature(img, np.array([[50, 0, 150, 100]]), masks)
    assert wide[0] @ sig[2] > 0.95


def test_masks_to_boxes_and_resolve_overlaps():
    from core.boxes import masks_to_boxes, resolve_overlaps

    probs = np.zeros((2, 6, 8), np.float32)
    probs[0, 1:4, 1:5] = 0.9
    probs[1, 2:5, 3:7] = 0.7  # overlaps the first at rows 2-3, columns 3-4
    masks = resolve_overlaps(probs, 0.5)
    assert not (masks[0] & masks[1]).any() and masks[0, 2, 3] and not masks[1, 2, 3]
    boxes = masks_to_boxes(np.concatenate([masks, np.zeros((1, 6, 8), bool)]), np.full((3, 4), 7.0))
    np.testing.assert_array_equal(boxes, [[1, 1, 5, 4], [3, 2, 7, 5], [7, 7, 7, 7]])
