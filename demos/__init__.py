"""Gradio tabs: one module per tab, each exposing ``build_<tab>_tab()``; no tensor code here."""
