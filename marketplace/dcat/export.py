"""Publishing listings as DCAT-US: dataset objects for 1.1 and 3.0, and a streamed catalog.

Harvested records are often imperfect. The export repairs what the record itself determines
(e-mail form, dates and frequencies written in words, the "no program" code of the bureau's agency,
a bureau code named by an HHS division acronym, keywords from themes, a download URL without
a media type published as an access URL) and leaves a record out, with the reasons, only when
a required fact is missing. It never invents a fact.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

import msgspec

from marketplace.dcat import fields
from marketplace.dcat.fields import (
    LANGUAGE_RE,
    PROGRAM_CODE_RE,
    is_valid_date_text,
    is_valid_datetime_text,
)
from marketplace.dcat.harvest import BUREAU_CODES_BY_NAME
from marketplace.dcat.records import DatasetRecord, Distribution, ExportResult
from marketplace.dcat.schemas import (
    V11_CONFORMS_TO,
    V11_CONTEXT,
    V11_DESCRIBED_BY,
    validate_v11_dataset,
    validate_v30_dataset,
)

RIGHTS_MAX = 255  # DCAT-US 1.1 dataset.json: rights maxLength
_CHUNK_SIZE = 1 << 16
# An absolute URL that `normalize_url` returns unchanged: an http(s)/ftp scheme, a plain host and
# only characters `quote` keeps. Most exported URLs have this shape, and matching it is a tenth of
# the cost of quoting and splitting them (a fifth of a 100,000-listing export).
_PLAIN_URL_RE = re.compile(
    r"(?:[Hh][Tt][Tt][Pp][Ss]?|[Ff][Tt][Pp])://[A-Za-z0-9.-]+(?::[0-9]*)?"
    r"(?:[/?#][-A-Za-z0-9_.~:/?#\[\]@!$&'()*+,;=%]*)?"
)


def _memoised(normalize: Callable[[object], str | None]) -> Callable[[object], str | None]:
    """`normalize`, remembering its answers for text (the normalisers are pure functions)."""
    remembered = lru_cache(maxsize=4096)(normalize)

    def normalized(value: object) -> str | None:
        return remembered(value) if isinstance(value, str) else normalize(value)

    return normalized


# Dates, e-mail addresses, codes, media types and frequencies repeat from listing to listing, so
# a catalog export normalises each distinct value once.
normalize_access_level = _memoised(fields.normalize_access_level)
normalize_bureau_code = _memoised(fields.normalize_bureau_code)
normalize_date = _memoised(fields.normalize_date)
normalize_email = _memoised(fields.normalize_email)
normalize_media_type = _memoised(fields.normalize_media_type)
normalize_modified = _memoised(fields.normalize_modified)
normalize_periodicity = _memoised(fields.normalize_periodicity)
normalize_program_code = _memoised(fields.normalize_program_code)
normalize_temporal = _memoised(fields.normalize_temporal)
normalize_url = _memoised(fields.normalize_url)
_encoder = msgspec.json.Encoder()


def _json_text(data: dict[str, Any]) -> str:
    """`json.dumps(data, ensure_ascii=False)`, in a third of the time.

    msgspec escapes strings as the standard library does, and formatting with indent 0 puts the
    same single space after "," and ":". (Floats would be written differently, 1e20 for 1e+20, but
    dataset objects hold only text, booleans, lists and objects.)
    """
    return msgspec.json.format(_encoder.encode(data), indent=0).decode()


V30_CONFORMS_TO = {
    "@type": "Standard",
    "@id": "https://resources.data.gov/dcat-us/3.0.0/",
    "title": "DCAT-US 3.0",
}


class _Repairs:
    """Collects repairs and blocking errors while one record is exported."""

    def __init__(self) -> None:
        self.repairs: list[str] = []
        self.errors: list[str] = []

    def value(
        self, field: str, value: str | None, normalize: Callable[[object], str | None]
    ) -> str | None:
        """The normalised value, noting a change or a drop."""
        if value is None or value == "":
            return None
        result = normalize(value)
        if result is None:
            self.repairs.append(f"{field} '{value}' has no valid form; left out")
        elif result != value:
            self.repairs.append(f"{field} '{value}' written as '{result}'")
        return result

    def values(
        self, field: str, values: Iterable[str], normalize: Callable[[object], str | None]
    ) -> list[str]:
        found: list[str] = []
        for value in values:
            result = self.value(field, value, normalize)
            if result is not None and result not in found:
                found.append(result)
        return found


def _text(value: str | None) -> str | None:
    if not value:
        return None
    return value.strip() or None


def _texts(values: Iterable[str]) -> list[str]:
    """The distinct non-blank values, trimmed, in their first order."""
    found: dict[str, None] = {}
    for value in values:
        if value and (text := value.strip()):
            found[text] = None
    return list(found)


def _url(value: object) -> str | None:
    """`normalize_url`, answered without quoting and splitting for a URL already in plain form."""
    if isinstance(value, str) and _PLAIN_URL_RE.fullmatch(value):
        return value
    return normalize_url(value)


def _language(value: object) -> str | None:
    return value if isinstance(value, str) and LANGUAGE_RE.match(value) else None


def _truncate(text: str, limit: int) -> str:
    cut = text[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;.") + "…"


def _identity(record: DatasetRecord, fix: _Repairs) -> tuple[str, str, str, list[str]]:
    identifier = _text(record.identifier)
    title = _text(record.title)
    description = _text(record.description)
    if identifier is None:
        fix.errors.append("identifier is missing")
    if title is None:
        fix.errors.append("title is missing")
    return identifier or "", title or "", description or "", _texts(record.keywords)


def _contact(record: DatasetRecord, fix: _Repairs) -> tuple[str | None, str | None]:
    name = _text(record.contact_name)
    email = normalize_email(record.contact_email)
    if email is not None and email != record.contact_email:
        fix.repairs.append(f"contact e-mail '{record.contact_email}' written as '{email}'")
    if email is None and record.contact_email:
        fix.errors.append(f"contact e-mail '{record.contact_email}' is not an e-mail address")
    elif email is None:
        fix.errors.append("contact e-mail (contactPoint.hasEmail) is missing")
    if name is None:
        fix.errors.append("contact name (contactPoint.fn) is missing")
    return name, email


def _bureau_codes(record: DatasetRecord, fix: _Repairs) -> list[str]:
    codes: list[str] = []
    for value in record.bureau_codes:
        code = normalize_bureau_code(value) or BUREAU_CODES_BY_NAME.get(value.strip().casefold())
        if code is None:
            fix.repairs.append(f"bureauCode '{value}' is not a bureau code; left out")
        elif code not in codes:
            if code != value:
                fix.repairs.append(f"bureauCode '{value}' written as '{code}'")
            codes.append(code)
    if codes:
        return codes
    for name in (record.publisher_name, record.publisher_parent_name):
        code = BUREAU_CODES_BY_NAME.get((name or "").strip().casefold())
        if code:
            fix.repairs.append(f"bureauCode {code} taken from the publisher '{name}'")
            return [code]
    fix.errors.append("bureauCode is missing (give the OMB bureau code, e.g. 009:20)")
    return []


def _program_codes(record: DatasetRecord, bureau_codes: list[str], fix: _Repairs) -> list[str]:
    codes = [
        code
        for code in fix.values("programCode", record.program_codes, normalize_program_code)
        if PROGRAM_CODE_RE.match(code)
    ]
    if codes or not bureau_codes:
        return codes
    # "NNN:000" is the Federal Program Inventory's "primary program not available" code.
    agencies = list(dict.fromkeys(code.split(":")[0] for code in bureau_codes))
    codes = [f"{agency}:000" for agency in agencies]
    fix.repairs.append(f"programCode {', '.join(codes)} (no program) from the bureau's agency")
    return codes


def _v11_distribution(distribution: Distribution, index: int, fix: _Repairs) -> dict[str, Any]:
    label = f"distribution {index}"
    download = fix.value(f"{label} downloadURL", distribution.download_url, _url)
    access = fix.value(f"{label} accessURL", distribution.access_url, _url)
    media_type = fix.value(f"{label} mediaType", distribution.media_type, normalize_media_type)
    if download and not media_type:
        # 1.1 requires a media type with a download URL; an access URL needs none, and guessing
        # the type from a file name would be inventing it.
        fix.repairs.append(f"{label} downloadURL has no media type; published as accessURL")
        access = access or download
        download = None
    item: dict[str, Any] = {"@type": "dcat:Distribution"}
    optional = {
        "downloadURL": download,
        "accessURL": access,
        "mediaType": media_type,
        "format": _text(distribution.format),
        "title": _text(distribution.title),
        "description": _text(distribution.description),
        "conformsTo": fix.value(f"{label} conformsTo", distribution.conforms_to, _url),
        "describedBy": fix.value(f"{label} describedBy", distribution.described_by, _url),
        "describedByType": fix.value(
            f"{label} describedByType", distribution.described_by_type, normalize_media_type
        ),
    }
    item.update((key, value) for key, value in optional.items() if value is not None)
    return item


def _v11_body(record: DatasetRecord, fix: _Repairs) -> dict[str, Any]:
    identifier, title, description, keywords = _identity(record, fix)
    if not description:
        fix.errors.append("description is missing")
    themes = _texts(record.themes)
    if not keywords:
        if themes:
            keywords = list(themes)
            fix.repairs.append("keyword taken from theme")
        else:
            fix.errors.append("keyword is missing (add at least one keyword)")
    modified = fix.value("modified", record.modified, normalize_modified)
    if modified is None:
        fix.errors.append("modified (date of last change) is missing")
    publisher = _text(record.publisher_name)
    if publisher is None:
        fix.errors.append("publisher name is missing")
    name, email = _contact(record, fix)
    access_level = normalize_access_level(record.access_level)
    if access_level is None:
        fix.errors.append(
            f"accessLevel '{record.access_level}' is not public/restricted public/non-public"
        )
    rights = _text(record.rights)
    if rights and len(rights) > RIGHTS_MAX:
        rights = _truncate(rights, RIGHTS_MAX)
        fix.repairs.append(f"rights shortened to {RIGHTS_MAX} characters")
    if access_level not in (None, "public") and not rights:
        fix.errors.append(f"rights (why access is {access_level}) is missing")
    bureau_codes = _bureau_codes(record, fix)
    program_codes = _program_codes(record, bureau_codes, fix)

    publisher_obj: dict[str, Any] = {"@type": "org:Organization", "name": publisher}
    parent = _text(record.publisher_parent_name)
    if parent:
        publisher_obj["subOrganizationOf"] = {"@type": "org:Organization", "name": parent}
    data: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": identifier,
        "title": title,
        "description": description,
        "keyword": keywords,
        "modified": modified,
        "publisher": publisher_obj,
        "contactPoint": {"@type": "vcard:Contact", "fn": name, "hasEmail": f"mailto:{email}"},
        "accessLevel": access_level,
        "bureauCode": bureau_codes,
        "programCode": program_codes,
    }
    distributions = [
        _v11_distribution(item, index, fix) for index, item in enumerate(record.distributions)
    ]
    distributions = [item for item in distributions if "downloadURL" in item or "accessURL" in item]
    references = fix.values("references", record.references, _url)
    language = fix.values("language", record.language, _language)
    optional: dict[str, Any] = {
        "rights": rights,
        "license": fix.value("license", record.license, _url),
        "spatial": _text(record.spatial),
        "temporal": fix.value("temporal", record.temporal, normalize_temporal),
        "accrualPeriodicity": fix.value(
            "accrualPeriodicity", record.accrual_periodicity, normalize_periodicity
        ),
        "conformsTo": fix.value("conformsTo", record.conforms_to, _url),
        "describedBy": fix.value("describedBy", record.described_by, _url),
        "describedByType": fix.value(
            "describedByType", record.described_by_type, normalize_media_type
        ),
        "dataQuality": record.data_quality,
        "isPartOf": _text(record.is_part_of),
        "issued": fix.value("issued", record.issued, normalize_date),
        "language": language or None,
        "landingPage": fix.value("landingPage", record.landing_page, _url),
        "references": references or None,
        "systemOfRecords": _text(record.system_of_records),
        "theme": themes or None,
        "distribution": distributions or None,
    }
    data.update((key, value) for key, value in optional.items() if value is not None)
    return data


def dataset_to_v11(record: DatasetRecord, *, check: bool = True) -> ExportResult:
    """Export one record as a DCAT-US 1.1 dataset object, repaired where the record allows.

    Args:
        record: the listing.
        check: also validate the result against the official schema (about 0.3 ms). The
            construction is tested to be valid on every real catalog in the test data; the check
            is a second line that leaves a record out rather than publish an invalid catalog.

    Returns:
        The dataset object and the repairs made, or None and the reasons it was left out.
    """
    fix = _Repairs()
    data = _v11_body(record, fix)
    if not fix.errors and check:
        fix.errors.extend(f"DCAT-US 1.1 {message}" for message in validate_v11_dataset(data))
    if fix.errors:
        return ExportResult(None, fix.repairs, fix.errors)
    return ExportResult(data, fix.repairs, [])


def _v30_date(field: str, value: str | None, fix: _Repairs) -> str | None:
    """DCAT-US 3.0 dates: a date, an RFC 3339 date-time (with zone), a year or a year-month."""
    if not value:
        return None
    text = normalize_date(value)
    if text is None:
        fix.repairs.append(f"{field} '{value}' is not a 3.0 date; left out")
        return None
    if is_valid_date_text(text) or re.fullmatch(r"\d{4}(-\d{2})?", text):
        return text
    match = re.fullmatch(
        r"(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})(:\d{2})?(\.\d+)?(Z|[+-]\d{2}:?\d{2})?", text
    )
    if match and match[5]:
        zone = match[5] if match[5] == "Z" or ":" in match[5] else f"{match[5][:3]}:{match[5][3:]}"
        candidate = f"{match[1]}T{match[2]}{match[3] or ':00'}{match[4] or ''}{zone}"
        if is_valid_datetime_text(candidate):
            return candidate
    day = text[:10]
    # Without a time zone a datetime is not RFC 3339; the day is the part that is certain.
    fix.repairs.append(f"{field} '{value}' has no time zone; published as the date {day}")
    return day


def _v30_url(field: str, value: str | None, fix: _Repairs) -> str | None:
    return fix.value(field, value, _url)


def _v30_distribution(distribution: Distribution, index: int, fix: _Repairs) -> dict[str, Any]:
    label = f"distribution {index}"
    item: dict[str, Any] = {"@type": "Distribution"}
    conforms_to = _v30_url(f"{label} conformsTo", distribution.conforms_to, fix)
    described_by = _v30_url(f"{label} describedBy", distribution.described_by, fix)
    optional: dict[str, Any] = {
        "downloadURL": _v30_url(f"{label} downloadURL", distribution.download_url, fix),
        "accessURL": _v30_url(f"{label} accessURL", distribution.access_url, fix),
        "mediaType": normalize_media_type(distribution.media_type),
        "format": _text(distribution.format),
        "title": _text(distribution.title),
        "description": _text(distribution.description),
        "conformsTo": [{"@type": "Standard", "@id": conforms_to}] if conforms_to else None,
        "describedBy": _dictionary(described_by, distribution.described_by_type),
    }
    item.update((key, value) for key, value in optional.items() if value is not None)
    return item


def _dictionary(url: str | None, media_type: str | None) -> dict[str, Any] | None:
    if url is None:
        return None
    dictionary: dict[str, Any] = {"@type": "Distribution", "accessURL": url}
    if normalize_media_type(media_type):
        dictionary["mediaType"] = normalize_media_type(media_type)
    return dictionary


def _v30_body(record: DatasetRecord, fix: _Repairs) -> dict[str, Any]:
    identifier, title, description, keywords = _identity(record, fix)
    name, email = _contact(record, fix)
    data: dict[str, Any] = {
        "@type": "Dataset",
        "identifier": identifier,
        "title": title,
        "description": description,
        "contactPoint": {"@type": "Kind", "fn": name, "hasEmail": f"mailto:{email}"},
    }
    publisher = None
    if _text(record.publisher_name):
        publisher = {"@type": "Organization", "name": _text(record.publisher_name)}
        if _text(record.publisher_parent_name):
            parent = {"@type": "Organization", "name": _text(record.publisher_parent_name)}
            publisher["subOrganizationOf"] = [parent]
    temporal = None
    interval = fix.value("temporal", record.temporal, normalize_temporal)
    if interval:
        start, _, end = interval.partition("/")
        start_date = _v30_date("temporal start", start, fix) if not start.startswith("P") else None
        end_date = _v30_date("temporal end", end, fix) if not end.startswith("P") else None
        period = {"startDate": start_date, "endDate": end_date}
        if start_date or end_date:
            temporal = [{"@type": "PeriodOfTime", **{k: v for k, v in period.items() if v}}]
    modified = record.modified
    if modified and modified.startswith(("R/", "P")):
        fix.repairs.append(
            f"modified '{modified}' is a duration, which 3.0 does not allow; left out"
        )
        modified = None
    landing = _v30_url("landingPage", record.landing_page, fix)
    conforms_to = _v30_url("conformsTo", record.conforms_to, fix)
    languages = []
    for tag in record.language:
        primary = tag.split("-")[0].lower()
        if len(primary) == 2:
            languages.append(primary)
        else:
            fix.repairs.append(f"language '{tag}' has no two-letter code; left out")
    references = fix.values("references", record.references, _url)
    if record.is_part_of:
        # The profile's inSeries needs a described DatasetSeries; a parent URL is still a relation.
        parent_url = _url(record.is_part_of)
        if parent_url:
            references.append(parent_url)
        else:
            fix.repairs.append(f"isPartOf '{record.is_part_of}' has no 3.0 field; not written")
    spatial = _text(record.spatial)
    periodicity = fix.value("accrualPeriodicity", record.accrual_periodicity, normalize_periodicity)
    distributions = [
        _v30_distribution(item, index, fix) for index, item in enumerate(record.distributions)
    ]
    optional: dict[str, Any] = {
        "keyword": keywords or None,
        "modified": _v30_date("modified", modified, fix),
        "issued": _v30_date("issued", record.issued, fix),
        "publisher": publisher,
        "accessRights": normalize_access_level(record.access_level),
        "rights": [_text(record.rights)] if _text(record.rights) else None,
        "license": _v30_url("license", record.license, fix),
        "spatial": [{"@type": "Location", "prefLabel": spatial}] if spatial else None,
        "temporal": temporal,
        "accrualPeriodicity": periodicity,
        "conformsTo": [{"@type": "Standard", "@id": conforms_to}] if conforms_to else None,
        "describedBy": _dictionary(
            _v30_url("describedBy", record.described_by, fix), record.described_by_type
        ),
        "language": list(dict.fromkeys(languages)) or None,
        "landingPage": {"@type": "Document", "title": title, "accessURL": landing}
        if landing
        else None,
        "relation": references or None,
        "theme": [theme for theme in (_text(t) for t in record.themes) if theme] or None,
        "distribution": distributions or None,
    }
    data.update((key, value) for key, value in optional.items() if value is not None)
    return data


def dataset_to_v30(record: DatasetRecord, *, check: bool = True) -> ExportResult:
    """Export one record as a DCAT-US 3.0 Dataset object.

    1.1 fields without a 3.0 home in this profile (bureauCode, programCode, dataQuality,
    systemOfRecords) are not written; references and an isPartOf URL become `relation`, and
    accessLevel becomes `accessRights`.

    Args:
        record: the listing.
        check: also validate the result against the 3.0 Dataset definition.

    Returns:
        The dataset object and the repairs made, or None and the reasons it was left out.
    """
    fix = _Repairs()
    data = _v30_body(record, fix)
    if not fix.errors and check:
        fix.errors.extend(f"DCAT-US 3.0 {message}" for message in validate_v30_dataset(data))
    if fix.errors:
        return ExportResult(None, fix.repairs, fix.errors)
    return ExportResult(data, fix.repairs, [])


def _catalog_head(version: str, catalog_id: str | None, title: str | None) -> dict[str, Any]:
    if version == "1.1":
        head: dict[str, Any] = {"@context": V11_CONTEXT, "@type": "dcat:Catalog"}
        if catalog_id:
            head["@id"] = catalog_id
        head.update(conformsTo=V11_CONFORMS_TO, describedBy=V11_DESCRIBED_BY)
        return head
    if version == "3.0":
        head = {"@type": "Catalog"}
        if catalog_id:
            head["@id"] = catalog_id
        if title:
            head["title"] = title
        head["conformsTo"] = V30_CONFORMS_TO
        return head
    raise ValueError(f"unknown DCAT-US version {version!r}; use '1.1' or '3.0'")


def stream_catalog(
    records: Iterable[DatasetRecord],
    *,
    version: str = "1.1",
    catalog_id: str | None = None,
    title: str | None = None,
    on_skip: Callable[[DatasetRecord, ExportResult], None] | None = None,
) -> Iterator[str]:
    """Yield a whole DCAT-US catalog as JSON text chunks (about 64 KB each), one record at a time.

    Memory stays flat however many records there are: nothing but the current chunk is held.
    Records are not schema-checked one by one (that would triple the time for 100,000
    listings); their construction is.

    Args:
        records: the listings to publish, in the order to publish them.
        version: "1.1" (data.json) or "3.0".
        catalog_id: the catalog's own URL, written as "@id".
        title: the catalog title (3.0 only; 1.1 has no catalog title).
        on_skip: called with each record left out and its `ExportResult` (for the report).

    Yields:
        Pieces of UTF-8 JSON text that concatenate to one catalog object.
    """
    convert = dataset_to_v11 if version == "1.1" else dataset_to_v30
    head = json.dumps(_catalog_head(version, catalog_id, title), ensure_ascii=False)
    parts = [head[:-1] + ', "dataset": [']
    size = len(parts[0])
    separator = ""
    for record in records:
        result = convert(record, check=False)
        if result.data is None:
            if on_skip is not None:
                on_skip(record, result)
            continue
        text = separator + _json_text(result.data)
        separator = ",\n"
        parts.append(text)
        size += len(text)
        if size >= _CHUNK_SIZE:
            yield "".join(parts)
            parts, size = [], 0
    parts.append("]}\n")
    yield "".join(parts)
