"""Single DCAT-US values: normalisers shared by harvest and export, and the form's field validators.

Normalisers take what real catalogs contain ("04/24/2020", "Annual", "mailto:x@y.gov ",
"009.020") and return the canonical DCAT-US 1.1 form, or None when the text has no faithful
canonical form. They never guess a fact that is not in the text. Validators return a message for
the publishing form, or None when the value is acceptable; an empty value is acceptable to every
field validator (whether a field is required is the form's, or `cross_field_errors`', concern).
"""

from __future__ import annotations

import html
import re
from datetime import date, datetime
from urllib.parse import quote, urlsplit

from marketplace.dcat.records import DatasetRecord

ACCESS_LEVELS = ("public", "restricted public", "non-public")

BUREAU_CODE_RE = re.compile(r"^\d{3}:\d{2}$")
PROGRAM_CODE_RE = re.compile(r"^\d{3}:\d{3}$")
# The DCAT-US 1.1 patterns for e-mail (vcard.json, without "mailto:") and media types.
EMAIL_RE = re.compile(r"^[\w_~!$&'()*+,;=:.-]+@[\w.-]+\.[\w.-]+$")
MEDIA_TYPE_RE = re.compile(r"^[-\w]+/[-\w]+(\.[-\w]+)*([+][-\w]+)?$")
# RFC 5646 language tags, the common shapes: language, script, region, variants, private use.
LANGUAGE_RE = re.compile(
    r"^[A-Za-z]{2,3}(-[A-Za-z]{3}){0,3}(-[A-Za-z]{4})?(-(?:[A-Za-z]{2}|\d{3}))?"
    r"(-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*(-x(-[A-Za-z0-9]{1,8})+)?$"
)
DURATION_RE = re.compile(
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_ISO_DATE_RE = re.compile(r"^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?$")
_ISO_DATETIME_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)
_US_DATE_RE = re.compile(
    r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?$"
)
_SLASH_YMD_RE = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_DATE_RE = re.compile(r"^([A-Za-z]+)\.?\s+(\d{1,2}),?\s+(\d{4})$")
_DAY_MONTH_RE = re.compile(r"^(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{4})$")
_YEAR_RANGE_RE = re.compile(r"^(\d{4})\s*(?:-|–|to)\s*(\d{4})$")

# Free-text frequencies seen in federal catalogs, mapped as Project Open Data's own table does
# (https://resources.data.gov/schemas/dcat-us/v1.1/iso8601_guidance/). Keys are lower-case words.
_PERIODICITY_WORDS = {
    "decennial": "R/P10Y",
    "quadrennial": "R/P4Y",
    "triennial": "R/P3Y",
    "biennial": "R/P2Y",
    "biennially": "R/P2Y",
    "annual": "R/P1Y",
    "annually": "R/P1Y",
    "yearly": "R/P1Y",
    "semiannual": "R/P6M",
    "semiannually": "R/P6M",
    "biannual": "R/P6M",
    "biannually": "R/P6M",
    "quarterly": "R/P3M",
    "bimonthly": "R/P2M",
    "monthly": "R/P1M",
    "semimonthly": "R/P0.5M",
    "biweekly": "R/P2W",
    "fortnightly": "R/P2W",
    "weekly": "R/P1W",
    "semiweekly": "R/P3.5D",
    "daily": "R/P1D",
    "hourly": "R/PT1H",
    "continuous": "R/PT1S",
    "continuously": "R/PT1S",
    "continual": "R/PT1S",
    "irregular": "irregular",
    "irregularly": "irregular",
    "adhoc": "irregular",
    "asneeded": "irregular",
}
_PERIODICITY_PHRASES = {
    "ad hoc": "irregular",
    "as needed": "irregular",
    "every 2 weeks": "R/P2W",
    "every two weeks": "R/P2W",
    "twice daily": "R/PT12H",
    "twice a year": "R/P6M",
    "three times a year": "R/P4M",
    "on a continuous basis": "R/PT1S",
    "continuously updated": "R/PT1S",
}
# Qualifiers that do not change the frequency ("Approximately weekly", "Daily (Monday-Friday)").
_PERIODICITY_NOISE = {"approximately", "about", "roughly", "updated", "update", "on", "an", "a"}
_PERIODICITY_EMBEDDED_RE = re.compile(r"\b(R/P[0-9.YMWDTHS]+)\b")

# Language names some catalogs write instead of tags.
_LANGUAGE_NAMES = {
    "english": "en",
    "spanish": "es",
    "español": "es",
    "french": "fr",
    "chinese": "zh",
    "vietnamese": "vi",
    "korean": "ko",
    "tagalog": "tl",
    "russian": "ru",
    "arabic": "ar",
    "german": "de",
    "portuguese": "pt",
}


def clean_text(value: object) -> str | None:
    """Trim a text value and decode HTML entities ("Medicare &amp; Medicaid"); None when blank.

    Only for short names (titles, publisher and contact names, keywords): descriptions keep their
    markup as published, the page escapes it when rendering.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(html.unescape(value).split())
    return text or None


def _valid_calendar(year: int, month: int = 1, day: int = 1) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _is_iso_date(text: str) -> bool:
    match = _ISO_DATE_RE.match(text)
    if not match:
        return False
    year, month, day = match.groups()
    return _valid_calendar(int(year), int(month or 1), int(day or 1))


def _is_iso_datetime(text: str) -> bool:
    match = _ISO_DATETIME_RE.match(text)
    if not match or " " in text:
        return False
    year, month, day, hour, minute, second, _, _ = match.groups()
    return (
        _valid_calendar(int(year), int(month), int(day))
        and int(hour) < 24
        and int(minute) < 60
        and int(second or 0) < 60
    )


def _clock(hour: str, minute: str, second: str | None, meridiem: str | None) -> str | None:
    hours = int(hour)
    if meridiem:
        if not 1 <= hours <= 12:
            return None
        hours = hours % 12 + (12 if meridiem.lower() == "pm" else 0)
    if hours > 23 or int(minute) > 59 or int(second or 0) > 59:
        return None
    text = f"{hours:02d}:{minute}"
    return f"{text}:{second}" if second else text


def normalize_date(value: object) -> str | None:
    """Return an ISO 8601 date or datetime for common ways of writing one, or None.

    Accepts ISO forms ("2020", "2020-04", "2020-04-24", "2020-04-24T13:05:00Z"), a space instead
    of "T" ("2020-04-24 13:05" → "2020-04-24T13:05"), US "04/24/2020" (month first, as in
    federal catalogs), "2020/04/24", "April 24, 2020" and "24 April 2020".
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if _is_iso_date(text) or _is_iso_datetime(text):
        return text
    if (match := _ISO_DATETIME_RE.match(text)) and " " in text:
        candidate = text.replace(" ", "T", 1)
        return candidate if _is_iso_datetime(candidate) else None
    if match := _US_DATE_RE.match(text):
        month, day, year, hour, minute, second, meridiem = match.groups()
        if not _valid_calendar(int(year), int(month), int(day)):
            return None
        day_text = f"{year}-{int(month):02d}-{int(day):02d}"
        if hour is None:
            return day_text
        clock = _clock(hour, minute, second, meridiem)
        return f"{day_text}T{clock}" if clock else None
    if match := _SLASH_YMD_RE.match(text):
        year, month, day = (int(part) for part in match.groups())
        return f"{year}-{month:02d}-{day:02d}" if _valid_calendar(year, month, day) else None
    for pattern, order in ((_MONTH_DATE_RE, (0, 1, 2)), (_DAY_MONTH_RE, (1, 0, 2))):
        if match := pattern.match(text):
            parts = match.groups()
            month_name, day, year = (parts[index] for index in order)
            month = _MONTHS.get(month_name.lower())
            if month and _valid_calendar(int(year), month, int(day)):
                return f"{year}-{month:02d}-{int(day):02d}"
    return None


def normalize_modified(value: object) -> str | None:
    """Like `normalize_date`, but also keeps the repeating durations 1.1 allows in `modified`."""
    if isinstance(value, str) and value.strip().startswith(("R/P", "P")):
        text = value.strip()
        duration = text[2:] if text.startswith("R/") else text
        return text if DURATION_RE.match(duration) else None
    return normalize_date(value)


def _interval_end(value: str) -> str | None:
    """An interval end written as a bare year or month means its last day."""
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-12-31"
    if match := re.fullmatch(r"(\d{4})-(\d{2})", value):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            return None
        following = date(year + month // 12, month % 12 + 1, 1)
        return (following.fromordinal(following.toordinal() - 1)).isoformat()
    return value


def _interval_start(value: str) -> str:
    if re.fullmatch(r"\d{4}", value):
        return f"{value}-01-01"
    if re.fullmatch(r"\d{4}-\d{2}", value):
        return f"{value}-01"
    return value


def normalize_temporal(value: object) -> str | None:
    """Return an ISO 8601 interval "start/end" for a temporal coverage, or None.

    Accepts ISO intervals (dates, datetimes or a duration on one side), a single year ("2018" →
    "2018-01-01/2018-12-31"), year ranges ("1899-2017", "2013 - 2017") and ranges of dates
    written as `normalize_date` understands ("April 4, 2021-May 21, 2022", "x to y"). Open-ended
    text ("2020-12-13/Present", "Through 2018") has no ISO form and gives None.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if validate_temporal(text) is None and text:
        return text
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01/{text}-12-31"
    if match := _YEAR_RANGE_RE.match(text):
        return f"{match[1]}-01-01/{match[2]}-12-31"
    for separator in ("/", " to ", " - ", "-", " – "):
        if separator not in text:
            continue
        start_text, _, end_text = text.partition(separator)
        if separator == "-" and (_ISO_DATE_RE.match(text) or text.count("-") != 1):
            continue
        start = _interval_side(start_text)
        end = _interval_side(end_text)
        if start and end and not (start.startswith("P") and end.startswith("P")):
            return f"{_interval_start(start)}/{_interval_end(end)}"
    return None


def _interval_side(text: str) -> str | None:
    text = text.strip()
    if DURATION_RE.match(text):
        return text
    return normalize_date(text)


def normalize_periodicity(value: object) -> str | None:
    """Return "R/P…" or "irregular" for a frequency written in words or ISO 8601, or None.

    "Annual", "annually", "Annual (R/P1Y)" → "R/P1Y"; "Bi-weekly", "Every 2 weeks" → "R/P2W";
    "Ad hoc", "As needed" → "irregular". Text that states no frequency ("Never", "Final", "n/a")
    gives None: DCAT-US 1.1 has no term for it, so the field is better absent than wrong.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() == "irregular":
        return "irregular"
    if text.upper().startswith("R/P") and DURATION_RE.match(text[2:].upper()):
        return text.upper()
    if match := _PERIODICITY_EMBEDDED_RE.search(text.upper()):
        duration = match[1]
        return duration if DURATION_RE.match(duration[2:]) else None
    words = re.sub(r"[^a-z0-9 ]+", " ", text.lower().replace("-", "")).split()
    phrase = " ".join(words)
    if phrase in _PERIODICITY_PHRASES:
        return _PERIODICITY_PHRASES[phrase]
    if phrase in _PERIODICITY_WORDS:
        return _PERIODICITY_WORDS[phrase]
    meaningful = [word for word in words if word not in _PERIODICITY_NOISE]
    if meaningful and meaningful[0] in _PERIODICITY_WORDS:
        return _PERIODICITY_WORDS[meaningful[0]]
    return None


def normalize_email(value: object) -> str | None:
    """Return a bare e-mail address ("mailto:" and blanks removed), or None when not an address."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower().startswith("mailto:"):
        text = text[len("mailto:") :].strip()
    return text if EMAIL_RE.match(text) else None


def normalize_url(value: object) -> str | None:
    """Return an absolute http(s)/ftp URL with blanks percent-encoded, or None."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text or any(character in text for character in '<>"{}|\\^`\n\r\t'):
        return None
    text = quote(text, safe=":/?#[]@!$&'()*+,;=%~")
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https", "ftp") or not parts.hostname:
        return None
    return text


def normalize_bureau_code(value: object) -> str | None:
    """Return "NNN:NN" for a bureau code, also from "009.20" or "009:00 - HHS"; else None."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{3})\s*[:.\-]\s*(\d{2})(?:\s+[-–].*)?", value.strip())
    return f"{match[1]}:{match[2]}" if match else None


def normalize_program_code(value: object) -> str | None:
    """Return "NNN:NNN" for a program code, also from "009.020" or "009:028 - Name"."""
    if not isinstance(value, str):
        return None
    match = re.fullmatch(r"(\d{3})\s*[:.\-]\s*(\d{3})(?:\s+[-–].*)?", value.strip())
    return f"{match[1]}:{match[2]}" if match else None


def normalize_language(value: object) -> str | None:
    """Return an RFC 5646 tag for a tag or an English language name ("English" → "en")."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.lower() in _LANGUAGE_NAMES:
        return _LANGUAGE_NAMES[text.lower()]
    return text if LANGUAGE_RE.match(text) else None


def normalize_media_type(value: object) -> str | None:
    """Return a lower-case "type/subtype" media type without parameters, or None."""
    if not isinstance(value, str):
        return None
    text = value.split(";", 1)[0].strip().lower()
    return text if MEDIA_TYPE_RE.match(text) else None


def normalize_access_level(value: object) -> str | None:
    """Return one of `ACCESS_LEVELS` for any casing or spacing of it, or None."""
    if not isinstance(value, str):
        return None
    text = " ".join(value.replace("_", " ").lower().split())
    text = {"restricted": "restricted public", "nonpublic": "non-public"}.get(text, text)
    return text if text in ACCESS_LEVELS else None


# Field validators for the publishing form: a message, or None when acceptable.


def validate_bureau_code(value: str) -> str | None:
    """Check an OMB bureau code such as "009:20"."""
    if not value.strip() or BUREAU_CODE_RE.match(value.strip()):
        return None
    return "Use the OMB bureau code format NNN:NN, for example 009:20."


def validate_program_code(value: str) -> str | None:
    """Check a Federal Program Inventory code such as "009:020"."""
    if not value.strip() or PROGRAM_CODE_RE.match(value.strip()):
        return None
    return "Use the program code format NNN:NNN, for example 009:020 (009:000 for no program)."


def validate_iso_date(value: str) -> str | None:
    """Check an ISO 8601 date ("2020-04-24", "2020-04", "2020") or datetime."""
    text = value.strip()
    if not text or _is_iso_date(text) or _is_iso_datetime(text):
        return None
    return "Use an ISO 8601 date such as 2020-04-24 or a date and time such as 2020-04-24T13:05Z."


def validate_temporal(value: str) -> str | None:
    """Check an ISO 8601 interval: start/end, each a date, a datetime or (one side) a duration."""
    text = value.strip()
    if not text:
        return None
    start, separator, end = text.partition("/")
    if not separator:
        return "Give a start and an end separated by /, for example 2015-01-01/2019-12-31."
    sides = []
    for side in (start, end):
        if DURATION_RE.match(side):
            sides.append("duration")
        elif _is_iso_date(side) or _is_iso_datetime(side):
            sides.append("date")
        else:
            return f"'{side}' is not an ISO 8601 date, date and time, or duration such as P1Y."
    if sides == ["duration", "duration"]:
        return "At most one side of the interval may be a duration."
    if sides == ["date", "date"] and _interval_start(start) > _interval_end(end):
        return "The start of the interval is after its end."
    return None


def validate_accrual_periodicity(value: str) -> str | None:
    """Check an update frequency: an ISO 8601 repeating duration (R/P1Y, R/PT1H) or "irregular"."""
    text = value.strip()
    if not text or text == "irregular":
        return None
    if text.startswith("R/") and DURATION_RE.match(text[2:]):
        return None
    suggestion = normalize_periodicity(text)
    if suggestion:
        return f"Use the ISO 8601 form: {suggestion}."
    return 'Use an ISO 8601 repeating duration such as R/P1Y (yearly) or R/P1D, or "irregular".'


def validate_email(value: str) -> str | None:
    """Check a contact e-mail address (a leading "mailto:" is accepted)."""
    if not value.strip() or normalize_email(value):
        return None
    return "Enter an e-mail address such as data@cdc.gov."


def validate_url(value: str) -> str | None:
    """Check an absolute http(s) URL."""
    text = value.strip()
    if not text:
        return None
    normalized = normalize_url(text)
    if normalized and urlsplit(normalized).scheme.lower() in ("http", "https"):
        return None
    return "Enter a full web address starting with https:// (or http://)."


def validate_media_type(value: str) -> str | None:
    """Check an IANA media type "type/subtype" such as text/csv."""
    if not value.strip() or MEDIA_TYPE_RE.match(value.strip()):
        return None
    return "Use a media type such as text/csv or application/json."


def validate_language(value: str) -> str | None:
    """Check a language tag (RFC 5646) such as en or en-US."""
    text = value.strip()
    if not text or LANGUAGE_RE.match(text):
        return None
    suggestion = normalize_language(text)
    if suggestion:
        return f"Use the language tag {suggestion}."
    return "Use a language tag such as en, es or en-US."


def validate_access_level(value: str) -> str | None:
    """Check the DCAT-US access level."""
    if value.strip() in ACCESS_LEVELS:
        return None
    return "Choose public, restricted public or non-public."


def cross_field_errors(record: DatasetRecord) -> dict[str, str]:
    """Rules between fields of a listing, keyed by the form field they belong to.

    Args:
        record: the listing as the form currently describes it.

    Returns:
        Messages keyed by "access_level", "rights" or "distributions.N.media_type" (N from 0);
        empty when the rules hold.
    """
    errors: dict[str, str] = {}
    level = record.access_level
    if level is None or level not in ACCESS_LEVELS:
        errors["access_level"] = "Choose public, restricted public or non-public."
    elif level != "public" and not (record.rights or "").strip():
        errors["rights"] = (
            f"Explain the access restriction: rights are required when access is {level}."
        )
    for index, distribution in enumerate(record.distributions):
        if distribution.download_url and not distribution.media_type:
            errors[f"distributions.{index}.media_type"] = (
                "Give the media type (such as text/csv) of the download URL."
            )
    return errors


def is_valid_datetime_text(value: str) -> bool:
    """True for an RFC 3339 date-time ("2020-04-24T13:05:00Z"), as DCAT-US 3.0 requires."""
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", value):
        return False
    try:
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return True


def is_valid_date_text(value: str) -> bool:
    """True for a full ISO calendar date "YYYY-MM-DD"."""
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and _is_iso_date(value)
