"""Instance tab: every object its own mask, box and score; people with their skeletons; live webcam."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr

from core import models, render
from core.segmentation import coco
from core.segmentation.instance import BUNDLED, OFFLINE, IouTracker, instance, instance_rows, resolve_model
from core.segmentation.instance_inside import candidate_rows, candidate_summary, dropped_summary, inside_panels
from core.types import Segmentation
from demos.session_files import session_dir
from demos.common import (
    class_filter,
    idea_box,
    legend_html,
    model_dropdown,
    photo_input,
    read_upload,
    timings_table,
    user_errors,
)
from demos.live import live_view
from demos.video import clip_panel, instance_clip

INTRO = """### Instance segmentation: every object its own mask
Semantic segmentation paints all people one colour; **instance** segmentation tells them apart.
Mask R-CNN's idea: first **detect** a box around each object, then **segment inside each box** (a small
28x28 mask per object, stretched back into its box). Add a keypoint head and the same network finds the
joints of each person's **skeleton**. The bundled model here works the same way for people: BlazePose
finds each person, crops them, and a second network gives 33 keypoints and a mask per person.
Offline, `objects-offline` builds Mask R-CNN's two stages from bundled parts for COCO's 80 classes:
NanoDet boxes (plus BlazePose's people), then per box the BlazePose landmark model for people and a
GrabCut mask for everything else.
Colours follow each instance's position (and, on the webcam, its track), not the order of detection."""

INSIDE_TEXT = """**How the answer is built.** For Mask R-CNN: the region proposal network suggests about a
thousand boxes; the best are classified, and for each kept box a 28x28 mask (and, for Keypoint R-CNN,
one 56x56 heatmap per joint) is predicted, then pasted into the box at full resolution. For the bundled
BlazePose pipeline: a detector finds each person's head and two alignment points (hips and a point
above the head) that fix the body's centre, size and rotation; the image is cut into one upright crop
per person, and the landmark network sees only that crop. For `objects-offline`: stage 1 shows every
candidate box of both detectors, stage 2 each box's crop and the mask (and skeleton) that came back;
the table below says for every candidate that is not in the result what dropped it: the score
threshold, an overlap (NMS, or the same box under another class), a duplicate person, or the pose check."""

RUN_MIN_SCORE = 0.3
"""The models keep instances scoring at least this; the score slider filters the cached result."""

TABLE_HEADERS = ["id", "class", "score", "runner-up", "mask", "area px", "area %", "box", "keypoints seen"]
CANDIDATE_HEADERS = ["#", "detector", "class", "score", "box", "result"]


# --------------------------------------------------------------------------- plain callbacks
def _class_choices(seg: Segmentation) -> list[tuple[str, int]]:
    present = sorted({int(c) for c in seg.class_ids})
    return [(seg.labels[c], c) for c in present]


def _table(seg: Segmentation, score: float, classes) -> list[list]:
    rows = sorted(instance_rows(seg, min_score=score, classes=classes), key=lambda r: r["id"])
    return [[r["id"], r["class"], r["score"], r.get("runner_up", ""), r.get("mask", ""), r["area_px"], r["area_%"],
             r["box"], r.get("keypoints_visible", "")] for r in rows]


def _legend(seg: Segmentation, score: float, classes) -> str:
    shown = seg.filter(min_score=score, classes=set(classes) if classes is not None else None)
    colors = render.segment_colors(shown)
    rows = [{"label": render.label_text(shown, i, tag=f"#{int(shown.segment_ids[i])}")
             + (f" · {render.ROUGH_NOTE}" if shown.quality(i) == "rough" else ""),
             "color_hex": render.to_hex(col), "id": int(shown.segment_ids[i]), "rough": shown.quality(i) == "rough"}
            for i, col in enumerate(colors)]
    rows.sort(key=lambda r: r["id"])
    return legend_html(rows)


def _honesty_notes(shown: Segmentation) -> str:
    """What the picture cannot claim, for the shown instances: rough masks, guessed labels."""
    text = ""
    rough = sum(q == "rough" for q in shown.mask_quality)
    if rough:
        text += (f" · {rough} rough mask(s), hatched: GrabCut found no outline in the box (or saw too little "
                 "background around it), so the mask only marks where the object is")
    guesses = int((shown.scores < render.GUESS_BELOW).sum()) if shown.scores is not None else 0
    if guesses:
        text += f" · {guesses} label(s) with a '?' are guesses (score below {render.GUESS_BELOW:.2f})"
    return text


def render_view(state, score: float, kp_threshold: float, opacity: float, show_boxes: bool,
                show_skeleton: bool, show_labels: bool, classes):
    """Draw the cached result with the current look settings (no model run)."""
    if not state:
        raise gr.Error("Segment an image first.")
    rgb, seg = state["rgb"], state["seg"]
    classes = None if classes is None else [int(c) for c in classes]
    image = render.overlay(rgb, seg, opacity=opacity, classes=classes, min_score=score, show_boxes=show_boxes,
                           show_labels=show_labels, show_keypoints=show_skeleton,
                           keypoint_threshold=kp_threshold)
    visible = seg.filter(min_score=score, classes=set(classes) if classes is not None else None)
    summary = f"**{len(visible)} instance(s)** shown of {len(seg)} found by `{seg.model}`" + _honesty_notes(visible)
    if not len(seg):
        summary += " · nothing found: " + ("this model finds people only." if seg.model == BUNDLED
                                           else "try a lower score threshold.")
    if seg.model == BUNDLED and models.registry().status(OFFLINE) not in ("loaded", "ready"):
        summary += (f" · the offline 80-class detector is not here ({models.registry().status_reason(OFFLINE) or 'not made'}):"
                    " people only. `apt-get install npm`, then `make setup`.")
    dropped = dropped_summary(seg)
    if dropped:
        summary += " · " + dropped
    if seg.fallback:
        summary += " · " + seg.fallback
    elif not seg.has_masks:
        summary += " · this model has no mask head: boxes and skeletons only."
    return image, _legend(seg, score, classes), _table(seg, score, classes), summary


@user_errors
def segment_instances(image, model: str, keypoint_format: str, score: float, kp_threshold: float,
                      opacity: float, show_boxes: bool, show_skeleton: bool, show_labels: bool,
                      rcnn_size: int | None = 800):
    """Run the instance model once, cache its result (and its insides), and draw it."""
    rgb = read_upload(image)
    seg = instance(rgb, model=model or "auto", min_score=min(RUN_MIN_SCORE, score), inside=True,
                   keypoint_format=keypoint_format, min_size=int(rcnn_size) if rcnn_size else None)
    state = {"rgb": rgb, "seg": seg}
    choices = _class_choices(seg)
    classes = [c for _, c in choices]
    view = render_view(state, score, kp_threshold, opacity, show_boxes, show_skeleton, show_labels, classes)
    panels = [(img, cap) for img, cap in inside_panels(rgb, seg)]
    cands = [[r[h] for h in CANDIDATE_HEADERS] for r in candidate_rows(seg)]
    return (state, *view, timings_table(seg.timings_ms.rounded()),
            gr.CheckboxGroup(choices=choices, value=classes), panels, candidate_summary(seg), cands)


@user_errors
def export_coco(state, score: float, classes):
    """COCO-style JSON (RLE masks, boxes, scores, keypoints) of what is shown."""
    if not state:
        raise gr.Error("Segment an image first.")
    seg: Segmentation = state["seg"]
    shown = seg.filter(min_score=score, classes=set(int(c) for c in classes) if classes is not None else None)
    out = session_dir("cvlab_instance_") / "instances_coco.json"
    return str(coco.write_coco(shown, out, file_name="image.png"))


def live_frame(frame, score: float, kp_threshold: float, show_boxes: bool, show_skeleton: bool, live):
    """One webcam frame through the bundled pipeline, ids tracked across frames, and a status line (the
    page measures the frame rate it shows, demos/live.py). Never raises (the stream goes on)."""
    if frame is None:
        return None, "", live
    start = time.perf_counter()
    live = live or {"tracker": IouTracker(), "model": live_model()}
    try:
        seg = instance(frame, model=live["model"], min_score=score, tracker=live["tracker"], tiles=True)
    except Exception as exc:  # noqa: BLE001 - a bad frame must not end the stream
        return frame, f"frame skipped ({type(exc).__name__})", live
    image = render.overlay(frame, seg, show_boxes=show_boxes, show_keypoints=show_skeleton,
                           keypoint_threshold=kp_threshold, opacity=0.45)
    h, w = frame.shape[:2]
    text = (f"this frame {1000 * (time.perf_counter() - start):.0f} ms on the server "
            f"({w}x{h}, {len(seg)} instance(s), `{seg.model}`)")
    return image, text, live


def uses_rcnn(model: str | None) -> bool:
    """The dropdown's choice runs a torchvision R-CNN (whose input size the tab's radio sets)."""
    try:
        return "rcnn" in resolve_model(model or "auto")
    except (models.ModelError, LookupError, ValueError):
        return False


def live_model() -> str:
    """The live path: the offline 80-class pipeline when its detector is here, else BlazePose."""
    return OFFLINE if models.registry().status(OFFLINE) in ("loaded", "ready") else BUNDLED


# --------------------------------------------------------------------------- layout
def _inside_accordion():
    """The Inside view: intermediate images, the dropped-candidate summary and the candidate table."""
    with gr.Accordion("Inside: how the instances were found", open=False, elem_id="instance-inside-acc"):
        gr.Markdown(INSIDE_TEXT)
        inside = gr.Gallery(label="Intermediate steps", columns=2, height=420, object_fit="contain",
                            elem_id="instance-inside")
        cand_summary = gr.Markdown(elem_id="instance-candidates-summary")
        candidates = gr.Dataframe(headers=CANDIDATE_HEADERS, label="Every detector candidate and what happened to it",
                                  interactive=False, elem_id="instance-candidates")
    return inside, cand_summary, candidates


def build_instance_tab() -> None:
    idea_box(INTRO)
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1):
            image = photo_input("instance", ("two_people.jpg", "astronaut.png", "chelsea.png", "coffee.png"))
            model = model_dropdown("instance", label="Model")
            keypoint_format = gr.Radio([("model's own (BlazePose 33 / COCO 17)", "native"), ("COCO 17", "coco17")],
                                       value="native", label="Keypoints")
            rcnn_size = gr.Radio([("800 (as trained)", 800), ("640", 640), ("512 (faster)", 512)], value=800,
                                 visible=uses_rcnn(model.value),
                                 label="Mask / Keypoint R-CNN input: shorter side in pixels",
                                 info="a CPU needs several seconds per photo at 800")
            run = gr.Button("Find instances", variant="primary", elem_id="instance-run")
            score = gr.Slider(RUN_MIN_SCORE, 0.95, value=0.35, step=0.05, label="Score threshold",
                              info=f"instances scoring below {RUN_MIN_SCORE} are never kept")
            kp_threshold = gr.Slider(0.05, 0.95, value=0.5, step=0.05, label="Keypoint visibility threshold")
            opacity = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Mask opacity", elem_id="instance-opacity")
            with gr.Row():
                show_boxes = gr.Checkbox(True, label="Boxes")
                show_skeleton = gr.Checkbox(True, label="Skeletons", elem_id="instance-skeletons")
                show_labels = gr.Checkbox(True, label="Labels", elem_id="instance-labels")
            classes = class_filter()
        with gr.Column(scale=2):
            overlay, legend, summary, table, timings = _result_panes()
    inside, cand_summary, candidates = _inside_accordion()
    with gr.Accordion("Export (COCO-style JSON with RLE masks and keypoints)", open=False,
                      elem_id="instance-export-acc"):
        export = gr.Button("Export what is shown", elem_id="instance-export")
        export_file = gr.File(label="COCO JSON", elem_id="instance-export-file")
    with gr.Accordion("Live webcam (bundled pipeline)", open=False, elem_id="instance-live-acc"):
        gr.Markdown("Click the camera, allow access, then press **Record**: every frame goes through the offline "
                    "pipeline (the detectors every 4th frame, people followed by the landmark model in between; "
                    "other objects as boxes); each instance keeps its colour while it moves (an IoU tracker).")
        live_view("instance", live_frame, [score, kp_threshold, show_boxes, show_skeleton],
                  cam_id="instance-live-cam", out_id="instance-live", info_id="instance-fps",
                  out_label="Live instances", time_limit=300)
    clip_panel("instance", [model], instance_clip)

    model.change(lambda m: gr.Radio(visible=uses_rcnn(m)), model, rcnn_size, api_visibility="private",
                 show_progress="hidden", queue=False)
    look = [score, kp_threshold, opacity, show_boxes, show_skeleton, show_labels]
    run.click(segment_instances, inputs=[image, model, keypoint_format, *look, rcnn_size],
              outputs=[state, overlay, legend, table, summary, timings, classes, inside, cand_summary, candidates],
              api_name="segment_instance")
    redraw = dict(fn=user_errors(render_view), inputs=[state, *look, classes],
                  outputs=[overlay, legend, table, summary], show_progress="hidden", api_visibility="private")
    for slider in (score, kp_threshold, opacity):
        # "input" fires while dragging and when a number typed into the slider's box is confirmed with Enter
        # ("release" misses the latter); always_last drops the in-between values a fast drag queues
        slider.input(**redraw, trigger_mode="always_last")
    for box in (show_boxes, show_skeleton, show_labels, classes):
        box.input(**redraw)
    export.click(export_coco, inputs=[state, score, classes], outputs=export_file, api_name="export_instance")


def _result_panes() -> tuple:
    """(overlay, legend, summary, instance table, timings) of the tab's right column."""
    overlay = gr.Image(label="Instances", show_label=False, type="numpy", interactive=False, height=440,
                       elem_id="instance-overlay")
    legend = gr.HTML(elem_id="instance-legend")
    summary = gr.Markdown(elem_id="instance-summary")
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Instances", interactive=False, elem_id="instance-table")
    timings = gr.Markdown(elem_id="instance-timings")
    return overlay, legend, summary, table, timings
