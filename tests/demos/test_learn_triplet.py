"""Faces, Learn: with one photo per person there is no positive, so the triplet view says what it needs
instead of building a wrong triplet (a positive of another person)."""
from __future__ import annotations

import pytest

from demos.faces import gallery as gallery_tab
from demos.faces import learn as learn_tab
from demos.faces import shared


@pytest.fixture(scope="module")
def example_doc():
    return gallery_tab.example_gallery_doc()


def _one_photo_each(doc):
    g = shared.gallery_of(doc)
    for name, entries in g.people.items():
        for entry in entries[1:]:
            g = g.remove_photo(entry.id)
    assert all(len(es) == 1 for es in g.people.values()) and len(g) >= 2
    return shared.doc_of(g), g


def test_one_photo_per_person_says_what_a_triplet_needs(example_doc):
    doc, g = _one_photo_each(example_doc)
    a, p, n = learn_tab.default_triplet(g)
    assert p is None and a is not None and n is not None
    assert g.find(a)[0] != g.find(n)[0]
    svg, md = learn_tab.triplet_view(doc, a, p, n, 0.2)
    assert svg == "" and "two photos of one person" in md
    # even with three photos picked by hand, no triplet is computed from a wrong positive
    ids = [e.id for _, e in g.entries()]
    svg, md = learn_tab.triplet_view(doc, ids[0], ids[1], ids[2], 0.2)
    assert svg == "" and "two photos of one person" in md


def test_a_real_triplet_still_works_and_wrong_picks_are_named_in_text(example_doc):
    g = shared.gallery_of(example_doc)
    a, p, n = learn_tab.default_triplet(g)
    assert g.find(a)[0] == g.find(p)[0] != g.find(n)[0]
    svg, md = learn_tab.triplet_view(example_doc, a, p, n, 0.2)
    assert "<svg" in svg and "loss" in md
    svg, md = learn_tab.triplet_view(example_doc, a, n, p, 0.2)  # positive of another person
    assert "Not a triplet" in md and "\u26a0" not in md
