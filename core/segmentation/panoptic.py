"""Panoptic segmentation: instance "things" + semantic "stuff", merged by Panoptic FPN's rule.

Kirillov et al. (Panoptic FPN, 2019) combine the two heads' outputs like this:

1. Instances above a score threshold claim pixels in descending score order. An
   instance whose still-free part is less than ``overlap`` of its mask is dropped
   (it is mostly hidden behind better-scoring ones); otherwise it gets its free pixels.
2. Stuff classes of the semantic map fill the pixels no instance claimed. The
   semantic map's *thing* classes are ignored there (instances speak for things).
3. Stuff regions smaller than ``min_stuff_area`` pixels become void (unlabelled).

``merge`` is a pure function of the two cached model outputs, so the sliders can
re-run it in milliseconds without running a network again.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from core.types import BACKGROUND_NAMES, Segmentation, Timings

VOID_ID = 0
"""Segment id of unlabelled pixels in the panoptic id map (COCO panoptic convention)."""


def stuff_classes(semantic_labels: tuple[str, ...], thing_labels: tuple[str, ...]) -> set[int]:
    """Semantic class ids that are stuff: those the instance model does not know as a thing
    (an instance model's "background" label is not a thing)."""
    things = {t.strip().lower() for t in thing_labels if t} - BACKGROUND_NAMES
    return {i for i, name in enumerate(semantic_labels) if name.strip().lower() not in things}


def merge(
    things: Segmentation,
    stuff: Segmentation,
    *,
    score_threshold: float = 0.5,
    overlap: float = 0.5,
    min_stuff_area: int = 4096,
    stuff_ids: set[int] | None = None,
) -> Segmentation:
    """Merge an instance result and a semantic result of the same image into a panoptic one.

    Args:
        things: task "instance" result, (N, H, W) masks with scores (None = all 1).
        stuff: task "semantic" result of the same H x W.
        score_threshold: instances scoring below this are ignored.
        overlap: minimum share of an instance's mask that must still be free.
        min_stuff_area: stuff regions with fewer pixels become void.
        stuff_ids: the semantic classes that are stuff (a model's ``meta["stuff_ids"]``);
            default: the classes whose name the instance model does not know.

    Returns:
        task "panoptic" Segmentation: non-overlapping masks, ``is_thing``, ``segment_ids``
        (1..K in claim order; 0 is void), scores (stuff: NaN), labels = thing labels then
        the stuff labels the thing vocabulary lacks. ``void_fraction`` is the
        unlabelled share, so area fractions + void fraction = 1.
    """
    if things.image_size != stuff.image_size:
        raise ValueError(f"instance result is {things.image_size}, semantic result is {stuff.image_size}")
    h, w = things.image_size
    labels = list(things.labels)
    index = {name.strip().lower(): i for i, name in enumerate(labels)}
    if stuff_ids is None:
        stuff_ids = stuff_classes(stuff.labels, things.labels)

    taken = np.zeros((h, w), bool)
    claimed, dropped = _claim_things(things, taken, score_threshold, overlap)
    filled, small_stuff = _fill_stuff(stuff, taken, stuff_ids, min_stuff_area, labels, index)
    picks = [int(i) for i, _ in claimed]
    thing_scores = things.scores if things.scores is not None else np.ones(len(things), np.float32)
    second_ids, second_scores = _runner_ups(things, picks, len(filled))
    n_t, n = len(claimed), len(claimed) + len(filled)
    masks = [m for _, m in claimed] + [m for _, m in filled]
    return Segmentation(
        masks=np.stack(masks) if n else np.zeros((0, h, w), bool),
        class_ids=np.array([int(things.class_ids[i]) for i in picks] + [c for c, _ in filled], np.int64),
        labels=tuple(labels),
        task="panoptic",
        model=f"{things.model}+{stuff.model}",
        scores=np.array([float(thing_scores[i]) for i in picks] + [float("nan")] * len(filled), np.float32),
        is_thing=np.arange(n) < n_t,
        segment_ids=np.arange(1, n + 1),
        mask_quality=tuple(things.quality(i) for i in picks) + ("model",) * len(filled) if things.mask_quality else (),
        second_class_ids=second_ids,
        second_scores=second_scores,
        void_fraction=float(1.0 - taken.sum() / float(h * w)),
        extras={"dropped_overlapping_instances": dropped, "small_stuff_to_void": small_stuff,
                "score_threshold": score_threshold, "overlap": overlap, "min_stuff_area": min_stuff_area},
    )


def _runner_ups(things: Segmentation, picks: list[int], n_stuff: int) -> tuple[np.ndarray, np.ndarray]:
    """(K,) int64 runner-up class ids (-1 = none) and (K,) float32 scores of the things ``picks``
    followed by ``n_stuff`` stuff segments (which have none)."""
    runners = [things.runner_up(i) for i in picks]
    ids = [int(things.second_class_ids[i]) if r else -1 for i, r in zip(picks, runners)] + [-1] * n_stuff
    scores = [r[1] if r else 0.0 for r in runners] + [0.0] * n_stuff
    return np.array(ids, np.int64), np.array(scores, np.float32)


def _claim_things(things: Segmentation, taken: np.ndarray, score_threshold: float,
                  overlap: float) -> tuple[list[tuple[int, np.ndarray]], int]:
    """Instances claim pixels best score first (``taken``, (H, W) bool, is updated in place).
    Returns ([(instance index, its free (H, W) bool mask)], how many were dropped for overlap)."""
    claimed, dropped = [], 0
    thing_scores = things.scores if things.scores is not None else np.ones(len(things), np.float32)
    for i in np.argsort(-thing_scores, kind="stable"):
        if thing_scores[i] < score_threshold:
            continue
        mask = things.masks[i]
        area = int(mask.sum())
        if area == 0:
            continue
        free = mask & ~taken
        if not free.any() or free.sum() / area < overlap:
            dropped += 1
            continue
        taken |= free
        claimed.append((int(i), free))
    return claimed, dropped


def _fill_stuff(stuff: Segmentation, taken: np.ndarray, stuff_ids: set[int], min_stuff_area: int,
                labels: list[str], index: dict[str, int]) -> tuple[list[tuple[int, np.ndarray]], int]:
    """Stuff classes fill the pixels still free (``taken`` updated in place); a stuff class the thing
    vocabulary lacks is appended to ``labels`` / ``index``. Returns ([(class id in ``labels``, its
    (H, W) bool mask)], how many stuff regions smaller than ``min_stuff_area`` became void)."""
    filled, small = [], 0
    for mask, cid in zip(stuff.masks, stuff.class_ids):
        if int(cid) not in stuff_ids:
            continue
        free = mask & ~taken
        if free.sum() < min_stuff_area:
            small += int(free.any())
            continue
        key = stuff.labels[cid].strip().lower()
        if key not in index:
            index[key] = len(labels)
            labels.append(stuff.labels[cid])
        taken |= free
        filled.append((index[key], free))
    return filled, small


def default_models(instance_model: str = "auto", semantic_model: str = "auto") -> tuple[str, str]:
    """The (instance, semantic) pair to use. For "auto": the best instance model ready here; with
    the bundled pipelines (people, or the offline 80 things) the bundled person map (its
    "background" is the only stuff offline), otherwise the best semantic model that knows
    stuff classes (SegFormer ADE20K) before the VOC ones (whose only stuff is "background")."""
    from core.models import first_available
    from core.segmentation import instance, semantic

    instance_model = instance.resolve_model(instance_model)
    if semantic_model != "auto":
        return instance_model, semantic.resolve_model(semantic_model)
    if instance_model in (instance.BUNDLED, instance.OFFLINE):
        # offline there is no stuff class: the person map's "background" is the only stuff
        return instance_model, "mediapipe-person"
    return instance_model, first_available(("segformer-b0-ade", *semantic.AUTO_ORDER))


def declared_stuff_ids(semantic_model: str) -> set[int] | None:
    """The stuff classes a semantic model's spec declares (``meta["stuff_ids"]``), if any."""
    from core.models import get

    ids = get(semantic_model).meta.get("stuff_ids")
    return None if ids is None else set(ids)


def run_models(rgb: np.ndarray, model: str = "auto") -> tuple[Segmentation, Segmentation]:
    """Run the instance and the semantic model once; ``model`` is "auto" or "INSTANCE+SEMANTIC"."""
    from core.segmentation.instance import instance
    from core.segmentation.semantic import semantic

    if model != "auto" and "+" not in model:
        raise ValueError(f"A panoptic model is 'auto' or 'INSTANCE+SEMANTIC' (got '{model}').")
    inst_name, sem_name = model.split("+", 1) if "+" in model else ("auto", "auto")
    inst_name, sem_name = default_models(inst_name, sem_name)
    return instance(rgb, model=inst_name, min_score=0.0), semantic(rgb, model=sem_name)


def panoptic(
    rgb: np.ndarray,
    model: str = "auto",
    *,
    score_threshold: float = 0.5,
    overlap: float = 0.5,
    min_stuff_area: int = 4096,
) -> Segmentation:
    """Panoptic segmentation of RGB uint8 (H, W, 3): run both models, then :func:`merge`."""
    timings = Timings()
    with timings.stage("models"):
        things, stuff = run_models(rgb, model)
    with timings.stage("merge"):
        result = merge(things, stuff, score_threshold=score_threshold, overlap=overlap,
                       min_stuff_area=min_stuff_area, stuff_ids=declared_stuff_ids(stuff.model))
    timings_all = Timings({f"instance.{k}": v for k, v in things.timings_ms.items()})
    timings_all.update({f"semantic.{k}": v for k, v in stuff.timings_ms.items()})
    timings_all["merge"] = timings["merge"]
    object.__setattr__(result, "timings_ms", timings_all)
    return result


# --------------------------------------------------------------------------- COCO panoptic export
def id_map(seg: Segmentation) -> np.ndarray:
    """(H, W) int32 segment id per pixel, 0 = void."""
    out = np.zeros(seg.image_size, np.int32)
    ids = seg.segment_ids if seg.segment_ids is not None else np.arange(1, len(seg) + 1)
    for mask, sid in zip(seg.masks, ids):
        out[mask] = sid
    return out


def coco_panoptic(seg: Segmentation, file_name: str) -> tuple[np.ndarray, dict]:
    """COCO panoptic format: an RGB PNG array (id = R + 256 G + 256^2 B) and the annotation dict
    with ``segments_info`` (id, category_id, iscrowd, bbox [x, y, w, h], area) and ``categories``."""
    ids = id_map(seg)
    png = np.stack([ids % 256, (ids // 256) % 256, ids // 65536], axis=-1).astype(np.uint8)
    boxes = seg.mask_boxes()
    seg_ids = seg.segment_ids if seg.segment_ids is not None else np.arange(1, len(seg) + 1)
    infos = []
    for i in range(len(seg)):
        x0, y0, x1, y1 = (float(v) for v in boxes[i])
        infos.append({"id": int(seg_ids[i]), "category_id": int(seg.class_ids[i]), "iscrowd": 0,
                      "bbox": [x0, y0, x1 - x0, y1 - y0], "area": int(seg.areas[i]),
                      "score": None if seg.scores is None or np.isnan(seg.scores[i]) else float(seg.scores[i])})
    used = sorted(set(int(c) for c in seg.class_ids))
    thing_of = {int(c): bool(t) for c, t in zip(seg.class_ids, seg.is_thing)} if seg.is_thing is not None else {}
    categories = [{"id": c, "name": seg.labels[c], "isthing": int(thing_of.get(c, True))} for c in used]
    annotation = {"file_name": file_name, "segments_info": infos, "categories": categories,
                  "void_fraction": seg.void_fraction}
    return png, annotation


def write_panoptic(seg: Segmentation, out_dir: Path, stem: str) -> list[Path]:
    """Write ``STEM.png`` (segment ids) and ``STEM.json`` (COCO panoptic annotation) into out_dir."""
    from PIL import Image

    png, annotation = coco_panoptic(seg, f"{stem}.png")
    png_path = Path(out_dir) / f"{stem}.png"
    json_path = Path(out_dir) / f"{stem}.json"
    Image.fromarray(png).save(png_path)
    json_path.write_text(json.dumps(annotation, indent=2))
    return [png_path, json_path]


PEOPLE_ONLY_STUFF = "mediapipe-person"
"""The bundled person map: offline it is the panoptic merge's only source of stuff ("background")."""


def compare_semantic(things: Segmentation, stuff: Segmentation) -> tuple[Segmentation, str]:
    """The Compare view's semantic picture and one sentence saying which model it shows.

    When the stuff came from the people-only map while the things came from an 80-class model,
    showing that map as "semantic" would contradict the tab (a dog would vanish). The things are then
    painted into one class map instead (what a semantic model with the same classes gives: one region
    per class, instances not told apart), over the stuff model's background."""
    if stuff.model != PEOPLE_ONLY_STUFF or set(things.class_names) <= {"person"}:
        return stuff, f"Semantic view: `{stuff.model}`, the model that gives this tab its stuff."
    label_map = np.zeros(things.image_size, np.int32)
    order = np.argsort(things.scores if things.scores is not None else np.zeros(len(things)), kind="stable")
    for i in order:  # later wins: the best-scoring instance takes a contested pixel
        label_map[things.masks[i]] = int(things.class_ids[i])
    sem = Segmentation.from_label_map(label_map, things.labels, f"{things.model} as one class map")
    return sem, (f"Semantic view: the `{things.model}` instances painted as one region per class (the stuff "
                 f"model here, `{stuff.model}`, knows only people, so it would hide every other thing).")


def compare_sentence(semantic_seg: Segmentation, instance_seg: Segmentation, pan: Segmentation) -> str:
    """One plain sentence on what each view shows for this image, e.g.
    "2 people: 1 region in semantic, 2 instances, 2 things + 1 stuff region"."""
    counts: dict[str, int] = {}
    for name, thing in zip(pan.class_names, pan.is_thing if pan.is_thing is not None else []):
        if thing:
            counts[name] = counts.get(name, 0) + 1
    things = sum(counts.values())
    stuff = len(pan) - things
    if not counts:
        return (f"No objects found: semantic shows {len(semantic_seg)} region(s), instance finds nothing, "
                f"panoptic has {stuff} stuff region(s).")
    parts = []
    for name, k in sorted(counts.items(), key=lambda kv: -kv[1]):
        sem_regions = sum(1 for c in semantic_seg.class_names if c.lower() == name.lower())
        parts.append(f"{k} {name}{'' if k == 1 else 's'}: {sem_regions} region in semantic")
    return (f"{'; '.join(parts)}; {len(instance_seg.filter(min_score=pan.extras.get('score_threshold', 0.5)))} "
            f"instance(s); panoptic: {things} thing(s) + {stuff} stuff region(s), "
            f"{pan.void_fraction or 0.0:.1%} void.")
