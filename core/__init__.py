"""CV Lab inference layer (no Gradio imports under core/)."""
