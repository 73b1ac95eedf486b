"""Gallery maths for face recognition: numpy only, no images, no models.

A :class:`Gallery` is an immutable set of named people, each with one or more
L2-normalised embeddings (one per enrolled photo) from ONE embedding model. Every
edit returns a new gallery, so a value kept in one user's session can never be
changed through another's. It serialises to an embeddings-only JSON document
(no face images) and refuses malformed documents with a plain sentence.

Also here: comparing embeddings (cosine similarity <-> Euclidean distance of unit
vectors) and identification (nearest photo or per-person mean). Calibration lives in
``core.faces.calibration``, the enrolment rule in ``core.faces.enrolment``, the teaching
models (triplet loss, pair classifier, PCA) in ``core.faces.teaching``.

Conventions: embeddings are float32 rows of unit length; "similarity" is their
cosine (dot product), in [-1, 1], higher = more alike; "distance" is the Euclidean
distance sqrt(2 - 2 * similarity), in [0, 2], lower = more alike. A model's
``metric`` says which of the two its threshold is stated in.
"""
from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

import numpy as np

Metric = Literal["cosine", "euclidean"]
MatchMode = Literal["nearest", "mean"]

GALLERY_FORMAT = "cvlab-face-gallery"
GALLERY_VERSION = 1
MAX_PEOPLE = 500
MAX_NAME = 80
MAX_JSON_BYTES = 20_000_000


@dataclass
class GalleryLimits:
    """Process-wide gallery caps (the app's ``--max-gallery-photos``): photos one gallery may hold."""

    max_photos: int = 5000


LIMITS = GalleryLimits()


def set_max_photos(max_photos: int) -> None:
    """Set the photo cap every gallery edit and import checks."""
    LIMITS.max_photos = int(max_photos)


class GalleryError(ValueError):
    """A gallery operation or document that cannot be done/used; ``str(err)`` is for the user."""


# --------------------------------------------------------------------------- measures
def normalize(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, np.float32)
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(n, 1e-12)).astype(np.float32)


def cosine_to_distance(similarity):
    """Euclidean distance of two unit vectors whose cosine is ``similarity``."""
    return np.sqrt(np.maximum(0.0, 2.0 - 2.0 * np.asarray(similarity, np.float64)))


def distance_to_cosine(distance):
    return 1.0 - np.asarray(distance, np.float64) ** 2 / 2.0


def to_measure(similarity, metric: Metric):
    """A similarity expressed in the model's own measure (similarity itself, or distance)."""
    return np.asarray(similarity, np.float64) if metric == "cosine" else cosine_to_distance(similarity)


def threshold_as_similarity(threshold: float, metric: Metric) -> float:
    """The cosine similarity equivalent to a threshold stated in ``metric``."""
    return float(threshold) if metric == "cosine" else float(distance_to_cosine(threshold))


def accepts(similarity, threshold: float, metric: Metric):
    """True where two faces count as the same person under (threshold, metric)."""
    if metric == "cosine":
        return np.asarray(similarity) >= threshold
    return cosine_to_distance(similarity) <= threshold


# --------------------------------------------------------------------------- gallery
@dataclass(frozen=True, eq=False)
class Entry:
    """One enrolled photo: an id, its unit embedding (D,) and a short label of where it came from."""

    id: str
    embedding: np.ndarray
    source: str = ""


def _clean_name(name: Any) -> str:
    if not isinstance(name, str):
        raise GalleryError("A person's name must be text.")
    name = " ".join(name.split())
    if not name:
        raise GalleryError("Please type a name for this person.")
    if len(name) > MAX_NAME:
        raise GalleryError(f"Names are limited to {MAX_NAME} characters.")
    return name


@dataclass(frozen=True, eq=False)
class Gallery:
    """People -> enrolled embeddings, for one embedding model. Immutable: edits return a new gallery.

    Attributes:
        model: registry name of the embedding model (e.g. "sface").
        dim: embedding length D.
        people: ordered mapping name -> tuple of :class:`Entry` (never empty).
    """

    model: str
    dim: int
    people: dict[str, tuple[Entry, ...]] = field(default_factory=dict)

    # -- views ----------------------------------------------------------------
    @classmethod
    def empty(cls, model: str, dim: int) -> "Gallery":
        return cls(model=model, dim=int(dim), people={})

    @property
    def names(self) -> list[str]:
        return list(self.people)

    def __len__(self) -> int:
        """Number of people."""
        return len(self.people)

    @property
    def n_photos(self) -> int:
        return sum(len(v) for v in self.people.values())

    def entries(self) -> list[tuple[str, Entry]]:
        return [(name, e) for name, es in self.people.items() for e in es]

    def matrix(self) -> tuple[np.ndarray, list[str], list[str]]:
        """(M, D) float32 embeddings of every photo, their person names and photo ids."""
        rows = self.entries()
        if not rows:
            return np.zeros((0, self.dim), np.float32), [], []
        return (np.stack([e.embedding for _, e in rows]).astype(np.float32),
                [n for n, _ in rows], [e.id for _, e in rows])

    def means(self) -> tuple[list[str], np.ndarray]:
        """Names and (P, D) unit-length mean embedding of each person."""
        if not self.people:
            return [], np.zeros((0, self.dim), np.float32)
        return self.names, normalize(np.stack([np.mean([e.embedding for e in es], axis=0)
                                               for es in self.people.values()]))

    def find(self, photo_id: str) -> tuple[str, Entry]:
        for name, e in self.entries():
            if e.id == photo_id:
                return name, e
        raise GalleryError("That photo is no longer in the gallery.")

    def photo_labels(self) -> list[tuple[str, str]]:
        """(label, photo id) pairs such as ("Ada #2 (upload.jpg)", id), for pickers."""
        out = []
        for name, es in self.people.items():
            for k, e in enumerate(es, 1):
                out.append((f"{name} #{k}" + (f" ({e.source})" if e.source else ""), e.id))
        return out

    # -- edits (each returns a new gallery) ----------------------------------------
    def _check_model(self, model: str | None) -> None:
        if model is not None and model != self.model:
            raise GalleryError(
                f"This gallery holds '{self.model}' embeddings; faces embedded with '{model}' cannot be "
                f"compared with them. Switch back to '{self.model}' or start a new gallery.")

    def enrol(self, name: str, embeddings: np.ndarray, sources: Iterable[str] | None = None,
              model: str | None = None) -> "Gallery":
        """Add one embedding per photo (``embeddings`` (k, D)) to person ``name`` (created if new)."""
        self._check_model(model)
        name = _clean_name(name)
        emb = np.asarray(embeddings, np.float32).reshape(-1, self.dim) if np.size(embeddings) else \
            np.zeros((0, self.dim), np.float32)
        if not len(emb):
            raise GalleryError("No face to enrol.")
        if not np.isfinite(emb).all():
            raise GalleryError("An embedding contains invalid numbers.")
        sources = list(sources or [])
        sources += [""] * (len(emb) - len(sources))
        if name not in self.people and len(self.people) >= MAX_PEOPLE:
            raise GalleryError(f"The gallery is full ({MAX_PEOPLE} people).")
        if self.n_photos + len(emb) > LIMITS.max_photos:
            raise GalleryError(f"The gallery is full ({LIMITS.max_photos} photos, this server's limit).")
        new = [Entry(uuid.uuid4().hex[:12], row, str(src)[:120]) for row, src in zip(normalize(emb), sources)]
        people = dict(self.people)
        people[name] = tuple(people.get(name, ())) + tuple(new)
        return Gallery(self.model, self.dim, people)

    def rename(self, old: str, new: str) -> "Gallery":
        """Rename a person; renaming onto an existing name merges the two."""
        if old not in self.people:
            raise GalleryError(f"There is no '{old}' in the gallery.")
        new = _clean_name(new)
        if new == old:
            return self
        people: dict[str, tuple[Entry, ...]] = {}
        for name, es in self.people.items():
            if name == old:
                people[new] = people.get(new, ()) + es
            elif name == new:
                people[new] = es + people.get(new, ())
            else:
                people[name] = es
        return Gallery(self.model, self.dim, people)

    def remove_photo(self, photo_id: str) -> "Gallery":
        """Drop one photo; a person whose last photo goes is forgotten."""
        name, _ = self.find(photo_id)
        people = dict(self.people)
        rest = tuple(e for e in people[name] if e.id != photo_id)
        if rest:
            people[name] = rest
        else:
            del people[name]
        return Gallery(self.model, self.dim, people)

    def forget(self, name: str) -> "Gallery":
        if name not in self.people:
            raise GalleryError(f"There is no '{name}' in the gallery.")
        return Gallery(self.model, self.dim, {k: v for k, v in self.people.items() if k != name})

    # -- (de)serialisation -----------------------------------------------------------
    def to_dict(self, digits: int = 6) -> dict:
        """JSON-ready, embeddings only (no images): the export format and the session-state form."""
        return {
            "format": GALLERY_FORMAT,
            "version": GALLERY_VERSION,
            "model": self.model,
            "dim": self.dim,
            "people": [{"name": name,
                        "photos": [{"id": e.id, "source": e.source,
                                    "embedding": [round(float(v), digits) for v in e.embedding]}
                                   for e in es]}
                       for name, es in self.people.items()],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_dict(cls, doc: Any, *, model: str | None = None, dim: int | None = None,
                  known: dict[str, int] | None = None) -> "Gallery":
        """Validate a document made by :meth:`to_dict`; ``model``/``dim`` (if given) must match, and with
        ``known`` (model name -> embedding length) the model must be one of them with its length."""
        if not isinstance(doc, dict):
            raise GalleryError("This is not a face gallery file (expected a JSON object).")
        if doc.get("format") != GALLERY_FORMAT:
            raise GalleryError(f"This is not a CV Lab face gallery file (its 'format' is not '{GALLERY_FORMAT}').")
        if doc.get("version") != GALLERY_VERSION:
            raise GalleryError(f"Unsupported gallery version {doc.get('version')!r} (this app reads "
                               f"version {GALLERY_VERSION}).")
        g_model, g_dim = doc.get("model"), doc.get("dim")
        if not isinstance(g_model, str) or not g_model:
            raise GalleryError("The gallery file does not say which model made its embeddings.")
        if not isinstance(g_dim, int) or isinstance(g_dim, bool) or not 1 <= g_dim <= 4096:
            raise GalleryError("The gallery file has no valid embedding length ('dim').")
        if known is not None:
            _check_known(g_model, g_dim, known)
        if model is not None and g_model != model:
            raise GalleryError(f"This gallery was made with '{g_model}', but '{model}' is selected; its "
                               f"embeddings cannot be compared. Select '{g_model}' first.")
        if dim is not None and g_dim != dim:
            raise GalleryError(f"The gallery's embeddings have {g_dim} numbers; the model makes {dim}.")
        people_doc = doc.get("people")
        if not isinstance(people_doc, list):
            raise GalleryError("The gallery file has no list of people.")
        if len(people_doc) > MAX_PEOPLE:
            raise GalleryError(f"The gallery file has more than {MAX_PEOPLE} people.")
        people: dict[str, tuple[Entry, ...]] = {}
        seen_ids: set[str] = set()
        total = 0
        for i, person in enumerate(people_doc, 1):
            if not isinstance(person, dict):
                raise GalleryError(f"Person {i} in the gallery file is not an object.")
            name = _clean_name(person.get("name"))
            photos = person.get("photos")
            if not isinstance(photos, list) or not photos:
                raise GalleryError(f"'{name}' has no photos in the gallery file.")
            entries = _parse_photos(name, photos, g_dim, seen_ids)
            total += len(entries)
            if total > LIMITS.max_photos:
                raise GalleryError(f"The gallery file has more than {LIMITS.max_photos} photos, this server's limit.")
            people[name] = people.get(name, ()) + tuple(entries)
        return cls(g_model, g_dim, people)

    @classmethod
    def from_json(cls, text: str | bytes, **kwargs) -> "Gallery":
        if isinstance(text, bytes):
            if len(text) > MAX_JSON_BYTES:
                raise GalleryError("The gallery file is too large.")
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise GalleryError("The gallery file is not UTF-8 text.") from None
        if len(text) > MAX_JSON_BYTES:
            raise GalleryError("The gallery file is too large.")
        if _nesting_too_deep(text):
            raise GalleryError("The gallery file is nested too deeply to be a face gallery.")
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GalleryError(f"The gallery file is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        except RecursionError:
            raise GalleryError("The gallery file is nested too deeply to be a face gallery.") from None
        return cls.from_dict(doc, **kwargs)


def _parse_photos(name: str, photos: list, dim: int, seen_ids: set[str]) -> list[Entry]:
    """The entries of one person's ``photos`` list in a gallery document (each a unit embedding of ``dim``
    numbers); ids that are missing, too long or already seen are replaced. GalleryError names the photo."""
    entries = []
    for k, photo in enumerate(photos, 1):
        if not isinstance(photo, dict):
            raise GalleryError(f"Photo {k} of '{name}' is not an object.")
        emb = photo.get("embedding")
        if not isinstance(emb, list) or len(emb) != dim or not all(
                isinstance(v, (int, float)) and not isinstance(v, bool) for v in emb):
            raise GalleryError(f"Photo {k} of '{name}' needs an embedding of {dim} numbers.")
        vec = np.asarray(emb, np.float64)
        norm = float(np.linalg.norm(vec)) if np.isfinite(vec).all() else float("nan")
        if not math.isfinite(norm) or not 0.9 <= norm <= 1.1:
            raise GalleryError(f"Photo {k} of '{name}' has an embedding that is not unit length "
                               "(the file was edited or comes from elsewhere).")
        pid = photo.get("id")
        if not isinstance(pid, str) or not pid or len(pid) > 64 or pid in seen_ids:
            pid = uuid.uuid4().hex[:12]
        seen_ids.add(pid)
        src = photo.get("source", "")
        entries.append(Entry(pid, normalize(vec.astype(np.float32)), str(src)[:120] if src else ""))
    return entries


def _check_known(model: str, dim: int, known: dict[str, int]) -> None:
    if model not in known:
        raise GalleryError(f"The gallery was made with '{model[:40]}', a model this app does not have "
                           f"(it knows {', '.join(known)}).")
    if dim != known[model]:
        raise GalleryError(f"The gallery says its '{model}' embeddings have {dim} numbers; that model makes "
                           f"{known[model]}.")


MAX_JSON_DEPTH = 8
"""A gallery document is 5 levels deep (object, people list, person, photos list, photo, embedding)."""


def _nesting_too_deep(text: str) -> bool:
    """True when brackets open deeper than MAX_JSON_DEPTH outside strings: refused before json.loads
    (vectorised: a running sum of opening minus closing brackets)."""
    bare = _JSON_STRING.sub('""', text).encode("utf-8", "replace")
    codes = np.frombuffer(bare, np.uint8)
    steps = np.isin(codes, _OPEN).astype(np.int32) - np.isin(codes, _CLOSE).astype(np.int32)
    return bool(len(steps)) and int(np.cumsum(steps).max()) > MAX_JSON_DEPTH


_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')
_OPEN = np.frombuffer(b"[{", np.uint8)
_CLOSE = np.frombuffer(b"]}", np.uint8)


# --------------------------------------------------------------------------- identification
@dataclass(frozen=True)
class GalleryMatch:
    """Best person for one query embedding. ``name`` is None when rejected as unknown."""

    name: str | None
    best_name: str | None
    similarity: float
    scores: dict[str, float]


def person_scores(gallery: Gallery, embeddings: np.ndarray, mode: MatchMode = "nearest") -> tuple[list[str], np.ndarray]:
    """(N, P) cosine similarity of each query to each person: best photo ("nearest") or the
    person's mean embedding ("mean")."""
    q = normalize(np.asarray(embeddings, np.float32).reshape(-1, gallery.dim))
    if not len(gallery):
        return [], np.zeros((len(q), 0), np.float32)
    if mode == "mean":
        names, means = gallery.means()
        return names, q @ means.T
    if mode != "nearest":
        raise GalleryError(f"Unknown matching mode '{mode}' (use 'nearest' or 'mean').")
    mat, owners, _ = gallery.matrix()
    sims = q @ mat.T
    names = gallery.names
    out = np.full((len(q), len(names)), -1.0, np.float32)
    index = {n: i for i, n in enumerate(names)}
    for col, owner in enumerate(owners):
        j = index[owner]
        out[:, j] = np.maximum(out[:, j], sims[:, col])
    return names, out


def identify(gallery: Gallery, embeddings: np.ndarray, *, threshold: float, metric: Metric,
             mode: MatchMode = "nearest") -> list[GalleryMatch]:
    """For each query embedding: the closest person, or None ("unknown") when even the closest
    fails the threshold. Empty gallery -> every face unknown."""
    names, sims = person_scores(gallery, embeddings, mode)
    out = []
    for row in sims:
        if not names:
            out.append(GalleryMatch(None, None, float("nan"), {}))
            continue
        j = int(np.argmax(row))
        best = float(row[j])
        ok = bool(accepts(best, threshold, metric))
        out.append(GalleryMatch(names[j] if ok else None, names[j], best,
                                {n: round(float(s), 4) for n, s in zip(names, row)}))
    return out
