"""Semantic tab: a class for every pixel; live webcam; and the FCN lab (sliding windows, up-sampling)."""
from __future__ import annotations

import time
from pathlib import Path

import gradio as gr
from PIL import Image

from core import render
from core.image import limit_side
from core.models import registry
from core.segmentation import fcn_lab
from core.segmentation.export import write_semantic
from core.segmentation.semantic import FAST_MODELS, PersonTrack, resolve_model, semantic
from core.types import Segmentation
from demos.session_files import session_dir
from demos.common import (
    READY,
    class_filter,
    idea_box,
    legend_html,
    model_dropdown,
    photo_input,
    read_upload,
    timings_table,
    user_errors,
)
from demos.downsample_lab import build_downsample_lab
from demos.live import live_view
from demos.video import clip_panel, semantic_clip

INTRO = """### Semantic segmentation: a class for every pixel
The network answers one question for **every pixel**: *which class is this?* Two people are both just
"person" (telling them apart is the Instance tab's job). A **fully convolutional network** (FCN) does this in
one pass: it shrinks the image into coarse, meaningful features, then **up-samples** them back to a full-size
map of class scores. Offline the tab's default, `things-offline`, knows COCO's 80 countable things (NanoDet
boxes, then a person or GrabCut mask per box, painted into one map; no sky or road) and the bundled
`mediapipe-person` is a true FCN for people; the downloadable ones know 21 (VOC) or 150 (ADE20K) classes.
The lab at the bottom shows why one pass beats a sliding window, and how up-sampling works."""

SLIDING_TEXT = """**Before FCNs** a network labelled an image patch by patch. Here the same model runs once per
window (**tile**: each window labels all its pixels, overlaps are averaged; **centre**: each window decides
only the small cell at its middle, the classic patch classifier) and once over the whole image. Count the
forward passes, compare the times, and see what a patch misses when it cannot see the whole picture.
*Which model:* the tab's model when it is a fully convolutional network; when the tab's model is the offline
80-class map (a detector and a mask per box, which has no "one pass" to compare), the lab runs the bundled
person FCN, `mediapipe-person`, and says so under the result."""

SAMPLING_TEXT = """**Down and back up.** A real feature map (one channel of the bundled VGG19's early layers on your
photo) is max-pooled, which keeps the largest value of each block and remembers **where** it was (the
"switches"). Then six ways back to full size: **max-unpooling** puts each value back at its switch,
**nearest** copies it over the block, **bed of nails** puts it in the corner, **bilinear** blends neighbours,
and a **transposed convolution** stamps a kernel per value: output side = (in − 1) × stride − 2 × padding +
kernel. With a uniform kernel whose size is not a multiple of the stride, some output pixels get more kernel
copies than others: the **checkerboard** artefact (last panel: copies per pixel)."""

LAB_MAX_SIDE = 384
TABLE_HEADERS = ["class", "share %", "pixels"]
VGG_LAYERS = ["relu1_1", "relu1_2", "relu2_1", "relu2_2", "relu3_1", "relu3_4", "relu4_1"]


# --------------------------------------------------------------------------- main result
def _class_choices(seg: Segmentation) -> list[tuple[str, int]]:
    return [(f"{r['label']} ({100 * r['area_fraction']:.1f}%)", r["class_id"]) for r in render.legend(seg)
            if r["label"].lower() not in render.BACKGROUND_NAMES]


def share_rows(seg: Segmentation) -> list[list]:
    """Per-class pixel share table, largest first (background included)."""
    h, w = seg.image_size
    return [[r["label"], round(100 * r["area_fraction"], 2), int(round(r["area_fraction"] * h * w))]
            for r in render.legend(seg)]


def _summary(seg: Segmentation) -> str:
    title = seg.extras.get("model_title", seg.model)
    drawn = [r for r in render.legend(seg) if r["label"].lower() not in render.BACKGROUND_NAMES]
    text = f"`{seg.model}` ({title}) · {len(drawn)} class(es) besides background"
    if "people" in seg.extras:
        n = seg.extras["people"]
        text += f" · {n} person detection(s)"
        if n == 0 and "note" not in seg.extras:
            text += " · no person found: this model only knows people"
    if "note" in seg.extras:
        text += " · " + seg.extras["note"]
    return text


def render_view(state, opacity: float, classes, show_labels: bool):
    """Draw the cached result with the current look (never re-runs the model)."""
    if not state:
        raise gr.Error("Segment an image first.")
    rgb, seg = state["rgb"], state["seg"]
    classes = None if classes is None else [int(c) for c in classes]
    image = render.overlay(rgb, seg, opacity=opacity, classes=classes, show_boxes=False, show_labels=show_labels)
    shown = seg if classes is None else seg.filter(classes=set(classes))
    rows = [r | ({"label": f"{r['label']} · {render.ROUGH_NOTE}"} if r["rough"] else {})
            for r in render.legend(shown) if r["label"].lower() not in render.BACKGROUND_NAMES]
    return image, (rgb, image), legend_html(rows)


@user_errors
def segment_semantic(image, model: str, opacity: float, show_labels: bool):
    """Run the model once, cache the result in the session, and draw it."""
    rgb = read_upload(image)
    seg = semantic(rgb, model=model or "auto")
    state = {"rgb": rgb, "seg": seg}
    choices = _class_choices(seg)
    classes = [c for _, c in choices]
    overlay, pair, legend = render_view(state, opacity, classes, show_labels)
    return (state, overlay, pair, legend, share_rows(seg), _summary(seg), timings_table(seg.timings_ms.rounded()),
            gr.CheckboxGroup(choices=choices, value=classes))


@user_errors
def export_semantic(state, opacity: float, classes, show_labels: bool):
    """Label-index PNG + JSON (labels, palette, areas) + the overlay as shown."""
    if not state:
        raise gr.Error("Segment an image first.")
    out = session_dir("cvlab_semantic_")
    files = write_semantic(state["seg"], state["rgb"], out)
    overlay, _, _ = render_view(state, opacity, classes, show_labels)
    path = out / "semantic_overlay.png"
    Image.fromarray(overlay).save(path)
    return [str(p) for p in (path, *files)]


# --------------------------------------------------------------------------- live webcam
def live_models() -> list[tuple[str, str]]:
    reg = registry()
    return [(reg.get(n).title, n) for n in FAST_MODELS if n in reg.names() and reg.status(n) in READY]


def live_style(opacity: float) -> dict:
    """How live frames are drawn: no outlines, boxes or labels (halves the drawing time per frame)."""
    return {"opacity": opacity, "show_boxes": False, "show_labels": False, "outline": False}


def live_frame(frame, model: str, opacity: float, live):
    """One webcam frame: model + overlay + a status line (the page measures the frame rate it shows,
    demos/live.py). Never raises (the stream goes on)."""
    if frame is None:
        return None, "", live
    start = time.perf_counter()
    model = model or FAST_MODELS[0]
    if not live or live.get("model") != model:
        live = {"model": model, "track": PersonTrack()}
    try:
        options = {"track": live["track"]} if model == "mediapipe-person" else {}
        seg = semantic(frame, model=model, **options)
        image = render.overlay(frame, seg, **live_style(opacity))
    except Exception as exc:  # noqa: BLE001 - a bad frame must not end the stream
        return frame, f"frame skipped ({type(exc).__name__}: {str(exc)[:80]})", live
    now = time.perf_counter()
    h, w = frame.shape[:2]
    shares = ", ".join(f"{r['label']} {100 * r['area_fraction']:.0f}%" for r in render.legend(seg)[:3])
    text = f"this frame {1000 * (now - start):.0f} ms on the server ({w}x{h}, `{seg.model}`) · {shares}"
    return image, text, live


# --------------------------------------------------------------------------- the lab
def _lab_image(image, state):
    if image is not None:
        return limit_side(read_upload(image), LAB_MAX_SIDE)
    if state:
        return limit_side(state["rgb"], LAB_MAX_SIDE)
    raise gr.Error("Add a photo at the top of the tab first.")


def passes_note(window: int, stride: int, mode: str, image, state=None) -> str:
    """How many forward passes the chosen window/stride will need on the photo the lab will use (the same
    image and size as ``run_sliding``), before running."""
    try:
        h, w = _lab_image(image, state).shape[:2]
    except gr.Error:
        return "Patch by patch: the number of forward passes depends on the photo; add one at the top of the tab."
    n = fcn_lab.count_passes(h, w, int(window), int(stride), mode)
    warn = f" (over the limit of {fcn_lab.MAX_PASSES}: raise the stride)" if n > fcn_lab.MAX_PASSES else ""
    return f"Patch by patch: **{n} forward passes** over this {w}x{h} image{warn}; one pass: **1**."


def new_lab_photo(window: int, stride: int, mode: str, image, state=None):
    """A new photo: the pass count for it, and the lab results of the previous photo cleared."""
    return passes_note(window, stride, mode, image, state), None, "", None, ""


def lab_model_note(chosen: str | None, used: str) -> str:
    """One sentence when the sliding-window lab ran another model than the tab's, saying which and why."""
    try:
        tab_model = resolve_model(chosen or "auto")
    except (LookupError, ValueError):
        return ""
    if tab_model == used:
        return ""
    return (f" **Not the tab's model:** the tab uses `{tab_model}` (a detector plus a mask per box: no single "
            f"fully convolutional pass to compare with patches), so this lab runs `{used}`, a fully "
            "convolutional network that knows only people.")


@user_errors
def run_sliding(image, state, model: str, window: int, stride: int, mode: str):
    rgb = _lab_image(image, state)
    res = fcn_lab.sliding_window(rgb, model or "auto", window=int(window), stride=int(stride), mode=mode)
    full = Segmentation.from_label_map(res.full_map, res.labels, res.model)
    patch = Segmentation.from_label_map(res.window_map, res.labels, res.model)
    one = render.overlay(rgb, full, show_boxes=False, show_labels=False, opacity=0.55)
    grid = render.overlay(rgb, patch, show_boxes=False, show_labels=False, opacity=0.55)
    shown = res.windows if len(res.windows) <= 64 else res.windows[:: len(res.windows) // 64 + 1]
    grid = render.draw_boxes(grid, shown, [(255, 255, 255)] * len(shown), width=1)
    s = res.summary()
    text = (f"| | forward passes | time |\n|---|---|---|\n"
            f"| one pass (fully convolutional) | **1** | {s['time_full_ms']:.0f} ms |\n"
            f"| patch by patch ({mode}, {res.window} px window, stride {res.stride}) | **{s['passes_window']}** | "
            f"{s['time_window_ms']:.0f} ms |\n\n"
            f"One pass was **{s['speedup']:.1f}x faster**. The patch-by-patch map agrees with the one-pass map on "
            f"**{100 * res.agreement:.1f}%** of the pixels (mean IoU {res.miou:.2f}); each pixel went through the "
            f"network {res.work_ratio:.1f} times on average. Model: `{res.model}`.{lab_model_note(model, res.model)}")
    drawn = "all windows drawn" if len(shown) == len(res.windows) else f"{len(shown)} of them drawn"
    return [(one, "one pass over the whole image"),
            (grid, f"patch by patch: {len(res.windows)} windows ({drawn})")], text


@user_errors
def run_sampling(image, state, layer: str, pool: int, kernel: int, stride: int, padding: int, kind: str):
    rgb = _lab_image(image, state)
    r = fcn_lab.sampling_lab(rgb, layer=layer, pool=int(pool), kernel=int(kernel), stride=int(stride),
                             padding=int(padding), kernel_kind=kind)
    lo, hi = float(r.feature.min()), float(r.feature.max())
    size = 256

    def hm(a, own_scale=False):
        return fcn_lab.heatmap(a, size=size, vmin=None if own_scale else lo, vmax=None if own_scale else hi)

    h, w = r.feature.shape
    ph, pw = r.pooled.shape
    th, tw = r.transposed.shape
    panels = [
        (hm(r.feature), f"{layer}, channel {r.channel}: {h}x{w}"),
        (hm(r.pooled), f"max-pooled {r.pool}x{r.pool}: {ph}x{pw}"),
        (hm(r.unpooled), f"max-unpooled at the switches: {h}x{w}"),
        (hm(r.nearest), f"nearest: {h}x{w}"),
        (hm(r.nails), f"bed of nails: {h}x{w}"),
        (hm(r.bilinear), f"bilinear: {h}x{w}"),
        (hm(r.transposed, own_scale=True), f"transposed conv k={r.kernel} s={r.stride} p={r.padding} ({kind}): {th}x{tw}"),
        (hm(r.overlap, own_scale=True), f"kernel copies per output pixel (max/min {r.checkerboard:.1f})"),
    ]
    errs = " · ".join(f"{k} {v:.1f}" for k, v in r.errors.items())
    lo_c, hi_c = r.overlap_range
    text = (f"**Transposed convolution output size:** {r.formula}.  \n"
            f"**Checkerboard:** away from the borders, output pixels receive between {lo_c:.0f} and {hi_c:.0f} "
            f"kernel copies (ratio {r.checkerboard:.1f}; 1.0 = even coverage).  \n"
            f"**Mean distance to the original map** (same-size results): {errs}.")
    return panels, text


# --------------------------------------------------------------------------- layout
def build_semantic_tab() -> None:
    idea_box(INTRO)
    state = gr.State(None)
    with gr.Row():
        with gr.Column(scale=1):
            image, model, run, opacity, show_labels, classes = _input_controls()
        with gr.Column(scale=2):
            overlay, compare, legend, summary, table, timings = _result_panes()
    with gr.Accordion("Export (label-index PNG + JSON with labels, palette and areas)", open=False):
        export = gr.Button("Export")
        export_files = gr.File(label="Files", file_count="multiple")
    with gr.Accordion("Live webcam (fast models)", open=False, elem_id="semantic-live-acc"):
        gr.Markdown("Click the camera, allow access, then press **Record**: every frame is segmented on the "
                    "server and drawn; the line below counts the frames this page shows per second.")
        choices = live_models()
        live_model = gr.Dropdown(choices=choices, value=choices[0][1] if choices else None, label="Live model")
        live_view("semantic", live_frame, [live_model, opacity], cam_id="semantic-live-cam",
                  out_id="semantic-live", info_id="semantic-fps", out_label="Live segmentation", time_limit=300)
    clip_panel("semantic", [model, opacity], semantic_clip)
    _build_fcn_lab(image, state, model)
    build_downsample_lab(image, model)

    look = [opacity, classes, show_labels]
    run.click(segment_semantic, inputs=[image, model, opacity, show_labels],
              outputs=[state, overlay, compare, legend, table, summary, timings, classes],
              api_name="segment_semantic")
    redraw = dict(fn=user_errors(render_view), inputs=[state, *look], outputs=[overlay, compare, legend],
                  show_progress="hidden", api_visibility="private")
    opacity.release(**redraw)
    classes.input(**redraw)
    show_labels.input(**redraw)
    export.click(export_semantic, inputs=[state, *look], outputs=export_files, api_name="export_semantic")


def _input_controls() -> tuple:
    """(photo, model, Segment button, opacity, show labels, class filter) of the tab's left column."""
    image = photo_input("semantic", ("astronaut.png", "two_people.jpg", "chelsea.png", "coffee.png", "rocket.jpg"))
    model = model_dropdown("semantic", label="Model", elem_id="semantic-model")
    run = gr.Button("Segment", variant="primary", elem_id="semantic-run")
    opacity = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Mask opacity")
    show_labels = gr.Checkbox(True, label="Class names on the image")
    classes = class_filter()
    return image, model, run, opacity, show_labels, classes


def _result_panes() -> tuple:
    """(overlay, compare slider, legend, summary, pixel-share table, timings) of the right column."""
    with gr.Tabs():
        with gr.Tab("Overlay"):
            overlay = gr.Image(label="Segmentation", type="numpy", interactive=False, height=440,
                               elem_id="semantic-overlay")
        with gr.Tab("Compare"):
            compare = gr.ImageSlider(label="Original | overlay", type="numpy", interactive=False,
                                     max_height=440, elem_id="semantic-compare")
    legend = gr.HTML(elem_id="semantic-legend")
    summary = gr.Markdown(elem_id="semantic-summary")
    table = gr.Dataframe(headers=TABLE_HEADERS, label="Pixel share per class", interactive=False,
                         elem_id="semantic-table")
    timings = gr.Markdown(elem_id="semantic-timings")
    return overlay, compare, legend, summary, table, timings


def _build_fcn_lab(image, state, model) -> None:
    """The 'how fully convolutional networks work' accordion: sliding window vs one pass, and
    down- and up-sampling on a real feature map, with their events."""
    with gr.Accordion("Lab: how fully convolutional networks work", open=False, elem_id="semantic-lab"):
        with gr.Tabs():
            with gr.Tab("Sliding window vs one pass"):
                gr.Markdown(SLIDING_TEXT)
                with gr.Row():
                    window = gr.Slider(32, 384, value=128, step=16, label="Window (px)")
                    stride = gr.Slider(16, 256, value=64, step=16, label="Stride (px)")
                    mode = gr.Radio([("tile", "tile"), ("centre", "centre")], value="tile", label="Patch mode")
                passes = gr.Markdown(passes_note(128, 64, "tile", None), elem_id="semantic-lab-passes")
                run_sw = gr.Button("Run both", variant="primary")
                sw_gallery = gr.Gallery(label="One pass vs patch by patch", columns=2, height=380,
                                        object_fit="contain", elem_id="semantic-lab-sw")
                sw_text = gr.Markdown(elem_id="semantic-lab-sw-text")
            with gr.Tab("Down- and up-sampling"):
                gr.Markdown(SAMPLING_TEXT)
                with gr.Row():
                    layer = gr.Dropdown(VGG_LAYERS, value="relu1_2", label="VGG19 layer")
                    pool = gr.Slider(2, 4, value=2, step=1, label="Pooling window = stride")
                    kind = gr.Radio([("uniform (ones)", "ones"), ("bilinear", "bilinear")], value="ones",
                                    label="Transposed-conv kernel")
                with gr.Row():
                    kernel = gr.Slider(1, 8, value=3, step=1, label="Kernel size")
                    t_stride = gr.Slider(1, 4, value=2, step=1, label="Stride")
                    padding = gr.Slider(0, 3, value=0, step=1, label="Padding")
                run_sp = gr.Button("Run", variant="primary")
                sp_gallery = gr.Gallery(label="Down and back up", columns=4, height=660, object_fit="contain")
                sp_text = gr.Markdown()
    for ctl in (window, stride, mode):
        ctl.change(passes_note, inputs=[window, stride, mode, image, state], outputs=passes, show_progress="hidden",
                   api_visibility="private")
    # raw payload (no preprocessing): a broken upload is the upload check's message, not this one's
    image.change(new_lab_photo, inputs=[window, stride, mode, image, state],
                 outputs=[passes, sw_gallery, sw_text, sp_gallery, sp_text], show_progress="hidden",
                 api_visibility="private", preprocess=False)
    run_sw.click(run_sliding, inputs=[image, state, model, window, stride, mode], outputs=[sw_gallery, sw_text],
                 api_name="semantic_sliding_window", concurrency_limit=1)
    sampling_inputs = [image, state, layer, pool, kernel, t_stride, padding, kind]
    run_sp.click(run_sampling, inputs=sampling_inputs, outputs=[sp_gallery, sp_text], api_name="semantic_sampling")
    for ctl in (pool, kernel, t_stride, padding):
        ctl.release(run_sampling, inputs=sampling_inputs, outputs=[sp_gallery, sp_text], show_progress="hidden",
                    api_visibility="private")
    for ctl in (layer, kind):
        ctl.input(run_sampling, inputs=sampling_inputs, outputs=[sp_gallery, sp_text], show_progress="hidden",
                  api_visibility="private")
