"""Calibration and the pair classifier scale to large galleries: the O(P log P) ROC equals the exact
quadratic one, pairs are sampled (deterministically) above a cap, and a 1,500-photo gallery finishes.
Speed is measured in bench/bench_calibration.py, not here."""
from __future__ import annotations

import numpy as np
import pytest

from core.faces import calibration as C
from core.faces import teaching as T
from core.faces.gallery import Gallery, GalleryError, normalize, set_max_photos


def _roc_quadratic(same, diff):
    """The exact method: every threshold tested against every score (fpr, tpr, thresholds, far, frr, cand)."""
    same, diff = np.asarray(same, np.float64), np.asarray(diff, np.float64)
    cuts = np.unique(np.concatenate([same, diff]))[::-1]
    thresholds = np.concatenate([[np.inf], cuts])
    tpr = np.array([np.mean(same >= t) for t in thresholds])
    fpr = np.array([np.mean(diff >= t) for t in thresholds])
    cand = np.concatenate([[cuts[0] + 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] - 1e-6]])
    far = np.array([np.mean(diff >= t) for t in cand])
    frr = np.array([np.mean(same < t) for t in cand])
    gap = np.abs(far - frr)
    best = np.flatnonzero(gap == gap.min())
    k = int(best[len(best) // 2])
    eer_t = float(cand[k]) if len(best) == 1 else float((cand[best[0]] + cand[best[-1]]) / 2)
    return fpr, tpr, thresholds, float((far[k] + frr[k]) / 2), eer_t


def synthetic_gallery(people: int, photos_each: int, dim: int = 128, spread: float = 0.6, seed: int = 0) -> Gallery:
    """People as random unit centres, their photos the centre plus noise (a realistic same/different gap)."""
    rng = np.random.default_rng(seed)
    g = Gallery.empty("sface", dim)
    centres = normalize(rng.normal(size=(people, dim)))
    for p in range(people):
        emb = normalize(centres[p] + spread * rng.normal(size=(photos_each, dim)) / np.sqrt(dim))
        g = g.enrol(f"person {p}", emb)
    return g


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fast_roc_equals_the_quadratic_one(seed):
    rng = np.random.default_rng(seed)
    # rounded scores: many ties between and within the two groups
    same = np.round(rng.normal(0.6, 0.15, 57), 2)
    diff = np.round(rng.normal(0.1, 0.15, 300), 2)
    fast = C.roc(same, diff)
    fpr, tpr, thresholds, eer, eer_t = _roc_quadratic(same, diff)
    assert np.array_equal(fast.fpr, fpr) and np.array_equal(fast.tpr, tpr)
    assert np.array_equal(fast.thresholds, thresholds)
    assert fast.eer == eer and fast.eer_threshold == eer_t


def test_pair_scores_on_a_small_gallery_are_every_pair():
    g = synthetic_gallery(6, 3)
    same, diff, same_ij, diff_ij = C.pair_scores(g)
    mat, owners, _ = g.matrix()
    ref_same, ref_diff = [], []
    for i in range(len(owners)):
        for j in range(i + 1, len(owners)):
            (ref_same if owners[i] == owners[j] else ref_diff).append(float(mat[i] @ mat[j]))
    assert len(same) == 6 * 3 and len(diff) == 18 * 17 // 2 - 18
    np.testing.assert_allclose(same, ref_same, atol=1e-6)
    np.testing.assert_allclose(diff, ref_diff, atol=1e-6)
    assert same_ij.shape == (18, 2) and (same_ij[:, 0] < same_ij[:, 1]).all()


def test_pairs_are_sampled_above_the_cap_deterministically():
    g = synthetic_gallery(40, 5)  # 200 photos, 19,900 pairs, 400 same-person
    i, j, same = C.pair_indices(g, max_pairs=2000)
    assert len(i) == 2000 and same.sum() == 400 and (i < j).all()
    owners = np.asarray(g.matrix()[1])
    assert np.array_equal(same, owners[i] == owners[j])
    assert len(set(zip(i.tolist(), j.tolist()))) == 2000  # no pair twice
    i2, j2, _ = C.pair_indices(g, max_pairs=2000)
    assert np.array_equal(i, i2) and np.array_equal(j, j2)
    full = C.calibrate(g)
    sampled = C.calibrate(g, max_pairs=2000)
    assert abs(full.eer - sampled.eer) < 0.03 and abs(full.suggested - sampled.suggested) < 0.05


def test_a_1500_photo_gallery_calibrates_and_fits():
    g = synthetic_gallery(500, 3)  # 1,500 photos: 1.1 M pairs
    cal = C.calibrate(g)
    assert len(cal.same) == 1500 and len(cal.same) + len(cal.diff) == C.MAX_PAIRS
    assert cal.eer < 0.05 and 0.0 < cal.suggested < 1.0
    clf = T.fit_gallery_classifier(g)
    assert clf.n_same + clf.n_diff == T.MAX_FIT_PAIRS and clf.train_accuracy > 0.9


def test_gallery_cap_is_a_message():
    set_max_photos(10)
    try:
        g = synthetic_gallery(3, 3)
        with pytest.raises(GalleryError, match="full \\(10 photos"):
            g.enrol("one more", normalize(np.ones((2, 128))))
    finally:
        set_max_photos(5000)
