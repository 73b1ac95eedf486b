"""Gallery maths for face recognition: numpy only, no images, no models.

A :class:`Gallery` is an immutable set of named people, each with one or more
L2-normalised embeddings (one per enrolled photo) from ONE embedding model. Every
edit returns a new gallery, so a value kept in one user's session can never be
changed through another's. It serialises to an embeddings-only JSON document
(no face images) and refuses malformed documents with a plain sentence.

Also here: comparing embeddings (cosine similarity <-> Euclidean distance of unit
vectors), identification (nearest photo or per-person mean), calibration (same /
different pair scores, ROC, equal-error rate, suggested threshold), the triplet
loss, a Siamese logistic regression on |f(a) - f(b)| and a 2-D PCA projection.

Conventions: embeddings are float32 rows of unit length; "similarity" is their
cosine (dot product), in [-1, 1], higher = more alike; "distance" is the Euclidean
distance sqrt(2 - 2 * similarity), in [0, 2], lower = more alike. A model's
``metric`` says which of the two its threshold is stated in.
"""
from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass, field
from typing import Any, Iterable, Literal

import numpy as np

Metric = Literal["cosine", "euclidean"]
MatchMode = Literal["nearest", "mean"]

GALLERY_FORMAT = "cvlab-face-gallery"
GALLERY_VERSION = 1
MAX_PEOPLE = 500
MAX_PHOTOS = 5000
MAX_NAME = 80
MAX_JSON_BYTES = 20_000_000


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
        if self.n_photos + len(emb) > MAX_PHOTOS:
            raise GalleryError(f"The gallery is full ({MAX_PHOTOS} photos).")
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
    def from_dict(cls, doc: Any, *, model: str | None = None, dim: int | None = None) -> "Gallery":
        """Validate a document made by :meth:`to_dict`; ``model``/``dim`` (if given) must match."""
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
            entries = []
            for k, photo in enumerate(photos, 1):
                if not isinstance(photo, dict):
                    raise GalleryError(f"Photo {k} of '{name}' is not an object.")
                emb = photo.get("embedding")
                if not isinstance(emb, list) or len(emb) != g_dim or not all(
                        isinstance(v, (int, float)) and not isinstance(v, bool) for v in emb):
                    raise GalleryError(f"Photo {k} of '{name}' needs an embedding of {g_dim} numbers.")
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
            total += len(entries)
            if total > MAX_PHOTOS:
                raise GalleryError(f"The gallery file has more than {MAX_PHOTOS} photos.")
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
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise GalleryError(f"The gallery file is not valid JSON (line {exc.lineno}: {exc.msg}).") from None
        return cls.from_dict(doc, **kwargs)


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


# --------------------------------------------------------------------------- calibration
def pair_scores(gallery: Gallery) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int]], list[tuple[int, int]]]:
    """Cosine similarities of all same-person and all different-person photo pairs, with the
    (i, j) indices into ``gallery.matrix()``."""
    mat, owners, _ = gallery.matrix()
    sims = mat @ mat.T
    same, diff, same_ij, diff_ij = [], [], [], []
    for i in range(len(owners)):
        for j in range(i + 1, len(owners)):
            if owners[i] == owners[j]:
                same.append(sims[i, j]); same_ij.append((i, j))
            else:
                diff.append(sims[i, j]); diff_ij.append((i, j))
    return np.asarray(same, np.float64), np.asarray(diff, np.float64), same_ij, diff_ij


@dataclass(frozen=True)
class Calibration:
    """Verification quality of a model on a set of labelled pairs (scores are cosine similarities).

    fpr / tpr / thresholds: the ROC curve (accept when similarity >= threshold), from
    "accept nothing" to "accept everything". eer: the equal-error rate (false accepts =
    false rejects), eer_threshold: the similarity where that happens; ``suggested`` is that
    threshold in the model's own measure (``metric``).
    """

    same: np.ndarray
    diff: np.ndarray
    fpr: np.ndarray
    tpr: np.ndarray
    thresholds: np.ndarray
    auc: float
    eer: float
    eer_threshold: float
    suggested: float
    metric: str

    def rates_at(self, similarity_threshold: float) -> tuple[float, float]:
        """(false accept rate, false reject rate) when accepting similarity >= the threshold."""
        far = float(np.mean(self.diff >= similarity_threshold)) if len(self.diff) else 0.0
        frr = float(np.mean(self.same < similarity_threshold)) if len(self.same) else 0.0
        return far, frr


def roc(same: np.ndarray, diff: np.ndarray, metric: Metric = "cosine") -> Calibration:
    """ROC, AUC and equal-error rate from same-person and different-person similarities."""
    same = np.asarray(same, np.float64).ravel()
    diff = np.asarray(diff, np.float64).ravel()
    if not len(same) or not len(diff):
        raise GalleryError("Calibration needs at least one same-person pair (a person with two photos) "
                           "and one different-person pair (two people).")
    cuts = np.unique(np.concatenate([same, diff]))[::-1]
    thresholds = np.concatenate([[np.inf], cuts])
    tpr = np.array([np.mean(same >= t) for t in thresholds])
    fpr = np.array([np.mean(diff >= t) for t in thresholds])
    auc = float(np.trapezoid(tpr, fpr)) if hasattr(np, "trapezoid") else float(np.trapz(tpr, fpr))
    # Equal-error rate: scan candidate thresholds (mid-points between neighbouring scores) for the
    # smallest |FAR - FRR|; report their mean at that point.
    cand = np.concatenate([[cuts[0] + 1e-6], (cuts[:-1] + cuts[1:]) / 2, [cuts[-1] - 1e-6]]) if len(cuts) > 1 \
        else np.array([cuts[0] + 1e-6, cuts[0] - 1e-6])
    far = np.array([np.mean(diff >= t) for t in cand])
    frr = np.array([np.mean(same < t) for t in cand])
    gap = np.abs(far - frr)
    best = np.flatnonzero(gap == gap.min())
    # among equally good cut points take the middle one (the widest gap between the two classes)
    k = int(best[len(best) // 2])
    eer = float((far[k] + frr[k]) / 2)
    eer_t = float(cand[k])
    if len(best) > 1:
        eer_t = float((cand[best[0]] + cand[best[-1]]) / 2)
    suggested = float(to_measure(eer_t, metric))
    return Calibration(same, diff, fpr, tpr, thresholds, auc, eer, eer_t, suggested, metric)


def calibrate(gallery: Gallery, metric: Metric = "cosine") -> Calibration:
    same, diff, _, _ = pair_scores(gallery)
    return roc(same, diff, metric)


def histogram(values: np.ndarray, bins: int = 20, lo: float = -0.2, hi: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(counts, bin edges) over a fixed range so two histograms share their bins."""
    values = np.clip(np.asarray(values, np.float64), lo, hi)
    return np.histogram(values, bins=bins, range=(lo, hi))


# --------------------------------------------------------------------------- triplet loss
@dataclass(frozen=True)
class Triplet:
    d_ap: float
    d_an: float
    margin: float
    loss: float
    kind: Literal["easy", "semi-hard", "hard"]

    def explain(self) -> str:
        if self.kind == "easy":
            return ("the negative is already farther than the positive by more than the margin, "
                    "so the loss is 0 and this triplet teaches nothing.")
        if self.kind == "semi-hard":
            return ("the negative is farther than the positive, but by less than the margin; "
                    "the loss is small and positive. FaceNet trains on these.")
        return ("the negative is at least as close as the positive; the loss is large. "
                "Too many of these early in training can make it collapse.")


def triplet(anchor: np.ndarray, positive: np.ndarray, negative: np.ndarray, margin: float = 0.2) -> Triplet:
    """FaceNet's triplet loss max(d(A,P) - d(A,N) + margin, 0), with d the Euclidean distance
    between unit embeddings (FaceNet itself uses the squared distance)."""
    a, p, n = (normalize(np.asarray(v, np.float32).ravel()) for v in (anchor, positive, negative))
    d_ap = float(np.linalg.norm(a - p))
    d_an = float(np.linalg.norm(a - n))
    loss = max(d_ap - d_an + margin, 0.0)
    kind = "hard" if d_an <= d_ap else ("semi-hard" if d_an < d_ap + margin else "easy")
    return Triplet(d_ap, d_an, float(margin), float(loss), kind)


# --------------------------------------------------------------------------- Siamese logistic regression
@dataclass(frozen=True)
class PairClassifier:
    """p(same | a, b) = sigmoid(w . |a - b| + b): a Siamese "binary" head on frozen embeddings.

    Fitted by Newton's method (IRLS) with an L2 penalty and class-balanced weights (there are far
    more different-person pairs than same-person pairs).
    """

    weights: np.ndarray
    bias: float
    l2: float
    n_same: int
    n_diff: int
    train_accuracy: float
    iterations: int
    losses: tuple[float, ...]

    def proba(self, a: np.ndarray, b: np.ndarray) -> float:
        return pair_probability(self.weights, self.bias, a, b)


def pair_probability(weights, bias: float, a: np.ndarray, b: np.ndarray) -> float:
    """p(same) = sigmoid(w . |a - b| + bias) for a classifier kept as plain numbers (e.g. in a session)."""
    x = np.abs(normalize(np.asarray(a, np.float32).ravel()) - normalize(np.asarray(b, np.float32).ravel()))
    return float(_sigmoid(x.astype(np.float64) @ np.asarray(weights, np.float64) + float(bias)))


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def pair_features(gallery: Gallery) -> tuple[np.ndarray, np.ndarray]:
    """X (M, D) = |f(a) - f(b)| for every photo pair, y (M,) = 1 for same person, 0 otherwise."""
    mat, owners, _ = gallery.matrix()
    xs, ys = [], []
    for i in range(len(owners)):
        for j in range(i + 1, len(owners)):
            xs.append(np.abs(mat[i] - mat[j]))
            ys.append(1.0 if owners[i] == owners[j] else 0.0)
    if not xs:
        return np.zeros((0, gallery.dim)), np.zeros(0)
    return np.asarray(xs, np.float64), np.asarray(ys, np.float64)


def fit_pair_classifier(x: np.ndarray, y: np.ndarray, *, l2: float = 1.0, iterations: int = 25) -> PairClassifier:
    """Logistic regression of y on x (numpy, Newton steps); needs both classes."""
    x = np.asarray(x, np.float64)
    y = np.asarray(y, np.float64).ravel()
    n_same, n_diff = int((y == 1).sum()), int((y == 0).sum())
    if not n_same or not n_diff:
        raise GalleryError("The pair classifier needs at least one person with two photos and at least "
                           "two people in the gallery.")
    m, d = x.shape
    xb = np.hstack([x, np.ones((m, 1))])
    sw = np.where(y == 1, m / (2.0 * n_same), m / (2.0 * n_diff))  # class-balanced sample weights
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # no penalty on the bias
    theta = np.zeros(d + 1)
    losses = []
    it = 0
    for it in range(1, iterations + 1):
        p = _sigmoid(xb @ theta)
        eps = 1e-12
        loss = float(-(sw * (y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))).sum() / m
                     + 0.5 * (reg * theta ** 2).sum() / m)
        losses.append(loss)
        grad = (xb.T @ (sw * (p - y)) + reg * theta) / m
        hess = (xb.T * (sw * p * (1 - p))) @ xb / m + np.diag(reg) / m + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < 1e-7:
            break
    p = _sigmoid(xb @ theta)
    acc = float(((p >= 0.5) == (y == 1)).mean())
    return PairClassifier(theta[:-1].copy(), float(theta[-1]), float(l2), n_same, n_diff, acc, it, tuple(losses))


def fit_gallery_classifier(gallery: Gallery, *, l2: float = 1.0) -> PairClassifier:
    x, y = pair_features(gallery)
    return fit_pair_classifier(x, y, l2=l2)


# --------------------------------------------------------------------------- projection
def pca_2d(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(M, 2) coordinates of the rows on their first two principal components, and the share of
    the variance each component explains. Fewer than 2 rows -> zeros."""
    x = np.asarray(embeddings, np.float64)
    out = np.zeros((len(x), 2))
    if len(x) < 2:
        return out, np.zeros(2)
    xc = x - x.mean(axis=0)
    u, s, vt = np.linalg.svd(xc, full_matrices=False)
    k = min(2, len(s))
    out[:, :k] = xc @ vt[:k].T
    # fix the sign so the picture does not flip between runs: largest |loading| positive
    for c in range(k):
        if out[np.argmax(np.abs(out[:, c])), c] < 0:
            out[:, c] = -out[:, c]
    var = s ** 2
    ratio = np.zeros(2)
    ratio[:k] = var[:k] / max(var.sum(), 1e-12)
    return out, ratio
