"""The official DCAT-US 1.1 and 3.0 JSON Schemas, loaded from the package and compiled once.

References resolve through a local `referencing.Registry`, so validation never touches the
network. Formats (uri, iri, date, date-time) are checked with this module's own rules because
jsonschema skips them silently when optional packages are missing.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft202012Validator, FormatChecker
from jsonschema.protocols import Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from marketplace.dcat.fields import is_valid_date_text, is_valid_datetime_text

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "dcat-us"
V11_CONFORMS_TO = "https://project-open-data.cio.gov/v1.1/schema"
V11_CONTEXT = "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld"
V11_DESCRIBED_BY = "https://project-open-data.cio.gov/v1.1/schema/catalog.json"
V30_BASE = "https://resources.data.gov/dcat-us/3.0.0/definitions/"

# RFC 3986/3987 absolute reference: a scheme, then no blanks or characters URIs never contain.
_ABSOLUTE_URI_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")
_MAX_MESSAGE = 160


def _format_checker() -> FormatChecker:
    checker = FormatChecker(formats=())
    absolute = _ABSOLUTE_URI_RE.match
    checker.checks("uri")(lambda value: not isinstance(value, str) or bool(absolute(value)))
    checker.checks("iri")(lambda value: not isinstance(value, str) or bool(absolute(value)))
    checker.checks("date")(lambda value: not isinstance(value, str) or is_valid_date_text(value))
    checker.checks("date-time")(
        lambda value: not isinstance(value, str) or is_valid_datetime_text(value)
    )
    return checker


def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


@cache
def _v11_validators() -> tuple[Validator, Validator]:
    schemas = {path.stem: _load(path) for path in (SCHEMA_DIR / "v1.1").glob("*.json")}
    registry = Registry().with_resources(
        (schema["id"].rstrip("#"), Resource.from_contents(schema, default_specification=DRAFT4))
        for schema in schemas.values()
    )
    checker = _format_checker()
    dataset = Draft4Validator(schemas["dataset"], registry=registry, format_checker=checker)
    catalog = Draft4Validator(schemas["catalog"], registry=registry, format_checker=checker)
    return dataset, catalog


@cache
def _v30_validators() -> tuple[Validator, Validator]:
    schemas = {path.stem: _load(path) for path in (SCHEMA_DIR / "v3.0").glob("*.json")}
    registry = Registry().with_resources(
        (schema["$id"], Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema in schemas.values()
    )
    checker = _format_checker()
    dataset = Draft202012Validator(schemas["Dataset"], registry=registry, format_checker=checker)
    catalog = Draft202012Validator(schemas["Catalog"], registry=registry, format_checker=checker)
    return dataset, catalog


def _messages(validator: Validator, instance: object) -> list[str]:
    messages = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path)):
        path = ".".join(str(part) for part in error.absolute_path) or "(root)"
        message = error.message
        if len(message) > _MAX_MESSAGE:
            message = message[: _MAX_MESSAGE - 1] + "…"
        messages.append(f"{path}: {message}")
    return messages


def validate_v11_dataset(data: object) -> list[str]:
    """Check one dataset object against the official DCAT-US 1.1 dataset schema.

    Returns:
        One "path: message" line per schema error; empty when valid.
    """
    return _messages(_v11_validators()[0], data)


def validate_v11_catalog(data: object) -> list[str]:
    """Check a whole DCAT-US 1.1 catalog (catalog.json with every dataset through its $ref)."""
    return _messages(_v11_validators()[1], data)


def validate_v30_dataset(data: object) -> list[str]:
    """Check one dataset object against the DCAT-US 3.0 Dataset definition."""
    return _messages(_v30_validators()[0], data)


def validate_v30_catalog(data: object) -> list[str]:
    """Check a whole DCAT-US 3.0 catalog against definitions/Catalog.json."""
    return _messages(_v30_validators()[1], data)


def is_valid_v11_dataset(data: object) -> bool:
    """The fast yes/no form of `validate_v11_dataset` (no messages are built)."""
    return _v11_validators()[0].is_valid(data)
