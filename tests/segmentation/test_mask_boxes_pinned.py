"""The boxes drawn around masks, pinned on real photos with the bundled BlazePose weights.

Four callers turn masks into boxes: ``Segmentation.mask_boxes`` (every semantic / panoptic result),
BlazePose's ``box_from`` (a person's box from its mask, or from its keypoints when it has no mask),
the tracked person boxes of the semantic person model, and ``core.boxes.masks_to_boxes`` itself.
The numbers below were measured with the code as it was before they were made to share one
function; they must not move. Each box is also checked against the plain definition (first and
one-past-last row and column of the mask).
"""
from __future__ import annotations

import numpy as np
import pytest

from core.boxes import mask_box, masks_to_boxes
from core.image import load_image
from core.segmentation import blazepose as bp
from core.segmentation.semantic import PersonTrack, semantic
from core.types import Segmentation

PINNED = {  # photo -> (semantic classes, their mask boxes, BlazePose people's boxes in detector order)
    "astronaut.png": (["background", "person"], [[0, 0, 512, 512], [11, 15, 367, 512]],
                      [[11, 15, 367, 512]]),
    "two_people.jpg": (["background", "person"], [[0, 0, 890, 480], [10, 13, 890, 480]],
                       [[454, 16, 890, 480], [10, 13, 346, 480]]),
}
KEYPOINT_BOXES = {  # with_masks=False: the box of the visible keypoints, clipped to the image
    "astronaut.png": [[78.888, 113.316, 298.611, 512.0]],
    "two_people.jpg": [[421.143, 150.293, 838.977, 480.0], [66.101, 99.644, 313.923, 382.064]],
}
TRACKED = [[1, 15, 350, 512], [2, 16, 353, 512], [3, 14, 356, 512]]  # detect, then two tracked frames


def plain_box(mask: np.ndarray) -> list[int]:
    ys, xs = np.nonzero(mask)
    return [int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_segmentation_mask_boxes_on_real_photos(photos, name):
    classes, boxes, _ = PINNED[name]
    seg = semantic(load_image(photos / name), "mediapipe-person")
    got = seg.mask_boxes()
    assert seg.class_names == classes
    assert got.dtype == np.float32 and got.tolist() == boxes
    assert got.tolist() == [plain_box(m) for m in seg.masks]
    assert seg.extras["person_boxes"] == PINNED[name][2]


@pytest.mark.parametrize("name", sorted(PINNED))
def test_blazepose_person_boxes_from_masks_and_from_keypoints(photos, name):
    rgb = load_image(photos / name)
    found = bp.people(rgb)
    assert [p.box.tolist() for p in found] == PINNED[name][2]
    assert all(p.box.dtype == np.float32 and p.box.tolist() == plain_box(p.mask > 0.5) for p in found)
    no_masks = bp.people(rgb, with_masks=False)
    np.testing.assert_allclose([p.box for p in no_masks], KEYPOINT_BOXES[name], atol=2e-3)


def test_tracked_person_boxes_follow_the_tracked_mask(photos):
    frame = np.ascontiguousarray(load_image(photos / "astronaut.png")[:, 16:496])
    track = PersonTrack(redetect_every=4)
    got, tracked = [], []
    for i in range(3):
        seg = semantic(np.ascontiguousarray(np.roll(frame, 3 * i, axis=1)), "mediapipe-person", track=track)
        got += seg.extras["person_boxes"]
        tracked.append(bool(seg.extras.get("tracked")))
    assert tracked == [False, True, True] and got == TRACKED
    assert all(isinstance(v, float) for box in got for v in box)


def test_empty_masks_keep_zeros_or_their_fallback():
    masks = np.zeros((3, 5, 7), bool)
    masks[1, 2:4, 1:6] = True
    assert mask_box(masks[0]) is None and mask_box(masks[1]).tolist() == [1, 2, 6, 4]
    assert masks_to_boxes(masks).tolist() == [[0, 0, 0, 0], [1, 2, 6, 4], [0, 0, 0, 0]]
    assert masks_to_boxes(masks, np.full((3, 4), 9.5)).tolist()[::2] == [[9.5] * 4] * 2
    seg = Segmentation(masks=masks, class_ids=[0, 1, 2], labels=("a", "b", "c"), task="panoptic", model="m")
    assert seg.mask_boxes().tolist() == masks_to_boxes(masks).tolist()
