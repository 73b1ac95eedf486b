"""The "Why downsample?" lab's callbacks, called as plain functions on a real photo."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import gradio as gr
import numpy as np
import pytest

from core.image import load_image
from demos import downsample_lab as lab

PHOTO = Path(__file__).resolve().parents[2] / "assets" / "photos" / "two_people.jpg"


@pytest.fixture(scope="module")
def people():
    return load_image(PHOTO)  # 890x480


def test_new_photo_is_shown_in_both_clickable_panels(people):
    shown, data, rows, text, ctx, ctx_rows, ctx_text = lab.show_photo(people)
    assert shown.shape == (345, 640, 3) and ctx is shown and data is None and text == ""
    assert lab.show_photo(None) == (None, None, None, "", None, None, "")


def test_receptive_field_callback_and_its_table(people):
    drawing, data = lab.lab_receptive_field(people, 445, 240, "conv3_4")
    assert drawing.shape == (345, 640, 3)
    rows, text = lab.rf_table(data)
    assert rows[7] == ["conv3_4", 4, 48, 15.0] and len(rows) == 16  # 48 px of the 320 px analysed side
    assert "theoretical field **48 px**" in text and "stride 4" in text
    assert lab.rf_table(None) == ([], "")


@pytest.mark.parametrize("x,y", [(None, 3), ("a", 3), (float("nan"), 3), (890, 10), (-1, 10)])
def test_bad_points_get_a_sentence(people, x, y):
    with pytest.raises(gr.Error):
        lab.lab_receptive_field(people, x, y, "conv2_2")


def test_click_maps_shown_pixels_to_photo_pixels(people):
    assert lab.rf_click(people, SimpleNamespace(index=[320, 100])) == (445.0, 139.1)
    assert lab.rf_click(None, SimpleNamespace(index=[1, 1])) == (None, None)


def test_cost_callback(people):
    rows, text = lab.run_cost(people, "conv3_4", 32)
    assert rows[0][0].startswith("VGG19") and rows[1][0].startswith("same convs")
    assert rows[1][1] > rows[0][1] and "3x3 layers" in text


def test_boundaries_callback(people):
    panels, rows, text = lab.run_boundaries(people, "mediapipe-person", "photo")
    assert len(panels) == 6 and all(p[0].dtype == np.uint8 for p in panels)
    assert rows[1][2] < rows[0][2] and "fewer" in text


def test_context_callback(people):
    drawing, table, text = lab.run_context(people, "mediapipe-person", SimpleNamespace(index=[120, 200]))
    assert drawing.shape == (345, 640, 3)
    assert "Label by crop size" in text and "mediapipe-person" in text


def test_model_field_offline_says_what_to_choose(people):
    with pytest.raises(gr.Error, match="not a torch network"):
        lab.run_model_field(people, "mediapipe-person", 445, 240)


def test_growth_table(people):
    rows, text = lab.run_growth(people, 445, 240)
    assert [r[0] for r in rows] == ["conv1_2", "conv2_2", "conv3_4", "conv4_4", "conv5_4"]
    assert [r[1] for r in rows] == [5, 14, 48, 116, 252]
    diam = [r[2] for r in rows]
    assert diam == sorted(diam) and all(r[2] < r[1] * 1.42 for r in rows)
    assert "theoretical field grows 50x" in text
