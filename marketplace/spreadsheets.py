"""Values written to CSV files that people open in spreadsheets."""

from __future__ import annotations

from typing import Any

_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: Any) -> Any:
    """Prefix text a spreadsheet would run as a formula with an apostrophe (OWASP CSV injection).

    Numbers pass through untouched so "-1234.50" stays a number; only strings are guarded.
    """
    if isinstance(value, str) and value.startswith(_FORMULA_TRIGGERS):
        if value.startswith("-") and _is_number(value):
            return value
        return "'" + value
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
