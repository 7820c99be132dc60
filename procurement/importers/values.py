"""Cell values as real award files spell them: money to int cents, dates, codes, text.

Pure functions; each raises ValueError with a message a spreadsheet user can act on.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_ABS_CENTS = 100_000_000_000 * 100  # $100 billion: above any single federal award on record

_NULLS = frozenset({"", "NULL"})
_PLAIN_MONEY = re.compile(r"-?\d+(?:\.\d{1,2})?")
_GROUPED_NUMBER = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+")
# Excel shows long digit strings as "7.00E+21" and saves that text to CSV. The explicit exponent
# sign tells it apart from genuine codes such as the PSC "7E20".
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]\d+")
_WHOLE_FLOAT = re.compile(r"\d+\.0+")
_SLASHED = re.compile(r"(\d{1,4})/(\d{1,2})/(\d{1,4})")


def parse_money_cents(text: str | None) -> int | None:
    """Dollars as written in exports to integer cents.

    Accepts "1234.5", "-1234.5", "$1,234.00 ", "(474,000.00)" (accounting negative), "-$12.00",
    "$ -" (accounting zero). Sub-cent digits are rounded half away from zero.

    Args:
        text: the cell text; None, "", whitespace or "NULL" mean no amount.

    Returns:
        The amount in cents, or None when the cell is empty.

    Raises:
        ValueError: the text is not an amount, is in Excel's scientific notation (digits lost), or
            exceeds $100 billion in absolute value.
    """
    if text is None:
        return None
    cleaned = text.strip()
    if _PLAIN_MONEY.fullmatch(cleaned):
        whole, _, fraction = cleaned.partition(".")
        magnitude = abs(int(whole)) * 100 + int(fraction.ljust(2, "0"))
        cents = -magnitude if cleaned.startswith("-") else magnitude
        return _checked(cents, text)
    if cleaned.upper() in _NULLS:
        return None
    return _checked(_parse_money_slow(cleaned, text), text)


def _parse_money_slow(cleaned: str, original: str) -> int:
    """The general path of parse_money_cents: currency signs, grouping, parentheses."""
    body = cleaned.replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1]
    had_currency = "$" in body
    body = body.replace("$", "", 1)
    if body.startswith(("-", "+")):
        negative ^= body[0] == "-"
        body = body[1:]
    if body in ("", "-") and had_currency:
        return 0
    if _SCIENTIFIC.fullmatch(body):
        raise ValueError(
            f"{original.strip()!r} is in scientific notation (Excel rounded it); "
            "enter the exact amount"
        )
    if not _GROUPED_NUMBER.fullmatch(body):
        raise ValueError(
            f"{original.strip()!r} is not an amount of money (expected e.g. 1234.56, $1,234.56 or "
            "(1,234.56) for a negative)"
        )
    try:
        value = Decimal(body.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern above admits only decimals
        raise ValueError(f"{original.strip()!r} is not an amount of money") from exc
    cents = int((value * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return -cents if negative else cents


def _checked(cents: int, original: str) -> int:
    if abs(cents) > MAX_ABS_CENTS:
        raise ValueError(
            f"{original.strip()!r} is more than $100 billion: "
            "check the column and the decimal point"
        )
    return cents


def parse_date(text: str | None) -> date | None:
    """A calendar date from ISO ("2015-05-11", "2015-05-11 00:00:00", "2015-05-11T…") or US forms.

    US forms are M/D/YYYY and M/D/YY (optionally followed by a time, as Excel writes them) and
    YYYY/MM/DD. Two-digit years follow the POSIX rule: 69–99 are 19xx, 00–68 are 20xx.

    Args:
        text: the cell text; None, "", whitespace or "NULL" mean no date.

    Returns:
        The date, or None when the cell is empty.

    Raises:
        ValueError: the text is not a date in one of these forms, or names a day that does not
            exist.
    """
    if text is None:
        return None
    cleaned = text.strip()
    if len(cleaned) >= 10 and cleaned[4] == "-" and cleaned[7] == "-":
        try:
            return date.fromisoformat(cleaned[:10])
        except ValueError:
            raise ValueError(f"{cleaned!r} is not a valid date") from None
    if cleaned.upper() in _NULLS:
        return None
    match = _SLASHED.fullmatch(cleaned.split(" ", 1)[0])
    if match is None:
        raise ValueError(f"{cleaned!r} is not a date (expected YYYY-MM-DD or M/D/YYYY)")
    first, second, third = match.groups()
    if len(first) == 4:
        year, month, day = int(first), int(second), int(third)
    elif len(third) in (2, 4):
        month, day, year = int(first), int(second), int(third)
        if len(third) == 2:
            year += 1900 if year >= 69 else 2000
    else:
        raise ValueError(f"{cleaned!r} is not a date (expected YYYY-MM-DD or M/D/YYYY)")
    try:
        return date(year, month, day)
    except ValueError:
        raise ValueError(f"{cleaned!r} is not a valid date") from None


def clean_code(text: str | None) -> str | None:
    """A code (PIID, agency, PSC, NAICS, UEI) normalised: trimmed, upper case, Excel damage undone.

    "7523.0" (a code Excel stored as a number) becomes "7523"; Excel's text guards `'0123` and
    `="0123"` are removed. "7.00E+21" cannot be recovered (the digits are gone) and is refused.

    Args:
        text: the cell text; None or blank means no code.

    Returns:
        The code, or None when the cell is empty.

    Raises:
        ValueError: the code was turned into scientific notation by a spreadsheet.
    """
    if text is None:
        return None
    cleaned = text.strip()
    if cleaned.startswith('="') and cleaned.endswith('"'):
        cleaned = cleaned[2:-1].strip()
    elif cleaned.startswith("'"):
        cleaned = cleaned[1:].strip()
    if not cleaned:
        return None
    if _WHOLE_FLOAT.fullmatch(cleaned):
        return cleaned.split(".", 1)[0]
    if _SCIENTIFIC.fullmatch(cleaned):
        raise ValueError(
            f"{cleaned!r} was turned into scientific notation by a spreadsheet and its digits are "
            "lost; re-export the file or format the column as text"
        )
    return cleaned.upper()


# What exports and hand-kept sheets write in a cell that has no value. Read as a d/b/a name, a
# parent's name or a UEI it would be one alias or one parent shared by every vendor of the file,
# and the importer would merge them all into one.
PLACEHOLDERS = frozenset(
    {"N/A", "NA", "NONE", "NULL", "NIL", "NOT APPLICABLE", "NOT AVAILABLE", "NOT PROVIDED",
     "UNKNOWN", "TBD", "-", "--", "?"}
)  # fmt: skip


def without_placeholder(text: str | None) -> str | None:
    """None when a cleaned cell holds only a "no value" marker (N/A, NONE, NOT APPLICABLE, …)."""
    if text is None:
        return None
    marker = " ".join(text.replace(".", "").split()).upper()
    return None if marker in PLACEHOLDERS else text


def clean_text(text: str | None) -> str | None:
    """Free text trimmed, None when blank. Content is kept verbatim, formula-like text included."""
    if text is None:
        return None
    cleaned = text.strip()
    return cleaned or None
