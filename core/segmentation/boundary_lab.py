"""Early layers for boundaries: a stride-32 map upsampled alone against one refined with
full-resolution information.

A segmentation network that downsamples by 32 decides one class per 32x32 block; upsampled alone,
its boundaries are blurry. FCN-8s and U-Net add features from early, full-resolution layers to put
the boundaries back. Here:

* **full**: the real model's per-pixel class probabilities at full resolution (the reference);
* **coarse**: the same probabilities averaged over 32x32 blocks (all a stride-32 output can hold),
  then upsampled bilinearly;
* **guided**: the coarse map upsampled with a guided filter (He, Sun, Tang, ECCV 2010) whose guide
  is full-resolution information: the photo's colours (its edges), or the first three principal
  components of the bundled VGG19's ``relu1_2`` features (an early layer, stride 1).

Errors are measured against **full**: the share of pixels labelled differently, overall and within
:data:`BAND_PX` px of full's class boundaries (where downsampling hurts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

STRIDE = 32
BAND_PX = 6
GUIDES = ("photo", "vgg19-relu1_2")
RADIUS = 16
EPS = 1e-3
MIN_SHARE = 0.005
"""Classes with less than this share of the coarse map everywhere are left out of the filtering."""


def box_mean(a: np.ndarray, r: int) -> np.ndarray:
    """Mean over a (2r+1) x (2r+1) window of a 2-D float32 map (reflected borders)."""
    import cv2

    return cv2.boxFilter(a, cv2.CV_32F, (2 * r + 1, 2 * r + 1), borderType=cv2.BORDER_REFLECT)


def guided_filter(guide: np.ndarray, src: np.ndarray, r: int = RADIUS, eps: float = EPS) -> np.ndarray:
    """He et al.'s guided filter with a colour guide: ``src`` (H, W) float32 smoothed so that its
    edges follow those of ``guide`` (H, W, 3) float32 in [0, 1]. In every (2r+1)^2 window the output
    is a linear function of the guide's three channels, fitted to ``src`` by least squares with a
    ridge ``eps`` (how strong an edge of the guide must be to be kept, in variance units)."""
    def mean(a: np.ndarray) -> np.ndarray:
        return box_mean(np.ascontiguousarray(a, dtype=np.float32), r)

    mean_i = np.stack([mean(guide[..., k]) for k in range(3)], -1)
    mean_p = mean(src)
    cov_ip = np.stack([mean(guide[..., k] * src) for k in range(3)], -1) - mean_i * mean_p[..., None]
    sigma = np.empty(guide.shape[:2] + (3, 3), np.float32)
    for i in range(3):
        for j in range(i, 3):
            sigma[..., i, j] = sigma[..., j, i] = mean(guide[..., i] * guide[..., j]) - mean_i[..., i] * mean_i[..., j]
    sigma += eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(sigma, cov_ip[..., None])[..., 0]
    b = mean_p - (a * mean_i).sum(-1)
    return (np.stack([mean(a[..., k]) for k in range(3)], -1) * guide).sum(-1) + mean(b)


def coarse_probabilities(probs: np.ndarray, stride: int = STRIDE) -> np.ndarray:
    """(C, H, W) probabilities -> (C, ceil(H/stride), ceil(W/stride)) block means (edge blocks
    average only the pixels they hold)."""
    c, h, w = probs.shape
    gh, gw = -(-h // stride), -(-w // stride)
    pad = np.zeros((c, gh * stride, gw * stride), np.float32)
    pad[:, :h, :w] = probs
    ones = np.zeros((gh * stride, gw * stride), np.float32)
    ones[:h, :w] = 1.0
    s = pad.reshape(c, gh, stride, gw, stride).sum((2, 4))
    n = ones.reshape(gh, stride, gw, stride).sum((1, 3))
    return (s / n).astype(np.float32)


def upsample(coarse: np.ndarray, hw: tuple[int, int], stride: int = STRIDE) -> np.ndarray:
    """Bilinear upsampling of (C, gh, gw) block means back to (C, H, W), block centres aligned."""
    import cv2

    h, w = hw
    c, gh, gw = coarse.shape
    big = np.stack([cv2.resize(coarse[k], (gw * stride, gh * stride), interpolation=cv2.INTER_LINEAR)
                    for k in range(c)])
    return np.ascontiguousarray(big[:, :h, :w])


def photo_guide(rgb: np.ndarray) -> np.ndarray:
    """RGB uint8 (H, W, 3) as (H, W, 3) float32 in [0, 1]."""
    return rgb.astype(np.float32) / 255.0


def feature_guide(rgb: np.ndarray) -> np.ndarray:
    """The first three principal components of the bundled VGG19's relu1_2 features (64 channels at
    stride 1) of RGB uint8 (H, W, 3), as (H, W, 3) float32, each scaled to [0, 1]."""
    from core.backbones.vgg19 import vgg19_features

    f = vgg19_features(rgb, upto="relu1_2")
    c, h, w = f.shape
    x = f.reshape(c, -1)
    x = x - x.mean(1, keepdims=True)
    _, _, vt = np.linalg.svd(x @ x.T)
    pcs = vt[:3] @ x
    lo, hi = pcs.min(1, keepdims=True), pcs.max(1, keepdims=True)
    return ((pcs - lo) / np.maximum(hi - lo, 1e-6)).T.reshape(h, w, 3).astype(np.float32)


def boundary_band(label_map: np.ndarray, band: int = BAND_PX) -> np.ndarray:
    """(H, W) bool: pixels within ``band`` px (square window) of a change of class in ``label_map``."""
    import cv2

    lm = label_map.astype(np.int32)
    edge = np.zeros(lm.shape, bool)
    edge[:, 1:] |= lm[:, 1:] != lm[:, :-1]
    edge[1:, :] |= lm[1:, :] != lm[:-1, :]
    kernel = np.ones((2 * band + 1, 2 * band + 1), np.uint8)
    return cv2.dilate(edge.astype(np.uint8), kernel) > 0


@dataclass(frozen=True, eq=False)
class BoundaryResult:
    """Label maps (H, W) int32 and their errors against ``full`` (share of pixels, 0-1)."""

    model: str
    labels: tuple[str, ...]
    guide_name: str
    full: np.ndarray
    coarse: np.ndarray
    guided: np.ndarray
    guide: np.ndarray
    band: np.ndarray
    errors: dict

    def rows(self) -> list[dict]:
        return [{"map": name, "wrong pixels %": round(100 * e["all"], 2),
                 f"wrong near boundaries (±{BAND_PX} px) %": round(100 * e["band"], 2)}
                for name, e in self.errors.items()]


def errors_against(full: np.ndarray, other: np.ndarray, band: np.ndarray) -> dict:
    """Share of pixels where ``other`` differs from ``full``, overall and inside ``band``."""
    wrong = other != full
    return {"all": float(wrong.mean()), "band": float(wrong[band].mean()) if band.any() else 0.0}


def refine(rgb: np.ndarray, probs: np.ndarray, guide_name: str = "photo", r: int = RADIUS,
           eps: float = EPS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coarse-upsampled labels, guided labels, guide) from full-resolution (C, H, W) ``probs``."""
    if guide_name not in GUIDES:
        raise ValueError(f"Unknown guide '{guide_name}'; use one of {', '.join(GUIDES)}.")
    up = upsample(coarse_probabilities(probs), probs.shape[1:])
    guide = photo_guide(rgb) if guide_name == "photo" else feature_guide(rgb)
    keep = np.flatnonzero(up.reshape(up.shape[0], -1).max(1) >= MIN_SHARE)
    refined = np.stack([guided_filter(guide, up[k], r, eps) for k in keep])
    guided = keep[refined.argmax(0)].astype(np.int32)
    return up.argmax(0).astype(np.int32), guided, guide


def boundary_lab(rgb: np.ndarray, model: str = "auto", guide_name: str = "photo") -> BoundaryResult:
    """Run the real semantic ``model`` on RGB uint8 (H, W, 3) and compare the three maps."""
    from core.segmentation.semantic import class_probabilities, resolve_model

    name = resolve_model(model)
    labels, probs = class_probabilities(rgb, name)
    full = probs.argmax(0).astype(np.int32)
    coarse, guided, guide = refine(rgb, probs.astype(np.float32), guide_name)
    band = boundary_band(full)
    errors = {f"coarse (stride {STRIDE}) upsampled alone": errors_against(full, coarse, band),
              f"coarse + {guide_name} guided upsampling": errors_against(full, guided, band)}
    return BoundaryResult(model=name, labels=tuple(labels), guide_name=guide_name, full=full, coarse=coarse,
                          guided=guided, guide=guide, band=band, errors=errors)
