"""The Semantic tab's plain callbacks (no browser): one model run per Segment click; opacity and
class filter re-render the cached result; export; live frames; lab callbacks."""
from __future__ import annotations

import json

import gradio as gr
import numpy as np
import pytest

import demos.semantic as tab
from core.image import load_image


@pytest.fixture(scope="module")
def astronaut(photos):
    return load_image(photos / "astronaut.png")


def test_segment_then_rerender_without_running_the_model(astronaut, monkeypatch):
    out = tab.segment_semantic(astronaut, "mediapipe-person", 0.5, True)
    state, overlay, pair, legend, table, summary, timings, classes = out
    assert overlay.shape == astronaut.shape and pair[0] is state["rgb"]
    assert "person" in legend and "42.9%" in legend
    assert table[0][0] == "background" and table[1][0] == "person"
    assert "1 person detection" in summary and "Timings" in timings
    assert classes.value == [1]

    calls = []
    monkeypatch.setattr(tab, "semantic", lambda *a, **k: calls.append(1))
    faint, _, _ = tab.render_view(state, 0.2, [1], True)
    strong, _, _ = tab.render_view(state, 0.9, [1], False)
    hidden, _, legend_none = tab.render_view(state, 0.9, [], False)
    assert calls == []  # looks only: the model never ran again
    person = state["seg"].label_map() == 1
    d_faint = np.abs(faint.astype(int) - astronaut)[person].mean()
    d_strong = np.abs(strong.astype(int) - astronaut)[person].mean()
    assert d_strong > 2 * d_faint
    assert (hidden == astronaut).all() and "Nothing" in legend_none


def test_no_person_summary_says_why(photos):
    out = tab.segment_semantic(load_image(photos / "chelsea.png"), "mediapipe-person", 0.5, True)
    assert "no person found" in out[5] and out[7].choices == []


def test_errors_are_user_messages(astronaut):
    with pytest.raises(gr.Error, match="Please add"):
        tab.segment_semantic(None, "auto", 0.5, True)
    with pytest.raises(gr.Error, match="Segment an image first"):
        tab.export_semantic(None, 0.5, None, True)


def test_export_files(astronaut):
    state = tab.segment_semantic(astronaut, "mediapipe-person", 0.5, True)[0]
    files = tab.export_semantic(state, 0.5, [1], True)
    names = [f.rsplit("/", 1)[-1] for f in files]
    assert names == ["semantic_overlay.png", "semantic_labels.png", "semantic_labels.json"]
    data = json.loads(open(files[2]).read())
    assert data["labels"] == ["background", "person"]


def test_live_frames_report_server_time(astronaut):
    frame = np.ascontiguousarray(astronaut[:480, :])
    live = None
    for _ in range(3):
        image, text, live = tab.live_frame(frame, "mediapipe-person", 0.5, live)
    assert image.shape == frame.shape and "ms on the server" in text and "person" in text and "fps" not in text
    assert live["track"].frames == 3 and live["track"].detector_runs == 1
    assert tab.live_frame(None, "mediapipe-person", 0.5, live)[0] is None
    assert ("MediaPipe person (bundled)", "mediapipe-person") in tab.live_models()


def test_lab_callbacks(astronaut, photos):
    astronaut_path = photos / "astronaut.png"
    gallery, text = tab.run_sliding(astronaut, None, "mediapipe-person", 192, 96, "tile")
    assert len(gallery) == 2 and "forward passes" in text and "faster" in text
    panels, text = tab.run_sampling(astronaut, None, "relu1_2", 2, 3, 2, 0, "ones")
    assert len(panels) == 8 and "= 193" in text and "ratio 4.0" in text
    assert "25 forward passes" in tab.passes_note(128, 64, "tile", astronaut)
    # the note counts what the run will do on this very photo (the cat at 384x255: 15, not the 25 of a 384x384 guess)
    cat = load_image(astronaut_path.parent / "chelsea.png")
    note = tab.passes_note(128, 64, "tile", cat)
    gallery, text = tab.run_sliding(cat, None, "mediapipe-person", 128, 64, "tile")
    n = int(note.split("**")[1].split()[0])
    assert f"| **{n}** |" in text and n != 25, (note, text)
    assert "add one" in tab.passes_note(128, 64, "tile", None)
    assert tab.new_lab_photo(128, 64, "tile", cat)[1:] == (None, "", None, "")
    with pytest.raises(gr.Error, match="forward passes"):
        tab.run_sliding(astronaut, None, "mediapipe-person", 32, 16, "centre")
