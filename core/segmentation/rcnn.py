"""torchvision Mask R-CNN / Keypoint R-CNN behind one small wrapper that also shows its insides.

:class:`RCNNModel` takes an RGB uint8 (H, W, 3) image and returns plain numpy arrays in input-image
pixels. With ``inside=True`` it also returns, through forward hooks (no change to the network):

* ``proposals``: the region proposal network's boxes (the top ones after its NMS), image pixels;
* ``mask_probs``: (N, 28, 28) each detection's mask probabilities *before* they are pasted back
  into its box at image resolution (Mask R-CNN);
* ``keypoint_heatmaps``: (N, 17, 56, 56) each person's keypoint logits over its box (Keypoint R-CNN);
* ``input_size``: the (H, W) the network actually saw after its own resize (shorter side 800).

The network is shared by every request; a lock serialises calls so the hooks' captures never mix.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from core.numeric import sigmoid


@dataclass
class RCNNOutput:
    """Detections of one image, input-image pixels.

    boxes (N, 4) float32 xyxy; scores (N,) float32; class_ids (N,) int64 (index into labels);
    mask_probs (N, H, W) float32 or None; keypoints (N, 17, 3) float32 (x, y, visibility) or None;
    inside: teaching intermediates (see module docstring), empty unless asked for.
    """

    boxes: np.ndarray
    scores: np.ndarray
    class_ids: np.ndarray
    mask_probs: np.ndarray | None = None
    keypoints: np.ndarray | None = None
    inside: dict = field(default_factory=dict)


class RCNNModel:
    """A torchvision detection network (eval mode) plus labels and hooks for the Inside view."""

    def __init__(self, net, *, kind: str, labels: tuple[str, ...], name: str, device: str = "cpu",
                 keypoint_names: tuple[str, ...] = (), skeleton: tuple[tuple[int, int], ...] = ()) -> None:
        self.net = net
        self.kind = kind  # "mask" | "keypoint"
        self.labels = tuple(labels)
        self.name = name
        self.device = device
        self.keypoint_names = tuple(keypoint_names)
        self.skeleton = tuple(skeleton)
        self._lock = threading.Lock()
        self._capture: dict | None = None
        net.transform.register_forward_hook(self._hook("transform"))
        net.rpn.register_forward_hook(self._hook("rpn"))
        net.roi_heads.register_forward_hook(self._hook("roi_heads"))
        if getattr(net.roi_heads, "keypoint_predictor", None) is not None:
            net.roi_heads.keypoint_predictor.register_forward_hook(self._hook("keypoint_predictor"))

    def _hook(self, key: str):
        def hook(module, inputs, output):
            if self._capture is not None:
                if key == "roi_heads":  # the transform's postprocess later edits these dicts in place
                    output = ([dict(d) for d in output[0]], output[1])
                self._capture[key] = output
        return hook

    def __call__(self, rgb: np.ndarray, min_score: float = 0.05, *, inside: bool = False,
                 min_size: int | None = None) -> RCNNOutput:
        """Detect on ``rgb`` (RGB uint8 (H, W, 3)). ``min_size``: the network's shorter-side resize
        (default 800, its training size; smaller is faster and less accurate)."""
        import torch

        h, w = rgb.shape[:2]
        x = torch.from_numpy(np.array(rgb, dtype=np.uint8, copy=True)).permute(2, 0, 1).float().div_(255.0).to(self.device)
        with self._lock, torch.inference_mode():
            old_min = self.net.transform.min_size
            if min_size is not None:
                self.net.transform.min_size = (int(min_size),)
            self._capture = {} if inside else None
            try:
                out = self.net([x])[0]
                capture = self._capture or {}
            finally:
                self.net.transform.min_size = old_min
                self._capture = None
        keep = (out["scores"] >= min_score).cpu().numpy()
        boxes = out["boxes"].cpu().numpy()[keep].astype(np.float32)
        scores = out["scores"].cpu().numpy()[keep].astype(np.float32)
        class_ids = out["labels"].cpu().numpy()[keep].astype(np.int64)
        masks = None
        if "masks" in out:
            masks = out["masks"].cpu().numpy()[keep][:, 0].astype(np.float32)
        kps = None
        if "keypoints" in out:
            xy = out["keypoints"].cpu().numpy()[keep][:, :, :2]
            vis = sigmoid(out["keypoints_scores"].cpu().numpy()[keep])
            kps = np.concatenate([xy, vis[:, :, None]], axis=2).astype(np.float32)
        result = RCNNOutput(boxes, scores, class_ids, masks, kps)
        if inside:
            result.inside = self._inside(capture, keep, (h, w))
        return result

    @staticmethod
    def _inside(capture: dict, keep: np.ndarray, size: tuple[int, int]) -> dict:
        info: dict = {}
        h, w = size
        images = capture.get("transform")
        if images is not None:
            rh, rw = (int(v) for v in images[0].image_sizes[0])
            info["input_size"] = (rh, rw)
            scale = np.array([w / rw, h / rh, w / rw, h / rh], np.float32)
        else:
            scale = np.ones(4, np.float32)
        rpn = capture.get("rpn")
        if rpn is not None:
            info["proposals"] = (rpn[0][0].cpu().numpy() * scale).astype(np.float32)
        heads = capture.get("roi_heads")
        if heads is not None:
            det = heads[0][0]
            if "masks" in det:
                info["mask_probs"] = det["masks"].cpu().numpy()[keep][:, 0].astype(np.float32)
        kp = capture.get("keypoint_predictor")
        if kp is not None:
            info["keypoint_heatmaps"] = kp.cpu().numpy()[keep].astype(np.float32)
        return info

    def __repr__(self) -> str:
        return f"RCNNModel({self.name}, kind={self.kind})"
