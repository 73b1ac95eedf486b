"""The enrolment rule: before a photo is filed under a name, is it already there (the same photo twice),
or does it look like someone ELSE already enrolled (recognition would call it that person)? Used by the
app's Gallery tab (which holds such a photo back for the visitor to confirm) and by ``cvlab faces enrol``
(which files it, as the folder says, and warns)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from core.faces.gallery import Gallery, Metric, accepts, normalize, person_scores, to_measure


@dataclass(frozen=True)
class Lookalike:
    """The enrolled person (other than the one being enrolled) closest to a new photo.

    ``similarity`` is the cosine similarity in [-1, 1] to that person's closest photo; ``value`` is the
    same closeness in the model's own measure (similarity, or distance); ``same`` is True when that
    value passes the decision threshold, i.e. recognition would call the photo this other person."""

    name: str
    similarity: float
    value: float
    same: bool


def nearest_other_person(gallery: Gallery, embedding: np.ndarray, name: str, *, threshold: float,
                         metric: Metric) -> Lookalike | None:
    """The closest enrolled person whose name is not ``name`` for one embedding (D,), or None when the
    gallery holds nobody else. Used before enrolling a photo under ``name``: when ``same`` is True the
    photo looks like someone else already enrolled, and filing it silently would mislabel the gallery."""
    name = " ".join(str(name).split())
    names, sims = person_scores(gallery, np.asarray(embedding, np.float32).reshape(1, -1), "nearest")
    others = [(float(s), n) for n, s in zip(names, sims[0]) if n != name]
    if not others:
        return None
    sim, other = max(others)
    return Lookalike(other, sim, float(to_measure(sim, metric)), bool(accepts(sim, threshold, metric)))


def is_enrolled(gallery: Gallery, embedding: np.ndarray, name: str, tol: float = 1e-4) -> bool:
    """True when ``name`` already holds this very embedding (D,) (the same photo enrolled twice)."""
    entries = gallery.people.get(" ".join(str(name).split()), ())
    if not entries:
        return False
    q = normalize(np.asarray(embedding, np.float32).reshape(-1))
    return bool(max(float(e.embedding @ q) for e in entries) >= 1.0 - tol)


@dataclass(frozen=True)
class EnrolCheck:
    """What enrolling one embedding under ``name`` would do: "add" it, or nothing because it is a
    "duplicate" (this very photo is already filed under the name), or it is a "lookalike" of
    ``other``, an enrolled person who is not ``name`` (filing it silently could mislabel the gallery)."""

    kind: Literal["add", "duplicate", "lookalike"]
    other: Lookalike | None = None
    metric: Metric = "cosine"

    def describe(self, source: str, name: str) -> str:
        """One plain sentence about a duplicate or a look-alike ("" for add)."""
        if self.kind == "duplicate":
            return f"{source}: this photo is already enrolled for '{name}'."
        if self.kind == "lookalike" and self.other is not None:
            closeness = closeness_text(self.other.value, self.metric)
            return (f"{source}: this face looks like {self.other.name} ({closeness}), already enrolled, "
                    f"not like '{name}'.")
        return ""


def closeness_text(value: float, metric: Metric) -> str:
    """A closeness in the model's own measure, for messages: "0.62" or "distance 0.81"."""
    return f"{value:.2f}" if metric == "cosine" else f"distance {value:.2f}"


def check_enrol(gallery: Gallery, embedding: np.ndarray, name: str, *, threshold: float,
                metric: Metric) -> EnrolCheck:
    """The enrolment rule for one embedding (D,) and the name it is to be filed under."""
    if is_enrolled(gallery, embedding, name):
        return EnrolCheck("duplicate")
    other = nearest_other_person(gallery, embedding, name, threshold=threshold, metric=metric)
    if other is not None and other.same:
        return EnrolCheck("lookalike", other, metric)
    return EnrolCheck("add")
