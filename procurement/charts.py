"""Accessible server-side SVG charts (bars, stacked bars, lines, rankings) and their data tables."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, TypedDict

from procurement.invoicing import format_usd

ValueFormat = Literal["money", "count", "percent"]
Formatter = Callable[[int], str]

NO_DATA_MESSAGE = "No data for these filters"

# USWDS system colour tokens in hues far apart, each at least 3:1 against white (WCAG 1.4.11).
# Series beyond the eighth reuse the colours; their patterns and markers repeat too.
PALETTE = (
    "#005ea2",  # blue-60v
    "#cf4900",  # orange-warm-50v
    "#008817",  # green-cool-50v
    "#93348c",  # violet-warm-60v
    "#936f38",  # gold-50v
    "#00687d",  # cyan-60v
    "#ab2165",  # magenta-60v
    "#565c65",  # gray-cool-60
)
INK = "#1b1b1b"  # base-ink
GRID = "#dfe1e2"  # gray-cool-10: gridlines are decoration, the ticks carry the values
FONT_FAMILY = "Source Sans Pro Web, Helvetica Neue, Helvetica, Roboto, Arial, sans-serif"
FONT_SIZE = 12  # px; nothing in a chart is smaller
CHAR_WIDTH = 7.0  # px, a generous average advance at 12px, used to fit and truncate labels

# White overlays drawn on the series colour (none for the first series), so series differ by
# pattern as well as by colour.
_PATTERNS = (
    "",
    "M-2,2 l4,-4 M0,8 l8,-8 M6,10 l4,-4",
    "M2,2 h1 M6,6 h1",
    "M0,0 l8,8 M8,0 l-8,8",
    "M0,4 h8",
    "M4,0 v8",
    "M-2,6 l4,4 M0,0 l8,8 M6,-2 l4,4",
    "M0,4 h8 M4,0 v8",
)
_DASHES = ("", "8 4", "2 3", "10 3 2 3", "5 5", "1 4", "12 4", "6 2 2 2")
_MARKERS = ("circle", "square", "triangle", "diamond", "circle", "square", "triangle", "diamond")
_POLYGONS = {
    "triangle": ((0, -5.5), (5, 4), (-5, 4)),
    "diamond": ((0, -5.5), (5.5, 0), (0, 5.5), (-5.5, 0)),
}
_ID_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
# Characters XML 1.0 cannot carry at all; they are dropped from data before it reaches the SVG.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

WIDTH = 720  # px
HEIGHT = 400  # px, for vertical charts; rankings grow with their rows
RANK_ROW = 32  # px per ranked item


class ChartKind(StrEnum):
    """Which drawing a ChartData gets (see `render_svg`)."""

    BAR = "bar"
    GROUPED = "grouped"
    STACKED = "stacked"
    LINE = "line"
    RANKING = "ranking"


@dataclass(frozen=True)
class Series:
    """One named series of values.

    Attributes:
        name: as shown in the legend and the table header ("CDC").
        points: (category, value) pairs in display order; a category is a period label or a
            name, a value is an integer in the chart's unit (cents, a count, basis points).
    """

    name: str
    points: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ChartData:
    """What a chart shows, independent of how it is drawn (SVG here, reportlab in pdf.py).

    Attributes:
        title: the accessible name, and the table caption.
        description: a sentence of context; a summary of the data is appended to it.
        x_label: what the categories are ("Fiscal quarter"), whatever the orientation.
        y_label: what the values are ("Spend"), whatever the orientation.
        series: the data; one series for bar and ranking charts.
        value_format: "money" (cents), "count", or "percent" (basis points: 1250 is 12.5%).
    """

    title: str
    description: str
    x_label: str
    y_label: str
    series: tuple[Series, ...]
    value_format: ValueFormat = "money"

    @property
    def categories(self) -> tuple[str, ...]:
        """Every category, in order of first appearance across the series."""
        return tuple(dict.fromkeys(label for s in self.series for label, _ in s.points))

    @property
    def is_empty(self) -> bool:
        """Whether there is no value to draw."""
        return not any(s.points for s in self.series)


# --- Numbers ------------------------------------------------------------------------------------


def nice_ticks(low: int, high: int, max_ticks: int = 6) -> tuple[int, ...]:
    """Evenly spaced axis ticks on 1, 2 or 5 × 10^n steps covering low..high and zero.

    Args:
        low: the smallest value to show (any unit: cents, counts, basis points).
        high: the largest value to show.
        max_ticks: the most ticks wanted (3 or more).

    Returns:
        The ticks of the smallest such step that needs at most max_ticks, in increasing order:
        the first ≤ min(low, 0), the last ≥ max(high, 0), one of them 0 so bars grow from a zero
        line. A range of zero width is widened to one unit: (0, 1).

    Raises:
        ValueError: when max_ticks is below 3.
    """
    if max_ticks < 3:
        raise ValueError(f"An axis needs room for 3 ticks or more, not {max_ticks}.")
    low, high = min(low, 0), max(high, 0)
    if low == high:
        high = low + 1
    magnitude = 1
    while True:
        for step in (magnitude, 2 * magnitude, 5 * magnitude):
            first, last = (low // step) * step, -(-high // step) * step
            if (last - first) // step + 1 <= max_ticks:
                return tuple(range(first, last + 1, step))
        magnitude *= 10


def format_value(value: int, value_format: ValueFormat) -> str:
    """A value in full for labels and tables: "$1,234.56", "1,234", "12.5%"."""
    if value_format == "money":
        return format_usd(value)
    if value_format == "percent":
        return f"{_trim(f'{value / 100:.2f}')}%"
    return f"{value:,}"


def format_tick(value: int, value_format: ValueFormat) -> str:
    """A value in short for axes and bar labels: "$1.2M", "$350K", "-$50", "1.5K", "20%"."""
    if value_format == "percent":
        return format_value(value, value_format)
    number = value / 100 if value_format == "money" else float(value)
    sign = "-" if number < 0 else ""
    prefix = "$" if value_format == "money" else ""
    number = abs(number)
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "K")):
        if number >= size:
            return f"{sign}{prefix}{_trim(f'{number / size:.2f}')}{suffix}"
    return f"{sign}{prefix}{_trim(f'{number:.2f}')}"


def _trim(number: str) -> str:
    """Drop trailing decimal zeros: "1.50" → "1.5", "2.00" → "2"."""
    return number.rstrip("0").rstrip(".") if "." in number else number


def _formatter(chart: ChartData, formatter: Formatter | None) -> Formatter:
    """The caller's formatter, or the full format of the chart's value_format."""
    if formatter is not None:
        return formatter
    return lambda value: format_value(value, chart.value_format)


def value_bounds(chart: ChartData, *, stacked: bool = False) -> tuple[int, int]:
    """The lowest and highest value an axis must show, zero included.

    Args:
        chart: the data.
        stacked: bounds of stacked bars: per category, positive values add up above zero and
            negative ones below it.

    Returns:
        (low, high) with low ≤ 0 ≤ high; (0, 0) for a chart without data.
    """
    values = [dict(s.points) for s in chart.series]
    if stacked:
        lows = [sum(min(v.get(c, 0), 0) for v in values) for c in chart.categories]
        highs = [sum(max(v.get(c, 0), 0) for v in values) for c in chart.categories]
    else:
        lows = highs = [value for v in values for value in v.values()]
    return min([0, *lows]), max([0, *highs])


# --- Summary and table --------------------------------------------------------------------------


def summarise(chart: ChartData, formatter: Formatter | None = None) -> str:
    """The chart's description followed by a sentence on its data: how much, highest, lowest.

    Args:
        chart: the data.
        formatter: formats values (default: the full format of chart.value_format).
    """
    fmt = _formatter(chart, formatter)
    intro = chart.description.strip()
    if chart.is_empty:
        return f"{intro} {NO_DATA_MESSAGE}.".strip()
    named = len(chart.series) > 1
    points = [(s.name, label, value) for s in chart.series for label, value in s.points]

    def where(point: tuple[str, str, int]) -> str:
        name, label, value = point
        return f"{name}, {label}, at {fmt(value)}" if named else f"{label} at {fmt(value)}"

    if len(points) == 1:
        facts = f"One value: {where(points[0])}."
    else:
        highest = max(points, key=lambda point: point[2])
        lowest = min(points, key=lambda point: point[2])
        count = f"{len(chart.categories)} categories"
        scope = f"{len(chart.series)} series over {count}" if named else f"{len(points)} values"
        facts = f"{scope}. Highest: {where(highest)}. Lowest: {where(lowest)}."
    return f"{intro} {facts}".strip()


class DataTable(TypedDict):
    """A chart's data as table cells; the keys are pdf.ReportTable's fields.

    Attributes:
        caption: the chart's title.
        header: (x_label, y_label) for a single series, else (x_label, *series names).
        rows: one per category: its label, then one formatted value per series ("—" where the
            series has none).
        numeric_columns: indexes of the columns to align right.
    """

    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_columns: tuple[int, ...]


def data_table(chart: ChartData, formatter: Formatter | None = None) -> DataTable:
    """The chart as a table, for the HTML alternative the page renders next to every chart.

    Args:
        chart: the data.
        formatter: formats values (default: the full format of chart.value_format).
    """
    fmt = _formatter(chart, formatter)
    if len(chart.series) == 1:
        header = (chart.x_label, chart.y_label or chart.series[0].name)
    else:
        header = (chart.x_label, *(s.name for s in chart.series))
    values = [dict(s.points) for s in chart.series]
    rows = tuple(
        (label, *(fmt(v[label]) if label in v else "—" for v in values))
        for label in chart.categories
    )
    return DataTable(
        caption=chart.title, header=header, rows=rows, numeric_columns=tuple(range(1, len(header)))
    )


# --- SVG building blocks ------------------------------------------------------------------------


def _n(number: float) -> str:
    """A coordinate with at most two decimals."""
    text = _trim(f"{number:.2f}")
    return "0" if text == "-0" else text


def _clean(text: str) -> str:
    """Data text without characters XML cannot carry (ElementTree escapes the rest)."""
    return _NOT_XML.sub("", text)


def _add(parent: ET.Element, tag: str, text: str | None = None, **attrs: object) -> ET.Element:
    """Append an element; `font_size=12` becomes font-size="12", floats get two decimals."""
    element = ET.SubElement(
        parent,
        tag,
        {
            key.rstrip("_").replace("_", "-"): _n(value) if isinstance(value, float) else str(value)
            for key, value in attrs.items()
            if value is not None
        },
    )
    if text is not None:
        element.text = _clean(text)
    return element


def _shorten(text: str, max_chars: int) -> str:
    """The text cut to max_chars (2 or more) with an ellipsis."""
    return text if len(text) <= max_chars else text[: max_chars - 1].rstrip() + "…"


def _label(
    parent: ET.Element, x: float, y: float, text: str, max_chars: int, **attrs: object
) -> ET.Element:
    """A text of at least 12px, cut to max_chars with an ellipsis and then titled in full."""
    text = _clean(text)
    shown = _shorten(text, max_chars)
    element = _add(
        parent, "text", shown, **{"x": x, "y": y, "fill": INK, "text_anchor": "middle", **attrs}
    )
    if shown != text:
        _add(element, "title", text)
    return element


def _svg(chart: ChartData, chart_id: str, width: float, height: float, summary: str) -> ET.Element:
    """The root element with its accessible name and description."""
    if not _ID_PATTERN.fullmatch(chart_id):
        raise ValueError(f"A chart id is a letter then letters, digits, - or _, not {chart_id!r}.")
    root = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "role": "img",
            "aria-labelledby": f"{chart_id}-title {chart_id}-desc",
            "id": chart_id,
            "class": "chart",
            "width": _n(width),
            "height": _n(height),
            "viewBox": f"0 0 {_n(width)} {_n(height)}",
            "font-family": FONT_FAMILY,
            "font-size": str(FONT_SIZE),
        },
    )
    _add(root, "title", chart.title, id=f"{chart_id}-title")
    _add(root, "desc", summary, id=f"{chart_id}-desc")
    return root


def _no_data(chart: ChartData, chart_id: str, summary: str) -> str:
    """A small chart that says there is nothing to show."""
    root = _svg(chart, chart_id, WIDTH, 120, summary)
    _add(root, "rect", x=0.5, y=0.5, width=WIDTH - 1, height=119, fill="none", stroke=GRID)
    _add(root, "text", NO_DATA_MESSAGE, x=WIDTH / 2, y=64, fill=INK, text_anchor="middle")
    return ET.tostring(root, encoding="unicode")


def _patterns(root: ET.Element, chart_id: str, count: int) -> list[str]:
    """Define one fill per series (colour plus white pattern); return their fill values."""
    defs = _add(root, "defs")
    fills = []
    for index in range(count):
        colour, path = PALETTE[index % len(PALETTE)], _PATTERNS[index % len(_PATTERNS)]
        if not path:
            fills.append(colour)
            continue
        pattern_id = f"{chart_id}-pattern-{index}"
        pattern = _add(
            defs, "pattern", id=pattern_id, width=8, height=8, patternUnits="userSpaceOnUse"
        )
        _add(pattern, "rect", width=8, height=8, fill=colour)
        _add(pattern, "path", d=path, stroke="#ffffff", stroke_width=2, stroke_linecap="square")
        fills.append(f"url(#{pattern_id})")
    return fills


def _marker(parent: ET.Element, index: int, x: float, y: float) -> ET.Element:
    """The point marker of series `index`: a shape per series, so lines differ without colour."""
    colour, shape = PALETTE[index % len(PALETTE)], _MARKERS[index % len(_MARKERS)]
    common = {"fill": colour, "stroke": "#ffffff", "stroke_width": 1, "class_": "point"}
    if shape == "circle":
        return _add(parent, "circle", cx=x, cy=y, r=4.5, **common)
    if shape == "square":
        return _add(parent, "rect", x=x - 4, y=y - 4, width=8, height=8, **common)
    points = " ".join(f"{_n(x + dx)},{_n(y + dy)}" for dx, dy in _POLYGONS[shape])
    return _add(parent, "polygon", points=points, **common)


def _legend(root: ET.Element, chart: ChartData, fills: list[str] | None, top: float) -> float:
    """Draw a swatch (bars) or line sample (lines) and name per series; return the y below."""
    x, y = 16.0, top
    for index, series in enumerate(chart.series):
        item_width = 28 + len(_shorten(_clean(series.name), 30)) * CHAR_WIDTH + 20
        if x + item_width > WIDTH - 16 and x > 16:
            x, y = 16.0, y + 22
        group = _add(root, "g", class_="legend-item")
        colour = PALETTE[index % len(PALETTE)]
        if fills is None:
            _add(
                group,
                "line",
                x1=x,
                y1=y,
                x2=x + 22,
                y2=y,
                stroke=colour,
                stroke_width=2.5,
                stroke_dasharray=_DASHES[index % len(_DASHES)] or None,
            )
            _marker(group, index, x + 11, y)
        else:
            _add(group, "rect", x=x, y=y - 7, width=22, height=14, fill=fills[index], stroke=colour)
        _label(group, x + 28, y + 4, series.name, 30, text_anchor="start")
        x += item_width
    return y + 20


# --- Vertical charts (bars, grouped, stacked, lines) --------------------------------------------


@dataclass(frozen=True)
class _Frame:
    """Where the plot sits and how values map to pixels (vertical charts)."""

    left: float
    right: float
    top: float
    bottom: float
    ticks: tuple[int, ...]

    def y(self, value: float) -> float:
        """Pixel row of a value."""
        low, high = self.ticks[0], self.ticks[-1]
        return self.bottom - (value - low) / (high - low) * (self.bottom - self.top)

    def band(self, count: int) -> float:
        """Width of one category's slot."""
        return (self.right - self.left) / count


def _vertical_frame(root: ET.Element, chart: ChartData, low: int, high: int, top: float) -> _Frame:
    """Draw the value axis, gridlines, axis labels and category labels; return the frame.

    Category labels that do not fit their slot are slanted, and cut past 16 characters.
    """
    ticks = nice_ticks(low, high)
    tick_labels = [format_tick(t, chart.value_format) for t in ticks]
    left = 36 + max(len(t) for t in tick_labels) * CHAR_WIDTH
    right = WIDTH - 16.0
    categories = chart.categories
    band = (right - left) / len(categories)
    rotate = max(len(_clean(c)) for c in categories) * CHAR_WIDTH > band - 4
    bottom = HEIGHT - (110 if rotate else 52)
    frame = _Frame(left, right, top, bottom, ticks)
    axis = _add(root, "g", class_="y-axis")
    for tick, text in zip(ticks, tick_labels, strict=True):
        y = frame.y(tick)
        _add(axis, "line", x1=left, y1=y, x2=right, y2=y, stroke=GRID, stroke_width=1)
        _add(axis, "text", text, x=left - 6, y=y + 4, fill=INK, text_anchor="end")
    middle = (top + bottom) / 2
    _label(axis, 16, middle, chart.y_label, 40, transform=f"rotate(-90 16 {_n(middle)})")
    labels = _add(root, "g", class_="x-axis")
    for index, category in enumerate(categories):
        x = left + band * (index + 0.5)
        if rotate:
            _label(
                labels,
                x,
                bottom + 16,
                category,
                16,
                text_anchor="end",
                transform=f"rotate(-35 {_n(x)} {_n(bottom + 16)})",
            )
        else:
            _label(labels, x, bottom + 18, category, max(int(band / CHAR_WIDTH), 3))
    _label(labels, (left + right) / 2, HEIGHT - 10, chart.x_label, 80)
    return frame


def _zero_line(root: ET.Element, frame: _Frame) -> None:
    """The axis through zero, drawn over the bars so negative values read as below it."""
    y = frame.y(0)
    _add(
        root,
        "line",
        x1=frame.left,
        y1=y,
        x2=frame.right,
        y2=y,
        stroke=INK,
        stroke_width=1.5,
        class_="zero-line",
    )


def _bar(
    parent: ET.Element, frame: _Frame, x: float, width: float, base: int, value: int, fill: str
) -> ET.Element:
    """A bar (or stacked segment) from `base` to `base + value`."""
    y0, y1 = frame.y(base), frame.y(base + value)
    return _add(
        parent,
        "rect",
        x=x,
        y=min(y0, y1),
        width=width,
        height=abs(y1 - y0),
        fill=fill,
        class_="bar negative" if value < 0 else "bar",
    )


def bar_chart(
    chart: ChartData, *, chart_id: str = "chart", formatter: Formatter | None = None
) -> str:
    """A vertical bar chart of one series, each bar labelled with its value.

    Args:
        chart: the data; at most one series (use `grouped_bar_chart` for more).
        chart_id: the SVG id, unique in the page; titles and patterns derive their ids from it.
        formatter: formats values in tooltips and the description (default: chart.value_format
            in full, e.g. "$1,234.56"); axis ticks and bar labels use `format_tick`.

    Returns:
        SVG markup, or a chart saying "No data for these filters" when there is nothing to draw.

    Raises:
        ValueError: for more than one series or an invalid chart_id.
    """
    if len(chart.series) > 1:
        raise ValueError(f"A bar chart shows one series, not {len(chart.series)}.")
    summary = summarise(chart, formatter)
    if chart.is_empty:
        return _no_data(chart, chart_id, summary)
    fmt = _formatter(chart, formatter)
    root = _svg(chart, chart_id, WIDTH, HEIGHT, summary)
    frame = _vertical_frame(root, chart, *value_bounds(chart), 24)
    band = frame.band(len(chart.categories))
    width = min(band * 0.7, 80)
    bars = _add(root, "g", class_="bars")
    for index, (category, value) in enumerate(chart.series[0].points):
        x = frame.left + band * (index + 0.5)
        bar = _bar(bars, frame, x - width / 2, width, 0, value, PALETTE[0])
        _add(bar, "title", f"{category}: {fmt(value)}")
        text = format_tick(value, chart.value_format)
        if len(text) * CHAR_WIDTH <= band:
            y = frame.y(value) + (-6 if value >= 0 else 16)
            _add(bars, "text", text, x=x, y=y, fill=INK, text_anchor="middle", class_="value")
    _zero_line(root, frame)
    return ET.tostring(root, encoding="unicode")


def grouped_bar_chart(
    chart: ChartData,
    *,
    stacked: bool = False,
    chart_id: str = "chart",
    formatter: Formatter | None = None,
) -> str:
    """Bars for several series per category, side by side or stacked, with a legend.

    Each series has its colour and a pattern. Stacked, positive values stack up from zero and
    negative ones down from it, so a de-obligation never hides a charge.

    Args:
        chart: the data, e.g. one series per division over fiscal quarters.
        stacked: stack the series in one bar per category instead of side by side.
        chart_id: the SVG id, unique in the page.
        formatter: formats values in tooltips and the description (see `bar_chart`).

    Returns:
        SVG markup, or a chart saying "No data for these filters".

    Raises:
        ValueError: for an invalid chart_id.
    """
    summary = summarise(chart, formatter)
    if chart.is_empty:
        return _no_data(chart, chart_id, summary)
    fmt = _formatter(chart, formatter)
    root = _svg(chart, chart_id, WIDTH, HEIGHT, summary)
    fills = _patterns(root, chart_id, len(chart.series))
    top = _legend(root, chart, fills, 16) + 8
    values = [dict(s.points) for s in chart.series]
    categories = chart.categories
    frame = _vertical_frame(root, chart, *value_bounds(chart, stacked=stacked), top)
    band = frame.band(len(categories))
    slots = 1 if stacked else len(chart.series)
    width = min(band * 0.8 / slots, 60)
    bars = _add(root, "g", class_="bars")
    for c_index, category in enumerate(categories):
        start = frame.left + band * (c_index + 0.5) - width * slots / 2
        up = down = 0
        for s_index, series in enumerate(chart.series):
            if category not in values[s_index]:
                continue
            value = values[s_index][category]
            x = start if stacked else start + s_index * width
            base = 0
            if stacked:
                base = up if value >= 0 else down
                up, down = (up + value, down) if value >= 0 else (up, down + value)
            bar = _bar(bars, frame, x, width, base, value, fills[s_index])
            bar.set("stroke", PALETTE[s_index % len(PALETTE)])
            _add(bar, "title", f"{series.name}, {category}: {fmt(value)}")
    _zero_line(root, frame)
    return ET.tostring(root, encoding="unicode")


def line_chart(
    chart: ChartData, *, chart_id: str = "chart", formatter: Formatter | None = None
) -> str:
    """Lines over categories (periods), each series with its colour, dash and marker shape.

    Args:
        chart: the data, e.g. cost per reuse by month; a series with one point shows its marker.
        chart_id: the SVG id, unique in the page.
        formatter: formats values in tooltips and the description (see `bar_chart`).

    Returns:
        SVG markup, or a chart saying "No data for these filters".

    Raises:
        ValueError: for an invalid chart_id.
    """
    summary = summarise(chart, formatter)
    if chart.is_empty:
        return _no_data(chart, chart_id, summary)
    fmt = _formatter(chart, formatter)
    root = _svg(chart, chart_id, WIDTH, HEIGHT, summary)
    top = _legend(root, chart, None, 16) + 8 if len(chart.series) > 1 else 24.0
    frame = _vertical_frame(root, chart, *value_bounds(chart), top)
    categories = chart.categories
    band = frame.band(len(categories))
    position = {category: frame.left + band * (i + 0.5) for i, category in enumerate(categories)}
    _zero_line(root, frame)
    for index, series in enumerate(chart.series):
        group = _add(root, "g", class_="series")
        coordinates = [(position[c], frame.y(v)) for c, v in series.points]
        if len(coordinates) > 1:
            _add(
                group,
                "polyline",
                points=" ".join(f"{_n(x)},{_n(y)}" for x, y in coordinates),
                fill="none",
                stroke=PALETTE[index % len(PALETTE)],
                stroke_width=2.5,
                stroke_dasharray=_DASHES[index % len(_DASHES)] or None,
                class_="line",
            )
        for (category, value), (x, y) in zip(series.points, coordinates, strict=True):
            _add(_marker(group, index, x, y), "title", f"{series.name}, {category}: {fmt(value)}")
    return ET.tostring(root, encoding="unicode")


def ranking_chart(
    chart: ChartData, *, chart_id: str = "chart", formatter: Formatter | None = None
) -> str:
    """Horizontal bars of one series in the given order (rank it first), labelled with values.

    Args:
        chart: the data, e.g. the top consolidation opportunities, largest first; the chart
            grows 32px per item.
        chart_id: the SVG id, unique in the page.
        formatter: formats values in tooltips and the description (see `bar_chart`).

    Returns:
        SVG markup, or a chart saying "No data for these filters".

    Raises:
        ValueError: for more than one series or an invalid chart_id.
    """
    if len(chart.series) > 1:
        raise ValueError(f"A ranking chart shows one series, not {len(chart.series)}.")
    summary = summarise(chart, formatter)
    if chart.is_empty:
        return _no_data(chart, chart_id, summary)
    fmt = _formatter(chart, formatter)
    points = chart.series[0].points
    height = 24 + len(points) * RANK_ROW + 56
    root = _svg(chart, chart_id, WIDTH, height, summary)
    ticks = nice_ticks(*value_bounds(chart))
    left, right, top, bottom = 232.0, WIDTH - 80.0, 24.0, 24.0 + len(points) * RANK_ROW

    def x_of(value: int) -> float:
        return left + (value - ticks[0]) / (ticks[-1] - ticks[0]) * (right - left)

    axis = _add(root, "g", class_="x-axis")
    for tick in ticks:
        x = x_of(tick)
        _add(axis, "line", x1=x, y1=top, x2=x, y2=bottom, stroke=GRID, stroke_width=1)
        text = format_tick(tick, chart.value_format)
        _add(axis, "text", text, x=x, y=bottom + 18, fill=INK, text_anchor="middle")
    _label(axis, (left + right) / 2, height - 10, chart.y_label, 80)
    _label(axis, left - 8, 14, chart.x_label, 30, text_anchor="end", font_weight="bold")
    bars = _add(root, "g", class_="bars")
    zero = x_of(0)
    for index, (category, value) in enumerate(points):
        y = top + index * RANK_ROW
        _label(bars, left - 8, y + RANK_ROW / 2 + 4, category, 30, text_anchor="end")
        x0, x1 = sorted((zero, x_of(value)))
        bar = _add(
            bars,
            "rect",
            x=x0,
            y=y + 6,
            width=x1 - x0,
            height=RANK_ROW - 12,
            fill=PALETTE[0],
            class_="bar negative" if value < 0 else "bar",
        )
        _add(bar, "title", f"{category}: {fmt(value)}")
        text = format_tick(value, chart.value_format)
        anchor, x = ("start", x1 + 6) if value >= 0 else ("end", x0 - 6)
        _add(bars, "text", text, x=x, y=y + RANK_ROW / 2 + 4, fill=INK, text_anchor=anchor)
    _add(
        root,
        "line",
        x1=zero,
        y1=top,
        x2=zero,
        y2=bottom,
        stroke=INK,
        stroke_width=1.5,
        class_="zero-line",
    )
    return ET.tostring(root, encoding="unicode")


def render_svg(
    kind: ChartKind | str,
    chart: ChartData,
    *,
    chart_id: str = "chart",
    formatter: Formatter | None = None,
) -> str:
    """The chart drawn as `kind` (bar, grouped, stacked, line or ranking); see those functions."""
    kind = ChartKind(kind)
    if kind is ChartKind.BAR:
        return bar_chart(chart, chart_id=chart_id, formatter=formatter)
    if kind is ChartKind.LINE:
        return line_chart(chart, chart_id=chart_id, formatter=formatter)
    if kind is ChartKind.RANKING:
        return ranking_chart(chart, chart_id=chart_id, formatter=formatter)
    stacked = kind is ChartKind.STACKED
    return grouped_bar_chart(chart, stacked=stacked, chart_id=chart_id, formatter=formatter)
