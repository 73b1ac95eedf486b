"""Attacks 3 and 7: what a gallery a stranger sends can make the server do.

A gallery import of the wrong embedding size or of an unknown model is refused with a sentence; a JSON
nested 100,000 deep is refused without a RecursionError; a 1,500-photo gallery calibrates and fits
(pairs sampled) instead of running for hours; an honest visitor is served meanwhile."""
from __future__ import annotations

import json
import uuid

import numpy as np
import pytest

from tests.faces.test_calibration import synthetic_gallery
from tests.security.conftest import PeakRss, call, honest_semantic, upload


def _doc(model: str, dim: int, people: int = 2) -> dict:
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(people, dim))
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    return {"format": "cvlab-face-gallery", "version": 1, "model": model, "dim": dim,
            "people": [{"name": f"P{k}", "photos": [{"id": f"p{k}", "embedding": v.round(6).tolist()}]}
                       for k, v in enumerate(vecs)]}


def _import(http, tmp_path, text: str, session: str | None = None):
    path = tmp_path / f"{uuid.uuid4().hex[:8]}.json"
    path.write_text(text)
    return call(http, "faces_import", [upload(http, path), None, "sface", False], session)


@pytest.mark.parametrize("text, words", [
    (json.dumps(_doc("sface", 64)), "makes 128"),
    (json.dumps(_doc("facenet-vggface2", 128)), "makes 512"),
    (json.dumps(_doc("evil-model", 128)), "does not have"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format": "cvlab-face-gallery", "people": ' + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
])
def test_bad_gallery_documents_refused_with_a_sentence(sec_app, attacker, tmp_path, text, words):
    ok, value = _import(attacker, tmp_path, text)
    assert not ok and words in str(value), value
    assert "Recursion" not in str(value) and "Traceback" not in str(value)


def test_a_1500_photo_gallery_calibrates_and_fits(sec_app, attacker, tmp_path):
    url, proc = sec_app
    honest_semantic(url)
    session = uuid.uuid4().hex
    ok, value = _import(attacker, tmp_path, synthetic_gallery(500, 3).to_json(), session)
    assert ok and "1500 photos" in str(value), value
    with PeakRss(proc) as mem:
        ok, value = call(attacker, "faces_calibrate", [None, "sface", 0.363], session)
        assert ok and "1500 same-person pairs" in str(value[2]), value
        ok, value = call(attacker, "faces_fit_pairs", [None, 1.0], session)
        assert ok, value
    assert mem.growth_mb < 400, mem.growth_mb
    assert honest_semantic(url)


def test_browser_state_key_is_stable_and_private(tmp_path, monkeypatch):
    import os
    import stat

    from demos import browser_secret as B

    monkeypatch.setenv("CVLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(B.ENV, raising=False)
    B.browser_state_secret.cache_clear()
    first = B.browser_state_secret()
    path = tmp_path / "cache" / B.FILE_NAME
    assert path.read_text() == first and len(first) >= 40
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    B.browser_state_secret.cache_clear()  # a restart
    assert B.browser_state_secret() == first
    monkeypatch.setenv(B.ENV, "from-the-environment")
    B.browser_state_secret.cache_clear()
    assert B.browser_state_secret() == "from-the-environment"
    B.browser_state_secret.cache_clear()


def test_the_app_uses_the_kept_key(sec_app, attacker):
    from core.models import cache_dir
    from demos.browser_secret import FILE_NAME

    config = attacker.get("config").json()
    secrets = [c["props"].get("secret") for c in config["components"] if c.get("type") == "browserstate"]
    assert secrets and secrets[0] == (cache_dir() / FILE_NAME).read_text().strip()
