"""Listing metadata as stored JSON, and readable differences between two versions. Pure."""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.dcat import DatasetRecord, Distribution

_DISTRIBUTION_FIELDS = {f.name for f in dataclasses.fields(Distribution)}
_RECORD_FIELDS = {f.name for f in dataclasses.fields(DatasetRecord)}


def record_to_json(record: DatasetRecord) -> dict[str, Any]:
    """A JSON-serialisable dict of the record (tuples become lists)."""
    data = dataclasses.asdict(record)
    data["extras"] = dict(record.extras)
    return json.loads(json.dumps(data, default=str))


def record_from_json(data: Mapping[str, Any]) -> DatasetRecord:
    """The record stored by record_to_json; unknown keys are ignored, missing ones default."""
    values: dict[str, Any] = {}
    for name in _RECORD_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "distributions":
            value = tuple(
                Distribution(**{k: v for k, v in item.items() if k in _DISTRIBUTION_FIELDS})
                for item in value or ()
            )
        elif isinstance(value, list):
            value = tuple(value)
        values[name] = value
    values.setdefault("identifier", "")
    values.setdefault("title", "")
    return DatasetRecord(**values)


def content_hash(record_json: Mapping[str, Any], details: Mapping[str, Any]) -> str:
    """A stable fingerprint of a listing's content, to tell an unchanged re-harvest cheaply."""
    payload = json.dumps({"record": record_json, "details": details}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


# Field names shown in the history, in display order.
FIELD_LABELS: dict[str, str] = {
    "title": "Title",
    "description": "Description",
    "keywords": "Keywords",
    "themes": "Themes",
    "access_level": "Access level",
    "rights": "Rights",
    "license": "Licence",
    "publisher_name": "Publisher",
    "contact_name": "Contact name",
    "contact_email": "Contact e-mail",
    "bureau_codes": "Bureau codes",
    "program_codes": "Program codes",
    "modified": "Modified",
    "issued": "Issued",
    "temporal": "Temporal coverage",
    "spatial": "Spatial coverage",
    "accrual_periodicity": "Update frequency",
    "landing_page": "Landing page",
    "language": "Language",
    "references": "References",
    "conforms_to": "Conforms to",
    "described_by": "Data dictionary",
    "described_by_type": "Data dictionary type",
    "data_quality": "Meets quality guidelines",
    "is_part_of": "Part of",
    "system_of_records": "System of records",
    "distributions": "Distributions",
    "kind": "Kind",
    "status": "Status",
    "division": "Division",
    "details": "Kind-specific details",
}


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between two versions; `diff` marks word-level changes."""

    field: str
    label: str
    before: str
    after: str
    diff: tuple[tuple[str, str], ...]  # ("equal" | "insert" | "delete", text)


def _display(value: Any) -> str:
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join("; ".join(f"{k}: {v}" for k, v in item.items() if v) for item in value)
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items() if v not in (None, "", []))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def diff_snapshots(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[FieldChange]:
    """The fields that changed between two snapshots, with a word-level diff of each.

    Args:
        before, after: snapshots as stored in listing versions ({"record": {...}, "kind": ...}).
    """
    flat_before = _flatten(before)
    flat_after = _flatten(after)
    changes = []
    for name, label in FIELD_LABELS.items():
        old, new = _display(flat_before.get(name)), _display(flat_after.get(name))
        if old == new:
            continue
        changes.append(FieldChange(name, label, old, new, tuple(_word_diff(old, new))))
    return changes


def _flatten(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    flat = dict(snapshot.get("record", {}))
    for key in ("kind", "status", "division", "details"):
        if key in snapshot:
            flat[key] = snapshot[key]
    return flat


def _word_diff(old: str, new: str) -> list[tuple[str, str]]:
    old_words, new_words = old.split(" "), new.split(" ")
    result: list[tuple[str, str]] = []
    matcher = difflib.SequenceMatcher(a=old_words, b=new_words, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.append(("equal", " ".join(old_words[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            result.append(("delete", " ".join(old_words[i1:i2])))
        if tag in ("insert", "replace"):
            result.append(("insert", " ".join(new_words[j1:j2])))
    return result
