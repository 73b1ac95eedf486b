"""CV Lab inference layer, no Gradio: shared pieces at the top (image, types, models, render, config, boxes),
one package per area (segmentation, faces, style) and the command line (cli)."""
