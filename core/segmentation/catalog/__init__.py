"""Segmentation model catalogue: the bundled MediaPipe person models (``people``) and the downloadable
torchvision / smp-hub models (``semantic``, ``instance``); each module's ``specs()`` lists its models."""
