"""The documented API, called through the Gradio Python client against the real app on loopback:
every main endpoint answers, hostile uploads get one plain sentence (never a traceback) and the server
keeps serving, and two visitors never see each other's gallery."""
from __future__ import annotations

import pytest
from gradio_client import handle_file
from gradio_client.exceptions import AppError

from tests import api_calls as api
from tests.hostile import write_corpus

PEOPLE = api.FACES / "people"


@pytest.fixture(scope="module")
def url(app_server):
    return app_server[0]


@pytest.fixture(scope="module")
def client(url):
    return api.client(url)


def test_segmentation_endpoints(client):
    out = api.segment_semantic(client, api.PHOTOS / "astronaut.png")
    assert "person" in str(out[3])                      # the pixel-share table
    out = api.segment_instance(client, api.PHOTOS / "two_people.jpg")
    assert str(out[2]).count("person") >= 2            # the instance table: one row per person
    out = api.segment_panoptic(client, api.PHOTOS / "two_people.jpg")
    assert "thing" in str(out[2]) and "stuff" in str(out[2])


def test_faces_endpoints(client):
    obama = sorted((PEOPLE / "Barack_Obama").glob("*.jpg"))
    api.faces_enrol(client, "Barack Obama", obama[:2])
    out = api.faces_recognize(client, obama[2])
    assert "Barack Obama" in str(out[1])
    out = api.faces_verify(client, obama[0], obama[1])
    assert "same person" in str(out[4]).lower()


def test_style_endpoints(client):
    out = api.style_fast(client, api.PHOTOS / "coffee.png")
    assert out[0]  # a stylised image file
    out = api.style_gatys(client, api.PHOTOS / "coffee.png")
    assert out[0]


def test_models_endpoint(client):
    table = client.predict(api_name="/models")
    assert "blazepose-multi" in str(table)


def test_two_visitors_never_share_a_gallery(url):
    alice, bob = api.client(url), api.client(url)
    grace = next((PEOPLE / "Grace_Hopper").glob("*.jpg"))
    api.faces_enrol(alice, "Grace Hopper", [grace])
    assert "Grace Hopper" in str(api.faces_recognize(alice, grace)[1])
    seen_by_bob = api.faces_recognize(bob, grace)
    assert "Grace Hopper" not in str(seen_by_bob)
    assert "gallery is empty" in str(seen_by_bob[2]).lower()


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return write_corpus(tmp_path_factory.mktemp("hostile"), api.PHOTOS / "astronaut.png")


@pytest.mark.parametrize("endpoint", sorted(api.IMAGE_ENDPOINTS))
def test_hostile_uploads_get_a_sentence_and_the_server_survives(client, corpus, endpoint):
    call = api.IMAGE_ENDPOINTS[endpoint]
    for name, (path, expect) in corpus.items():
        if expect == "error":
            with pytest.raises(AppError) as err:
                call(client, path)
            msg = str(err.value)
            assert "Traceback" not in msg and "\n" not in msg.strip(), (name, msg)
            assert any(w in msg for w in ("image", "file", "pixels", "megapixels")), (name, msg)
        else:
            call(client, path)  # odd but valid: a result, no error
    call(client, api.PHOTOS / "astronaut.png")  # still serving


def test_upload_size_is_capped(client, tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * (30 * 1024 * 1024))
    with pytest.raises(Exception) as err:
        client.predict(handle_file(str(big)), "auto", 0.5, True, api_name="/segment_semantic")
    assert "size" in str(err.value).lower() or "large" in str(err.value).lower() or "413" in str(err.value)


@pytest.mark.parametrize("path", ["/etc/passwd", "app.py", "core/models.py", ".git/config"])
def test_server_files_outside_assets_are_not_served(url, path):
    import urllib.error
    import urllib.request

    from tests.app_server import ROOT

    target = path if path.startswith("/") else str(ROOT / path)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{url}gradio_api/file={target}", timeout=10)
    assert err.value.code in (403, 404)


def test_example_assets_are_served(url):
    import urllib.request

    from tests.app_server import ROOT

    with urllib.request.urlopen(f"{url}gradio_api/file={ROOT / 'assets/photos/coffee.png'}", timeout=10) as r:
        assert r.status == 200 and r.read(8).startswith(b"\x89PNG")
