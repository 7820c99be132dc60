"""Reading data.json files: recognise the catalog, then turn each dataset into a `DatasetRecord`.

A careful harvester refuses a file only when it is not a catalog at all (`CatalogError`), rejects a
dataset only when it cannot be a listing (no usable identifier or title), and imports everything
else with warnings: the schema errors of the source plus a note for every value it normalised or
could not read. Values it could not read are kept verbatim in `extras`, so nothing is lost.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from marketplace.dcat.fields import (
    clean_text,
    normalize_access_level,
    normalize_bureau_code,
    normalize_date,
    normalize_email,
    normalize_language,
    normalize_media_type,
    normalize_modified,
    normalize_periodicity,
    normalize_program_code,
    normalize_temporal,
    normalize_url,
)
from marketplace.dcat.records import (
    CatalogError,
    DatasetRecord,
    Distribution,
    HarvestResult,
    ParsedCatalog,
)
from marketplace.dcat.schemas import validate_v11_dataset, validate_v30_dataset
from marketplace.hhs import DIVISIONS

_V11_KEYS = frozenset(
    {
        "@type",
        "title",
        "description",
        "keyword",
        "modified",
        "publisher",
        "contactPoint",
        "identifier",
        "accessLevel",
        "bureauCode",
        "programCode",
        "license",
        "rights",
        "spatial",
        "temporal",
        "distribution",
        "accrualPeriodicity",
        "conformsTo",
        "describedBy",
        "describedByType",
        "dataQuality",
        "isPartOf",
        "issued",
        "language",
        "landingPage",
        "references",
        "systemOfRecords",
        "theme",
    }
)
# The keys of JSON error bodies web servers and API gateways send instead of the file.
_ERROR_BODY_KEYS = frozenset(
    {
        "error",
        "errors",
        "message",
        "status",
        "statusCode",
        "code",
        "detail",
        "title",
        "type",
        "timestamp",
        "path",
    }
)
_HTML_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_V30_NESTED = (
    ("datasetSeries", ("seriesMember", "first", "last")),
    ("service", ("servesDataset",)),
)

# HHS bureau codes by division acronym or name, for sources that wrote "CDC" as a bureau code.
BUREAU_CODES_BY_NAME: dict[str, str] = {}
for _division in DIVISIONS:
    for _name in (_division.code, _division.name, *_division.aliases):
        BUREAU_CODES_BY_NAME.setdefault(_name.casefold(), _division.bureau_code)


def _kind(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return {"list": "list", "dict": "object"}.get(type(value).__name__, type(value).__name__)


def _shorten(value: object, limit: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def parse_catalog(data: bytes) -> ParsedCatalog:
    """Recognise a data.json file and list its datasets.

    Args:
        data: the file's bytes exactly as downloaded or uploaded.

    Returns:
        The version ("1.1" or "3.0"), the declared `conformsTo`, the raw dataset objects in
        source order (3.0: also those nested in sub-catalogs, series and services, once per
        identifier) and catalog-level warnings.

    Raises:
        CatalogError: the file is empty, not UTF-8, an HTML page, not JSON, an HTTP error body, a
            DCAT-US 1.0 bare array, or JSON that is not a catalog. Nothing should be imported.
    """
    if not data.strip():
        raise CatalogError("The file is empty: the server returned no catalog.", "empty")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"The file is not UTF-8 text (undecodable byte at position {exc.start}): "
            "a data.json catalog must be UTF-8 JSON.",
            "encoding",
        ) from exc
    stripped = text.lstrip()
    if stripped.startswith("<"):
        match = _HTML_TITLE_RE.search(stripped)
        title = f" titled '{_shorten(' '.join(match[1].split()))}'" if match else ""
        raise CatalogError(
            f"The file is an HTML page{title}, not a JSON catalog: the server probably returned "
            "an error or sign-in page instead of its data.json.",
            "html",
        )
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"The file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}): "
            "the publisher's data.json has a syntax error.",
            "syntax",
        ) from exc
    if isinstance(document, list):
        return _refuse_array(document)
    if not isinstance(document, dict):
        raise CatalogError(
            f"The file is valid JSON but not a DCAT-US catalog: it is a single "
            f'{type(document).__name__} value, not an object with a "dataset" list.',
            "not_a_catalog",
        )
    return _parse_catalog_object(document)


def _refuse_array(document: list[Any]) -> ParsedCatalog:
    if (
        document
        and all(isinstance(item, dict) for item in document)
        and any("title" in item or "identifier" in item for item in document)
    ):
        raise CatalogError(
            f"The file is a bare JSON array of {len(document)} datasets: the retired DCAT-US 1.0 "
            "(Project Open Data 1.0) format. Ask the publisher for a DCAT-US 1.1 catalog, an "
            'object with "conformsTo": "https://project-open-data.cio.gov/v1.1/schema" and a '
            '"dataset" list.',
            "legacy_v1_0",
        )
    raise CatalogError(
        f"The file is valid JSON but not a DCAT-US catalog: a list of {len(document)} items "
        'instead of an object with a "dataset" list.',
        "not_a_catalog",
    )


def _looks_like_error_body(document: dict[str, Any]) -> bool:
    if "dataset" in document or not document.keys() <= _ERROR_BODY_KEYS:
        return False
    status = document.get("status", document.get("statusCode", document.get("code")))
    has_status = isinstance(status, int) and status >= 400
    return has_status or "error" in document or "errors" in document


def _parse_catalog_object(document: dict[str, Any]) -> ParsedCatalog:
    if _looks_like_error_body(document):
        status = document.get("status", document.get("statusCode", document.get("code")))
        message = document.get("message") or document.get("error") or document.get("detail")
        status_text = f"status {status}" if status is not None else "an error"
        detail = f": {_shorten(message)}" if isinstance(message, str) else ""
        raise CatalogError(
            f"The file is an HTTP error response ({status_text}{detail}), not a catalog: the "
            "server failed to produce its data.json. Try the harvest again later.",
            "http_error",
        )
    conforms_to = document.get("conformsTo")
    is_v30 = document.get("@type") == "Catalog" or (
        isinstance(conforms_to, dict) and "3" in str(conforms_to.get("title", ""))
    )
    if is_v30:
        return _parse_v30(document, conforms_to)
    datasets = document.get("dataset")
    if datasets is None:
        keys = ", ".join(sorted(document)[:8]) or "none"
        raise CatalogError(
            "The file is valid JSON but not a DCAT-US catalog: an object without a "
            f'"dataset" list (its keys: {keys}).',
            "not_a_catalog",
        )
    if not isinstance(datasets, list):
        raise CatalogError(
            f'The file is not a usable catalog: "dataset" is a {type(datasets).__name__}, '
            "not a list.",
            "not_a_catalog",
        )
    warnings = []
    declared = conforms_to if isinstance(conforms_to, str) else None
    if declared is None:
        warnings.append("The catalog has no conformsTo; it was read as DCAT-US 1.1.")
    elif "v1.1" not in declared:
        warnings.append(f"The catalog conforms to '{_shorten(declared)}'; it was read as 1.1.")
    if document.get("@type") not in (None, "dcat:Catalog"):
        warnings.append(
            f"The catalog's @type is '{_shorten(document['@type'])}', not dcat:Catalog."
        )
    if not datasets:
        warnings.append(
            "The catalog lists no datasets; importing it would withdraw every listing of this "
            "source."
        )
    return ParsedCatalog("1.1", declared, tuple(datasets), tuple(warnings))


def _v30_catalog_objects(catalog: dict[str, Any], key: str) -> list[Any]:
    found = list(catalog.get(key) or [])
    for sub_catalog in catalog.get("catalog") or []:
        if isinstance(sub_catalog, dict):
            found.extend(_v30_catalog_objects(sub_catalog, key))
    return found


def _parse_v30(document: dict[str, Any], conforms_to: object) -> ParsedCatalog:
    datasets: list[Any] = _v30_catalog_objects(document, "dataset")
    seen = {_identifier_of(item) for item in datasets if isinstance(item, dict)}
    # Series members and served datasets are datasets too; one listed twice (top level and as a
    # member, or as "first" and in "seriesMember") is one dataset, as in GSA's harvester.
    for key, fields in _V30_NESTED:
        for parent in _v30_catalog_objects(document, key):
            if not isinstance(parent, dict):
                continue
            for field in fields:
                value = parent.get(field)
                for item in value if isinstance(value, list) else [value]:
                    identifier = _identifier_of(item) if isinstance(item, dict) else None
                    if identifier is None or identifier in seen:
                        continue
                    seen.add(identifier)
                    datasets.append(item)
    title = conforms_to.get("title") if isinstance(conforms_to, dict) else None
    warnings = () if datasets else ("The catalog lists no datasets.",)
    return ParsedCatalog("3.0", title, tuple(datasets), warnings)


def _identifier_of(raw: dict[str, Any]) -> str | None:
    value = raw.get("identifier")
    if isinstance(value, dict):
        value = value.get("@id")
    if isinstance(value, str) and value.strip():
        return value.strip()
    return None


def find_duplicate_identifiers(raw_datasets: Iterable[Any]) -> dict[str, int]:
    """Identifiers used by more than one dataset of a catalog, with how many datasets use each.

    The harvester keeps the first dataset with an identifier and reports the others, as
    GSA's datagov-harvester does; comparing is exact after trimming blanks.
    """
    counts = Counter(
        identifier
        for raw in raw_datasets
        if isinstance(raw, dict) and (identifier := _identifier_of(raw)) is not None
    )
    return {identifier: count for identifier, count in counts.items() if count > 1}


def _identity_errors(raw: dict[str, Any]) -> list[str]:
    errors = []
    identifier = raw.get("identifier")
    if isinstance(identifier, dict) and _identifier_of(raw) is None:
        errors.append("identifier is an object without an '@id', so the dataset cannot be tracked")
    elif identifier is None or (isinstance(identifier, str) and not identifier.strip()):
        errors.append("identifier is missing, so the dataset cannot be tracked between harvests")
    elif not isinstance(identifier, str | dict):
        errors.append(f"identifier is a {_kind(identifier)} ({_shorten(identifier)}), not text")
    title = raw.get("title")
    if title is None or (isinstance(title, str) and not clean_text(title)):
        errors.append("title is missing, so the dataset cannot be listed")
    elif not isinstance(title, str):
        errors.append(f"title is a {_kind(title)} ({_shorten(title)}), not text")
    return errors


def harvest_dataset(raw: object, version: str = "1.1") -> HarvestResult:
    """Validate one source dataset and read it into a `DatasetRecord`.

    Args:
        raw: one entry of `ParsedCatalog.datasets`.
        version: the catalog's version, "1.1" or "3.0".

    Returns:
        A record with warnings (schema errors of the source and every normalisation), or no
        record and the reasons when the dataset has no usable identifier or title.
    """
    if not isinstance(raw, dict):
        return HarvestResult(None, [f"the dataset is a {type(raw).__name__}, not an object"], [])
    errors = _identity_errors(raw)
    if version == "3.0":
        schema_warnings = validate_v30_dataset(raw)
        source = _v30_to_v11_shape(raw)
    else:
        schema_warnings = validate_v11_dataset(raw)
        source = raw
    label = f"DCAT-US {version}"
    warnings = [f"{label} {message}" for message in schema_warnings]
    if errors:
        return HarvestResult(None, errors, warnings)
    reader = _Reader(source)
    record = reader.record()
    return HarvestResult(record, [], warnings + reader.notes)


class _Reader:
    """Reads one 1.1-shaped dataset, collecting a note for each value it changed or dropped."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.notes: list[str] = []
        self.extras: dict[str, Any] = {
            key: value for key, value in raw.items() if key not in _V11_KEYS
        }

    def text(self, value: object, field: str) -> str | None:
        if value is not None and not isinstance(value, str):
            self.notes.append(f"{field} is not text ({_shorten(value)}); left out")
            return None
        cleaned = clean_text(value)
        if cleaned and value and "&" in value and html.unescape(value) != value:
            self.notes.append(f"{field}: HTML entities decoded ('{_shorten(value)}')")
        return cleaned

    def plain(self, key: str) -> str | None:
        value = self.raw.get(key)
        if isinstance(value, str):
            return value.strip() or None
        if value is not None:
            self.keep(key, f"{key} is not text ({_shorten(value)})")
        return None

    def keep(self, key: str, note: str) -> None:
        self.notes.append(f"{note}; kept aside, not published")
        self.extras[key] = self.raw.get(key)

    def normalized(
        self, key: str, normalize: Callable[[object], str | None], what: str
    ) -> str | None:
        value = self.raw.get(key)
        if value is None or value == "":
            return None
        result = normalize(value)
        if result is None:
            self.keep(key, f"{key} '{_shorten(value)}' is not {what}")
        elif result != value:
            self.notes.append(f"{key} '{_shorten(value)}' read as '{result}'")
        return result

    def strings(self, key: str, *, split: str | None = None) -> list[str]:
        value = self.raw.get(key)
        if value is None:
            return []
        if isinstance(value, str):
            parts = value.split(split) if split else [value]
            if split and len(parts) > 1:
                self.notes.append(f"{key} is one text, not a list; split at '{split}'")
            return [part for part in parts if part.strip()]
        if isinstance(value, list):
            kept = [item for item in value if isinstance(item, str) and item.strip()]
            if len(kept) != len(value):
                self.notes.append(
                    f"{key}: {len(value) - len(kept)} empty or non-text entries dropped"
                )
            return kept
        self.keep(key, f"{key} is a {type(value).__name__}, not a list")
        return []

    def codes(self, key: str, normalize: Callable[[object], str | None]) -> tuple[str, ...]:
        found: list[str] = []
        for value in self.strings(key, split=","):
            code = normalize(value)
            if code is None and normalize is normalize_bureau_code:
                code = BUREAU_CODES_BY_NAME.get(value.strip().casefold())
            if code is None:
                self.notes.append(f"{key} '{_shorten(value)}' is not a valid code; left out")
                self.extras.setdefault(key, self.raw.get(key))
            elif code != value:
                self.notes.append(f"{key} '{_shorten(value)}' read as '{code}'")
            if code and code not in found:
                found.append(code)
        return tuple(found)

    def urls(self, key: str) -> tuple[str, ...]:
        found: list[str] = []
        for value in self.strings(key):
            # Some catalogs put several references in one string, separated by ";" or blanks.
            for part in re.split(r"\s*;\s*|\s+(?=https?://)", value.strip()):
                url = normalize_url(part)
                if url is None:
                    self.notes.append(f"{key} '{_shorten(part)}' is not a URL; kept aside")
                    self.extras.setdefault(key, self.raw.get(key))
                elif url not in found:
                    found.append(url)
        return tuple(found)

    def names(self, key: str) -> tuple[str, ...]:
        found: list[str] = []
        for value in self.strings(key, split="," if key == "keyword" else None):
            cleaned = self.text(value, key)
            if cleaned and cleaned not in found:
                found.append(cleaned)
        return tuple(found)

    def publisher(self) -> tuple[str | None, str | None]:
        publisher = self.raw.get("publisher")
        if isinstance(publisher, str):
            return self.text(publisher, "publisher"), None
        if not isinstance(publisher, dict):
            if publisher is not None:
                self.keep("publisher", "publisher is not an organization")
            return None, None
        parent = publisher.get("subOrganizationOf")
        parent_name = parent.get("name") if isinstance(parent, dict) else None
        return (
            self.text(publisher.get("name"), "publisher.name"),
            self.text(parent_name, "publisher.subOrganizationOf.name"),
        )

    def contact(self) -> tuple[str | None, str | None]:
        contact = self.raw.get("contactPoint")
        if not isinstance(contact, dict):
            if contact is not None:
                self.keep("contactPoint", "contactPoint is not a vCard object")
            return None, None
        name = self.text(contact.get("fn"), "contactPoint.fn")
        raw_email = contact.get("hasEmail")
        email = normalize_email(raw_email)
        if raw_email and email is None:
            self.keep(
                "contactPoint", f"contactPoint.hasEmail '{_shorten(raw_email)}' is not an e-mail"
            )
        elif isinstance(raw_email, str) and not raw_email.startswith("mailto:"):
            self.notes.append(f"contactPoint.hasEmail '{_shorten(raw_email)}' lacks 'mailto:'")
        if email is None and name and normalize_email(name):
            email = normalize_email(name)
            self.notes.append("contactPoint.hasEmail taken from fn, which is an e-mail address")
        return name, email

    def spatial(self) -> str | None:
        value = self.raw.get("spatial")
        if isinstance(value, dict | list):
            self.notes.append("spatial is a GeoJSON object; kept as its JSON text")
            return json.dumps(value, separators=(",", ":"))
        return self.plain("spatial")

    def data_quality(self) -> bool | None:
        value = self.raw.get("dataQuality")
        if isinstance(value, str) and value.strip().lower() in ("true", "false"):
            self.notes.append(f"dataQuality '{value}' read as a boolean")
            return value.strip().lower() == "true"
        if value is not None and not isinstance(value, bool):
            self.keep("dataQuality", f"dataQuality '{_shorten(value)}' is not true or false")
            return None
        return value

    def distributions(self) -> tuple[Distribution, ...]:
        value = self.raw.get("distribution")
        if isinstance(value, dict):
            value = [value]
        if not isinstance(value, list):
            if value is not None:
                self.keep("distribution", "distribution is not a list")
            return ()
        found = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                self.notes.append(f"distribution {index} is not an object; left out")
                continue
            reader = _Reader(item)
            distribution = Distribution(
                download_url=reader.normalized("downloadURL", normalize_url, "a URL"),
                access_url=reader.normalized("accessURL", normalize_url, "a URL"),
                media_type=reader.normalized("mediaType", normalize_media_type, "a media type"),
                format=reader.plain("format"),
                title=reader.text(item.get("title"), "title"),
                description=reader.plain("description"),
                conforms_to=reader.normalized("conformsTo", normalize_url, "a URL"),
                described_by=reader.normalized("describedBy", normalize_url, "a URL"),
                described_by_type=reader.normalized(
                    "describedByType", normalize_media_type, "a media type"
                ),
            )
            self.notes.extend(f"distribution {index}: {note}" for note in reader.notes)
            if distribution.download_url is None and distribution.access_url is None:
                self.notes.append(f"distribution {index} has no usable URL; left out")
                continue
            found.append(distribution)
        return tuple(found)

    def record(self) -> DatasetRecord:
        raw = self.raw
        publisher_name, parent_name = self.publisher()
        contact_name, contact_email = self.contact()
        description = raw.get("description")
        keywords = self.names("keyword")
        if not keywords:
            self.notes.append("keyword is missing")
        record = DatasetRecord(
            identifier=_identifier_of(raw) or "",
            title=self.text(raw.get("title"), "title") or "",
            description=description.strip() if isinstance(description, str) else "",
            keywords=keywords,
            modified=self.normalized("modified", normalize_modified, "an ISO 8601 date"),
            issued=self.normalized("issued", normalize_date, "an ISO 8601 date"),
            publisher_name=publisher_name,
            publisher_parent_name=parent_name,
            contact_name=contact_name,
            contact_email=contact_email,
            access_level=self.normalized("accessLevel", normalize_access_level, "an access level"),
            rights=self.plain("rights"),
            bureau_codes=self.codes("bureauCode", normalize_bureau_code),
            program_codes=self.codes("programCode", normalize_program_code),
            license=self.normalized("license", normalize_url, "a URL"),
            spatial=self.spatial(),
            temporal=self.normalized("temporal", normalize_temporal, "an ISO 8601 interval"),
            accrual_periodicity=self.normalized(
                "accrualPeriodicity", normalize_periodicity, "an ISO 8601 frequency"
            ),
            conforms_to=self.normalized("conformsTo", normalize_url, "a URL"),
            described_by=self.normalized("describedBy", normalize_url, "a URL"),
            described_by_type=self.normalized(
                "describedByType", normalize_media_type, "a media type"
            ),
            data_quality=self.data_quality(),
            is_part_of=self.plain("isPartOf"),
            language=self._languages(),
            landing_page=self.normalized("landingPage", normalize_url, "a URL"),
            references=self.urls("references"),
            system_of_records=self.plain("systemOfRecords"),
            themes=self.names("theme"),
            distributions=self.distributions(),
            extras=self.extras,
        )
        if not record.description:
            self.notes.append("description is missing")
        if record.modified is None and "modified" not in self.extras:
            self.notes.append("modified is missing")
        return record

    def _languages(self) -> tuple[str, ...]:
        found: list[str] = []
        for value in self.strings("language", split=","):
            tag = normalize_language(value)
            if tag is None:
                self.notes.append(f"language '{_shorten(value)}' is not a language tag; left out")
                self.extras.setdefault("language", self.raw.get("language"))
            else:
                if tag != value:
                    self.notes.append(f"language '{_shorten(value)}' read as '{tag}'")
                if tag not in found:
                    found.append(tag)
        return tuple(found)


def _first(value: object) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


def _url_of(value: object) -> Any:
    """The URL of a 3.0 Document, Distribution or Standard object (or the value itself)."""
    value = _first(value)
    if isinstance(value, dict):
        return value.get("@id") or value.get("accessURL") or value.get("downloadURL")
    return value


def _label_of(value: object) -> Any:
    if isinstance(value, dict):
        return value.get("prefLabel") or value.get("title") or value.get("@id")
    return value


def _date_of(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _v30_to_v11_shape(raw: dict[str, Any]) -> dict[str, Any]:
    """Rename a DCAT-US 3.0 dataset's fields to their 1.1 equivalents, so one reader serves both."""
    shaped = dict(raw)
    shaped.pop("@type", None)
    identifier = raw.get("identifier")
    if isinstance(identifier, dict):
        shaped["identifier"] = identifier.get("@id")
    contact = _first(raw.get("contactPoint"))
    shaped["contactPoint"] = contact
    publisher = raw.get("publisher")
    if isinstance(publisher, dict):
        shaped["publisher"] = {
            **publisher,
            "subOrganizationOf": _first(publisher.get("subOrganizationOf")),
        }
    access = raw.get("accessRights")
    if isinstance(access, str) and normalize_access_level(access):
        shaped["accessLevel"] = normalize_access_level(access)
    rights = raw.get("rights")
    if isinstance(rights, list):
        shaped["rights"] = "; ".join(item for item in rights if isinstance(item, str)) or None
    spatial = _first(raw.get("spatial"))
    if isinstance(spatial, dict):
        shaped["spatial"] = (
            spatial.get("prefLabel") or spatial.get("bbox") or spatial.get("geometry")
        )
    temporal = _first(raw.get("temporal"))
    if isinstance(temporal, dict):
        start, end = _date_of(temporal.get("startDate")), _date_of(temporal.get("endDate"))
        shaped["temporal"] = f"{start}/{end}" if start and end else None
    for key in ("conformsTo", "landingPage"):
        shaped[key] = _url_of(raw.get(key))
    described = raw.get("describedBy")
    if isinstance(described, dict):
        shaped["describedBy"] = _url_of(described)
        shaped["describedByType"] = described.get("mediaType")
    if isinstance(raw.get("theme"), list):
        shaped["theme"] = [_label_of(item) for item in raw["theme"]]
    series = _first(raw.get("inSeries"))
    if series is not None:
        shaped["isPartOf"] = _label_of(series) if isinstance(series, dict) else series
    shaped.pop("accessRights", None)
    shaped.pop("inSeries", None)
    distributions = raw.get("distribution")
    if isinstance(distributions, list):
        shaped["distribution"] = [
            {
                **item,
                "conformsTo": _url_of(item.get("conformsTo")),
                "describedBy": _url_of(item.get("describedBy")),
            }
            if isinstance(item, dict)
            else item
            for item in distributions
        ]
    return shaped
