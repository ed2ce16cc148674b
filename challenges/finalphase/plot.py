"""Fidelity against runtime, drawn as SVG by hand (no matplotlib), with the Pareto front marked.

`pareto_front(points, higher_is_better=…)` returns the points no other point beats on both axes (less
runtime and better fidelity); `plot_svg(...)` returns a self-contained SVG document (text), used inline
on the leaderboard page and rendered to PDF/PNG for the export (see `export.py`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape


@dataclass(frozen=True)
class Point:
    label: str
    runtime_ms: float
    fidelity: float


def pareto_front(points: list[Point], *, higher_is_better: bool = True) -> list[Point]:
    """Points not dominated by another (runtime no larger, fidelity no worse, one strictly better),
    ordered by runtime."""

    def better_or_equal(a: float, b: float) -> bool:
        return a >= b if higher_is_better else a <= b

    def strictly_better(a: float, b: float) -> bool:
        return a > b if higher_is_better else a < b

    front = []
    for p in points:
        dominated = any(
            q is not p
            and q.runtime_ms <= p.runtime_ms
            and better_or_equal(q.fidelity, p.fidelity)
            and (q.runtime_ms < p.runtime_ms or strictly_better(q.fidelity, p.fidelity))
            for q in points
        )
        if not dominated:
            front.append(p)
    return sorted(front, key=lambda p: (p.runtime_ms, -p.fidelity if higher_is_better else p.fidelity))


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / n
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.3g}"
    return f"{v:.4g}"


def plot_svg(
    points: list[Point],
    *,
    title: str,
    fidelity_label: str,
    higher_is_better: bool = True,
    width: int = 640,
    height: int = 420,
) -> str:
    """An SVG scatter plot: runtime (ms) on x, fidelity on y, every team labelled, the Pareto front
    joined by a dashed line and its points filled."""
    left, right, top, bottom = 70, 20, 50, 55
    pw, ph = width - left - right, height - top - bottom
    front = pareto_front(points, higher_is_better=higher_is_better)
    front_ids = {id(p) for p in front}
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="DejaVu Sans, sans-serif" font-size="11" '
        f'role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="white"/>',
        f'<text x="{width / 2}" y="20" text-anchor="middle" font-size="13" font-weight="bold">'
        f"{escape(title)}</text>",
    ]
    if not points:
        parts.append(
            f'<text x="{width / 2}" y="{height / 2}" text-anchor="middle">No measured '
            "submissions yet.</text></svg>"
        )
        return "".join(parts)
    xs = [p.runtime_ms for p in points]
    ys = [p.fidelity for p in points]
    xpad = (max(xs) - min(xs)) * 0.08 or max(abs(max(xs)) * 0.1, 1.0)
    ypad = (max(ys) - min(ys)) * 0.08 or max(abs(max(ys)) * 0.05, 0.01)
    x_ticks = _nice_ticks(max(0.0, min(xs) - xpad), max(xs) + xpad)
    y_ticks = _nice_ticks(min(ys) - ypad, max(ys) + ypad)
    x0, x1 = x_ticks[0], x_ticks[-1]
    y0, y1 = y_ticks[0], y_ticks[-1]

    def sx(v: float) -> float:
        return left + (v - x0) / ((x1 - x0) or 1) * pw

    def sy(v: float) -> float:
        return top + ph - (v - y0) / ((y1 - y0) or 1) * ph

    parts.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
    for t in x_ticks:
        x = sx(t)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + ph}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{x:.1f}" y="{top + ph + 15}" text-anchor="middle">{_fmt(t)}</text>')
    for t in y_ticks:
        y = sy(t)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#e3e3e3"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    arrow = "higher is better" if higher_is_better else "lower is better"
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 12}" text-anchor="middle">Runtime, ms '
        "(lower is better)</text>"
    )
    parts.append(
        f'<text transform="translate(16 {top + ph / 2}) rotate(-90)" text-anchor="middle">'
        f"{escape(fidelity_label)} ({arrow})</text>"
    )
    if len(front) > 1:
        path = " ".join(f"{sx(p.runtime_ms):.1f},{sy(p.fidelity):.1f}" for p in front)
        parts.append(
            f'<polyline class="pareto" points="{path}" fill="none" stroke="#c0392b" '
            'stroke-width="1.5" stroke-dasharray="5 3"/>'
        )
    for p in points:
        on_front = id(p) in front_ids
        fill = "#c0392b" if on_front else "white"
        parts.append(
            f'<circle cx="{sx(p.runtime_ms):.1f}" cy="{sy(p.fidelity):.1f}" r="4.5" fill="{fill}" '
            f'stroke="#c0392b" stroke-width="1.5"><title>{escape(p.label)}: {_fmt(p.runtime_ms)} ms, '
            f"{_fmt(p.fidelity)}</title></circle>"
        )
        # Labels of points in the right third go to their left so they stay inside the plot.
        if sx(p.runtime_ms) > left + pw * 0.66:
            parts.append(
                f'<text x="{sx(p.runtime_ms) - 7:.1f}" y="{sy(p.fidelity) - 6:.1f}" '
                f'text-anchor="end">{escape(p.label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{sx(p.runtime_ms) + 7:.1f}" y="{sy(p.fidelity) - 6:.1f}">{escape(p.label)}</text>'
            )
    lx, ly = left + pw - 150, top + ph - 32
    parts.append(f'<rect x="{lx}" y="{ly}" width="142" height="22" fill="white" stroke="#bbb"/>')
    parts.append(f'<circle cx="{lx + 12}" cy="{ly + 11}" r="4.5" fill="#c0392b"/>')
    parts.append(f'<text x="{lx + 22}" y="{ly + 15}">Pareto front</text>')
    parts.append("</svg>")
    return "".join(parts)
