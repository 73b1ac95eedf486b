"""The "Why downsample?" lab's endpoint against the real app (offline, bundled VGG19): the documented
JSON, the effective field near the asked pixel, one clear sentence for a point outside the photo or an
unknown layer, and the server keeps answering."""
from __future__ import annotations

import pytest
from gradio_client.exceptions import AppError
from PIL import Image

from tests import api_calls as api
from tests.app_server import running_app

PEOPLE = api.PHOTOS / "two_people.jpg"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    with running_app(tmp_path_factory.mktemp("app") / "app.log") as (url, _proc):
        yield api.client(url)


def test_lab_receptive_field_endpoint(client):
    drawing, data = api.lab_receptive_field(client, PEOPLE, 300, 200, "conv4_4")
    rf = {r["layer"]: (r["stride"], r["rf_px"]) for r in data["layers"]}
    assert rf["conv3_4"] == (4, 48) and rf["conv4_4"] == (8, 116) and rf["conv5_4"] == (16, 252)
    x, y = data["erf_center"]
    unit = 8 * data["scale"]  # one conv4_4 step, in photo pixels
    assert abs(x - 300) < unit and abs(y - 200) < unit, data
    assert 0 < data["erf_radius_px"] < 116 * data["scale"] / 2 ** 0.5
    with Image.open(drawing) as im:
        assert im.size[0] == 640


@pytest.mark.parametrize("x,y,layer,message", [(5000, 10, "conv4_4", "outside"),
                                               (10, -3, "conv4_4", "outside"),
                                               (None, 10, "conv4_4", "Click a pixel"),
                                               (10, 10, "pool9", "not in the list of choices")])
def test_lab_receptive_field_bad_requests(client, x, y, layer, message):
    with pytest.raises(AppError, match=message):
        api.lab_receptive_field(client, PEOPLE, x, y, layer)
    _, data = api.lab_receptive_field(client, PEOPLE, 100, 100, "conv2_2")  # still serving
    assert data["layer"] == "conv2_2"
