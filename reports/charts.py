"""Hand-written SVG charts for the reports: a radar, grouped bars, a line chart with a target, progress bars.

No JavaScript and no chart library: a report is one self-contained HTML file that must open, print and be
archived years from now. Every chart is an accessible image (`role="img"` with `<title>` and `<desc>`), labels
its values in text, and tells its series apart by marker shape and dash pattern as well as by colour, so it
reads in greyscale print and for colour-blind readers. Colours keep at least 4.5:1 contrast against white.

The plot geometry is also written as `data-*` attributes, so tests (and anyone reading the markup) can map a
drawn coordinate back to the value it stands for.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal

MarkerShape = Literal["circle", "square", "triangle", "diamond", "ring", "cross"]

TEXT = "#1a1a1a"
AXIS = "#595959"  # 7:1 on white
GRID = "#d0d0d0"
TARGET = "#1a1a1a"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"


@dataclass(frozen=True)
class SeriesStyle:
    """How one series is drawn; colour, dash and marker each tell it apart on their own."""

    colour: str
    dash: str  # SVG stroke-dasharray; "" is solid
    marker: MarkerShape


PALETTE: tuple[SeriesStyle, ...] = (
    SeriesStyle("#0b5cad", "", "circle"),  # blue, 6.6:1
    SeriesStyle("#b5480a", "7 4", "square"),  # burnt orange, 5.0:1
    SeriesStyle("#1b7a3e", "2 3", "triangle"),  # green, 5.4:1
    SeriesStyle("#7a3e8e", "9 3 2 3", "diamond"),  # purple, 7.6:1
)


def style_for(index: int) -> SeriesStyle:
    return PALETTE[index % len(PALETTE)]


def format_number(value: float, decimals: int | None = None) -> str:
    """Swedish notation: decimal comma, narrow no-break space between thousands, minus sign (−)."""
    if decimals is None:
        decimals = 0 if abs(value) >= 1000 else 1
    text = f"{abs(value):,.{decimals}f}".replace(",", "\u202f").replace(".", ",")
    return f"−{text}" if value < 0 and float(f"{abs(value):.{decimals}f}") != 0 else text


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate: short, deterministic, no scientific notation."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def marker_svg(shape: MarkerShape, x: float, y: float, colour: str, *, size: float = 5.0, extra: str = "") -> str:
    """One marker centred on (x, y); `extra` is inserted as further attributes (data-*, class)."""
    s = size
    common = f'fill="{colour}" stroke="#ffffff" stroke-width="1"{extra}'
    match shape:
        case "circle":
            return f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(s)}" {common}/>'
        case "ring":
            return (
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(s + 1)}" fill="#ffffff" stroke="{colour}" '
                f'stroke-width="2.5"{extra}/>'
            )
        case "square":
            return f'<rect x="{_n(x - s)}" y="{_n(y - s)}" width="{_n(2 * s)}" height="{_n(2 * s)}" {common}/>'
        case "triangle":
            return f'<path d="{_closed_path(x, y, s, ((0, -1.2), (1.1, 0.8), (-1.1, 0.8)))}" {common}/>'
        case "diamond":
            return f'<path d="{_closed_path(x, y, s, ((0, -1.3), (1.3, 0), (0, 1.3), (-1.3, 0)))}" {common}/>'
        case "cross":
            d = f"M{_n(x - s)},{_n(y - s)} L{_n(x + s)},{_n(y + s)} M{_n(x - s)},{_n(y + s)} L{_n(x + s)},{_n(y - s)}"
            return f'<path d="{d}" stroke="{colour}" stroke-width="2.5" fill="none"{extra}/>'
    raise AssertionError(f"unknown marker {shape}")


def _closed_path(x: float, y: float, size: float, corners: Sequence[tuple[float, float]]) -> str:
    """A closed polygon path through corners given in marker sizes relative to (x, y)."""
    steps = " L".join(f"{_n(x + dx * size)},{_n(y + dy * size)}" for dx, dy in corners)
    return f"M{steps} Z"


def _open_svg(chart_id: str, title: str, desc: str, width: float, height: float, css_class: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" id="{_e(chart_id)}" role="img" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" width="{_n(width)}" height="{_n(height)}" '
        f'aria-labelledby="{_e(chart_id)}-title {_e(chart_id)}-desc" font-family="{_e(FONT)}" '
        f'font-size="12" fill="{TEXT}">'
        f'<title id="{_e(chart_id)}-title">{_e(title)}</title>'
        f'<desc id="{_e(chart_id)}-desc">{_e(desc)}</desc>'
    )


@dataclass(frozen=True)
class LegendItem:
    """A legend entry: a line sample (when `line`), a marker (when `marker`), or a filled swatch."""

    label: str
    colour: str
    marker: MarkerShape | None = None
    line: bool = False
    dash: str = ""
    swatch_pattern: str | None = None  # a fill url for hatched bars


def _text_width(text: str, font_size: float = 12.0) -> float:
    """A rough width for laying out legends; generous, so items never overlap."""
    return len(text) * font_size * 0.58


def _legend(items: Sequence[LegendItem], *, x: float, y: float, width: float) -> tuple[str, float]:
    """Legend items laid out left to right, wrapping at `width`; returns the SVG and the height used."""
    parts = ['<g class="legend" aria-hidden="false">']
    cx, cy, row_height = x, y, 20.0
    for item in items:
        item_width = 34 + _text_width(item.label) + 18
        if cx > x and cx + item_width > x + width:
            cx, cy = x, cy + row_height
        mid = cy + 7
        if item.line:
            dash = f' stroke-dasharray="{item.dash}"' if item.dash else ""
            parts.append(
                f'<line x1="{_n(cx)}" y1="{_n(mid)}" x2="{_n(cx + 28)}" y2="{_n(mid)}" '
                f'stroke="{item.colour}" stroke-width="2.5"{dash}/>'
            )
        elif item.marker is None:
            fill = item.swatch_pattern or item.colour
            parts.append(
                f'<rect x="{_n(cx + 6)}" y="{_n(mid - 7)}" width="16" height="14" fill="{fill}" '
                f'stroke="{item.colour}" stroke-width="1.5"/>'
            )
        if item.marker is not None:
            parts.append(marker_svg(item.marker, cx + 14, mid, item.colour))
        parts.append(f'<text x="{_n(cx + 34)}" y="{_n(mid + 4)}">{_e(item.label)}</text>')
        cx += item_width
    parts.append("</g>")
    return "".join(parts), cy + row_height - y


def _wrap(text: str, max_chars: int) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= max_chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def nice_ticks(low: float, high: float, *, count: int = 5) -> list[float]:
    """Round tick values covering [low, high], about `count` of them (steps of 1, 2, 2.5 or 5 × 10^k)."""
    if high < low:
        low, high = high, low
    if math.isclose(low, high):
        pad = abs(low) * 0.1 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    start = math.floor(low / step) * step
    ticks = []
    value = start
    while value < high + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    if ticks[-1] < high - step * 1e-9:
        ticks.append(round(value, 10))
    return ticks


# ---- radar ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RadarSeries:
    """One polygon: a value per axis key; an axis without a value is left out (drawn as markers only)."""

    key: str
    label: str
    values: Mapping[str, float]


def radar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    axes: Sequence[tuple[str, str]],
    series: Sequence[RadarSeries],
    scale_max: float = 4,
    rings: Sequence[float] = (1, 2, 3, 4),
    value_format: Callable[[float], str] = lambda v: format_number(v, 2),
) -> str:
    """A radar with one axis per (key, label) in `axes`, clockwise from the top, 0 in the centre.

    A series scored on every axis is a closed polygon; one scored on only some axes (the support functions
    answer only their own indicators) gets markers on those axes, because a polygon through the missing
    axes would draw values nobody gave.
    """
    width, radius = 700.0, 165.0
    cx, cy = width / 2, 215.0
    n = len(axes)

    def point(index: int, value: float) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * index / n
        r = radius * value / scale_max
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    legend_items = [
        LegendItem(
            label=s.label + ("" if all(k in s.values for k, _ in axes) else " (endast markörer / markers only)"),
            colour=style_for(i).colour,
            marker=style_for(i).marker,
            line=True,
            dash=style_for(i).dash,
        )
        for i, s in enumerate(series)
    ]
    legend, legend_height = _legend(legend_items, x=30, y=cy + radius + 75, width=width - 60)
    height = cy + radius + 75 + legend_height + 10

    parts = [_open_svg(chart_id, title, desc, width, height, "radar")]
    parts.append(
        f'<g class="plot" data-cx="{_n(cx)}" data-cy="{_n(cy)}" data-radius="{_n(radius)}" '
        f'data-scale-max="{_n(scale_max)}">'
    )
    for ring in rings:
        ring_points = " ".join(f"{_n(x)},{_n(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{ring_points}" fill="none" stroke="{GRID}" stroke-width="1"/>')
        # Ring values sit halfway between the first two axes, where no series marker can cover them.
        angle = -math.pi / 2 + math.pi / n
        rr = radius * ring / scale_max
        parts.append(
            f'<text x="{_n(cx + rr * math.cos(angle))}" y="{_n(cy + rr * math.sin(angle) + 4)}" font-size="10" '
            f'fill="{AXIS}" text-anchor="middle" class="ring-label">{_e(format_number(ring, 0))}</text>'
        )
    for i, (key, label) in enumerate(axes):
        ex, ey = point(i, scale_max)
        parts.append(
            f'<line x1="{_n(cx)}" y1="{_n(cy)}" x2="{_n(ex)}" y2="{_n(ey)}" stroke="{GRID}" stroke-width="1"/>'
        )
        lx, ly = point(i, scale_max * 1.1)
        dx = lx - cx
        anchor = "middle" if abs(dx) < 1 else ("start" if dx > 0 else "end")
        lines = [key, *_wrap(label, 20)]
        # Labels above the centre grow upwards, so they never run into the plot.
        top = ly - (len(lines) - 1) * 13 if ly < cy - 1 else ly if ly > cy + 1 else ly - (len(lines) - 1) * 6.5
        bold = ' font-weight="600"'
        tspans = "".join(
            f'<tspan x="{_n(lx)}" y="{_n(top + j * 13 + 4)}"{bold if j == 0 else ""}>{_e(line)}</tspan>'
            for j, line in enumerate(lines)
        )
        parts.append(f'<text class="axis-label" text-anchor="{anchor}" data-axis="{_e(key)}">{tspans}</text>')

    for index, s in enumerate(series):
        st = style_for(index)
        present = [(i, key, s.values[key]) for i, (key, _) in enumerate(axes) if key in s.values]
        if len(present) == n:
            pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in (point(i, v) for i, _, v in present))
            dash = f' stroke-dasharray="{st.dash}"' if st.dash else ""
            parts.append(
                f'<polygon class="series" data-series="{_e(s.key)}" points="{pts}" fill="{st.colour}" '
                f'fill-opacity="0.06" stroke="{st.colour}" stroke-width="2.5"{dash}/>'
            )
        for i, key, value in present:
            x, y = point(i, value)
            parts.append(
                f'<g class="point"><title>{_e(s.label)} – {_e(key)}: {_e(value_format(value))}</title>'
                + marker_svg(
                    st.marker,
                    x,
                    y,
                    st.colour,
                    extra=f' data-series="{_e(s.key)}" data-axis="{_e(key)}" data-value="{value}"',
                )
                + "</g>"
            )
    parts.append("</g>")
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


# ---- grouped bars -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BarSeries:
    key: str
    label: str
    values: Mapping[str, float]  # by category key; a missing category draws no bar and says "–"


@dataclass(frozen=True)
class MarkerKind:
    """A flag drawn above a category's bars, e.g. 'the inspection flags this factor'."""

    key: str
    label: str
    shape: MarkerShape
    colour: str
    symbol: str  # a short text beside the marker, so the flag reads without the legend or colour


def grouped_bar_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    categories: Sequence[tuple[str, str]],
    series: Sequence[BarSeries],
    y_max: float,
    y_ticks: Sequence[float],
    y_label: str,
    value_format: Callable[[float], str] = lambda v: format_number(v, 1),
    markers: Mapping[str, str] | None = None,
    marker_kinds: Sequence[MarkerKind] = (),
) -> str:
    """Vertical bars: one group per (key, label) category, one bar per series; bars start at 0.

    `markers` maps a category key to a `MarkerKind.key`; the marker is drawn above that category's bars.
    Series after the first are hatched as well as coloured.
    """
    markers = markers or {}
    kinds = {k.key: k for k in marker_kinds}
    left, right, top = 60.0, 20.0, 50.0
    plot_height = 230.0
    group_width = max(92.0, 26.0 * len(series) + 30)
    width = max(560.0, left + right + group_width * len(categories))
    plot_width = width - left - right
    group_width = plot_width / max(len(categories), 1)
    bottom = top + plot_height
    bar_width = min(34.0, (group_width - 20) / max(len(series), 1))

    def y_of(value: float) -> float:
        return bottom - plot_height * value / y_max

    legend_items = [
        LegendItem(
            label=s.label,
            colour=style_for(i).colour,
            swatch_pattern=f"url(#{chart_id}-hatch-{i})" if i else None,
        )
        for i, s in enumerate(series)
    ]
    legend_items += [LegendItem(label=f"{k.symbol} {k.label}", colour=k.colour, marker=k.shape) for k in marker_kinds]
    label_room = 76 if any(label != key for key, label in categories) else 34
    legend, legend_height = _legend(legend_items, x=left - 40, y=bottom + label_room, width=width - left)
    height = bottom + label_room + legend_height + 8

    parts = [_open_svg(chart_id, title, desc, width, height, "bars")]
    parts.append("<defs>")
    for i in range(1, len(series)):
        colour = style_for(i).colour
        parts.append(
            f'<pattern id="{_e(chart_id)}-hatch-{i}" width="6" height="6" patternUnits="userSpaceOnUse" '
            f'patternTransform="rotate(45)"><rect width="6" height="6" fill="{colour}" fill-opacity="0.35"/>'
            f'<line x1="0" y1="0" x2="0" y2="6" stroke="{colour}" stroke-width="3"/></pattern>'
        )
    parts.append("</defs>")
    parts.append(
        f'<g class="plot" data-bottom="{_n(bottom)}" data-plot-height="{_n(plot_height)}" data-y-max="{_n(y_max)}">'
    )
    for tick in y_ticks:
        y = y_of(tick)
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(width - right)}" y2="{_n(y)}" stroke="{GRID}"/>'
            f'<text class="y-tick" x="{_n(left - 8)}" y="{_n(y + 4)}" text-anchor="end" fill="{AXIS}" '
            f'data-value="{tick}">{_e(value_format(tick))}</text>'
        )
    parts.append(
        f'<text x="14" y="{_n(top + plot_height / 2)}" transform="rotate(-90 14 {_n(top + plot_height / 2)})" '
        f'text-anchor="middle" fill="{AXIS}">{_e(y_label)}</text>'
    )
    for c, (category, label) in enumerate(categories):
        gx = left + c * group_width
        first = gx + (group_width - bar_width * len(series)) / 2
        highest = bottom
        for i, s in enumerate(series):
            x = first + i * bar_width
            value = s.values.get(category)
            if value is None:
                parts.append(
                    f'<text x="{_n(x + bar_width / 2)}" y="{_n(bottom - 6)}" text-anchor="middle" fill="{AXIS}">'
                    "–</text>"
                )
                continue
            y = y_of(value)
            highest = min(highest, y)
            fill = f"url(#{_e(chart_id)}-hatch-{i})" if i else style_for(i).colour
            parts.append(
                f'<rect class="bar" data-series="{_e(s.key)}" data-category="{_e(category)}" data-value="{value}" '
                f'x="{_n(x + 2)}" y="{_n(y)}" width="{_n(bar_width - 4)}" height="{_n(bottom - y)}" fill="{fill}" '
                f'stroke="{style_for(i).colour}" stroke-width="1.5"><title>{_e(label)}, {_e(s.label)}: '
                f"{_e(value_format(value))}</title></rect>"
                f'<text x="{_n(x + bar_width / 2)}" y="{_n(y - 5)}" text-anchor="middle" font-size="11">'
                f"{_e(value_format(value))}</text>"
            )
        kind = kinds.get(markers.get(category, ""))
        if kind is not None:
            my = highest - 30
            parts.append(
                f'<g class="flag" data-category="{_e(category)}" data-flag="{_e(kind.key)}">'
                f"<title>{_e(label)}: {_e(kind.label)}</title>"
                + marker_svg(kind.shape, gx + group_width / 2 - 6, my, kind.colour, size=6)
                + f'<text x="{_n(gx + group_width / 2 + 4)}" y="{_n(my + 4)}" font-weight="700" '
                f'fill="{kind.colour}">{_e(kind.symbol)}</text></g>'
            )
        parts.append(
            f'<text class="x-label" x="{_n(gx + group_width / 2)}" y="{_n(bottom + 18)}" text-anchor="middle" '
            f'font-weight="600">{_e(category)}</text>'
        )
        if label != category:
            lines = _wrap(label, max(int(group_width / 6.2), 6))[:3]
            tspans = "".join(
                f'<tspan x="{_n(gx + group_width / 2)}" y="{_n(bottom + 32 + 12 * j)}">{_e(line)}</tspan>'
                for j, line in enumerate(lines)
            )
            parts.append(f'<text text-anchor="middle" font-size="10" fill="{AXIS}">{tspans}</text>')
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(width - right)}" y2="{_n(bottom)}" stroke="{AXIS}"/>'
    )
    parts.append("</g>")
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _shorten(text: str, max_chars: int) -> str:
    return text if len(text) <= max_chars else text[: max(max_chars - 1, 1)].rstrip() + "…"


# ---- line chart with target -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinePoint:
    x: int
    y: float
    marker: MarkerShape | None = None  # overrides the series' marker, e.g. for a differently sourced value
    note: str = ""


@dataclass(frozen=True)
class LineSeries:
    key: str
    label: str
    points: Sequence[LinePoint]
    extra_markers: Sequence[tuple[MarkerShape, str]] = field(default_factory=tuple)  # (shape, legend label)


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[LineSeries],
    y_label: str,
    target: float | None = None,
    target_label: str = "Mål / target",
    baseline: LinePoint | None = None,
    baseline_label: str = "Utgångsvärde / baseline",
    value_format: Callable[[float], str] = format_number,
) -> str:
    """Values over years, one line per series, a dashed horizontal target line and a baseline point."""
    left, right, top, plot_height = 70.0, 110.0, 24.0, 240.0
    width = 700.0
    plot_width = width - left - right
    bottom = top + plot_height

    xs = [p.x for s in series for p in s.points] + ([baseline.x] if baseline else [])
    ys = [p.y for s in series for p in s.points] + ([baseline.y] if baseline else [])
    ys += [target] if target is not None else []
    x_low, x_high = (min(xs), max(xs)) if xs else (0, 1)
    if x_low == x_high:
        x_low, x_high = x_low - 1, x_high + 1
    ticks = nice_ticks(min(ys), max(ys)) if ys else [0.0, 1.0]
    y_low, y_high = ticks[0], ticks[-1]

    def px(x: float) -> float:
        return left + plot_width * (x - x_low) / (x_high - x_low)

    def py(y: float) -> float:
        return bottom - plot_height * (y - y_low) / (y_high - y_low)

    legend_items: list[LegendItem] = []
    for i, s in enumerate(series):
        st = style_for(i)
        legend_items.append(LegendItem(s.label, st.colour, marker=st.marker, line=True, dash=st.dash))
        legend_items += [LegendItem(label, st.colour, marker=shape) for shape, label in s.extra_markers]
    if baseline is not None:
        legend_items.append(LegendItem(baseline_label, TARGET, marker="ring"))
    if target is not None:
        legend_items.append(LegendItem(target_label, TARGET, line=True, dash="8 5"))
    legend, legend_height = _legend(legend_items, x=left - 50, y=bottom + 40, width=width - left)
    height = bottom + 40 + legend_height + 8

    parts = [_open_svg(chart_id, title, desc, width, height, "line")]
    parts.append(
        f'<g class="plot" data-left="{_n(left)}" data-bottom="{_n(bottom)}" data-plot-width="{_n(plot_width)}" '
        f'data-plot-height="{_n(plot_height)}" data-x-min="{x_low}" data-x-max="{x_high}" '
        f'data-y-min="{y_low}" data-y-max="{y_high}">'
    )
    for tick in ticks:
        y = py(tick)
        parts.append(
            f'<line x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_width)}" y2="{_n(y)}" stroke="{GRID}"/>'
            f'<text class="y-tick" x="{_n(left - 8)}" y="{_n(y + 4)}" text-anchor="end" fill="{AXIS}" '
            f'data-value="{tick}">{_e(value_format(tick))}</text>'
        )
    step = max(1, math.ceil((x_high - x_low) / 10))
    for year in range(x_low, x_high + 1, step):
        x = px(year)
        parts.append(
            f'<line x1="{_n(x)}" y1="{_n(bottom)}" x2="{_n(x)}" y2="{_n(bottom + 5)}" stroke="{AXIS}"/>'
            f'<text class="x-tick" x="{_n(x)}" y="{_n(bottom + 19)}" text-anchor="middle" fill="{AXIS}">{year}</text>'
        )
    parts.append(
        f'<line x1="{_n(left)}" y1="{_n(bottom)}" x2="{_n(left + plot_width)}" y2="{_n(bottom)}" stroke="{AXIS}"/>'
        f'<line x1="{_n(left)}" y1="{_n(top)}" x2="{_n(left)}" y2="{_n(bottom)}" stroke="{AXIS}"/>'
        f'<text x="16" y="{_n(top + plot_height / 2)}" transform="rotate(-90 16 {_n(top + plot_height / 2)})" '
        f'text-anchor="middle" fill="{AXIS}">{_e(y_label)}</text>'
    )
    if target is not None:
        y = py(target)
        parts.append(
            f'<line class="target" data-value="{target}" x1="{_n(left)}" y1="{_n(y)}" x2="{_n(left + plot_width)}" '
            f'y2="{_n(y)}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="8 5"/>'
            f'<text x="{_n(left + plot_width + 6)}" y="{_n(y + 4)}" font-weight="600">'
            f"{_e(_shorten(target_label.split(' / ')[0], 8))} {_e(value_format(target))}</text>"
        )
    for i, s in enumerate(series):
        st = style_for(i)
        ordered = sorted(s.points, key=lambda p: p.x)
        if len(ordered) > 1:
            dash = f' stroke-dasharray="{st.dash}"' if st.dash else ""
            path = " ".join(f"{'M' if j == 0 else 'L'}{_n(px(p.x))},{_n(py(p.y))}" for j, p in enumerate(ordered))
            parts.append(
                f'<path class="series" data-series="{_e(s.key)}" d="{path}" fill="none" stroke="{st.colour}" '
                f'stroke-width="2.5"{dash}/>'
            )
        for p in ordered:
            note = f" ({p.note})" if p.note else ""
            parts.append(
                f'<g class="point"><title>{_e(s.label)} {p.x}: {_e(value_format(p.y))}{_e(note)}</title>'
                + marker_svg(
                    p.marker or st.marker,
                    px(p.x),
                    py(p.y),
                    st.colour,
                    extra=f' data-series="{_e(s.key)}" data-x="{p.x}" data-value="{p.y}"',
                )
                + "</g>"
            )
    if baseline is not None:
        x, y = px(baseline.x), py(baseline.y)
        parts.append(
            f'<g class="baseline"><title>{_e(baseline_label)} {baseline.x}: {_e(value_format(baseline.y))}</title>'
            + marker_svg("ring", x, y, TARGET, size=6, extra=f' data-x="{baseline.x}" data-value="{baseline.y}"')
            + "</g>"
        )
    if series and series[0].points:
        last = max(series[0].points, key=lambda p: p.x)
        label_y = py(last.y) - 8
        if target is not None and abs(label_y - 4 - py(target)) < 14:
            label_y = py(last.y) + 18  # below the point, clear of the target's label
        parts.append(
            f'<text class="last-value" x="{_n(px(last.x) + 9)}" y="{_n(label_y)}" font-weight="600" '
            f'fill="{style_for(0).colour}">{_e(value_format(last.y))}</text>'
        )
    parts.append("</g>")
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


# ---- progress ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProgressRow:
    key: str
    label: str
    done: int
    total: int


def progress_chart(*, chart_id: str, title: str, desc: str, rows: Sequence[ProgressRow]) -> str:
    """One horizontal bar per row: the share done, written out as 'done / total (percent)'."""
    label_width, bar_width, row_height = 200.0, 380.0, 28.0
    width = label_width + bar_width + 150
    height = 16 + row_height * len(rows)
    parts = [_open_svg(chart_id, title, desc, width, height, "progress")]
    colour = style_for(0).colour
    for i, row in enumerate(rows):
        y = 8 + i * row_height
        share = row.done / row.total if row.total else 0.0
        percent = format_number(100 * share, 0)
        parts.append(
            f'<text x="{_n(label_width - 10)}" y="{_n(y + 15)}" text-anchor="end">{_e(_shorten(row.label, 30))}</text>'
            f'<rect x="{_n(label_width)}" y="{_n(y + 2)}" width="{_n(bar_width)}" height="18" fill="#ffffff" '
            f'stroke="{AXIS}"/>'
            f'<rect class="bar" data-row="{_e(row.key)}" data-done="{row.done}" data-total="{row.total}" '
            f'x="{_n(label_width)}" y="{_n(y + 2)}" width="{_n(bar_width * share)}" height="18" fill="{colour}"/>'
            f'<text x="{_n(label_width + bar_width + 8)}" y="{_n(y + 15)}">{row.done} / {row.total} '
            f"({percent} %)</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
