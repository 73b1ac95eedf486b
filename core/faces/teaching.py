"""The ideas of one-shot face recognition, as small numpy models over a gallery's embeddings: FaceNet's
triplet loss, a Siamese "same person?" logistic regression on |f(a) - f(b)| fitted by Newton's method,
and a 2-D PCA map of the embeddings. Teaching views, not part of recognition itself.

Cost: the classifier is fitted on at most ``MAX_FIT_PAIRS`` pairs (a fixed-seed sample above it, the same
sampling as calibration), so its memory (pairs x D float64) and time do not grow with the gallery's square.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.faces.calibration import pair_indices
from core.faces.gallery import Gallery, GalleryError, normalize
from core.numeric import sigmoid

MAX_FIT_PAIRS = 10_000
"""Photo pairs the pair classifier is fitted on at most (10,000 x 512 float64 = 41 MB)."""


# --------------------------------------------------------------------------- triplet loss
@dataclass(frozen=True)
class Triplet:
    d_ap: float
    d_an: float
    margin: float
    loss: float
    kind: Literal["easy", "semi-hard", "hard"]

    def explain(self) -> str:
        if self.kind == "easy":
            return ("the negative is already farther than the positive by more than the margin, "
                    "so the loss is 0 and this triplet teaches nothing.")
        if self.kind == "semi-hard":
            return ("the negative is farther than the positive, but by less than the margin; "
                    "the loss is small and positive. FaceNet trains on these.")
        return ("the negative is at least as close as the positive; the loss is large. "
                "Too many of these early in training can make it collapse.")


def triplet(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: float = 0.2) -> Triplet:
    """FaceNet's triplet loss max(d(A,P) - d(A,N) + margin, 0), with d the Euclidean distance
    between unit embeddings (FaceNet itself uses the squared distance)."""
    a, p, n = (normalize(np.asarray(v, np.float32).ravel()) for v in (anchor, positive, negative))
    d_ap = float(np.linalg.norm(a - p))
    d_an = float(np.linalg.norm(a - n))
    loss = max(d_ap - d_an + margin, 0.0)
    kind = "hard" if d_an <= d_ap else ("semi-hard" if d_an < d_ap + margin else "easy")
    return Triplet(d_ap, d_an, float(margin), float(loss), kind)


# --------------------------------------------------------------------------- Siamese logistic regression
@dataclass(frozen=True)
class PairClassifier:
    """p(same | a, b) = sigmoid(w . |a - b| + b): a Siamese "binary" head on frozen embeddings.

    Fitted by Newton's method (IRLS) with an L2 penalty and class-balanced weights (there are far
    more different-person pairs than same-person pairs).
    """

    weights: np.ndarray
    bias: float
    l2: float
    n_same: int
    n_diff: int
    train_accuracy: float
    iterations: int
    losses: tuple[float, ...]

    def proba(self, a: np.ndarray, b: np.ndarray) -> float:
        return pair_probability(self.weights, self.bias, a, b)


def pair_probability(weights, bias: float, a: np.ndarray, b: np.ndarray) -> float:
    """p(same) = sigmoid(w . |a - b| + bias) for a classifier kept as plain numbers (e.g. in a session)."""
    x = np.abs(normalize(np.asarray(a, np.float32).ravel()) - normalize(np.asarray(b, np.float32).ravel()))
    return float(sigmoid(x.astype(np.float64) @ np.asarray(weights, np.float64) + float(bias)))


def pair_features(gallery: Gallery, max_pairs: int = MAX_FIT_PAIRS) -> tuple[np.ndarray, np.ndarray]:
    """X (M, D) = |f(a) - f(b)| for every photo pair (a fixed-seed sample above ``max_pairs``, see
    ``core.faces.calibration.pair_indices``), y (M,) = 1 for same person, 0 otherwise."""
    mat, _, _ = gallery.matrix()
    i, j, same = pair_indices(gallery, max_pairs)
    if not len(i):
        return np.zeros((0, gallery.dim)), np.zeros(0)
    return np.abs(mat[i] - mat[j]).astype(np.float64), same.astype(np.float64)


def fit_pair_classifier(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 25) -> PairClassifier:
    """Logistic regression of y on x (numpy, Newton steps); needs both classes."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64).ravel()
    n_same, n_diff = int((y == 1).sum()), int((y == 0).sum())
    if not n_same or not n_diff:
        raise GalleryError("The pair classifier needs at least one person with two photos and at least "
                           "two people in the gallery.")
    m, d = x.shape
    xb = np.hstack([x, np.ones((m, 1))])
    sw = np.where(y == 1, m / (2.0 * n_same), m / (2.0 * n_diff))  # class-balanced sample weights
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # no penalty on the bias
    theta = np.zeros(d + 1)
    losses = []
    it = 0
    for it in range(1, iterations + 1):
        p = sigmoid(xb @ theta)
        eps = 1e-12
        loss = float(-(sw * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum() / m
                     + 0.5 * (reg * theta ** 2).sum() / m)
        losses.append(loss)
        grad = (xb.T @ (sw * (p - y)) + reg * theta) / m
        hess = (xb.T * (sw * p * (1 - p))) @ xb / m + np.diag(reg) / m + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-7:
            break
    p = sigmoid(xb @ theta)
    acc = float(((p >= 0.5) == (y == 1)).mean())
    return PairClassifier(theta[:-1].copy(), float(theta[-1]), float(l2), n_same, n_diff, acc, it, tuple(losses))


def fit_gallery_classifier(gallery: Gallery, *, l2: float = 1.0, max_pairs: int = MAX_FIT_PAIRS) -> PairClassifier:
    """The pair classifier fitted on ``gallery``'s photo pairs (a sample above ``max_pairs``)."""
    x, y = pair_features(gallery, max_pairs)
    return fit_pair_classifier(x, y, l2=l2)


# --------------------------------------------------------------------------- projection
def pca_2d(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 2) coordinates of the rows on their first two principal components, and the share of
    the variance each component explains. Fewer than 2 rows -> zeros."""
    x = np.asarray(embeddings, np.float64)
    out = np.zeros((len(x), 2))
    if len(x) < 2:
        return out, np.zeros(2)
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    k = min(2, len(s))
    out[:, :k] = xc @ vt[:k].T
    # fix the sign so the picture does not flip between runs: largest |loading| positive
    for c in range(k):
        if out[np.argmax(np.abs(out[:, c])), c] < 0:
            out[:, c] = -out[:, c]
    var = s ** 2
    ratio = np.zeros(2)
    ratio[:k] = var[:k] / max(var.sum(), 1e-12)
    return out, ratio
