"""demos/common.py: the sentences a visitor reads when an input is missing."""
from __future__ import annotations

import gradio as gr
import pytest

from demos.common import read_upload


@pytest.mark.parametrize("what, sentence", [("content photo", "Please add a content photo first"),
                                            ("image A", "Please add an image A first"),
                                            ("style image", "Please add a style image first")])
def test_a_missing_input_is_named_with_the_right_article(what, sentence):
    with pytest.raises(gr.Error) as err:
        read_upload(None, what=what)
    assert str(err.value.message).startswith(sentence)
