"""Worked cases for procurement.pdf: invoices and reports read back with pypdf."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
from pypdf import PdfReader

from procurement.charts import ChartData, ChartKind, Series, data_table
from procurement.invoicing import InvoiceLine, InvoiceStatus, Totals, format_usd, invoice_totals
from procurement.pdf import (
    DEJAVU_DIR,
    INVOICE_TITLE,
    LETTERHEAD,
    InvoiceDocument,
    Party,
    ReportChart,
    ReportDocument,
    ReportSection,
    ReportTable,
    format_date,
    load_fonts,
    render_invoice_pdf,
    render_report_pdf,
)

HAS_DEJAVU = (DEJAVU_DIR / "DejaVuSans.ttf").is_file() and (
    DEJAVU_DIR / "DejaVuSans-Bold.ttf"
).is_file()
needs_dejavu = pytest.mark.skipif(not HAS_DEJAVU, reason="fonts-dejavu-core is not installed")

CDC = Party(
    "CDC",
    "Centers for Disease Control and Prevention",
    ("1600 Clifton Road NE", "Atlanta, GA 30329"),
    "Zoë Łukasiewicz",
    "zoe.lukasiewicz@cdc.gov",
    "IAA-CDC-2026-0007",
)
NIH = Party(
    "NIH",
    "National Institutes of Health",
    ("9000 Rockville Pike", "Bethesda, MD 20892"),
    "Ngô Bảo Châu",
    "bao.chau@nih.gov",
    "IPAC-NIH-775533",
)


def invoice(
    lines: tuple[InvoiceLine, ...] = (InvoiceLine.priced("Claims database: FY2026 Q1", 1, 123456),),
    status: InvoiceStatus = InvoiceStatus.ISSUED,
    **changes: object,
) -> InvoiceDocument:
    doc = InvoiceDocument(
        number="HHS-FY26-000123",
        status=status,
        created_on=date(2026, 1, 5),
        issued_on=date(2026, 1, 6),
        due_on=date(2026, 2, 5),
        period_label="FY2026 Q1",
        from_party=CDC,
        to_party=NIH,
        lines=lines,
        totals=invoice_totals(lines),
        terms="Payment within 30 days of issue through IPAC.",
        agreement_reference="IAA-2026-0042",
    )
    return replace(doc, **changes)


def many_lines(count: int) -> tuple[InvoiceLine, ...]:
    return tuple(
        InvoiceLine.priced(f"Survey platform seat, line {n + 1}", 1 + n % 3, 10_000 + n)
        for n in range(count)
    )


def pages_text(data: bytes) -> list[str]:
    """The text of each page, runs of whitespace (such as wrapped lines) made one space."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(data)).pages]


def text_of(data: bytes) -> str:
    return " ".join(pages_text(data))


# --- Invoices -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "doc,expected",
    [
        (
            invoice(),
            [
                LETTERHEAD,
                INVOICE_TITLE,
                "HHS-FY26-000123",
                "Issued",
                "January 6, 2026",
                "February 5, 2026",
                "FY2026 Q1",
                "IAA-2026-0042",
                "Centers for Disease Control and Prevention (CDC)",
                "National Institutes of Health (NIH)",
                "IAA-CDC-2026-0007",
                "IPAC-NIH-775533",
                "1600 Clifton Road NE",
                "Claims database: FY2026 Q1",
                "$1,234.56",
                "Payment within 30 days",
                "Page 1 of 1",
            ],
        ),
        (
            invoice(many_lines(3)),
            ["$100.00", "$200.02", "$300.06", "Subtotal", "$600.08", "Total due"],
        ),
        (
            invoice(
                status=InvoiceStatus.PAID,
                paid_on=date(2026, 2, 1),
                payment_reference="IPAC-TX-99812",
                notes="Thank you.\nSecond line.",
            ),
            ["Paid", "February 1, 2026", "IPAC-TX-99812", "Notes Thank you. Second line."],
        ),
        (
            invoice(status=InvoiceStatus.DRAFT, issued_on=None, due_on=None),
            ["Not issued", "DRAFT", "not payable"],
        ),
        (invoice(status=InvoiceStatus.VOID), ["VOID", "cancelled and is not payable"]),
        (invoice(()), ["No charges.", "$0.00"]),
        (
            invoice((InvoiceLine.priced("Seats <b>bold</b> & <i>more</i>", 2, 500),)),
            ["Seats <b>bold</b> & <i>more</i>", "$10.00"],
        ),
    ],
    ids=["issued", "three-lines", "paid", "draft", "void", "no-lines", "markup-in-data"],
)
def test_invoice_text(doc, expected):
    text = text_of(render_invoice_pdf(doc))
    for fragment in expected:
        assert fragment in text


@pytest.mark.parametrize(
    "status,banner",
    [
        (InvoiceStatus.DRAFT, "DRAFT"),
        (InvoiceStatus.ISSUED, None),
        (InvoiceStatus.PAID, None),
        (InvoiceStatus.VOID, "VOID"),
    ],
)
def test_watermark_on_every_page_of_drafts_and_voids(status, banner):
    pages = pages_text(render_invoice_pdf(invoice(many_lines(80), status)))
    assert len(pages) > 1
    for text in pages:
        for word in ("DRAFT", "VOID"):
            assert (word in text) is (word == banner)


def test_two_hundred_lines_run_over_numbered_pages():
    lines = many_lines(200)
    data = render_invoice_pdf(invoice(lines))
    pages = pages_text(data)
    total = len(pages)
    assert total > 1
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {total}" in text
        assert "HHS-FY26-000123" in text
        assert "Description" in text  # the header row repeats
    assert "Survey platform seat, line 1 1 $100.00 $100.00" in pages[0]
    assert "Survey platform seat, line 200 2 $101.99 $203.98" in pages[-1]
    assert "Total due" in pages[-1]
    assert format_usd(invoice_totals(lines).total_cents) in pages[-1]


@needs_dejavu
@pytest.mark.parametrize("name", ["Zoë Łukasiewicz", "Ngô Bảo Châu", "Ελένη Παπαδοπούλου"])
def test_non_latin_names_survive_with_dejavu(name):
    party = replace(NIH, contact_name=name)
    assert name in text_of(render_invoice_pdf(invoice(to_party=party)))


@pytest.mark.parametrize(
    "text,shown",
    [
        ("Zoë Łukasiewicz", "Zoë Lukasiewicz"),
        ("Ngô Bảo Châu", "Ngô Bao Châu"),
        ("Đặng Thị", "Dang Thi"),
        ("Café — “quoted” €5", "Café — “quoted” €5"),
        ("中文", "??"),
        ("plain", "plain"),
    ],
)
def test_helvetica_fallback_replaces_what_it_cannot_show(tmp_path, text, shown):
    fonts = load_fonts(tmp_path)  # no DejaVu files there
    assert fonts.regular == "Helvetica"
    assert fonts.printable(text) == shown


@pytest.mark.parametrize("broken", [False, True], ids=["missing", "unreadable"])
def test_helvetica_fallback_renders(tmp_path, broken):
    if broken:
        for name in ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf"):
            (tmp_path / name).write_bytes(b"not a font")
    fonts = load_fonts(tmp_path)
    assert fonts.regular == "Helvetica"
    text = text_of(render_invoice_pdf(invoice(), fonts=fonts))
    assert "Ngô Bao Châu" in text
    assert "Zoë Lukasiewicz" in text
    assert "$1,234.56" in text


@needs_dejavu
def test_dejavu_replaces_only_what_it_lacks():
    fonts = load_fonts()
    assert fonts.regular == "DejaVuSans"
    assert fonts.printable("Ngô Bảo Châu 中") == "Ngô Bảo Châu ?"


def test_metadata():
    info = PdfReader(io.BytesIO(render_invoice_pdf(invoice()))).metadata
    assert info.title == "Interagency chargeback invoice HHS-FY26-000123"
    assert info.author == "Centers for Disease Control and Prevention (CDC)"
    assert info.subject == "Chargeback from CDC to NIH for FY2026 Q1, $1,234.56"


def test_same_invoice_same_bytes():
    assert render_invoice_pdf(invoice(many_lines(40))) == render_invoice_pdf(
        invoice(many_lines(40))
    )


def test_totals_must_match_the_lines():
    with pytest.raises(ValueError, match="not the sum of its lines"):
        invoice(totals=Totals(subtotal_cents=1, total_cents=1))


@pytest.mark.parametrize(
    "day,shown",
    [(date(2026, 5, 10), "May 10, 2026"), (date(2025, 10, 1), "October 1, 2025"), (None, "—")],
)
def test_format_date(day, shown):
    assert format_date(day) == shown


# --- Reports ------------------------------------------------------------------------------------

QUARTERS = ("FY2026 Q1", "FY2026 Q2", "FY2026 Q3")
SPEND = ChartData(
    "Spend by division",
    "",
    "Fiscal quarter",
    "Spend",
    (
        Series("CDC", tuple(zip(QUARTERS, (120_000_00, 80_000_00, -5_000_00), strict=True))),
        Series("NIH", tuple(zip(QUARTERS, (300_000_00, 20_000_00, 90_000_00), strict=True))),
    ),
)
RANKING = ChartData(
    "Top consolidation opportunities",
    "",
    "Product",
    "Avoidable spend",
    (Series("Avoidable", (("Claims database", 2_500_000_00), ("Survey tool", 400_000_00))),),
)
COST_PER_REUSE = ChartData(
    "Cost per reuse",
    "",
    "Month",
    "Cost per reuse",
    (Series("Claims", tuple((f"M{n:02d}", 90_000 - n * 1_000) for n in range(12))),),
)
NOTHING = ChartData("Reuse requests", "", "Division", "Requests", (), "count")


def report(sections: tuple[ReportSection, ...]) -> ReportDocument:
    return ReportDocument(
        title="Return on investment, FY2026",
        subtitle="Shared data licences across HHS",
        generated_on=date(2026, 5, 10),
        filters=(("Division", "CDC, NIH"), ("Fiscal year", "FY2026")),
        sections=sections,
    )


SECTIONS = (
    ReportSection(
        "Spend by division",
        ("Spend fell after <NIH> & CDC shared the claims licence.",),
        tuple(ReportChart(kind, SPEND) for kind in (ChartKind.GROUPED, ChartKind.STACKED)),
        (ReportTable(**data_table(SPEND)),),
    ),
    ReportSection(
        "Consolidation opportunities",
        charts=(ReportChart(ChartKind.RANKING, RANKING), ReportChart(ChartKind.BAR, NOTHING)),
    ),
    ReportSection("Cost per reuse", charts=(ReportChart(ChartKind.LINE, COST_PER_REUSE),)),
    ReportSection(
        "All products",
        tables=(
            ReportTable(
                ("Product", "Owner", "Avoided spend", "Uses"),
                tuple(
                    (f"Product {n}", "Zoë Łukasiewicz", f"${n * 1000:,}.00", str(n))
                    for n in range(90)
                ),
                numeric_columns=(2, 3),
                caption="Every product",
            ),
        ),
    ),
)


def test_report_has_every_heading_table_value_and_numbered_pages():
    data = render_report_pdf(report(SECTIONS))
    pages = pages_text(data)
    text = "\n".join(pages)
    for fragment in [
        "Return on investment, FY2026",
        "Shared data licences across HHS",
        *(section.heading for section in SECTIONS),
        "Spend fell after <NIH> & CDC shared the claims licence.",
        "$120,000.00",
        "-$5,000.00",
        "$89,000.00",
        "Every product",
        "Product 89",
        "No data for these filters",
        "Claims database",
        "FY2026 Q2",
        "$1.5M",  # a value-axis tick
    ]:
        assert fragment in text
    assert len(pages) > 2
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        assert "Generated May 10, 2026" in page
        assert "Filters: Division: CDC, NIH; Fiscal year: FY2026" in page


def test_report_metadata():
    info = PdfReader(io.BytesIO(render_report_pdf(report(SECTIONS)))).metadata
    assert info.title == "Return on investment, FY2026"
    assert info.author == "HHS Data Marketplace"
    assert "Fiscal year: FY2026" in info.subject


@needs_dejavu
def test_report_keeps_non_latin_names():
    assert "Zoë Łukasiewicz" in text_of(render_report_pdf(report(SECTIONS[3:])))


@pytest.mark.parametrize("kind", list(ChartKind))
@pytest.mark.parametrize("chart", [SPEND, RANKING, NOTHING], ids=["two", "one", "empty"])
def test_every_chart_kind_draws(kind, chart):
    if kind in (ChartKind.BAR, ChartKind.RANKING) and len(chart.series) > 1:
        chart = replace(chart, series=chart.series[:1])
    section = ReportSection("Chart", charts=(ReportChart(kind, chart),))
    text = text_of(render_report_pdf(report((section,))))
    assert chart.title in text
    if chart.is_empty:
        assert "No data for these filters" in text
    else:
        assert chart.categories[0] in text


def test_report_without_filters_or_sections():
    empty = replace(report(()), filters=(), subtitle="")
    text = text_of(render_report_pdf(empty))
    assert "Filters: none" in text and "Page 1 of 1" in text


def test_same_report_same_bytes():
    assert render_report_pdf(report(SECTIONS)) == render_report_pdf(report(SECTIONS))


def test_a_short_first_section_starts_on_the_first_page():
    """A short table's own keep-together must not push its section off a page it fits on."""
    section = ReportSection(
        "Headline figures",
        tables=(ReportTable(("Figure", "Value"), (("Total spend", "$1.00"),), caption="Totals"),),
    )
    first_page = pages_text(render_report_pdf(report((section,))))[0]
    assert "Headline figures" in first_page and "Total spend" in first_page
