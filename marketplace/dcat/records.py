"""The plain values the DCAT-US module passes around: records, results and its one error type."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple


class CatalogError(Exception):
    """A file that cannot be read as a DCAT-US catalog at all; nothing from it may be imported.

    Attributes:
        message: a sentence a data steward can act on, naming the problem.
        kind: a stable slug for the problem ("empty", "encoding", "html", "syntax",
            "http_error", "legacy_v1_0", "not_a_catalog", "no_datasets").
    """

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Distribution:
    """One way to get the data (DCAT-US 1.1 `distribution` entry). URLs are absolute."""

    download_url: str | None = None
    access_url: str | None = None
    media_type: str | None = None
    format: str | None = None
    title: str | None = None
    description: str | None = None
    conforms_to: str | None = None
    described_by: str | None = None
    described_by_type: str | None = None


@dataclass(frozen=True)
class DatasetRecord:
    """A dataset listing in DCAT-US 1.1 terms, normalised but never enriched.

    Dates (`modified`, `issued`) are ISO 8601 strings (a date, a datetime, or for `modified` a
    repeating duration such as "R/P1D", all of which DCAT-US 1.1 allows); `temporal` is an ISO 8601
    interval "start/end"; `accrual_periodicity` is "R/P…" or "irregular". `contact_email` is a
    bare address without "mailto:". `extras` keeps unknown source fields verbatim.
    """

    identifier: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    modified: str | None = None
    issued: str | None = None
    publisher_name: str | None = None
    publisher_parent_name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    access_level: str | None = None
    rights: str | None = None
    bureau_codes: tuple[str, ...] = ()
    program_codes: tuple[str, ...] = ()
    license: str | None = None
    spatial: str | None = None
    temporal: str | None = None
    accrual_periodicity: str | None = None
    conforms_to: str | None = None
    described_by: str | None = None
    described_by_type: str | None = None
    data_quality: bool | None = None
    is_part_of: str | None = None
    language: tuple[str, ...] = ()
    landing_page: str | None = None
    references: tuple[str, ...] = ()
    system_of_records: str | None = None
    themes: tuple[str, ...] = ()
    distributions: tuple[Distribution, ...] = ()
    extras: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class ParsedCatalog:
    """A catalog file that was readable: its version and its dataset objects, in source order.

    Attributes:
        version: "1.1" or "3.0".
        conforms_to: the catalog's `conformsTo` as written (a URL for 1.1, a Standard title for
            3.0), or None when absent.
        datasets: the raw dataset objects (for 3.0 also those nested in sub-catalogs, series and
            services, once per identifier).
        warnings: catalog-level problems that did not stop the import.
    """

    version: str
    conforms_to: str | None
    datasets: tuple[Any, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class HarvestResult:
    """The outcome for one source dataset: `record` is None exactly when `errors` is not empty."""

    record: DatasetRecord | None
    errors: list[str]
    warnings: list[str]


@dataclass(frozen=True)
class ExportResult:
    """One record as a DCAT-US dataset object: `data` is None when it cannot be made valid.

    Attributes:
        data: the dataset object, valid against the target schema.
        repairs: what was changed to make it valid (for the validation report).
        errors: why it was left out, when `data` is None.
    """

    data: dict[str, Any] | None
    repairs: list[str]
    errors: list[str]


class ChecklistItem(NamedTuple):
    """One line of the steward's completeness checklist: (label, done, weight)."""

    label: str
    done: bool
    weight: int


@dataclass(frozen=True)
class Completeness:
    """How complete a listing's metadata is: `score` is 0–100, weighted by the checklist."""

    score: int
    checklist: tuple[ChecklistItem, ...]
