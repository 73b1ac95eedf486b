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


# --------------------------------------------------------------------------- which files a request may read
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

from demos.common import ImageInput, check_upload, read_upload  # noqa: E402
from demos.uploads import UPLOAD_REFUSED, trusted_upload  # noqa: E402

ASSET = Path(__file__).resolve().parent.parent.parent / "assets" / "photos" / "astronaut.png"


@pytest.fixture
def upload_dir(tmp_path, monkeypatch):
    folder = tmp_path / "gradio"
    folder.mkdir()
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(folder))
    return folder


def test_uploads_and_examples_are_trusted(upload_dir):
    up = upload_dir / "abc" / "photo.png"
    up.parent.mkdir()
    up.write_bytes(ASSET.read_bytes())
    assert trusted_upload({"path": str(up)}) == up.resolve()
    assert trusted_upload(str(ASSET)) == ASSET.resolve()
    assert read_upload({"path": str(up)}).shape == (512, 512, 3)


def test_every_other_reference_is_the_same_refusal(upload_dir, tmp_path):
    outside = tmp_path / "outside.png"
    outside.write_bytes(ASSET.read_bytes())
    link = upload_dir / "link.png"
    link.symlink_to(outside)
    refs = [{"path": "/etc/passwd"}, {"path": str(outside)}, {"path": str(link)},
            {"path": str(upload_dir / "missing.png")}, {"path": str(upload_dir / ".." / "outside.png")},
            {"url": "data:image/png;base64,AAAA", "path": None}, {"path": "data:image/png;base64,AAAA"},
            {"path": "http://example.com/x.png"}, {"path": str(upload_dir)}, {}, "/etc/hostname", 42]
    for ref in refs:
        with pytest.raises(gr.Error) as err:
            trusted_upload(ref)
        assert err.value.message == UPLOAD_REFUSED, ref


def test_size_limit_applies_to_every_file(upload_dir, monkeypatch):
    import demos.uploads as U

    big = upload_dir / "big.png"
    big.write_bytes(ASSET.read_bytes() + b"\0" * 2_000_000)
    monkeypatch.setattr(U, "MAX_UPLOAD_MB", 1)
    with pytest.raises(gr.Error, match="the limit is 1 MB"):
        trusted_upload({"path": str(big)})


def test_image_input_reads_only_trusted_files(upload_dir):
    comp = ImageInput(type="numpy")
    from gradio.data_classes import ImageData

    with pytest.raises(gr.Error, match="not uploaded through this page"):
        comp.preprocess(ImageData(path="/etc/passwd"))
    with pytest.raises(gr.Error, match="not uploaded through this page"):
        comp.preprocess(ImageData(url="data:image/png;base64,AAAA"))
    assert comp.preprocess(ImageData(path=str(ASSET))).shape == (512, 512, 3)
    assert ImageInput(type="filepath").preprocess(ImageData(path=str(ASSET))) == str(ASSET.resolve())
    assert read_upload(np.zeros((20, 30, 3), np.uint8)).shape == (20, 30, 3)  # already decoded by the input


def test_a_clip_dropped_on_a_photo_input_says_where_clips_go(upload_dir):
    clip = upload_dir / "clip.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\0" * 500)
    with pytest.raises(gr.Error) as err:
        read_upload({"path": str(clip)})
    assert "'clip.mp4' is a video (MP4), not a photo" in err.value.message and '"Clip" input' in err.value.message


def test_a_big_jpeg_is_decoded_downscaled(upload_dir, monkeypatch):
    import core.image as CI

    path = upload_dir / "big.jpg"
    Image.new("RGB", (800, 600), (10, 200, 30)).save(path)
    monkeypatch.setattr(CI.LIMITS, "max_pixels", 100_000)
    shown = []
    monkeypatch.setattr(gr, "Info", lambda msg, *a, **k: shown.append(msg))
    assert read_upload({"path": str(path)}, max_side=4000).shape == (150, 200, 3)
    assert shown and "1/4 scale" in shown[0]
    assert check_upload({"path": str(path)}) is not None  # fine: nothing to say on arrival (gr.skip())


def test_streamed_webcam_frames_are_capped(upload_dir):
    import base64
    import io

    from gradio.data_classes import ImageData

    from demos.common import WebcamFrameInput

    def url(img: Image.Image, fmt: str) -> str:
        buf = io.BytesIO()
        img.save(buf, format=fmt)
        return f"data:image/{fmt.lower()};base64," + base64.b64encode(buf.getvalue()).decode()

    comp = WebcamFrameInput(sources=["webcam"], streaming=True, type="numpy")
    frame = comp.preprocess(ImageData(url=url(Image.new("RGB", (640, 480), (1, 2, 3)), "PNG")))
    assert frame.shape == (480, 640, 3) and tuple(frame[0, 0]) == (1, 2, 3)
    with pytest.raises(gr.Error, match="megapixels"):  # refused from the header, before decoding
        comp.preprocess(ImageData(url=url(Image.new("L", (5000, 5000)), "PNG")))
    with pytest.raises(gr.Error, match="at most a few MB"):
        comp.preprocess(ImageData(url="data:image/png;base64," + "A" * 8_000_001))
    with pytest.raises(gr.Error, match="not uploaded through this page"):
        comp.preprocess(ImageData(path="/etc/passwd"))
