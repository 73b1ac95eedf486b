"""Calibration of a face-verification threshold on a gallery: same-person and different-person pair
scores, their ROC curve, equal-error rate and a suggested threshold. numpy only.

Cost: a gallery of M photos has M(M-1)/2 pairs. Up to ``MAX_PAIRS`` every pair is scored; above it a
fixed-seed sample is (every same-person pair while they fit in half the cap, the rest different-person
pairs drawn uniformly), so a click costs the same for 1,500 or 5,000 photos. The ROC is computed from
sorted scores and cumulative counts (``np.searchsorted``): O(P log P) for P pairs, where testing every
threshold against every score would be O(P^2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.faces.gallery import Gallery, GalleryError, Metric, to_measure

MAX_PAIRS = 200_000
"""Pairs scored by one calibration at most (a sample above this)."""

PAIR_SEED = 0
"""Seed of the pair sample: the same gallery always gives the same calibration."""


def _owner_ids(gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """(M, D) float32 embeddings of every photo and (M,) int person index of each."""
    mat, owners, _ = gallery.matrix()
    index = {name: k for k, name in enumerate(gallery.names)}
    return mat, np.asarray([index[o] for o in owners], np.int64)


def _same_pairs(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(i, j) with i < j of every same-person pair, rows ordered by i then j."""
    parts_i, parts_j = [], []
    for person in np.unique(ids):
        rows = np.flatnonzero(ids == person)
        a, b = np.triu_indices(len(rows), 1)
        parts_i.append(rows[a])
        parts_j.append(rows[b])
    if not parts_i:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    i, j = np.concatenate(parts_i), np.concatenate(parts_j)
    order = np.lexsort((j, i))
    return i[order], j[order]


def _sample_diff_pairs(ids: np.ndarray, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` distinct different-person pairs (i < j) drawn uniformly (fewer if fewer exist)."""
    n = len(ids)
    keys: np.ndarray = np.zeros(0, np.int64)
    for _ in range(20):  # each round draws with a margin for rejects; duplicates removed by unique
        need = count - len(keys)
        if need <= 0:
            break
        i = rng.integers(0, n, size=2 * need + 16)
        j = rng.integers(0, n, size=2 * need + 16)
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        keep = (lo != hi) & (ids[lo] != ids[hi])
        keys = np.unique(np.concatenate([keys, lo[keep] * n + hi[keep]]))
    keys = keys[:count] if len(keys) <= count else rng.choice(keys, count, replace=False)
    keys = np.sort(keys)
    return keys // n, keys % n


def pair_indices(gallery: Gallery, max_pairs: int = MAX_PAIRS,
                 seed: int = PAIR_SEED) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, same) for the photo pairs to score, indices into ``gallery.matrix()`` rows, i < j, and
    whether each is a same-person pair. Every pair when there are at most ``max_pairs``, else a
    deterministic sample of ``max_pairs`` (see the module docstring)."""
    _, ids = _owner_ids(gallery)
    n = len(ids)
    if n * (n - 1) // 2 <= max_pairs:
        i, j = np.triu_indices(n, 1)
        return i, j, ids[i] == ids[j]
    rng = np.random.default_rng(seed)
    si, sj = _same_pairs(ids)
    if len(si) > max_pairs // 2:
        keep = np.sort(rng.choice(len(si), max_pairs // 2, replace=False))
        si, sj = si[keep], sj[keep]
    di, dj = _sample_diff_pairs(ids, max_pairs - len(si), rng)
    same = np.concatenate([np.ones(len(si), bool), np.zeros(len(di), bool)])
    return np.concatenate([si, di]), np.concatenate([sj, dj]), same


def pair_scores(gallery: Gallery, max_pairs: int = MAX_PAIRS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Cosine similarities (float64) of the same-person and the different-person pairs, and their (k, 2)
    (i, j) indices into ``gallery.matrix()`` (all pairs, or a sample above ``max_pairs``)."""
    mat, _ = _owner_ids(gallery)
    i, j, same = pair_indices(gallery, max_pairs)
    sims = np.einsum("kd,kd->k", mat[i], mat[j]).astype(np.float64)
    ij = np.stack([i, j], axis=1)
    return sims[same], sims[~same], ij[same], ij[~same]


@dataclass(frozen=True)
class Calibration:
    """Verification quality of a model on a set of labelled pairs (scores are cosine similarities).

    fpr / tpr / thresholds: the ROC curve (accept when similarity >= threshold), from
    "accept nothing" to "accept everything". eer: the equal-error rate (false accepts =
    false rejects), eer_threshold: the similarity where that happens; ``suggested`` is that
    threshold in the model's own measure (``metric``).
    """

    same: np.ndarray
    diff: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float
    eer: float
    eer_threshold: float
    suggested: float
    metric: str

    def rates_at(self, similarity_threshold: float) -> tuple[float, float]:
        """(false accept rate, false reject rate) when accepting similarity >= the threshold."""
        far = float(np.mean(self.diff >= similarity_threshold)) if len(self.diff) else 0.0
        frr = float(np.mean(self.same < similarity_threshold)) if len(self.same) else 0.0
        return far, frr


def share_at_or_above(sorted_scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold t, the share of ``sorted_scores`` (ascending) that are >= t (binary search)."""
    n = len(sorted_scores)
    return (n - np.searchsorted(sorted_scores, thresholds, side="left")) / n


def share_below(sorted_scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """For each threshold t, the share of ``sorted_scores`` (ascending) that are < t (binary search)."""
    return np.searchsorted(sorted_scores, thresholds, side="left") / len(sorted_scores)


def roc(same: np.ndarray, diff: np.ndarray, metric: Metric = "cosine") -> Calibration:
    """ROC, AUC and equal-error rate from same-person and different-person similarities, O(P log P)."""
    same = np.asarray(same, np.float64).ravel()
    diff = np.asarray(diff, np.float64).ravel()
    if not len(same) or not len(diff):
        raise GalleryError("Calibration needs at least one same-person pair (a person with two photos) "
                           "and one different-person pair (two people).")
    same_sorted, diff_sorted = np.sort(same), np.sort(diff)
    cuts = np.unique(np.concatenate([same, diff]))[::-1]
    thresholds = np.concatenate([[np.inf], cuts])
    tpr = share_at_or_above(same_sorted, thresholds)
    fpr = share_at_or_above(diff_sorted, thresholds)
    auc = float(np.trapezoid(tpr, fpr)) if hasattr(np, "trapezoid") else float(np.trapz(tpr, fpr))
    # Equal-error rate: scan candidate thresholds (mid-points between neighbouring scores) for the
    # smallest |FAR - FRR|; report their mean at that point.
    cand = np.concatenate([[cuts[0] + 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] - 1e-6]]) if len(cuts) > 1 \
        else np.array([cuts[0] + 1e-6, cuts[0] - 1e-6])
    far = share_at_or_above(diff_sorted, cand)
    frr = share_below(same_sorted, cand)
    gap = np.abs(far - frr)
    best = np.flatnonzero(gap == gap.min())
    # among equally good cut points take the middle one (the widest gap between the two classes)
    k = int(best[len(best) // 2])
    eer = float((far[k] + frr[k]) / 2)
    eer_t = float(cand[k])
    if len(best) > 1:
        eer_t = float((cand[best[0]] + cand[best[-1]]) / 2)
    suggested = float(to_measure(eer_t, metric))
    return Calibration(same, diff, fpr, tpr, thresholds, auc, eer, eer_t, suggested, metric)


def calibrate(gallery: Gallery, metric: Metric = "cosine", max_pairs: int = MAX_PAIRS) -> Calibration:
    """The calibration of ``gallery``'s pairs (all of them, or a sample above ``max_pairs``)."""
    same, diff, _, _ = pair_scores(gallery, max_pairs)
    return roc(same, diff, metric)


def histogram(values: np.ndarray, bins: int = 20, lo: float = -0.2, hi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin edges) over a fixed range so two histograms share their bins."""
    values = np.clip(np.asarray(values, np.float64), lo, hi)
    return np.histogram(values, bins=bins, range=(lo, hi))
