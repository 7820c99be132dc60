"""DCAT-US for the marketplace: harvest data.json, validate and repair, publish 1.1 and 3.0.

Pure: no web framework, database, clock or network. The schemas ship in
`marketplace/schemas/dcat-us/`.
"""

from marketplace.dcat.export import dataset_to_v11, dataset_to_v30, stream_catalog
from marketplace.dcat.fields import (
    ACCESS_LEVELS,
    cross_field_errors,
    normalize_date,
    normalize_email,
    normalize_periodicity,
    normalize_temporal,
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
from marketplace.dcat.harvest import find_duplicate_identifiers, harvest_dataset, parse_catalog
from marketplace.dcat.listing import completeness, json_ld_script_text, schema_org_dataset
from marketplace.dcat.records import (
    CatalogError,
    ChecklistItem,
    Completeness,
    DatasetRecord,
    Distribution,
    ExportResult,
    HarvestResult,
    ParsedCatalog,
)
from marketplace.dcat.schemas import (
    validate_v11_catalog,
    validate_v11_dataset,
    validate_v30_catalog,
    validate_v30_dataset,
)

__all__ = [
    "ACCESS_LEVELS",
    "CatalogError",
    "ChecklistItem",
    "Completeness",
    "DatasetRecord",
    "Distribution",
    "ExportResult",
    "HarvestResult",
    "ParsedCatalog",
    "completeness",
    "cross_field_errors",
    "dataset_to_v11",
    "dataset_to_v30",
    "find_duplicate_identifiers",
    "harvest_dataset",
    "json_ld_script_text",
    "normalize_date",
    "normalize_email",
    "normalize_periodicity",
    "normalize_temporal",
    "parse_catalog",
    "schema_org_dataset",
    "stream_catalog",
    "validate_access_level",
    "validate_accrual_periodicity",
    "validate_bureau_code",
    "validate_email",
    "validate_iso_date",
    "validate_language",
    "validate_media_type",
    "validate_program_code",
    "validate_temporal",
    "validate_url",
    "validate_v11_catalog",
    "validate_v11_dataset",
    "validate_v30_catalog",
    "validate_v30_dataset",
]
