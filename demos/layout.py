"""App-wide layout rules that no single tab owns: every tab strip shows every tab's name, on any screen.

Gradio's tab strips default to ``overflow_behavior="menu"``: the tabs that do not fit the width hide
behind an unlabelled "..." button, so on a phone (390 px) most tab names are not on screen.
``wrap_tab_strips`` switches every strip in the app to ``"wrap"``: the names flow onto
a second row instead. The look of the wrapped strip (spacing, sizes) is in demos/static/app.css.
"""
from __future__ import annotations

import gradio as gr

WRAP = "wrap"


def wrap_tab_strips(demo: gr.Blocks) -> int:
    """Make every ``gr.Tabs`` inside ``demo`` wrap its tab names onto more rows; returns how many."""
    count = 0
    for block in demo.blocks.values():
        if isinstance(block, gr.Tabs):
            block.overflow_behavior = WRAP
            count += 1
    return count
