"""PDF documents: interagency chargeback invoices and multi-section reports, paged "X of Y"."""

from __future__ import annotations

import functools
import io
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing, Line, Rect, String
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from procurement.charts import (
    NO_DATA_MESSAGE,
    PALETTE,
    ChartData,
    ChartKind,
    format_tick,
    nice_ticks,
    value_bounds,
)
from procurement.invoicing import InvoiceLine, InvoiceStatus, Totals, format_usd, invoice_totals

DEJAVU_DIR = Path("/usr/share/fonts/truetype/dejavu")  # Debian's fonts-dejavu-core
LETTERHEAD = "U.S. Department of Health and Human Services — HHS Data Marketplace"
INVOICE_TITLE = "Interagency chargeback invoice"
PUBLISHER = "HHS Data Marketplace"

_MONTHS = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
# Letters with no Unicode decomposition, folded by hand for the Latin-1 fallback font.
_FOLDS = {"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"}
_BREAKS = "\t\n\r"  # kept as they are: paragraphs turn newlines into line breaks
_INK = colors.HexColor("#1b1b1b")
_MUTED = colors.HexColor("#565c65")
_RULE = colors.HexColor("#a9aeb1")
_SHADE = colors.HexColor("#f0f0f0")
_ALERT = colors.HexColor("#b50909")  # USWDS red-60v
_BRAND = colors.HexColor("#1a4480")  # USWDS primary-dark
_PDF_MARKERS = ("FilledCircle", "FilledSquare", "FilledTriangle", "FilledDiamond")
_MARGIN = 0.75 * inch
_WIDTH = letter[0] - 2 * _MARGIN  # pt, the text column
_BANNERS = {
    InvoiceStatus.DRAFT: "DRAFT — this invoice has not been issued and is not payable.",
    InvoiceStatus.VOID: "VOID — this invoice has been cancelled and is not payable.",
}


# --- Fonts --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PdfFonts:
    """The registered fonts a document is set in and the characters they can show.

    Attributes:
        regular: reportlab font name for body text.
        bold: reportlab font name for headings and totals.
        codepoints: every character the fonts have a glyph for.
    """

    regular: str
    bold: str
    codepoints: frozenset[int]

    def printable(self, text: str) -> str:
        """The text with each character the fonts lack replaced by its unaccented letter or "?"."""
        if self.codepoints.issuperset(map(ord, text)):
            return text
        shown = []
        for char in text:
            if ord(char) in self.codepoints:
                shown.append(char)
                continue
            base = _FOLDS.get(char) or "".join(
                part
                for part in unicodedata.normalize("NFKD", char)
                if ord(part) in self.codepoints and not unicodedata.combining(part)
            )
            shown.append(base or "?")
        return "".join(shown)


@functools.cache
def load_fonts(directory: Path = DEJAVU_DIR) -> PdfFonts:
    """Register DejaVu Sans and DejaVu Sans Bold from `directory`, else fall back to Helvetica.

    DejaVu covers Latin, Greek, Cyrillic and Vietnamese names; the built-in Helvetica only the
    Windows-1252 characters, so with it other characters are replaced (see PdfFonts.printable).

    Args:
        directory: where DejaVuSans.ttf and DejaVuSans-Bold.ttf are.
    """
    regular, bold = directory / "DejaVuSans.ttf", directory / "DejaVuSans-Bold.ttf"
    try:
        fonts = (TTFont("DejaVuSans", str(regular)), TTFont("DejaVuSans-Bold", str(bold)))
    except (OSError, TTFError):
        # Missing or unreadable: documents still render, in Helvetica.
        printable = bytes([*range(32, 127), *range(128, 256)]).decode("cp1252", errors="ignore")
        return PdfFonts("Helvetica", "Helvetica-Bold", frozenset(map(ord, printable + _BREAKS)))
    for font in fonts:
        pdfmetrics.registerFont(font)
    covered = set(fonts[0].face.charToGlyph) & set(fonts[1].face.charToGlyph)
    return PdfFonts("DejaVuSans", "DejaVuSans-Bold", frozenset(covered | set(map(ord, _BREAKS))))


@functools.cache
def _styles(fonts: PdfFonts) -> dict[str, ParagraphStyle]:
    """Paragraph styles set in the document's fonts."""
    body = ParagraphStyle("body", fontName=fonts.regular, fontSize=9.5, leading=12.5)
    return {
        "body": body,
        "small": ParagraphStyle("small", body, fontSize=8.5, leading=11, textColor=_MUTED),
        "letterhead": ParagraphStyle(
            "letterhead", body, fontName=fonts.bold, fontSize=9, textColor=_BRAND
        ),
        "title": ParagraphStyle(
            "title", body, fontName=fonts.bold, fontSize=18, leading=22, spaceBefore=4
        ),
        "subtitle": ParagraphStyle("subtitle", body, fontSize=11, leading=14, textColor=_MUTED),
        "heading": ParagraphStyle(
            "heading",
            body,
            fontName=fonts.bold,
            fontSize=12,
            leading=15,
            spaceBefore=12,
            spaceAfter=4,
            keepWithNext=1,
        ),
        "label": ParagraphStyle("label", body, fontName=fonts.bold),
        "number": ParagraphStyle("number", body, alignment=TA_RIGHT),
        "label_number": ParagraphStyle(
            "label_number", body, fontName=fonts.bold, alignment=TA_RIGHT
        ),
        "banner": ParagraphStyle(
            "banner", body, fontName=fonts.bold, fontSize=12, leading=15, textColor=_ALERT
        ),
        "empty": ParagraphStyle("empty", body, alignment=TA_CENTER, textColor=_MUTED),
    }


def _p(fonts: PdfFonts, text: str, style: str = "body") -> Paragraph:
    """A paragraph of data text: in the fonts' characters, markup escaped, newlines kept."""
    markup = escape(fonts.printable(text)).replace("\n", "<br/>")
    return Paragraph(markup, _styles(fonts)[style])


def format_date(day: date | None, missing: str = "—") -> str:
    """A date as printed on documents: "May 10, 2026"; `missing` for None."""
    return missing if day is None else f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


# --- Paging -------------------------------------------------------------------------------------

_Decorate = Callable[[Canvas, int, int], None]


class _PagedCanvas(Canvas):
    """A canvas that holds every page until the end so each can say "Page X of Y".

    Pages are kept as canvas states; `save` replays them, calling `decorate(canvas, page, pages)`
    on each to draw its header, footer and watermark.
    """

    def __init__(self, *args: object, decorate: _Decorate, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._decorate = decorate
        self._held: list[dict[str, object]] = []

    def showPage(self) -> None:
        self._held.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        pages = len(self._held)
        for number, state in enumerate(self._held, start=1):
            self.__dict__.update(state)
            self._decorate(self, number, pages)
            super().showPage()
        super().save()


def _build(
    story: list[Flowable], decorate: _Decorate, *, title: str, author: str, subject: str
) -> bytes:
    """Lay out the story on US Letter pages and return the PDF.

    Invariant mode fixes the creation date and document id, so the same input gives the same
    bytes.
    """
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=letter,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN,
        bottomMargin=_MARGIN,
        title=title,
        author=author,
        subject=subject,
        creator=PUBLISHER,
        invariant=True,
    )
    document.build(story, canvasmaker=functools.partial(_PagedCanvas, decorate=decorate))
    return buffer.getvalue()


# --- Invoices -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """A division on an invoice, as printed.

    Attributes:
        division_code: "CDC".
        division_name: "Centers for Disease Control and Prevention".
        address_lines: postal address, one line each.
        contact_name: the person to contact about the invoice.
        contact_email: their address.
        agreement_reference: this division's reference for the agreement (its IAA or IPAC
            number), printed under its address.
    """

    division_code: str
    division_name: str
    address_lines: tuple[str, ...]
    contact_name: str
    contact_email: str
    agreement_reference: str


@dataclass(frozen=True)
class InvoiceDocument:
    """Everything printed on an invoice; money in cents, dates as calendar days.

    Attributes:
        number: "HHS-FY26-000123" (see invoicing.format_invoice_number).
        status: draft and void invoices carry a banner and a watermark.
        created_on: when the invoice was created.
        issued_on: when it was issued, None for a draft.
        due_on: when payment is due (see invoicing.due_date), None for a draft.
        period_label: the period billed, "FY2026 Q1".
        from_party: the division charging (the licence owner).
        to_party: the division charged.
        lines: the charges, printed in order.
        totals: their totals; the subtotal must equal the sum of the lines.
        terms: payment terms, printed as a paragraph.
        agreement_reference: the interagency agreement billed against (IAA or IPAC number).
        payment_reference: the IPAC transaction or other payment reference, once paid.
        paid_on: the day payment was recorded.
        notes: free text printed at the end ("" for none).
    """

    number: str
    status: InvoiceStatus
    created_on: date
    issued_on: date | None
    due_on: date | None
    period_label: str
    from_party: Party
    to_party: Party
    lines: tuple[InvoiceLine, ...]
    totals: Totals
    terms: str
    agreement_reference: str
    payment_reference: str | None = None
    paid_on: date | None = None
    notes: str = ""

    def __post_init__(self) -> None:
        expected = invoice_totals(self.lines)
        if self.totals.subtotal_cents != expected.subtotal_cents:
            raise ValueError(
                f"Invoice {self.number}: subtotal {format_usd(self.totals.subtotal_cents)} is "
                f"not the sum of its lines, {format_usd(expected.subtotal_cents)}."
            )


def render_invoice_pdf(doc: InvoiceDocument, *, fonts: PdfFonts | None = None) -> bytes:
    """The invoice as a PDF on US Letter pages.

    Letterhead and title, the invoice facts (number, status, dates, period, agreement), both
    parties, the lines (repeating their header on each page), subtotal and total, terms and notes.
    Every page has the number and "Page X of Y" in its footer; a draft or void invoice has a
    banner under the title and a diagonal DRAFT or VOID watermark on every page.

    Args:
        doc: the invoice.
        fonts: the fonts to set it in (default: `load_fonts()`, DejaVu Sans when installed).

    Returns:
        The PDF; the same document always gives the same bytes.
    """
    fonts = fonts or load_fonts()
    status = InvoiceStatus(doc.status)
    story: list[Flowable] = [
        _p(fonts, LETTERHEAD, "letterhead"),
        _p(fonts, INVOICE_TITLE, "title"),
        Spacer(1, 6),
    ]
    if status in _BANNERS:
        story += [_banner(fonts, _BANNERS[status]), Spacer(1, 8)]
    story += [
        _facts_table(fonts, doc, status),
        Spacer(1, 12),
        _parties_table(fonts, doc.from_party, doc.to_party),
        Spacer(1, 14),
        _lines_table(fonts, doc.lines),
        Spacer(1, 6),
        _totals_table(fonts, doc.totals),
        _p(fonts, "Terms", "heading"),
        _p(fonts, doc.terms),
    ]
    if doc.notes.strip():
        story += [_p(fonts, "Notes", "heading"), _p(fonts, doc.notes)]
    watermark = status.value.upper() if status in _BANNERS else ""
    footer = fonts.printable(
        f"Invoice {doc.number} · {doc.from_party.division_code} to {doc.to_party.division_code}"
        f" · {doc.period_label}"
    )

    def decorate(canvas: Canvas, page: int, pages: int) -> None:
        if watermark:
            canvas.saveState()
            canvas.setFillColor(_ALERT, alpha=0.16)
            canvas.setFont(fonts.bold, 150)
            canvas.translate(letter[0] / 2, letter[1] / 2)
            canvas.rotate(45)
            canvas.drawCentredString(0, -50, watermark)
            canvas.restoreState()
        _footer(canvas, fonts, footer, page, pages)

    return _build(
        story,
        decorate,
        title=f"{INVOICE_TITLE} {doc.number}",
        author=f"{doc.from_party.division_name} ({doc.from_party.division_code})",
        subject=(
            f"Chargeback from {doc.from_party.division_code} to {doc.to_party.division_code} "
            f"for {doc.period_label}, {format_usd(doc.totals.total_cents)}"
        ),
    )


def _banner(fonts: PdfFonts, text: str) -> Table:
    """A boxed alert line across the page."""
    table = Table([[_p(fonts, text, "banner")]], colWidths=[_WIDTH])
    table.setStyle(
        TableStyle(
            [
                ("BOX", (0, 0), (-1, -1), 1.5, _ALERT),
                ("BACKGROUND", (0, 0), (-1, -1), colors.HexColor("#f8e1de")),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return table


def _facts_table(fonts: PdfFonts, doc: InvoiceDocument, status: InvoiceStatus) -> Table:
    """Number, status, dates, period and references, as label–value rows."""
    facts = [
        ("Invoice number", doc.number),
        ("Status", status.value.capitalize()),
        ("Created", format_date(doc.created_on)),
        ("Issued", format_date(doc.issued_on, "Not issued")),
        ("Payment due", format_date(doc.due_on)),
        ("Period billed", doc.period_label),
        ("Agreement (IAA/IPAC)", doc.agreement_reference),
    ]
    if doc.paid_on is not None:
        facts.append(("Paid", format_date(doc.paid_on)))
    if doc.payment_reference:
        facts.append(("Payment reference", doc.payment_reference))
    table = Table(
        [[_p(fonts, label, "label"), _p(fonts, value)] for label, value in facts],
        colWidths=[1.9 * inch, _WIDTH - 1.9 * inch],
        hAlign="LEFT",
    )
    table.setStyle(_compact())
    return table


def _party_cell(fonts: PdfFonts, heading: str, party: Party) -> list[Flowable]:
    """One party: who, where, whom to contact, and its agreement reference."""
    return [
        _p(fonts, heading, "small"),
        _p(fonts, f"{party.division_name} ({party.division_code})", "label"),
        *(_p(fonts, line) for line in party.address_lines),
        _p(fonts, f"Contact: {party.contact_name}"),
        _p(fonts, party.contact_email),
        _p(fonts, f"Agreement reference: {party.agreement_reference}"),
    ]


def _parties_table(fonts: PdfFonts, from_party: Party, to_party: Party) -> Table:
    """Both parties side by side."""
    table = Table(
        [
            [
                _party_cell(fonts, "From (billing division)", from_party),
                _party_cell(fonts, "Bill to (charged division)", to_party),
            ]
        ],
        colWidths=[_WIDTH / 2, _WIDTH / 2],
    )
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (0, 0), 0.5, _RULE),
                ("BOX", (1, 0), (1, 0), 0.5, _RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 6),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ]
        )
    )
    return table


def _lines_table(fonts: PdfFonts, lines: tuple[InvoiceLine, ...]) -> Table:
    """The charges; the header row repeats on every page the table spans."""
    numbers = (0.8 * inch, 1.15 * inch, 1.25 * inch)
    rows: list[list[object]] = [["Description", "Quantity", "Unit price", "Amount"]]
    rows += [
        [
            _p(fonts, line.description),
            f"{line.quantity:,}",
            format_usd(line.unit_cents),
            format_usd(line.amount_cents),
        ]
        for line in lines
    ]
    if not lines:
        rows.append([_p(fonts, "No charges.", "empty"), "", "", ""])
    table = Table(rows, colWidths=[_WIDTH - sum(numbers), *numbers], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
                ("FONTNAME", (0, 0), (-1, 0), fonts.bold),
                ("FONTSIZE", (0, 0), (-1, -1), 9.5),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, _INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _SHADE]),
                *([("SPAN", (0, 1), (-1, 1))] if not lines else []),
            ]
        )
    )
    return table


def _totals_table(fonts: PdfFonts, totals: Totals) -> Table:
    """Subtotal and total, right-aligned under the amounts."""
    table = Table(
        [
            ["Subtotal", format_usd(totals.subtotal_cents)],
            ["Total due", format_usd(totals.total_cents)],
        ],
        colWidths=[1.6 * inch, 1.4 * inch],
        hAlign="RIGHT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), fonts.regular),
                ("FONTNAME", (0, 1), (-1, 1), fonts.bold),
                ("FONTSIZE", (0, 0), (-1, -1), 10),
                ("FONTSIZE", (0, 1), (-1, 1), 12),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("LINEABOVE", (0, 1), (-1, 1), 1, _INK),
                ("TOPPADDING", (0, 1), (-1, 1), 6),
            ]
        )
    )
    return table


def _compact() -> TableStyle:
    """Label–value rows with little padding."""
    return TableStyle(
        [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
        ]
    )


def _footer(canvas: Canvas, fonts: PdfFonts, text: str, page: int, pages: int) -> None:
    """A rule, `text` on the left and "Page X of Y" on the right, under the text column."""
    y = _MARGIN / 2
    canvas.saveState()
    canvas.setStrokeColor(_RULE)
    canvas.setLineWidth(0.5)
    canvas.line(_MARGIN, y + 11, letter[0] - _MARGIN, y + 11)
    canvas.setFillColor(_MUTED)
    canvas.setFont(fonts.regular, 8.5)
    canvas.drawString(_MARGIN, y, _fit(text, fonts.regular, 8.5, _WIDTH - 1 * inch))
    canvas.drawRightString(letter[0] - _MARGIN, y, f"Page {page} of {pages}")
    canvas.restoreState()


def _fit(text: str, font: str, size: float, width: float) -> str:
    """The text cut with an ellipsis to fit `width` points."""
    if pdfmetrics.stringWidth(text, font, size) <= width:
        return text
    while text and pdfmetrics.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text.rstrip() + "…"


# --- Reports ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportTable:
    """A table of preformatted cells; `ReportTable(**charts.data_table(chart))` fits a chart's.

    Attributes:
        header: column headings.
        rows: rows of cells, as printed ("$1,234.56", "12.5%").
        numeric_columns: indexes of the columns to align right.
        caption: printed above the table ("" for none).
    """

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric_columns: tuple[int, ...] = ()
    caption: str = ""


@dataclass(frozen=True)
class ReportChart:
    """A chart in a report: the data and how to draw it.

    Attributes:
        kind: bar, grouped, stacked, line or ranking, as for the SVG charts.
        data: the same ChartData the page's SVG chart and table are made from.
    """

    kind: ChartKind
    data: ChartData


@dataclass(frozen=True)
class ReportSection:
    """One section: a heading, then its paragraphs, charts and tables in that order."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    charts: tuple[ReportChart, ...] = ()
    tables: tuple[ReportTable, ...] = ()


@dataclass(frozen=True)
class ReportDocument:
    """A report as printed.

    Attributes:
        title: "Return on investment, FY2026".
        subtitle: a line under the title ("" for none).
        generated_on: the day the figures were computed, printed on every page.
        filters: (name, value) pairs the figures are filtered by, printed on every page.
        sections: the body.
        author: the PDF's author metadata.
    """

    title: str
    subtitle: str
    generated_on: date
    filters: tuple[tuple[str, str], ...]
    sections: tuple[ReportSection, ...]
    author: str = PUBLISHER


def render_report_pdf(report: ReportDocument, *, fonts: PdfFonts | None = None) -> bytes:
    """The report as a PDF on US Letter pages.

    The first page has the title, subtitle, date and a table of the filters; every page has a
    header with the title, the date and the filters, and a footer with "Page X of Y". Charts are
    drawn with reportlab.graphics. A PDF from reportlab is not tagged for screen readers: the
    report page keeps the HTML tables as its accessible alternative.

    Args:
        report: the report.
        fonts: the fonts to set it in (default: `load_fonts()`).

    Returns:
        The PDF; the same report always gives the same bytes.
    """
    fonts = fonts or load_fonts()
    generated = f"Generated {format_date(report.generated_on)}"
    story: list[Flowable] = [_p(fonts, report.title, "title")]
    if report.subtitle:
        story.append(_p(fonts, report.subtitle, "subtitle"))
    story += [Spacer(1, 4), _p(fonts, generated, "small"), Spacer(1, 8)]
    if report.filters:
        filters = ReportTable(("Filter", "Value"), tuple(report.filters), caption="Filters")
        story += _report_table(fonts, filters)
    else:
        story.append(_p(fonts, "Filters: none (all data).", "small"))
    for section in report.sections:
        opening: list[Flowable] = [_p(fonts, section.heading, "heading")]
        opening += [_p(fonts, paragraph) for paragraph in section.paragraphs]
        blocks = [[Spacer(1, 8), _chart_drawing(fonts, chart)] for chart in section.charts]
        blocks += [_report_table(fonts, table) for table in section.tables]
        # The heading goes to the next page with the section's first chart or table. A short
        # table is a KeepTogether of its own; nested, reportlab overestimates the pair and moves
        # it to the next page even when it fits, so its content is kept together here instead.
        first = [
            part
            for flowable in (blocks[0] if blocks else [])
            for part in (flowable._content if isinstance(flowable, KeepTogether) else [flowable])
        ]
        story.append(KeepTogether(opening + first))
        for block in blocks[1:]:
            story += block
    filters_line = "; ".join(f"{name}: {value}" for name, value in report.filters) or "none"
    header = fonts.printable(f"{report.title} · {generated}")
    filters_line = fonts.printable(f"Filters: {filters_line}")

    def decorate(canvas: Canvas, page: int, pages: int) -> None:
        top = letter[1] - _MARGIN / 2
        canvas.saveState()
        canvas.setFillColor(_MUTED)
        canvas.setFont(fonts.regular, 8.5)
        canvas.drawString(_MARGIN, top, _fit(header, fonts.regular, 8.5, _WIDTH))
        canvas.drawString(_MARGIN, top - 11, _fit(filters_line, fonts.regular, 8.5, _WIDTH))
        canvas.restoreState()
        _footer(canvas, fonts, PUBLISHER, page, pages)

    return _build(
        story,
        decorate,
        title=report.title,
        author=report.author,
        subject=f"{report.subtitle or report.title}; {filters_line}",
    )


def _report_table(fonts: PdfFonts, table: ReportTable) -> list[Flowable]:
    """A report table: header repeated on each page, numbers right-aligned, text wrapped.

    A short table (under 15 rows) is kept on one page with its caption.
    """
    numeric = set(table.numeric_columns)
    columns = len(table.header)

    def fitted(i: int) -> float:
        """A numeric column's width: its widest cell (header in bold) plus padding, capped."""
        head = pdfmetrics.stringWidth(fonts.printable(table.header[i]), fonts.bold, 9.5)
        cells = (
            pdfmetrics.stringWidth(fonts.printable(row[i]), fonts.regular, 9.5)
            for row in table.rows
        )
        return min(max(head, *cells) + 14, 1.6 * inch)

    widths = [fitted(i) if i in numeric else 0.0 for i in range(columns)]
    text_columns = columns - len(numeric & set(range(columns)))
    share = (_WIDTH - sum(widths)) / text_columns if text_columns else 0
    widths = [width or share for width in widths]
    head = [
        _p(fonts, c, "label_number" if i in numeric else "label")
        for i, c in enumerate(table.header)
    ]
    rows = [head]
    rows += [
        [_p(fonts, cell, "number" if i in numeric else "body") for i, cell in enumerate(row)]
        for row in table.rows
    ]
    grid = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    grid.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 1, _INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, _RULE),
                ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, _SHADE]),
            ]
        )
    )
    parts: list[Flowable] = [Spacer(1, 6)]
    if table.caption:
        parts.append(_p(fonts, table.caption, "label"))
    parts.append(grid)
    return [KeepTogether(parts)] if len(table.rows) < 15 else parts


def _chart_drawing(fonts: PdfFonts, chart: ReportChart) -> Drawing:
    """The chart drawn with reportlab.graphics, its title above it and legend below."""
    data, kind = chart.data, ChartKind(chart.kind)
    width, height = _WIDTH, 56.0 if data.is_empty else 240.0
    drawing = Drawing(width, height + 18)
    title = fonts.printable(data.title)
    drawing.add(String(0, height + 6, title, fontName=fonts.bold, fontSize=10))
    if data.is_empty:
        drawing.add(Rect(0, 0, width, height, strokeColor=_RULE, fillColor=None))
        drawing.add(String(width / 2, height / 2 - 4, NO_DATA_MESSAGE, textAnchor="middle"))
        drawing.contents[-1].fontName = fonts.regular
        return drawing
    legend_rows = 0 if len(data.series) == 1 else -(-len(data.series) // 4)
    rotate = kind is not ChartKind.RANKING and len(data.categories) > 6
    bottom = 14.0 * legend_rows + (56 if rotate else 30)
    plot = _plot(fonts, kind, data)
    if kind is ChartKind.RANKING:
        plot.x, plot.y, plot.width, plot.height = 170, bottom, width - 210, height - bottom - 6
    else:
        plot.x, plot.y, plot.width, plot.height = 56, bottom, width - 64, height - bottom - 6
    if rotate:
        plot.categoryAxis.labels.angle, plot.categoryAxis.labels.boxAnchor = 30, "ne"
    drawing.add(plot)
    # The category axis sits at the bottom (left for rankings) so its labels never cover
    # negative bars; the zero line marks where bars start.
    low, high = plot.valueAxis.valueMin, plot.valueAxis.valueMax
    if kind is ChartKind.RANKING:
        x = plot.x + (0 - low) / (high - low) * plot.width
        drawing.add(Line(x, plot.y, x, plot.y + plot.height, strokeColor=_INK, strokeWidth=1))
    else:
        y = plot.y + (0 - low) / (high - low) * plot.height
        drawing.add(Line(plot.x, y, plot.x + plot.width, y, strokeColor=_INK, strokeWidth=1))
    if legend_rows:
        legend = Legend()
        legend.x, legend.y = plot.x, 14.0 * legend_rows
        legend.fontName, legend.fontSize = fonts.regular, 8
        legend.columnMaximum, legend.alignment = legend_rows, "right"
        legend.dx = legend.dy = 8
        legend.deltax = (width - plot.x) / 4
        legend.colorNamePairs = [
            (_colour(index), _shorten(fonts.printable(series.name), 24))
            for index, series in enumerate(data.series)
        ]
        drawing.add(legend)
    return drawing


def _plot(
    fonts: PdfFonts, kind: ChartKind, data: ChartData
) -> VerticalBarChart | HorizontalBarChart | HorizontalLineChart:
    """The reportlab chart for `kind`, with the same nice ticks as the SVG charts."""
    categories = data.categories
    values = [dict(series.points) for series in data.series]
    matrix = [[v.get(category) for category in categories] for v in values]
    names = [_shorten(fonts.printable(c), 16) for c in categories]
    plot: VerticalBarChart | HorizontalBarChart | HorizontalLineChart
    if kind is ChartKind.LINE:
        plot = HorizontalLineChart()
        plot.joinedLines = 1
        for index in range(len(data.series)):
            line = plot.lines[index]
            line.strokeColor, line.strokeWidth = _colour(index), 1.8
            line.symbol = makeMarker(_PDF_MARKERS[index % len(_PDF_MARKERS)])
    else:
        plot = HorizontalBarChart() if kind is ChartKind.RANKING else VerticalBarChart()
        for index in range(len(data.series)):
            plot.bars[index].fillColor, plot.bars[index].strokeColor = _colour(index), None
        if kind is ChartKind.STACKED:
            plot.categoryAxis.style = "stacked"
        if len(data.series) == 1:
            plot.barLabelFormat = lambda value: format_tick(int(value), data.value_format)
            plot.barLabels.fontName, plot.barLabels.fontSize = fonts.regular, 8
            # Beyond the end of the bar: above or below it (right or left) by the value's sign.
            plot.barLabels.nudge = 5
            ends = ("w", "e") if kind is ChartKind.RANKING else ("s", "n")
            for col, value in enumerate(
                matrix[0][::-1] if kind is ChartKind.RANKING else matrix[0]
            ):
                plot.barLabels[(0, col)].boxAnchor = ends[value is not None and value < 0]
    if kind is ChartKind.RANKING:
        # reportlab draws the first category at the bottom; a ranking reads from the top.
        matrix = [row[::-1] for row in matrix]
        names = [_shorten(fonts.printable(c), 28) for c in categories[::-1]]
        plot.categoryAxis.joinAxisMode = "left"
    else:
        plot.categoryAxis.joinAxisMode = "bottom"
    plot.data = matrix
    plot.categoryAxis.categoryNames = names
    ticks = nice_ticks(*value_bounds(data, stacked=kind is ChartKind.STACKED))
    axis = plot.valueAxis
    axis.valueMin, axis.valueMax, axis.valueStep = ticks[0], ticks[-1], ticks[1] - ticks[0]
    axis.labelTextFormat = lambda value: format_tick(int(value), data.value_format)
    axis.visibleGrid, axis.gridStrokeColor = 1, colors.HexColor("#dfe1e2")
    for labelled in (axis, plot.categoryAxis):
        labelled.labels.fontName, labelled.labels.fontSize = fonts.regular, 8
    return plot


def _colour(index: int) -> colors.Color:
    """The colour of series `index`, as in the SVG charts."""
    return colors.HexColor(PALETTE[index % len(PALETTE)])


def _shorten(text: str, limit: int) -> str:
    """The text cut to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
