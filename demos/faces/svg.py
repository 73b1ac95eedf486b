"""Small inline SVG pictures for the Faces tab: a score axis with its threshold, two histograms,
an ROC curve and the triplet number line. Pure functions of numbers -> an HTML string.

SVG text scales with the picture: a 640-unit-wide chart shown 320 px wide would print its 12-unit
labels at 6 px. So each wide chart is drawn twice, 640 units wide for wide places and 320 units wide
(fewer ticks, stacked legend) for narrow ones (a phone, a third of a desktop row), and
:func:`responsive` wraps both with a CSS container query that shows the one that fits its box, so the
labels render at 11 px or more on any screen."""
from __future__ import annotations

import html

import numpy as np

GREEN = "#2e9d5b"
RED = "#d64545"
BLUE = "#2f6fd6"
GREY = "#888888"
FONT_SIZE = 12
FONT = f'font-family="system-ui, sans-serif" font-size="{FONT_SIZE}"'
WIDE, NARROW = 640, 320
"""viewBox widths of the two layouts (user units); the CSS switches at a container width of 600 px,
where a 640-unit chart's 12-unit text renders at 11.25 px."""


def _wrap(body: str, width: int, height: int, title: str = "") -> str:
    t = f"<title>{html.escape(title)}</title>" if title else ""
    return (f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{round(width * 1.4)}px" '
            f'xmlns="http://www.w3.org/2000/svg" role="img">{t}{body}</svg>')


CHART_CSS = ("<style>.cv-chart{container-type:inline-size}.cv-chart svg{display:block}"
             ".cv-chart-narrow{display:none}@container (max-width:600px){.cv-chart-wide{display:none}"
             ".cv-chart-narrow{display:block}}</style>")
"""The container query that picks a layout. It travels with each chart: Gradio's processing of the app's
CSS file drops ``@container`` rules."""


def responsive(wide: str, narrow: str) -> str:
    """Both layouts of one chart, and the style that shows the one that fits its box."""
    return (f'{CHART_CSS}<div class="cv-chart"><div class="cv-chart-wide">{wide}</div>'
            f'<div class="cv-chart-narrow">{narrow}</div></div>')


def _text_x(x: float, text: str, width: int, pad: float = 2.0) -> float:
    """Centre x of a middle-anchored label, moved inwards so that the whole label stays inside the chart
    (its width estimated at 0.6 em a character)."""
    half = 0.3 * FONT_SIZE * len(text)
    return float(min(max(x, half + pad), width - half - pad))


def axis_range(metric: str) -> tuple[float, float]:
    return (-0.2, 1.0) if metric == "cosine" else (0.0, 2.0)


def score_axis(value: float, threshold: float, default: float, metric: str, *, label: str = "this pair",
               others: list[tuple[str, float]] | None = None) -> str:
    """The model's measure on a line, the 'same person' side shaded green, the threshold (solid)
    and the model's default (dashed), and a marker for ``value``; both layouts (:func:`responsive`)."""
    args = (value, threshold, default, metric, label, others or [])
    return responsive(_score_axis(*args, w=WIDE), _score_axis(*args, w=NARROW))


def _score_axis(value, threshold, default, metric, label, others, *, w: int) -> str:
    """One layout of :func:`score_axis`, ``w`` user units wide."""
    lo, hi = axis_range(metric)
    h, pad = 118, 30
    x = lambda v: pad + (min(max(v, lo), hi) - lo) / (hi - lo) * (w - 2 * pad)  # noqa: E731
    same_lo, same_hi = (threshold, hi) if metric == "cosine" else (lo, threshold)
    diff_lo, diff_hi = (lo, threshold) if metric == "cosine" else (threshold, hi)
    name = "cosine similarity (higher = more alike)" if metric == "cosine" else \
        "distance between embeddings (lower = more alike)"
    same_txt, diff_txt = ("same person", "different people") if w >= WIDE else ("same", "different")
    parts = [
        f'<rect x="{x(diff_lo):.1f}" y="40" width="{x(diff_hi) - x(diff_lo):.1f}" height="22" fill="{RED}" opacity="0.18"/>',
        f'<rect x="{x(same_lo):.1f}" y="40" width="{x(same_hi) - x(same_lo):.1f}" height="22" fill="{GREEN}" opacity="0.22"/>',
        f'<text x="{_text_x((x(same_lo) + x(same_hi)) / 2, same_txt, w):.1f}" y="56" text-anchor="middle" '
        f'fill="{GREEN}" {FONT}>{same_txt}</text>',
        f'<text x="{_text_x((x(diff_lo) + x(diff_hi)) / 2, diff_txt, w):.1f}" y="56" text-anchor="middle" '
        f'fill="{RED}" {FONT}>{diff_txt}</text>',
        f'<line x1="{pad}" y1="62" x2="{w - pad}" y2="62" stroke="#444"/>',
    ]
    step = 0.2 if (hi - lo) / 0.2 * 5 * FONT_SIZE * 0.6 <= w - 2 * pad else 0.4
    for t in np.arange(lo, hi + 1e-9, step):
        parts.append(f'<line x1="{x(t):.1f}" y1="62" x2="{x(t):.1f}" y2="67" stroke="#444"/>'
                     f'<text x="{x(t):.1f}" y="80" text-anchor="middle" fill="#444" {FONT}>{t:.1f}</text>')
    default_txt, thr_txt = f"model default {default:.3f}", f"threshold {threshold:.3f}"
    parts.append(f'<line x1="{x(default):.1f}" y1="34" x2="{x(default):.1f}" y2="68" stroke="{GREY}" '
                 f'stroke-dasharray="4 3" stroke-width="2"/>'
                 f'<text x="{_text_x(x(default), default_txt, w):.1f}" y="96" text-anchor="middle" fill="{GREY}" '
                 f'{FONT}>{default_txt}</text>')
    parts.append(f'<line x1="{x(threshold):.1f}" y1="34" x2="{x(threshold):.1f}" y2="68" stroke="#222" stroke-width="2.5"/>'
                 f'<text x="{_text_x(x(threshold), thr_txt, w):.1f}" y="30" text-anchor="middle" fill="#222" '
                 f'{FONT}>{thr_txt}</text>')
    for text, v in others:
        parts.append(f'<circle cx="{x(v):.1f}" cy="51" r="4" fill="{GREY}" opacity="0.8"><title>{html.escape(text)} '
                     f'{v:.3f}</title></circle>')
    if value is not None and np.isfinite(value):
        value_txt = f"{label}: {value:.3f}"
        parts.append(f'<path d="M {x(value):.1f} 40 l -7 -12 l 14 0 z" fill="{BLUE}"/>'
                     f'<line x1="{x(value):.1f}" y1="40" x2="{x(value):.1f}" y2="62" stroke="{BLUE}" stroke-width="3"/>'
                     f'<text x="{_text_x(x(value), value_txt, w):.1f}" y="112" text-anchor="middle" fill="{BLUE}" '
                     f'{FONT} font-weight="bold">{html.escape(value_txt)}</text>')
    parts.append(f'<text x="{w - 4}" y="14" text-anchor="end" fill="#444" {FONT}>{name}</text>')
    return _wrap("".join(parts), w, h, name)


def histograms(same: np.ndarray, diff: np.ndarray, threshold: float, suggested: float, metric: str,
               bins: int = 24) -> str:
    """Same-person (green) and different-person (red) pair scores, the current threshold (solid)
    and the suggested one (dashed), in the model's own measure; both layouts (:func:`responsive`)."""
    args = (same, diff, threshold, suggested, metric, bins)
    return responsive(_histograms(*args, w=WIDE), _histograms(*args, w=NARROW))


def _histograms(same, diff, threshold, suggested, metric, bins, *, w: int) -> str:
    """One layout of :func:`histograms`, ``w`` user units wide (narrow: the legend on three lines)."""
    lo, hi = axis_range(metric)
    narrow = w < WIDE
    h, pad, top = (280, 30, 76) if narrow else (250, 36, 46)
    edges = np.linspace(lo, hi, bins + 1)
    cs, _ = np.histogram(np.clip(same, lo, hi), edges)
    cd, _ = np.histogram(np.clip(diff, lo, hi), edges)
    # normalise each to its own total so 3 same pairs and 300 different pairs are comparable
    fs = cs / max(cs.sum(), 1)
    fd = cd / max(cd.sum(), 1)
    peak = max(fs.max(initial=0), fd.max(initial=0), 1e-9)
    x = lambda v: pad + (min(max(v, lo), hi) - lo) / (hi - lo) * (w - 2 * pad)  # noqa: E731
    y = lambda f: h - pad - f / peak * (h - pad - top)  # noqa: E731
    bw = (w - 2 * pad) / bins
    parts = []
    for k in range(bins):
        for frac, color in ((fd[k], RED), (fs[k], GREEN)):
            if frac > 0:
                parts.append(f'<rect x="{pad + k * bw + 1:.1f}" y="{y(frac):.1f}" width="{bw - 2:.1f}" '
                             f'height="{h - pad - y(frac):.1f}" fill="{color}" opacity="0.55"/>')
    parts.append(f'<line x1="{pad}" y1="{h - pad}" x2="{w - pad}" y2="{h - pad}" stroke="#444"/>')
    step = 0.4 if narrow and hi - lo > 1.5 else 0.2
    for t in np.arange(lo, hi + 1e-9, step):
        parts.append(f'<text x="{x(t):.1f}" y="{h - pad + 16}" text-anchor="middle" fill="#444" {FONT}>{t:.1f}</text>')
    sug_txt, thr_txt = f"suggested {suggested:.3f}", f"threshold {threshold:.3f}"
    parts.append(f'<line x1="{x(suggested):.1f}" y1="{top}" x2="{x(suggested):.1f}" y2="{h - pad}" stroke="{BLUE}" '
                 f'stroke-dasharray="5 3" stroke-width="2"/><text x="{_text_x(x(suggested), sug_txt, w):.1f}" '
                 f'y="{top - 8}" text-anchor="middle" fill="{BLUE}" {FONT}>{sug_txt}</text>')
    parts.append(f'<line x1="{x(threshold):.1f}" y1="{top + 14}" x2="{x(threshold):.1f}" y2="{h - pad}" stroke="#222" '
                 f'stroke-width="2"/><text x="{_text_x(x(threshold), thr_txt, w):.1f}" y="{h - 4}" '
                 f'text-anchor="middle" fill="#222" {FONT}>{thr_txt}</text>')
    name = "cosine similarity" if metric == "cosine" else "distance"
    same_txt = f'<tspan fill="{GREEN}">■ same person ({len(same)} pairs)</tspan>'
    diff_txt = f'<tspan fill="{RED}">■ different people ({len(diff)} pairs)</tspan>'
    share_txt = f"share of pairs per {name} bin"
    if narrow:
        parts.append(f'<text x="4" y="14" {FONT}>{same_txt}</text><text x="4" y="30" {FONT}>{diff_txt}</text>'
                     f'<text x="4" y="46" fill="#444" {FONT}>{share_txt}</text>')
    else:
        parts.append(f'<text x="{w - pad}" y="14" text-anchor="end" {FONT}>{same_txt}  {diff_txt}</text>')
        parts.append(f'<text x="{pad}" y="14" fill="#444" {FONT}>{share_txt}</text>')
    return _wrap("".join(parts), w, h, "pair score histograms")


def roc_curve(fpr: np.ndarray, tpr: np.ndarray, eer: float, current: tuple[float, float] | None = None) -> str:
    """ROC: true-accept rate against false-accept rate, with the equal-error point."""
    s, pad = 300, 40
    x = lambda v: pad + v * (s - pad - 10)  # noqa: E731
    y = lambda v: s - pad - v * (s - pad - 10)  # noqa: E731
    pts = " ".join(f"{x(a):.1f},{y(b):.1f}" for a, b in zip(fpr, tpr))
    parts = [f'<rect x="{x(0)}" y="{y(1)}" width="{x(1) - x(0)}" height="{y(0) - y(1)}" fill="none" stroke="#bbb"/>',
             f'<line x1="{x(0)}" y1="{y(0)}" x2="{x(1)}" y2="{y(1)}" stroke="#ccc" stroke-dasharray="4 3"/>',
             f'<line x1="{x(0)}" y1="{y(1)}" x2="{x(1)}" y2="{y(0)}" stroke="#e2c4c4" stroke-dasharray="2 3"/>',
             f'<polyline points="{pts}" fill="none" stroke="{BLUE}" stroke-width="2.5"/>',
             f'<circle cx="{x(eer):.1f}" cy="{y(1 - eer):.1f}" r="5" fill="{RED}"><title>EER {eer:.3f}</title></circle>',
             f'<text x="{x(eer) + 8:.1f}" y="{y(1 - eer) + 14:.1f}" fill="{RED}" {FONT}>EER {eer:.1%}</text>']
    if current is not None:
        parts.append(f'<circle cx="{x(current[0]):.1f}" cy="{y(current[1]):.1f}" r="5" fill="#222">'
                     f'<title>current threshold</title></circle>')
    for v in (0, 0.5, 1):
        parts.append(f'<text x="{x(v):.1f}" y="{s - pad + 16}" text-anchor="middle" fill="#444" {FONT}>{v:g}</text>'
                     f'<text x="{pad - 6}" y="{y(v) + 4:.1f}" text-anchor="end" fill="#444" {FONT}>{v:g}</text>')
    parts.append(f'<text x="{(x(0) + x(1)) / 2:.1f}" y="{s - 6}" text-anchor="middle" fill="#444" {FONT}>'
                 'false accepts (different people let in)</text>')
    parts.append(f'<text x="12" y="{(y(0) + y(1)) / 2:.1f}" text-anchor="middle" fill="#444" {FONT} '
                 f'transform="rotate(-90 12 {(y(0) + y(1)) / 2:.1f})">true accepts (same person)</text>')
    return _wrap("".join(parts), s, s, "ROC curve")


def triplet_line(d_ap: float, d_an: float, margin: float, kind: str) -> str:
    """Anchor at 0, the positive at d(A,P), the negative at d(A,N) and the margin zone after P; both
    layouts (:func:`responsive`)."""
    return responsive(_triplet_line(d_ap, d_an, margin, kind, w=WIDE), _triplet_line(d_ap, d_an, margin, kind, w=NARROW))


def _triplet_line(d_ap: float, d_an: float, margin: float, kind: str, *, w: int) -> str:
    """One layout of :func:`triplet_line`, ``w`` user units wide."""
    h, pad = 110, 30
    hi = 2.0
    x = lambda v: pad + min(max(v, 0), hi) / hi * (w - 2 * pad)  # noqa: E731
    color = {"easy": GREEN, "semi-hard": "#d69a1f", "hard": RED}.get(kind, GREY)
    margin_txt = f"margin {margin:.2f}"
    parts = [f'<line x1="{pad}" y1="60" x2="{w - pad}" y2="60" stroke="#444"/>',
             f'<rect x="{x(d_ap):.1f}" y="46" width="{max(0.0, x(d_ap + margin) - x(d_ap)):.1f}" height="28" '
             f'fill="{color}" opacity="0.25"/>',
             f'<text x="{_text_x((x(d_ap) + x(d_ap + margin)) / 2, margin_txt, w):.1f}" y="42" text-anchor="middle" '
             f'fill="{color}" {FONT}>{margin_txt}</text>']
    for t in np.arange(0, hi + 1e-9, 0.25 if w >= WIDE else 0.5):
        parts.append(f'<text x="{x(t):.1f}" y="100" text-anchor="middle" fill="#444" {FONT}>{t:.2f}</text>')
    for v, lab, col, dy in ((0.0, "A", "#222", 0), (d_ap, "P", GREEN, -1), (d_an, "N", RED, 1)):
        parts.append(f'<circle cx="{x(v):.1f}" cy="60" r="8" fill="{col}"/>'
                     f'<text x="{x(v):.1f}" y="64" text-anchor="middle" fill="white" {FONT} font-weight="bold">{lab}</text>')
        if lab != "A":
            txt = f"d(A,{lab}) = {v:.3f}"
            parts.append(f'<text x="{_text_x(x(v), txt, w):.1f}" y="{84 if dy > 0 else 28}" text-anchor="middle" '
                         f'fill="{col}" {FONT}>{txt}</text>')
    return _wrap("".join(parts), w, h, "triplet distances")
