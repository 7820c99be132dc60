"""Worked cases for procurement.charts: accessible, escaped, CSP-safe SVG and its data table."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import pairwise

import pytest

from procurement.charts import (
    NO_DATA_MESSAGE,
    PALETTE,
    ChartData,
    ChartKind,
    Series,
    bar_chart,
    data_table,
    format_tick,
    format_value,
    grouped_bar_chart,
    line_chart,
    nice_ticks,
    ranking_chart,
    render_svg,
    summarise,
    value_bounds,
)

SVG = "{http://www.w3.org/2000/svg}"
QUARTERS = ("FY2026 Q1", "FY2026 Q2", "FY2026 Q3", "FY2026 Q4")


def one_series(*points: tuple[str, int], value_format: str = "money") -> ChartData:
    return ChartData(
        "Spend by division",
        "Obligations in FY2026.",
        "Division",
        "Spend",
        (Series("Spend", points),),
        value_format,  # type: ignore[arg-type]
    )


SPEND = one_series(("CDC", 120_000_00), ("NIH", 350_000_00), ("FDA", 1_200_000_00))
BY_QUARTER = ChartData(
    "Spend by division per quarter",
    "",
    "Fiscal quarter",
    "Spend",
    (
        Series("CDC", tuple(zip(QUARTERS, (100_00, 250_00, -50_00, 400_00), strict=True))),
        Series("NIH", tuple(zip(QUARTERS, (300_00, 20_00, 80_00, 500_00), strict=True))),
        Series("FDA", tuple(zip(QUARTERS[:3], (10_00, 20_00, 30_00), strict=True))),
    ),
)
EMPTY = ChartData("Nothing", "", "Division", "Spend", ())
EMPTY_SERIES = ChartData("Nothing", "", "Division", "Spend", (Series("CDC", ()),))

KINDS = list(ChartKind)


def parse(svg: str) -> ET.Element:
    """The SVG parsed; this also proves it well-formed. It is our own output, not outside input."""
    return ET.fromstring(svg)  # noqa: S314


def chart_for(kind: ChartKind) -> ChartData:
    return BY_QUARTER if kind in (ChartKind.GROUPED, ChartKind.STACKED, ChartKind.LINE) else SPEND


def bars(root: ET.Element) -> list[ET.Element]:
    return [e for e in root.iter(f"{SVG}rect") if "bar" in e.get("class", "").split()]


def zero_line(root: ET.Element) -> ET.Element:
    (line,) = [e for e in root.iter(f"{SVG}line") if e.get("class") == "zero-line"]
    return line


# --- Ticks and number formats -------------------------------------------------------------------


@pytest.mark.parametrize(
    "low,high,expected",
    [
        (0, 100, (0, 20, 40, 60, 80, 100)),
        (0, 95, (0, 20, 40, 60, 80, 100)),
        (0, 1, (0, 1)),
        (0, 0, (0, 1)),
        (7, 7, (0, 2, 4, 6, 8)),
        (-1, 9, (-5, 0, 5, 10)),
        (-35, 120, (-50, 0, 50, 100, 150)),
        (-7, -3, (-8, -6, -4, -2, 0)),
        (0, 123_456_789, (0, 50_000_000, 100_000_000, 150_000_000)),
        (-5_000_000, 120_000_000, (-50_000_000, 0, 50_000_000, 100_000_000, 150_000_000)),
    ],
)
def test_nice_ticks(low, high, expected):
    assert nice_ticks(low, high) == expected


@pytest.mark.parametrize("low,high", [(0, 1), (-3, 17), (0, 999_999), (-(10**9), 3), (5, 10**12)])
@pytest.mark.parametrize("max_ticks", [3, 5, 6, 10])
def test_nice_ticks_properties(low, high, max_ticks):
    ticks = nice_ticks(low, high, max_ticks)
    step = ticks[1] - ticks[0]
    assert 2 <= len(ticks) <= max_ticks
    assert 0 in ticks and ticks[0] <= min(low, 0) and ticks[-1] >= max(high, 0)
    assert all(b - a == step for a, b in pairwise(ticks))
    assert int(str(step)[0]) in (1, 2, 5) and set(str(step)[1:]) <= {"0"}


def test_nice_ticks_refuses_too_few():
    with pytest.raises(ValueError, match="3 ticks"):
        nice_ticks(0, 10, max_ticks=2)


@pytest.mark.parametrize(
    "value,value_format,tick,full",
    [
        (120_000_000, "money", "$1.2M", "$1,200,000.00"),
        (35_000_000, "money", "$350K", "$350,000.00"),
        (125_000_000, "money", "$1.25M", "$1,250,000.00"),
        (-5_000_000, "money", "-$50K", "-$50,000.00"),
        (300_000_000_000, "money", "$3B", "$3,000,000,000.00"),
        (0, "money", "$0", "$0.00"),
        (1_250, "money", "$12.5", "$12.50"),
        (1_500, "count", "1.5K", "1,500"),
        (42, "count", "42", "42"),
        (2_000, "percent", "20%", "20%"),
        (1_250, "percent", "12.5%", "12.5%"),
    ],
)
def test_formats(value, value_format, tick, full):
    assert format_tick(value, value_format) == tick
    assert format_value(value, value_format) == full


@pytest.mark.parametrize(
    "chart,stacked,expected",
    [
        (SPEND, False, (0, 1_200_000_00)),
        (BY_QUARTER, False, (-50_00, 500_00)),
        (BY_QUARTER, True, (-50_00, 900_00)),
        (EMPTY, False, (0, 0)),
    ],
)
def test_value_bounds(chart, stacked, expected):
    assert value_bounds(chart, stacked=stacked) == expected


# --- Accessibility and safety, every kind -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("empty", [False, True])
def test_accessible_name_and_description(kind, empty):
    chart = EMPTY if empty else chart_for(kind)
    root = parse(render_svg(kind, chart, chart_id="spend-chart"))
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "spend-chart-title spend-chart-desc"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.get("id") == "spend-chart-title"
    assert title.text == chart.title
    assert desc is not None and desc.get("id") == "spend-chart-desc"
    assert desc.text == summarise(chart)


@pytest.mark.parametrize(
    "kind,chart",
    [(kind, chart_for(kind)) for kind in KINDS] + [(kind, EMPTY) for kind in KINDS],
)
def test_no_inline_styles_and_text_at_least_12px(kind, chart):
    svg = render_svg(kind, chart)
    root = parse(svg)
    assert "style=" not in svg
    assert not list(root.iter(f"{SVG}style"))
    assert not list(root.iter(f"{SVG}script"))
    sizes = [float(e.get("font-size")) for e in root.iter() if e.get("font-size")]
    assert sizes and min(sizes) >= 12


def _luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


@pytest.mark.parametrize("colour", PALETTE)
def test_palette_contrast_against_white(colour):
    assert 1.05 / (_luminance(colour) + 0.05) >= 3


def test_palette_colours_are_distinct():
    assert len(set(PALETTE)) == len(PALETTE)


HOSTILE = "<script>alert('x')</script> & \"quoted\""


@pytest.mark.parametrize("kind", KINDS)
def test_data_text_is_escaped(kind):
    points = ((HOSTILE, 10_00), ("NIH", 20_00))
    series = (Series(HOSTILE, points), Series("CDC", points))
    if kind in (ChartKind.BAR, ChartKind.RANKING):
        series = series[:1]
    chart = ChartData(HOSTILE, HOSTILE, HOSTILE, HOSTILE, series)
    svg = render_svg(kind, chart)
    root = parse(svg)
    assert "<script" not in svg
    assert "&lt;script&gt;" in svg
    assert not list(root.iter(f"{SVG}script"))
    assert root.find(f"{SVG}title").text == HOSTILE
    texts = "".join(root.itertext())
    assert "<script>" in texts  # shown as text, inert


def test_characters_xml_cannot_carry_are_dropped():
    root = parse(bar_chart(one_series(("CDC\x00\x07\x1b", 5))))
    assert any(e.text == "CDC" for e in root.iter(f"{SVG}text"))


@pytest.mark.parametrize("chart_id", ["", "1chart", "chart one", 'x" onload="alert(1)'])
def test_chart_id_must_be_an_id(chart_id):
    with pytest.raises(ValueError, match="chart id"):
        bar_chart(SPEND, chart_id=chart_id)


@pytest.mark.parametrize("render", [bar_chart, ranking_chart])
def test_single_series_charts_refuse_several(render):
    with pytest.raises(ValueError, match="one series"):
        render(BY_QUARTER)


# --- Geometry -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,chart,expected",
    [
        (ChartKind.BAR, SPEND, 3),
        (ChartKind.RANKING, SPEND, 3),
        (ChartKind.GROUPED, BY_QUARTER, 11),
        (ChartKind.STACKED, BY_QUARTER, 11),
        (ChartKind.BAR, one_series(("CDC", 5)), 1),
    ],
)
def test_one_bar_per_value(kind, chart, expected):
    found = bars(parse(render_svg(kind, chart)))
    assert len(found) == expected
    assert all(bar.find(f"{SVG}title") is not None for bar in found)


@pytest.mark.parametrize("kind,size", [(ChartKind.BAR, "height"), (ChartKind.RANKING, "width")])
def test_bar_lengths_are_proportional(kind, size):
    chart = one_series(("A", 100_00), ("B", 200_00), ("C", 400_00), ("D", 50_00))
    lengths = [float(bar.get(size)) for bar in bars(parse(render_svg(kind, chart)))]
    for length, (_, value) in zip(lengths, chart.series[0].points, strict=True):
        assert length / lengths[0] == pytest.approx(value / 100_00, abs=0.01)


def test_negative_values_hang_below_the_zero_line():
    chart = one_series(("Obligation", 300_00), ("De-obligation", -120_00))
    root = parse(bar_chart(chart))
    zero = float(zero_line(root).get("y1"))
    positive, negative = bars(root)
    assert float(positive.get("y")) + float(positive.get("height")) == pytest.approx(zero)
    assert float(negative.get("y")) == pytest.approx(zero)
    assert float(negative.get("height")) > 0
    assert "negative" in negative.get("class")


def test_negative_ranking_bars_extend_left_of_zero():
    chart = one_series(("Saving", 300_00), ("Loss", -120_00))
    root = parse(ranking_chart(chart))
    zero = float(zero_line(root).get("x1"))
    positive, negative = bars(root)
    assert float(positive.get("x")) == pytest.approx(zero)
    assert float(negative.get("x")) + float(negative.get("width")) == pytest.approx(zero)


def test_stacked_segments_add_up():
    root = parse(grouped_bar_chart(BY_QUARTER, stacked=True))
    zero = float(zero_line(root).get("y1"))
    q4 = [bar for bar in bars(root) if "FY2026 Q4" in bar.find(f"{SVG}title").text]
    top = min(float(bar.get("y")) for bar in q4)
    total_height = sum(float(bar.get("height")) for bar in q4)
    assert zero - top == pytest.approx(total_height, abs=0.05)


def test_grouped_bars_have_a_pattern_and_legend_per_series():
    root = parse(grouped_bar_chart(BY_QUARTER, chart_id="q"))
    patterns = {p.get("id") for p in root.iter(f"{SVG}pattern")}
    assert patterns == {"q-pattern-1", "q-pattern-2"}  # the first series is solid
    fills = {bar.get("fill") for bar in bars(root)}
    assert fills == {PALETTE[0], "url(#q-pattern-1)", "url(#q-pattern-2)"}
    legend = [g for g in root.iter(f"{SVG}g") if g.get("class") == "legend-item"]
    assert ["".join(g.itertext()) for g in legend] == ["CDC", "NIH", "FDA"]


def test_lines_differ_by_dash_and_marker_not_only_colour():
    root = parse(line_chart(BY_QUARTER))
    lines = list(root.iter(f"{SVG}polyline"))
    assert len(lines) == 3
    assert len({line.get("stroke-dasharray") for line in lines}) == 3
    groups = [g for g in root.iter(f"{SVG}g") if g.get("class") == "series"]
    shapes = [{e.tag for e in g if e.get("class") == "point"} for g in groups]
    assert [len(g.findall("*[@class='point']")) for g in groups] == [4, 4, 3]
    assert len({frozenset(shape) for shape in shapes}) == 3


def test_line_with_a_single_point_draws_its_marker():
    chart = ChartData("Cost per reuse", "", "Month", "Cost", (Series("Claims", (("Oct", 5),)),))
    root = parse(line_chart(chart))
    assert not list(root.iter(f"{SVG}polyline"))
    assert len([e for e in root.iter() if e.get("class") == "point"]) == 1
    assert "One value: Oct at $0.05." in root.find(f"{SVG}desc").text


def test_long_labels_are_cut_with_full_text_in_a_tooltip():
    name = "Comprehensive national claims and encounters research database, all years"
    root = parse(ranking_chart(one_series((name, 10_00))))
    label = next(e for e in root.iter(f"{SVG}text") if e.find(f"{SVG}title") is not None)
    assert label.text.endswith("…") and len(label.text) <= 30
    assert name.startswith(label.text[:-1])
    assert label.find(f"{SVG}title").text == name


def test_many_categories_get_slanted_labels():
    months = tuple((f"Month {i:02d} of FY2026", i * 100) for i in range(12))
    root = parse(bar_chart(one_series(*months)))
    slanted = [e for e in root.iter(f"{SVG}text") if "rotate(-35" in e.get("transform", "")]
    assert len(slanted) == 12


# --- Empty data ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("chart", [EMPTY, EMPTY_SERIES], ids=["no-series", "no-points"])
def test_empty_data_says_so(kind, chart):
    root = parse(render_svg(kind, chart))
    assert [e.text for e in root.iter(f"{SVG}text")] == [NO_DATA_MESSAGE]
    assert not bars(root)
    assert root.find(f"{SVG}desc").text == f"{NO_DATA_MESSAGE}."


# --- Summary and data table ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "chart,expected",
    [
        (
            SPEND,
            "Obligations in FY2026. 3 values. Highest: FDA at $1,200,000.00. "
            "Lowest: CDC at $120,000.00.",
        ),
        (
            BY_QUARTER,
            "3 series over 4 categories. Highest: NIH, FY2026 Q4, at $500.00. "
            "Lowest: CDC, FY2026 Q3, at -$50.00.",
        ),
        (EMPTY, "No data for these filters."),
    ],
)
def test_summary(chart, expected):
    assert summarise(chart) == expected


def test_formatter_applies_to_tooltips_summary_and_table():
    def hours(value: int) -> str:
        return f"{value} h"

    chart = one_series(("CDC", 3), ("NIH", 7))
    root = parse(bar_chart(chart, formatter=hours))
    assert [bar.find(f"{SVG}title").text for bar in bars(root)] == ["CDC: 3 h", "NIH: 7 h"]
    assert "Highest: NIH at 7 h" in root.find(f"{SVG}desc").text
    assert data_table(chart, hours)["rows"] == (("CDC", "3 h"), ("NIH", "7 h"))


def test_data_table_single_series():
    assert data_table(SPEND) == {
        "caption": "Spend by division",
        "header": ("Division", "Spend"),
        "rows": (
            ("CDC", "$120,000.00"),
            ("NIH", "$350,000.00"),
            ("FDA", "$1,200,000.00"),
        ),
        "numeric_columns": (1,),
    }


def test_data_table_rows_equal_the_data():
    table = data_table(BY_QUARTER)
    assert table["header"] == ("Fiscal quarter", "CDC", "NIH", "FDA")
    assert table["numeric_columns"] == (1, 2, 3)
    assert table["rows"] == (
        ("FY2026 Q1", "$100.00", "$300.00", "$10.00"),
        ("FY2026 Q2", "$250.00", "$20.00", "$20.00"),
        ("FY2026 Q3", "-$50.00", "$80.00", "$30.00"),
        ("FY2026 Q4", "$400.00", "$500.00", "—"),
    )


@pytest.mark.parametrize("chart", [EMPTY, EMPTY_SERIES])
def test_data_table_of_nothing(chart):
    assert data_table(chart)["rows"] == ()


@pytest.mark.parametrize("value_format,cell", [("count", "1,500"), ("percent", "15%")])
def test_data_table_formats(value_format, cell):
    table = data_table(one_series(("CDC", 1_500), value_format=value_format))
    assert table["rows"] == (("CDC", cell),)
