"""faces.calibrate: Calibrate (ROC, equal-error rate) on large synthetic-embedding galleries.

The baseline, measured in the same run, is the exact quadratic method (every ROC threshold tested
against every pair score, the pairs listed by a Python double loop) on a 300-photo gallery: at 1,500
photos it would take hours. The new method (sorted scores + cumulative counts, pairs sampled above
200,000) runs on 300 and on 1,500 photos.

    python bench/run_all.py calibration
"""
from __future__ import annotations

import time

import numpy as np


def _quadratic(gallery):
    mat, owners, _ = gallery.matrix()
    sims = mat @ mat.T
    same, diff = [], []
    for i in range(len(owners)):
        for j in range(i + 1, len(owners)):
            (same if owners[i] == owners[j] else diff).append(sims[i, j])
    same, diff = np.asarray(same, np.float64), np.asarray(diff, np.float64)
    cuts = np.unique(np.concatenate([same, diff]))[::-1]
    tpr = np.array([np.mean(same >= t) for t in cuts])
    fpr = np.array([np.mean(diff >= t) for t in cuts])
    return tpr, fpr


def _time(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return (time.perf_counter() - start) * 1000


def run() -> list[dict]:
    from core.faces import calibration as C
    from core.faces import teaching as T
    from tests.faces.test_calibration import synthetic_gallery

    small, large = synthetic_gallery(100, 3), synthetic_gallery(500, 3)
    base_ms = _time(_quadratic, small)
    new_small = _time(C.calibrate, small)
    new_large = _time(C.calibrate, large)
    fit_large = _time(T.fit_gallery_classifier, large)
    note = "baseline: exact quadratic method, 300 photos (44,850 pairs), same run"
    return [
        {"name": "faces.calibrate.300_photos_ms", "value": round(new_small, 1), "unit": "ms",
         "baseline": round(base_ms, 1), "ratio": round(base_ms / new_small, 1), "notes": note},
        {"name": "faces.calibrate.1500_photos_ms", "value": round(new_large, 1), "unit": "ms",
         "baseline": round(base_ms, 1), "ratio": round(base_ms / new_large, 1),
         "notes": note + "; 1,500 photos = 1.1 M pairs, 200,000 sampled"},
        {"name": "faces.fit_pairs.1500_photos_ms", "value": round(fit_large, 1), "unit": "ms",
         "baseline": round(base_ms, 1), "ratio": round(base_ms / fit_large, 1),
         "notes": "pair classifier on 10,000 sampled pairs; " + note},
    ]
