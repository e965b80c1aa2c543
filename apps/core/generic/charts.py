"""Server-side SVG step charts (no JavaScript, no chart library)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Series:
    label: str
    color: str
    points: list[tuple[datetime, int]]  # a step function: each value holds until the next point
    dashed: bool = False


def _ticks(top: int, count: int = 4) -> list[int]:
    step = max(1, -(-top // count))
    return list(range(0, top + 1, step))


def step_chart(
    series: list[Series],
    start: datetime,
    end: datetime,
    y_max: int,
    width: int = 760,
    height: int = 220,
    title: str = "",
) -> SafeString:
    """An SVG chart of step series over [start, end], y from 0 to ``y_max``."""
    left, right, top, bottom = 44, 12, 14, 38
    plot_w, plot_h = width - left - right, height - top - bottom
    span = max((end - start).total_seconds(), 1.0)
    y_top = max(int(y_max), 1)

    def x(t: datetime) -> float:
        return left + plot_w * min(max((t - start).total_seconds() / span, 0.0), 1.0)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / y_top)

    parts = [
        f'<svg class="chart" role="img" viewBox="0 0 {width} {height}" width="100%" '
        f'xmlns="http://www.w3.org/2000/svg"><title>{escape(title)}</title>'
    ]
    for tick in _ticks(y_top):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" '
            f'stroke="#e4e9ef"/><text x="{left - 6}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    for i in range(5):
        t = start + (end - start) * (i / 4)
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        parts.append(
            f'<text x="{x(t):.1f}" y="{height - bottom + 16}" text-anchor="{anchor}">'
            f"{t:%m-%d %H:%M}</text>"
        )
    for s in series:
        coords: list[str] = []
        previous = None
        for t, v in s.points:
            if previous is not None:
                coords.append(f"{x(t):.1f},{y(previous):.1f}")
            coords.append(f"{x(t):.1f},{y(v):.1f}")
            previous = v
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polyline class="series" data-series="{escape(s.label)}" fill="none" '
            f'stroke="{escape(s.color)}" stroke-width="2"{dash} points="{" ".join(coords)}"/>'
        )
    legend_x = left
    for s in series:
        parts.append(
            f'<rect x="{legend_x}" y="{height - 12}" width="10" height="10" '
            f'fill="{escape(s.color)}"/>'
            f'<text x="{legend_x + 14}" y="{height - 3}">{escape(s.label)}</text>'
        )
        legend_x += 14 + 8 * len(s.label) + 16
    parts.append("</svg>")
    # Safe: every interpolated text above is escaped; the rest are numbers.
    return mark_safe("".join(parts))
