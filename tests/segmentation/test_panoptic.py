"""Panoptic segmentation end to end with the bundled models on real photos."""
from __future__ import annotations

import json

import numpy as np
import pytest

from core.image import load_image
from core.segmentation.panoptic import coco_panoptic, panoptic


@pytest.fixture(scope="module")
def two_people(photos):
    rgb = load_image(photos / "two_people.jpg")
    return rgb, panoptic(rgb)


def test_two_people_are_two_things_and_background_is_stuff(two_people):
    rgb, pan = two_people
    things = [n for n, t in zip(pan.class_names, pan.is_thing) if t]
    stuff = [n for n, t in zip(pan.class_names, pan.is_thing) if not t]
    assert things == ["person", "person"]
    assert stuff == ["background"]
    # each person is a real share of the photo, and the two are apart
    fr = pan.area_fractions[pan.is_thing]
    assert (fr > 0.1).all() and (fr < 0.45).all(), fr
    assert (pan.masks.sum(axis=0) <= 1).all()
    # stuff + things cover nearly everything; the rest is void; all sums to one
    void = pan.void_fraction
    assert void < 0.05
    assert pan.area_fractions.sum() + void == pytest.approx(1.0, abs=1e-6)


def test_no_thing_means_only_stuff(photos):
    pan = panoptic(load_image(photos / "rocket.jpg"))
    assert not pan.is_thing.any() and pan.class_names == ["background"]
    coffee = panoptic(load_image(photos / "coffee.png"))  # offline: a cup with the detector, else nothing
    assert set(coffee.class_names) <= {"cup", "background"} and "person" not in coffee.class_names


def test_export_is_coco_panoptic(two_people):
    _, pan = two_people
    png, ann = coco_panoptic(pan, "two_people.png")
    ids = png.astype(np.int64) @ np.array([1, 256, 65536])
    assert set(np.unique(ids)) <= {0} | {s["id"] for s in ann["segments_info"]}
    json.dumps(ann)  # serialisable
    assert {c["name"] for c in ann["categories"]} == {"person", "background"}


def test_auto_pairs_bundled_offline_and_prefers_stuff_aware_semantic_when_cached(monkeypatch):
    from core import models
    from core.segmentation.panoptic import default_models

    assert default_models() in (("objects-offline", "mediapipe-person"), ("blazepose-multi", "mediapipe-person"))
    real_status = models.Registry.status
    cached = {"maskrcnn-resnet50-fpn-v2", "deeplabv3-resnet50", "segformer-b0-ade"}
    monkeypatch.setattr(models.Registry, "status",
                        lambda self, name: "cached" if name in cached else real_status(self, name))
    assert default_models() == ("maskrcnn-resnet50-fpn-v2", "segformer-b0-ade")
    assert default_models("auto", "deeplabv3-resnet50") == ("maskrcnn-resnet50-fpn-v2", "deeplabv3-resnet50")


def test_compare_view_uses_the_tab_s_things_not_the_people_only_map(pipeline_ready):
    """Offline the stuff comes from the people-only map; the compare view's semantic picture must
    still show the horse the tab found, and say which model it shows."""
    from core.segmentation.panoptic import compare_semantic, run_models
    from tests.conftest import ROOT

    rgb = load_image(ROOT / "assets/eval/person_dog_horse.jpg")
    things, stuff = run_models(rgb)
    assert things.model == "objects-offline" and stuff.model == "mediapipe-person"
    sem, note = compare_semantic(things.filter(min_score=0.5), stuff)
    assert {"person", "horse"} <= set(sem.class_names) and "objects-offline" in note
    people_only = things.filter(classes={1})
    same, note = compare_semantic(people_only, stuff)
    assert same is stuff and "mediapipe-person" in note


@pytest.fixture(scope="module")
def pipeline_ready():
    from core.segmentation.catalog import objects as catalog

    if catalog.ONNX_FILE.locate() is None:
        pytest.skip("nanodet-m is not made here (apt-get install npm, then make setup)")
