"""Panoptic tab: things + stuff merged by Panoptic FPN's rule, with the merge's knobs live."""
from __future__ import annotations

import itertools
from pathlib import Path

import gradio as gr

from core import render
from core.models import registry
from core.segmentation import panoptic as pan
from core.types import Segmentation
from demos.session_files import session_dir
from demos.common import (
    READY,
    idea_box,
    legend_html,
    photo_input,
    read_upload,
    timings_table,
    user_errors,
)
from demos.video import clip_panel, panoptic_clip

INTRO = """### Panoptic segmentation: every pixel labelled *and* every object told apart
**Semantic** segmentation gives every pixel a class but merges two people into one "person" region.
**Instance** segmentation tells the people apart but says nothing about the rest of the picture.
**Panoptic** does both: countable **things** (people, cars, dogs) each get their own segment, shown as
shades of their class colour; amorphous **stuff** (sky, road, wall, "background") gets one segment per
class. Panoptic FPN merges the two networks' outputs: instances claim pixels in score order (one that is
mostly hidden behind better-scoring ones is dropped: *overlap*), stuff fills what is left, and stuff
patches smaller than *min stuff area* become void (shown unpainted).

*Offline the things are COCO's 80 classes (NanoDet boxes, then a person or GrabCut mask per box: a
hatched mask is rough, GrabCut found no outline) and all the rest is one stuff class, "background",
taken from the bundled person map: no offline model labels sky, road or grass. With Mask R-CNN +
SegFormer (ADE20K) weights in your cache, the stuff gets its classes too.*"""

TABLE_HEADERS = ["id", "label", "kind", "area %", "score"]


def model_pairs() -> list[tuple[str, str]]:
    """Dropdown choices: "auto" and every ready (instance, semantic) pair."""
    reg = registry()
    ready = lambda task: [s.name for s in reg.specs(task) if reg.status(s.name) in READY]  # noqa: E731
    pairs = [("auto (best pair available here)", "auto")]
    for inst, sem in itertools.product(ready("instance"), ready("semantic")):
        pairs.append((f"{inst} + {sem}", f"{inst}+{sem}"))
    return pairs


def _table(seg: Segmentation) -> list[list]:
    rows = []
    for s in seg.summary():
        rows.append([s["id"], s["label"], "thing" if s["is_thing"] else "stuff",
                     round(100 * s["area_fraction"], 2), None if s["score"] is None or s["score"] != s["score"]
                     else round(s["score"], 3)])
    void = seg.void_fraction or 0.0
    rows.append([0, "(void)", "void", round(100 * void, 2), None])
    return rows


def _legend(seg: Segmentation) -> str:
    colors = render.segment_colors(seg)
    rows = [{"label": (render.label_text(seg, i, tag=f"#{int(seg.segment_ids[i])}")
                       + (f" · {render.ROUGH_NOTE}" if seg.quality(i) == "rough" else "")
                       if seg.is_thing[i] else f"{seg.class_names[i]} (stuff)"),
             "color_hex": render.to_hex(c), "area_fraction": float(seg.area_fractions[i]),
             "rough": seg.quality(i) == "rough"}
            for i, c in enumerate(colors)]
    return legend_html(rows)


def _views(state: dict, score: float, overlap: float, min_area: float, opacity: float):
    """Merge the cached outputs with the current knobs and render every output."""
    rgb, things, stuff = state["rgb"], state["things"], state["stuff"]
    result = pan.merge(things, stuff, score_threshold=score, overlap=overlap, min_stuff_area=int(min_area),
                       stuff_ids=state["stuff_ids"])
    overlay = render.overlay(rgb, result, opacity=opacity, show_boxes=False, show_labels=True,
                             show_keypoints=False)
    sem_seg, sem_note = pan.compare_semantic(things.filter(min_score=score), stuff)
    sem_view = render.overlay(rgb, sem_seg, opacity=opacity, show_boxes=False, show_labels=False,
                              hide_background=False)
    # things in the panoptic shades (left to right), so one person has one colour in all three views
    inst_view = render.overlay(rgb, things.filter(min_score=score), opacity=opacity, show_keypoints=False,
                               color_by="shade")
    sentence = pan.compare_sentence(sem_seg, things, result) + " " + sem_note
    timings = dict(state["timings"])
    summary = (f"{int(result.is_thing.sum())} things, {int((~result.is_thing).sum())} stuff regions, "
               f"{100 * (result.void_fraction or 0.0):.1f}% void · "
               f"{result.extras['dropped_overlapping_instances']} instance(s) dropped for overlap · "
               f"{result.extras['small_stuff_to_void']} small stuff region(s) to void")
    return (overlay, _legend(result), _table(result), summary, timings_table(timings),
            sem_view, inst_view, overlay, f"**What each view shows here:** {sentence}", result)


@user_errors
def run_panoptic(image, model: str, score: float, overlap: float, min_area: float, opacity: float):
    """Run the instance and semantic models once, cache their outputs, merge and render."""
    rgb = read_upload(image)
    things, stuff = pan.run_models(rgb, model or "auto")
    timings = {f"instance {k}": v for k, v in things.timings_ms.items()}
    timings.update({f"semantic {k}": v for k, v in stuff.timings_ms.items()})
    state = {"rgb": rgb, "things": things, "stuff": stuff, "timings": timings,
             "stuff_ids": pan.declared_stuff_ids(stuff.model)}
    views = _views(state, score, overlap, min_area, opacity)
    return (state, *views[:-1])


@user_errors
def remerge(state, score: float, overlap: float, min_area: float, opacity: float):
    """Re-run only the merge and the drawing on the cached model outputs (no network)."""
    if not state:
        raise gr.Error("Run the models on an image first.")
    return _views(state, score, overlap, min_area, opacity)[:-1]


@user_errors
def export_panoptic(state, score: float, overlap: float, min_area: float):
    """COCO panoptic export: PNG of segment ids + JSON with segments_info."""
    if not state:
        raise gr.Error("Run the models on an image first.")
    result = pan.merge(state["things"], state["stuff"], score_threshold=score, overlap=overlap,
                       min_stuff_area=int(min_area), stuff_ids=state["stuff_ids"])
    out = session_dir("cvlab_panoptic_")
    return [str(p) for p in pan.write_panoptic(result, out, "panoptic")]


def build_panoptic_tab() -> None:
    idea_box(INTRO)
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1):
            image = photo_input("panoptic", ("two_people.jpg", "astronaut.png", "coffee.png"), height=360)
            model = gr.Dropdown(choices=model_pairs(), value="auto", label="Models (instance + semantic)")
            run = gr.Button("Segment", variant="primary", elem_id="panoptic-run")
            score = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="Instance score threshold")
            overlap = gr.Slider(0.0, 1.0, value=0.5, step=0.05,
                                label="Overlap: share of an instance that must still be free")
            min_area = gr.Slider(0, 20000, value=4096, step=64, label="Minimum stuff area (pixels)",
                                 elem_id="panoptic-min-area")
            opacity = gr.Slider(0.0, 1.0, value=0.55, step=0.05, label="Opacity", elem_id="panoptic-opacity")
        with gr.Column(scale=2):
            overlay = gr.Image(label="Panoptic result", type="numpy", interactive=False, height=420,
                               elem_id="panoptic-overlay")
            legend = gr.HTML(elem_id="panoptic-legend")
            summary = gr.Markdown(elem_id="panoptic-summary")
            table = gr.Dataframe(headers=TABLE_HEADERS, label="Segments", interactive=False,
                                 elem_id="panoptic-table")
            timings = gr.Markdown()
    with gr.Accordion("Compare: semantic vs instance vs panoptic", open=True):
        sentence = gr.Markdown(elem_id="panoptic-sentence")
        with gr.Row(elem_id="panoptic-compare"):
            sem_view = gr.Image(label="Semantic: classes, not objects", interactive=False, height=260,
                                elem_id="panoptic-compare-semantic")
            inst_view = gr.Image(label="Instance: objects, not the rest", interactive=False, height=260,
                                 elem_id="panoptic-compare-instance")
            pan_view = gr.Image(label="Panoptic: both", interactive=False, height=260,
                                elem_id="panoptic-compare-panoptic")
    with gr.Accordion("Export (COCO panoptic format)", open=False):
        export = gr.Button("Export PNG + segments_info JSON")
        files = gr.File(label="Files", file_count="multiple")
    clip_panel("panoptic", [model], panoptic_clip)

    knobs = [score, overlap, min_area, opacity]
    outputs = [overlay, legend, table, summary, timings, sem_view, inst_view, pan_view, sentence]
    run.click(run_panoptic, inputs=[image, model, *knobs], outputs=[state, *outputs], api_name="segment_panoptic")
    for knob in knobs:
        # "input": dragging, and a number typed into the box then Enter ("release" misses that)
        knob.input(remerge, inputs=[state, *knobs], outputs=outputs, show_progress="hidden",
                   api_visibility="private", trigger_mode="always_last")
    export.click(export_panoptic, inputs=[state, score, overlap, min_area], outputs=files,
                 api_name="export_panoptic")
