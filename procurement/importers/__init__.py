"""Award-file import: detect the layout, stream the rows, validate them, fold them into awards.

Pure: no database, web, clock or network. The service that records purchases calls `read_awards`
and upserts `AwardBatch.awards` by `award_key`; it writes nothing when ImportFileError or
UnknownLayout is raised.

Layouts and what a row is:
    usaspending          USAspending bulk award download; a row is an award summary.
    usaspending_search   USAspending Advanced Search export; a row is a transaction. No agency and
                         no parent columns: the division comes from `division`, else the PIID.
    fpds_atom, fpds_csv  FPDS ATOM feed (XML) and its flattened CSV; a row is a transaction.
    fpds_ezsearch        FPDS ezSearch CSV; a row is a transaction; the parent IDV is read from the
                         LINK URL; the funding agency is known only by name.
    template             our CSV (`TEMPLATE_COLUMNS`, `template_csv()`), or any CSV through a
                         `ColumnMapping`; a row is a purchase summary.

Errors, warnings and skips:
    ImportFileError      the file as a whole: empty, binary, XML bomb, too large, header only.
    UnknownLayout        the header matches no layout (lists needed and found columns).
    RowError             a row left out: missing PIID or vendor, unreadable amount or date, amount
                         over $100 billion, end before start, PIID or agency code mangled by Excel,
                         division unknown, wrong number of cells.
    AwardRecord.warnings kept but worth a look: PSC/NAICS/UEI mangled by Excel (left empty), an
                         award listed twice, transactions missing from the file, rows of the award
                         rejected.
    skipped              rows of other departments (by funding agency, else awarding agency, else
                         PIID prefix), counted by reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import BinaryIO

from .awards import (
    AWARDED_OUTSIDE,
    FUNDED_OUTSIDE,
    PIID_OUTSIDE,
    AwardBatch,
    AwardRecord,
    Divisions,
    Folder,
    RowError,
    RowParser,
    RowRejected,
)
from .layouts import (
    ATOM_PATHS,
    LAYOUT_TITLES,
    SPECS,
    TEMPLATE_COLUMNS,
    TEMPLATE_REQUIRED,
    ColumnMapping,
    Layout,
    LayoutSpec,
    UnknownLayout,
    column_indexes,
    detect_layout,
    template_csv,
)
from .sources import (
    DEFAULT_MAX_BYTES,
    ByteStream,
    CsvRows,
    ImportFileError,
    atom_entries,
    open_source,
    sniff,
)
from .values import MAX_ABS_CENTS, clean_code, clean_text, parse_date, parse_money_cents

__all__ = [
    "AWARDED_OUTSIDE",
    "DEFAULT_MAX_BYTES",
    "FUNDED_OUTSIDE",
    "LAYOUT_TITLES",
    "MAX_ABS_CENTS",
    "PIID_OUTSIDE",
    "TEMPLATE_COLUMNS",
    "TEMPLATE_REQUIRED",
    "AwardBatch",
    "AwardRecord",
    "ColumnMapping",
    "ImportFileError",
    "Layout",
    "RowError",
    "UnknownLayout",
    "clean_code",
    "clean_text",
    "detect_layout",
    "parse_date",
    "parse_money_cents",
    "read_awards",
    "template_csv",
]

_IDV_ROOTS = frozenset({"IDV", "OtherTransactionIDV"})


def read_awards(
    source: BinaryIO | Path,
    *,
    layout: Layout | None = None,
    division: str | None = None,
    mapping: ColumnMapping | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    subtier_divisions: Mapping[str, str] | None = None,
    known_divisions: Collection[str] | None = None,
) -> AwardBatch:
    """Read an award file into folded awards, rejected rows and skip counts, streaming.

    Args:
        source: a path, or a binary file open for reading (left open).
        layout: the layout to read; None detects it from the header (XML is always fpds_atom).
        division: division code for rows whose record names no division (template rows with an
            empty division column, Advanced Search exports, HHS sub-tiers linked to no division);
            it outranks the PIID prefix but never the record's own agencies. Accepts aliases
            and names ("National Institutes of Health").
        mapping: read a CSV of any shape as the template through this column mapping.
        max_bytes: larger files raise ImportFileError (checked while reading, too).
        subtier_divisions: the database's sub-tier code -> division table; None: marketplace.hhs.
        known_divisions: division codes the database has; None: marketplace.hhs.

    Returns:
        The batch. Award keys are stable: reading the same records again gives the same keys.

    Raises:
        ImportFileError: the file as a whole cannot be read; nothing should be written.
        UnknownLayout: the header matches no layout (or lacks the mapping's columns).
        ValueError: `division` is not a known division, or layout and mapping conflict.
    """
    divisions = Divisions(subtier_divisions, known_divisions)
    override = None
    if division is not None:
        override = divisions.code_for(division)
        if override is None:
            raise ValueError(
                f"{division!r} is not a division we know "
                f"(known: {', '.join(sorted(divisions.known))})"
            )
    if mapping is not None and layout not in (None, Layout.TEMPLATE):
        raise ValueError(
            "A column mapping reads the file as the template; do not pass another layout"
        )

    with open_source(source, max_bytes) as stream:
        if sniff(stream) == "xml":
            if mapping is not None or layout not in (None, Layout.FPDS_ATOM):
                raise ImportFileError(
                    "This is an XML file; only the FPDS ATOM feed is read as XML. Upload a CSV "
                    "file for other layouts."
                )
            return _fold(Layout.FPDS_ATOM, _atom_rows(stream), _atom_labels(), divisions, override)
        if layout is Layout.FPDS_ATOM:
            raise ImportFileError("This is not an XML file, so it cannot be an FPDS ATOM feed.")
        rows = CsvRows(stream)
        if mapping is not None:
            spec = mapping.spec()
            _require_columns(spec, rows.header)
        else:
            spec = SPECS[layout or detect_layout(rows.header)]
            if layout is not None:
                _require_columns(spec, rows.header)
        indexes = column_indexes(spec.columns, rows.header)
        labels = {name: rows.header[found[0]] for name, found in indexes.items()}
        batch = _fold(spec.layout, _csv_rows(rows, indexes), labels, divisions, override)
        if rows.recoded_lines:
            notice = (
                f"{rows.recoded_lines} line(s) were not UTF-8 and were read as Windows-1252 "
                "(Excel's Western encoding); check accented names."
            )
            batch = replace(batch, notices=(*batch.notices, notice))
        return batch


def _require_columns(spec: LayoutSpec, header: Sequence[str]) -> None:
    present = {name.casefold() for name in header}
    if not all(any(name.casefold() in present for name in names) for names in spec.required):
        raise UnknownLayout([names[0] for names in spec.required], header, spec.layout)


def _csv_rows(
    rows: CsvRows, indexes: Mapping[str, tuple[int, ...]]
) -> Iterator[tuple[int, dict[str, str] | list[str]]]:
    """(row, raw fields) for each non-blank data row, or (row, errors) for a ragged one."""
    width = len(rows.header)
    single = [(name, found[0]) for name, found in indexes.items() if len(found) == 1]
    multiple = [(name, found) for name, found in indexes.items() if len(found) > 1]
    for row, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != width and (len(cells) < width or any(c.strip() for c in cells[width:])):
            yield (
                row,
                [
                    f"the row has {len(cells)} cells but the header has {width}: a separator or "
                    "quote is missing or extra"
                ],
            )
            continue
        raw = {name: cells[index] for name, index in single}
        for name, found in multiple:
            # The first candidate column with a value wins: recipient_name, then its _raw twin.
            raw[name] = next((cells[i] for i in found if cells[i].strip()), "")
        yield row, raw


def _atom_rows(stream: ByteStream) -> Iterator[tuple[int, dict[str, str]]]:
    for entry, root, fields in atom_entries(stream):
        raw = {
            name: next((fields[path] for path in paths if path in fields), "")
            for name, paths in ATOM_PATHS.items()
        }
        if root in _IDV_ROOTS:
            raw["idv"] = root
        yield entry, raw


def _atom_labels() -> dict[str, str]:
    return {name: paths[0].rsplit("/", 1)[-1] for name, paths in ATOM_PATHS.items()}


def _fold(
    layout: Layout,
    rows: Iterator[tuple[int, dict[str, str] | list[str]]],
    labels: Mapping[str, str],
    divisions: Divisions,
    override: str | None,
) -> AwardBatch:
    parser = RowParser(layout, labels, divisions, override)
    folder = Folder(layout)
    for row, raw in rows:
        folder.rows_read += 1
        if isinstance(raw, list):
            folder.reject(row, raw)
            continue
        try:
            result = parser.parse(row, raw)
        except RowRejected as exc:
            folder.reject(row, exc.errors, exc.key)
            continue
        if isinstance(result, str):
            folder.skip(result)
        else:
            folder.add(result)
    if folder.rows_read == 0:
        raise ImportFileError(
            "The file has no entries."
            if layout is Layout.FPDS_ATOM
            else "The file has a header but no data rows."
        )
    return AwardBatch(
        layout=layout,
        awards=list(folder.awards()),
        rejected=folder.rejected,
        skipped=sum(folder.skipped.values()),
        skipped_reasons=dict(folder.skipped),
        rows_read=folder.rows_read,
    )
