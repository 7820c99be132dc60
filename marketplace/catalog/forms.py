"""The publishing form: parse submitted fields into a DatasetRecord and check DCAT-US rules. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.catalog.models import ListingKind, ListingStatus
from marketplace.dcat import (
    DatasetRecord,
    Distribution,
    cross_field_errors,
    validate_access_level,
    validate_accrual_periodicity,
    validate_bureau_code,
    validate_email,
    validate_iso_date,
    validate_language,
    validate_media_type,
    validate_program_code,
    validate_temporal,
    validate_url,
)

MAX_DISTRIBUTIONS = 10
LIMITS = {"title": 300, "description": 10000, "rights": 255, "identifier": 300}
SPDX = re.compile(r"^[A-Za-z0-9.+-]+(?: (?:AND|OR|WITH) [A-Za-z0-9.+-]+)*$")


def _split(text: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(part.strip() for part in text.replace(";", ",").split(",") if part.strip())
    )


def _value(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    return str(value).strip()


# field name → (validator, message prefix); each validator returns a message or None.
FIELD_VALIDATORS = {
    "contact_email": validate_email,
    "access_level": validate_access_level,
    "bureau_codes": lambda v: next(
        (m for m in (validate_bureau_code(c) for c in _split(v)) if m), None
    ),
    "program_codes": lambda v: next(
        (m for m in (validate_program_code(c) for c in _split(v)) if m), None
    ),
    "modified": validate_iso_date,
    "issued": validate_iso_date,
    "temporal": validate_temporal,
    "accrual_periodicity": validate_accrual_periodicity,
    "landing_page": validate_url,
    "license": validate_url,
    "described_by": validate_url,
    "conforms_to": validate_url,
    "language": lambda v: next((m for m in (validate_language(c) for c in _split(v)) if m), None),
    "repository_url": validate_url,
    "endpoint_url": validate_url,
    "documentation_url": validate_url,
}


def field_error(name: str, value: str) -> str | None:
    """The message for one field as the steward types (htmx), or None when it is fine."""
    if name in LIMITS and len(value) > LIMITS[name]:
        return f"Use at most {LIMITS[name]} characters."
    if name == "title" and not value.strip():
        return "Enter a title."
    validator = FIELD_VALIDATORS.get(name)
    if validator is None or not value:
        return None
    return validator(value)


@dataclass(frozen=True)
class ParsedForm:
    kind: str
    status: str
    record: DatasetRecord
    details: dict[str, Any]
    errors: dict[str, str]
    values: dict[str, Any]


def parse_listing_form(
    data: Mapping[str, Any],
    *,
    identifier: str,
    publisher_name: str,
    publisher_parent: str,
    default_bureau: str,
) -> ParsedForm:
    """Turn the submitted form into a record, with every field error keyed by field name."""
    values = {
        name: _value(data, name)
        for name in (
            *FIELD_VALIDATORS,
            *LIMITS,
            "kind",
            "status",
            "keywords",
            "themes",
            "contact_name",
            "spatial",
            "references",
            "data_quality",
            "is_part_of",
            "system_of_records",
            "described_by_type",
            "programming_languages",
            "spdx_license",
        )
    }
    values["identifier"] = values.get("identifier") or identifier
    errors: dict[str, str] = {}
    for name in values:
        message = field_error(name, values[name])
        if message:
            errors[name] = message
    kind = values["kind"] or ListingKind.DATASET
    if kind not in ListingKind._value2member_map_:
        errors["kind"] = "Choose a kind of listing."
        kind = ListingKind.DATASET
    status = values["status"] or ListingStatus.DRAFT
    if status not in (ListingStatus.DRAFT, ListingStatus.PUBLISHED):
        errors["status"] = "Save as a draft or publish."
        status = ListingStatus.DRAFT
    if not values["description"]:
        errors["description"] = (
            "Describe the data: what it covers, its source and how it is updated."
        )
    distributions, distribution_values = _distributions(data, errors)
    values["distributions"] = distribution_values
    if values["spdx_license"] and not SPDX.match(values["spdx_license"]):
        errors["spdx_license"] = "Use an SPDX licence identifier such as MIT or Apache-2.0."
    record = DatasetRecord(
        identifier=values["identifier"],
        title=values["title"],
        description=values["description"],
        keywords=_split(values["keywords"]),
        themes=_split(values["themes"]),
        modified=values["modified"] or None,
        issued=values["issued"] or None,
        publisher_name=publisher_name,
        publisher_parent_name=publisher_parent,
        contact_name=values["contact_name"] or None,
        contact_email=values["contact_email"].removeprefix("mailto:") or None,
        access_level=values["access_level"] or "public",
        rights=values["rights"] or None,
        bureau_codes=_split(values["bureau_codes"]) or (default_bureau,),
        program_codes=_split(values["program_codes"]),
        license=values["license"] or None,
        spatial=values["spatial"] or None,
        temporal=values["temporal"] or None,
        accrual_periodicity=values["accrual_periodicity"] or None,
        conforms_to=values["conforms_to"] or None,
        described_by=values["described_by"] or None,
        described_by_type=values["described_by_type"] or None,
        data_quality={"yes": True, "no": False}.get(values["data_quality"]),
        is_part_of=values["is_part_of"] or None,
        language=_split(values["language"]),
        landing_page=values["landing_page"] or None,
        references=_split(values["references"]),
        system_of_records=values["system_of_records"] or None,
        distributions=distributions,
    )
    for key, message in cross_field_errors(record).items():
        field_name = key if not key.startswith("distributions.") else key.replace(".", "_")
        errors.setdefault(field_name, message)
    details: dict[str, Any] = {}
    if kind == ListingKind.CODE:
        details = {
            "repository_url": values["repository_url"],
            "languages": list(_split(values["programming_languages"])),
            "spdx_license": values["spdx_license"],
        }
        if not values["repository_url"]:
            errors["repository_url"] = "Give the repository's address."
    elif kind == ListingKind.API:
        details = {
            "endpoint_url": values["endpoint_url"],
            "documentation_url": values["documentation_url"],
        }
        if not values["endpoint_url"]:
            errors["endpoint_url"] = "Give the API's endpoint."
    return ParsedForm(kind, status, record, details, errors, values)


def _distributions(
    data: Mapping[str, Any], errors: dict[str, str]
) -> tuple[tuple[Distribution, ...], list[dict]]:
    result = []
    raw_rows = []
    for index in range(MAX_DISTRIBUTIONS):
        row = {
            key: _value(data, f"distributions_{index}_{key}")
            for key in (
                "title",
                "download_url",
                "access_url",
                "media_type",
                "format",
                "description",
            )
        }
        if not any(row.values()):
            continue
        raw_rows.append(row)
        for key in ("download_url", "access_url"):
            message = validate_url(row[key]) if row[key] else None
            if message:
                errors[f"distributions_{index}_{key}"] = message
        if row["media_type"]:
            message = validate_media_type(row["media_type"])
            if message:
                errors[f"distributions_{index}_media_type"] = message
        result.append(Distribution(**{k: (v or None) for k, v in row.items()}))
    return tuple(result), raw_rows


def form_values_of(
    record: DatasetRecord, kind: str, status: str, details: Mapping[str, Any]
) -> dict[str, Any]:
    """The form fields for editing an existing listing."""
    join = ", ".join
    return {
        "identifier": record.identifier,
        "title": record.title,
        "description": record.description,
        "keywords": join(record.keywords),
        "themes": join(record.themes),
        "modified": record.modified or "",
        "issued": record.issued or "",
        "contact_name": record.contact_name or "",
        "contact_email": record.contact_email or "",
        "access_level": record.access_level or "public",
        "rights": record.rights or "",
        "bureau_codes": join(record.bureau_codes),
        "program_codes": join(record.program_codes),
        "license": record.license or "",
        "spatial": record.spatial or "",
        "temporal": record.temporal or "",
        "accrual_periodicity": record.accrual_periodicity or "",
        "conforms_to": record.conforms_to or "",
        "described_by": record.described_by or "",
        "described_by_type": record.described_by_type or "",
        "data_quality": {True: "yes", False: "no"}.get(record.data_quality, ""),  # type: ignore[arg-type]
        "is_part_of": record.is_part_of or "",
        "language": join(record.language),
        "landing_page": record.landing_page or "",
        "references": join(record.references),
        "system_of_records": record.system_of_records or "",
        "kind": kind,
        "status": status,
        "repository_url": details.get("repository_url", ""),
        "programming_languages": join(details.get("languages", [])),
        "spdx_license": details.get("spdx_license", ""),
        "endpoint_url": details.get("endpoint_url", ""),
        "documentation_url": details.get("documentation_url", ""),
        "distributions": [
            {
                k: getattr(d, k) or ""
                for k in (
                    "title",
                    "download_url",
                    "access_url",
                    "media_type",
                    "format",
                    "description",
                )
            }
            for d in record.distributions
        ],
    }
