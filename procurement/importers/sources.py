"""Bytes to rows: size limit, file-type sniffing, text decoding, streaming CSV and ATOM XML.

Everything here streams: memory stays flat however long the file is. A problem with the file as a
whole raises ImportFileError, so the caller writes nothing.
"""

from __future__ import annotations

import csv
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

DEFAULT_MAX_BYTES = 512 * 1024 * 1024
_CHUNK = 1 << 20
_HEAD = 1 << 16
_BOM = b"\xef\xbb\xbf"
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_BINARY_SIGNATURES = (
    (
        b"PK\x03\x04",
        "This is a ZIP archive or an Excel workbook, not a CSV file: unzip it, or "
        "open it in Excel and save it as CSV.",
    ),
    (
        b"\xd0\xcf\x11\xe0",
        "This is an old Excel workbook (.xls), not a CSV file: open it in Excel "
        "and save it as CSV.",
    ),
    (b"%PDF", "This is a PDF document, not a CSV file."),
    (b"\xff\xfe", "This file is saved as UTF-16 ('Unicode Text'): save it as CSV (UTF-8) instead."),
    (b"\xfe\xff", "This file is saved as UTF-16 ('Unicode Text'): save it as CSV (UTF-8) instead."),
)

# Export files carry long free-text descriptions; the csv module's default cap is 128 KiB per field.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


class ImportFileError(Exception):
    """The file as a whole cannot be imported (empty, binary, too large, malformed, no rows).

    Attributes:
        message: a sentence to show the person who uploaded the file.
    """

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ByteStream:
    """A binary stream that refuses to read past max_bytes and can be peeked at."""

    def __init__(self, raw: BinaryIO, max_bytes: int) -> None:
        self._raw = raw
        self._max_bytes = max_bytes
        self._pending = b""
        self.bytes_read = 0

    def peek(self, size: int) -> bytes:
        """Up to size bytes from the start of what is unread, without consuming them."""
        while len(self._pending) < size:
            chunk = self._read_raw(size - len(self._pending))
            if not chunk:
                break
            self._pending += chunk
        return self._pending[:size]

    def read(self, size: int = -1) -> bytes:
        """Up to size bytes (at least one unless at the end); the whole rest when size < 0."""
        if size < 0:
            parts = [self._pending]
            self._pending = b""
            while chunk := self._read_raw(_CHUNK):
                parts.append(chunk)
            return b"".join(parts)
        if self._pending:
            head, self._pending = self._pending[:size], self._pending[size:]
            return head
        return self._read_raw(size)

    def _read_raw(self, size: int) -> bytes:
        chunk = self._raw.read(size)
        self.bytes_read += len(chunk)
        if self.bytes_read > self._max_bytes:
            raise ImportFileError(
                f"The file is larger than the {_megabytes(self._max_bytes)} limit: split it into "
                "smaller files (for example one per fiscal year)."
            )
        return chunk


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} MB" if size >= 1024 * 1024 else f"{size} bytes"


@contextmanager
def open_source(source: BinaryIO | Path | str, max_bytes: int) -> Iterator[ByteStream]:
    """A size-limited ByteStream over a path or an open binary file (which stays open)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.stat().st_size > max_bytes:
            raise ImportFileError(
                f"The file is larger than the {_megabytes(max_bytes)} limit: split it into "
                "smaller files (for example one per fiscal year)."
            )
        with path.open("rb") as raw:
            yield ByteStream(raw, max_bytes)
    else:
        yield ByteStream(source, max_bytes)


def sniff(stream: ByteStream) -> str:
    """ "xml" or "csv" from the first bytes, refusing empty, binary and DOCTYPE-carrying files."""
    head = stream.peek(_HEAD)
    if not head.strip(_BOM + b" \t\r\n"):
        raise ImportFileError("The file is empty.")
    for signature, message in _BINARY_SIGNATURES:
        if head.startswith(signature):
            raise ImportFileError(message)
    if b"\x00" in head:
        raise ImportFileError("This is a binary file, not a CSV or XML file.")
    if head.lstrip(_BOM + b" \t\r\n").startswith(b"<"):
        if _DOCTYPE.search(head):
            # Entity declarations are how XML bombs work; FPDS feeds never carry them.
            raise ImportFileError(
                "XML files with a DOCTYPE or entity declarations are not accepted."
            )
        return "xml"
    return "csv"


class CsvRows:
    """The records of a CSV stream: header first, then (row number, cells) for each data row.

    Row numbers are what a spreadsheet shows: the header is row 1, a quoted multi-line cell stays in
    one row. Each physical line is decoded as UTF-8, or as Windows-1252 (latin-1's superset, what
    Excel on Windows writes) when it is not valid UTF-8; `recoded_lines` counts those.
    """

    def __init__(self, stream: ByteStream) -> None:
        self._stream = stream
        self.recoded_lines = 0
        head = stream.peek(_HEAD)
        # Excel for Mac's "CSV (Macintosh)" ends lines with a bare CR.
        self._newline = b"\r" if b"\r" in head and b"\n" not in head else b"\n"
        first_line = head.split(self._newline, 1)[0]
        self._reader = csv.reader(self._lines(), delimiter=_delimiter(first_line))
        self._row = 0
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        for cells in self._reader:
            self._row += 1
            if any(cell.strip() for cell in cells):
                return [cell.strip() for cell in cells]
        raise ImportFileError("The file is empty.")

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        row = self._row
        try:
            for cells in self._reader:
                row += 1
                yield row, cells
        except csv.Error as exc:
            raise ImportFileError(f"Row {row + 1} cannot be read as CSV: {exc}.") from exc

    def _lines(self) -> Iterator[str]:
        remainder = b""
        first = True
        while chunk := self._stream.read(_CHUNK):
            if first:
                chunk = chunk.removeprefix(_BOM)
                first = False
            lines = (remainder + chunk).split(self._newline)
            remainder = lines.pop()
            for line in lines:
                yield self._decode(line + self._newline)
        if remainder:
            yield self._decode(remainder)

    def _decode(self, line: bytes) -> str:
        try:
            return line.decode("utf-8")
        except UnicodeDecodeError:
            self.recoded_lines += 1
            try:
                return line.decode("cp1252")
            except UnicodeDecodeError:
                # Five byte values are undefined in cp1252; latin-1 maps every byte.
                return line.decode("latin-1")


def _delimiter(first_line: bytes) -> str:
    """Comma, or semicolon / tab when the header uses those (European Excel, "Text" exports)."""
    counts = {
        b",": first_line.count(b","),
        b";": first_line.count(b";"),
        b"\t": first_line.count(b"\t"),
    }
    best = max(counts, key=lambda sep: counts[sep])
    return best.decode() if counts[best] > counts[b","] else ","


def local_name(tag: str) -> str:
    """An XML tag without its namespace."""
    return tag.rsplit("}", 1)[-1]


def atom_entries(stream: ByteStream) -> Iterator[tuple[int, str, dict[str, str]]]:
    """Each ATOM entry's award as (entry number from 1, root element name, flattened fields).

    Fields are keyed by the path of local element names below the award element ("awardID/
    awardContractID/PIID"), attributes as "path@name"; the first occurrence of a path wins. Entries
    are cleared as soon as they are read, so memory stays flat.
    """
    entry_number = 0
    root: ET.Element | None = None
    try:
        # sniff() refused DOCTYPE/ENTITY declarations, and expat (>= 2.4) caps entity expansion,
        # so the stdlib parser is safe here without defusedxml.
        for event, element in ET.iterparse(stream, events=("start", "end")):  # noqa: S314
            if root is None:
                root = element
                if local_name(root.tag) != "feed":
                    name = local_name(root.tag)
                    raise ImportFileError(
                        f"This XML file is not an FPDS ATOM feed (its root is <{name}>)."
                    )
                continue
            if event != "end" or local_name(element.tag) != "entry":
                continue
            entry_number += 1
            award = _entry_award(element)
            if award is not None:
                yield entry_number, local_name(award.tag), _flatten(award)
            root.clear()
    except ET.ParseError as exc:
        raise ImportFileError(f"The XML is not well formed ({exc}).") from exc


def _entry_award(entry: ET.Element) -> ET.Element | None:
    for child in entry:
        if local_name(child.tag) == "content":
            return next(iter(child), None)
    return None


def _flatten(element: ET.Element) -> dict[str, str]:
    fields: dict[str, str] = {}
    stack: list[tuple[str, ET.Element]] = [("", child) for child in reversed(element)]
    while stack:
        prefix, node = stack.pop()
        path = f"{prefix}{local_name(node.tag)}"
        if node.text and node.text.strip():
            fields.setdefault(path, node.text)
        for name, value in node.attrib.items():
            fields.setdefault(f"{path}@{name}", value)
        stack.extend((f"{path}/", child) for child in reversed(node))
    return fields
