"""Pictures of the organiser console drawn on the server as SVG: a track's timeline with "now" marked,
and submissions per day as bars. Colours and sizes are SVG presentation attributes (the
Content-Security-Policy forbids style attributes); every text is escaped by `format_html`."""

import datetime as dt
from collections.abc import Callable

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from .. import timeline

WIDTH = 720
PHASE_COLOURS = {"validation": "#cfe3ff", "final": "#ffe2b8"}
# A white outline painted under each label's letters: readable where a label crosses the "now" line.
HALO = mark_safe(' stroke="#fff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"')  # noqa: S308 - a constant


def _x(at: dt.datetime, start: dt.datetime, end: dt.datetime, left: int, right: int) -> float:
    span = (end - start).total_seconds() or 1.0
    return left + (right - left) * (at - start).total_seconds() / span


def timeline_svg(
    tl: timeline.Timeline,
    now: dt.datetime,
    *,
    label: Callable[[str], str],
    short_date: Callable[[dt.datetime], str],
) -> SafeString:
    """The milestones on a horizontal axis, the validation and final phases as bands, and a red line
    for `now` (id `timeline-now`). Labels alternate above and below the axis so neighbours do not
    overlap. `label(kind)` names a milestone, `short_date(at)` writes its day."""
    points = sorted(tl.milestones.items(), key=lambda item: item[1])
    instants = [at for _, at in points] + [now]
    start, end = min(instants), max(instants)
    pad = max((end - start) * 0.05, dt.timedelta(days=1))
    start, end = start - pad, end + pad
    left, right, axis_y, height = 20, WIDTH - 20, 150, 300

    def x(at):
        return round(_x(at, start, end, left, right), 1)

    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#444" stroke-width="2"/>',
            left,
            axis_y,
            right,
            axis_y,
        )
    ]
    for phase, (opens, closes) in {
        "validation": (timeline.K_VALIDATION, timeline.K_TEST_DATA),
        "final": (timeline.K_TEST_DATA, timeline.K_FINAL_DEADLINE),
    }.items():
        a, b = tl.at(opens), tl.at(closes)
        # A phase without its closing milestone stays open: its band runs to the picture's edge.
        if a and (b is None or b > a):
            parts.append(
                format_html(
                    '<rect class="phase-{}" x="{}" y="{}" width="{}" height="24" fill="{}">'
                    "<title>{} phase</title></rect>",
                    phase,
                    x(a),
                    axis_y - 12,
                    round((x(b) if b else right) - x(a), 1),
                    PHASE_COLOURS[phase],
                    phase.capitalize(),
                )
            )
    parts.append(
        format_html(
            '<g id="timeline-now"><line x1="{}" y1="12" x2="{}" y2="{}" stroke="#c01c28" stroke-width="2"/>'
            '<text x="{}" y="10" font-size="11" text-anchor="middle" fill="#c01c28">now</text></g>',
            x(now),
            x(now),
            height - 8,
            x(now),
        )
    )
    for index, (kind, at) in enumerate(points):
        # Each milestone on a level of its own: even ones above the axis, odd ones below.
        above, level = index % 2 == 0, index // 2
        text_y = axis_y - 28 - 26 * level if above else axis_y + 40 + 26 * level
        # Labels near an edge grow inwards so they are never cut off.
        anchor = "start" if x(at) < WIDTH * 0.25 else "end" if x(at) > WIDTH * 0.75 else "middle"
        parts.append(
            format_html(
                '<g class="milestone{}" data-kind="{}"><circle cx="{}" cy="{}" r="6" fill="{}"/>'
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>'
                '<text x="{}" y="{}" font-size="11" text-anchor="{}"{}>{}</text>'
                '<text x="{}" y="{}" font-size="10" text-anchor="{}" fill="#555"{}>{}</text></g>',
                " past" if at <= now else "",
                kind,
                x(at),
                axis_y,
                "#555" if at <= now else "#1a5fb4",
                x(at),
                axis_y + (-8 if above else 8),
                x(at),
                text_y + (4 if above else -14),
                x(at),
                text_y - 12,
                anchor,
                HALO,
                label(kind),
                x(at),
                text_y,
                anchor,
                HALO,
                short_date(at),
            )
        )
    return format_html(
        '<svg id="timeline-svg" role="img" aria-labelledby="timeline-svg-title" viewBox="0 0 {} {}" '
        'width="100%" preserveAspectRatio="xMidYMid meet"><title id="timeline-svg-title">Timeline of the '
        "milestones, now marked in red</title>{}</svg>",
        WIDTH,
        height,
        mark_safe("".join(parts)),  # noqa: S308 - every part built by format_html above
    )


def bars_svg(days: list[tuple[dt.date, int, int]], *, title: str) -> SafeString:
    """Submissions per day: for each (day, validation count, final count) a stacked bar, the day
    below and the total above. `id="per-day-chart"`; each bar group carries `data-day` and
    `data-count` (validation + final)."""
    height, base, top = 200, 170, 20
    most = max([v + f for _, v, f in days] + [1])
    step = (WIDTH - 40) / max(len(days), 1)
    width = max(step * 0.7, 2)

    def h(n):
        return round((base - top) * n / most, 1)

    bars = format_html_join(
        "",
        '<g class="day" data-day="{}" data-count="{}"><title>{}: {} validation, {} final</title>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#1a5fb4"/>'
        '<rect x="{}" y="{}" width="{}" height="{}" fill="#e5a50a"/>'
        '<text x="{}" y="{}" font-size="10" text-anchor="middle">{}</text>'
        '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#555">{}</text></g>',
        (
            (
                day.isoformat(),
                v + f,
                day.isoformat(),
                v,
                f,
                round(20 + i * step, 1),
                base - h(v),
                round(width, 1),
                h(v),
                round(20 + i * step, 1),
                base - h(v) - h(f),
                round(width, 1),
                h(f),
                round(20 + i * step + width / 2, 1),
                base - h(v) - h(f) - 3,
                v + f if v + f else "",
                round(20 + i * step + width / 2, 1),
                base + 14,
                f"{day.day}/{day.month}",
            )
            for i, (day, v, f) in enumerate(days)
        ),
    )
    return format_html(
        '<svg id="per-day-chart" role="img" aria-label="{}" viewBox="0 0 {} {}" width="100%">'
        '<line x1="20" y1="{}" x2="{}" y2="{}" stroke="#444"/>{}</svg>',
        title,
        WIDTH,
        height,
        base,
        WIDTH - 20,
        base,
        bars,
    )
