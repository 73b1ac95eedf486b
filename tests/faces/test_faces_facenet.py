"""Plumbing of the downloadable FaceNet embedders with RANDOM weights (shapes only, never results).

A random InceptionResnetV1 state dict (with the checkpoint's classifier, as the real files have) is
saved under the real file name in CVLAB_WEIGHTS_DIR, then loaded through the registry.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core import faces as F
from core import models
from core.config import SETTINGS
from core.image import load_image

FACES = Path(__file__).resolve().parents[2] / "assets" / "faces" / "people"


@pytest.fixture(scope="module")
def random_facenet(tmp_path_factory):
    import torch
    from facenet_pytorch import InceptionResnetV1

    folder = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    net = InceptionResnetV1(pretrained=None, classify=True, num_classes=8631)
    state = net.state_dict()
    assert any(k.startswith("logits.") for k in state)
    filename = models.get("facenet-vggface2").files[0].filename
    assert filename == "20180402-114759-vggface2.pt"
    torch.save(state, folder / filename)
    mp = pytest.MonkeyPatch()
    mp.setenv("CVLAB_WEIGHTS_DIR", str(folder))
    models.registry().unload("facenet-vggface2")
    yield "facenet-vggface2"
    models.registry().unload("facenet-vggface2")
    mp.undo()


def test_facenet_loads_from_cache_and_embeds_512(random_facenet):
    reg = models.registry()
    assert reg.status(random_facenet) == "cached"
    rgb = load_image(FACES / "Joe_Biden" / "1.jpg")
    faces = F.analyze(rgb, "yunet", random_facenet)
    assert faces.crops.shape == (1, 160, 160, 3)
    assert faces.embeddings.shape == (1, 512)
    assert np.allclose(np.linalg.norm(faces.embeddings, axis=1), 1.0, atol=1e-5)
    v, _, _ = F.verify(rgb, rgb, embedder=random_facenet)
    assert v.metric == "euclidean" and v.distance == pytest.approx(0.0, abs=1e-3)


def test_gallery_refuses_mixing_models(random_facenet):
    rgb = load_image(FACES / "Joe_Biden" / "1.jpg")
    g, _, _ = F.enrol_photo(F.Gallery.empty("sface", 128), "Joe", rgb)
    with pytest.raises(F.GalleryError, match="sface"):
        F.recognize(rgb, g, embedder=random_facenet)
    with pytest.raises(F.GalleryError):
        F.Gallery.from_json(g.to_json(), model=random_facenet, dim=512)


def test_missing_download_offline_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv("CVLAB_WEIGHTS_DIR", str(tmp_path))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(SETTINGS, "offline", True)
    models.registry().unload("facenet-casia")
    assert models.registry().status("facenet-casia") == "unavailable"
    with pytest.raises(models.ModelUnavailable, match="prefetch facenet-casia"):
        F.analyze(load_image(FACES / "Joe_Biden" / "1.jpg"), "yunet", "facenet-casia")
