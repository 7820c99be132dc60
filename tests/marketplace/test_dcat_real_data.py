"""marketplace.dcat against real agency catalogs and data.gov harvester fixtures."""

import os
from functools import cache
from pathlib import Path

import pytest

from marketplace.dcat import (
    CatalogError,
    dataset_to_v11,
    dataset_to_v30,
    find_duplicate_identifiers,
    harvest_dataset,
    parse_catalog,
    validate_v11_catalog,
    validate_v30_catalog,
)
from marketplace.dcat.export import _catalog_head

SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
DATAJSON = SHARED_DATA / "datajson"
CK = "ckanext-datajson-samples/"
GH = "datagov-harvester-examples/"


@pytest.fixture(autouse=True)
def _require_shared_data():
    if DATAJSON.is_dir():
        return
    message = f"real DCAT-US test data not found at {DATAJSON}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message}; CI must provide ../shared/data")
    pytest.skip(f"{message} (a clone without ../shared)")


# file, version, datasets, rejected, imported with warnings, exported valid as 1.1, as 3.0.
# Left out of 1.1 are records lacking a fact 1.1 requires (keyword, description, bureauCode,
# modified, contact e-mail, rights for restricted data); 3.0 requires only a contact e-mail.
CATALOGS = [
    ("cdc.gov.data.2020-04-24.json", "1.1", 533, 0, 36, 520, 532),
    ("cdc.gov.data.2022-06-19.json", "1.1", 876, 0, 123, 847, 875),
    ("cms.data.2025-01-31.json", "1.1", 139, 0, 0, 139, 139),
    ("cms.data.2025-02.json", "1.1", 139, 0, 0, 139, 139),
    ("consumerfinance.data.json", "1.1", 11, 0, 0, 11, 11),
    ("dol.data.json", "1.1", 465, 0, 1, 465, 465),
    ("ed.gov.data.json", "1.1", 89, 0, 1, 88, 89),
    ("fcc.data.json", "1.1", 59, 0, 6, 54, 59),
    ("fda.data.json", "1.1", 86, 0, 1, 86, 86),
    ("gsa.data.json", "1.1", 339, 0, 8, 337, 339),
    ("healthdata.gov.data.2021-06-01.json", "1.1", 1625, 0, 210, 1601, 1624),
    ("treasury.data.json", "1.1", 233, 0, 0, 233, 233),
    (CK + "arm.data.json", "1.1", 3, 0, 3, 0, 3),
    (CK + "collection-1-parent-2-children.data.json", "1.1", 3, 0, 0, 3, 3),
    (CK + "collection-2-parent-4-children.data.json", "1.1", 6, 0, 0, 6, 6),
    (CK + "geospatial.data.json", "1.1", 2, 0, 0, 2, 2),
    (CK + "large-spatial.data.json", "1.1", 1, 0, 0, 1, 1),
    (CK + "many-resources.data.json", "1.1", 1, 0, 0, 1, 1),
    (CK + "missing-catalog.data.json", "1.1", 2, 1, 1, 0, 1),
    (CK + "missing-dataset-fields.data.json", "1.1", 2, 1, 1, 0, 1),
    (CK + "missing-identifier-title.data.json", "1.1", 3, 2, 0, 1, 1),
    (CK + "null-spatial.data.json", "1.1", 1, 0, 0, 1, 1),
    (CK + "numerical-title.data.json", "1.1", 1, 1, 0, 0, 0),
    (CK + "ny.data.json", "1.1", 1, 0, 1, 0, 1),
    (CK + "reserved-title.data.json", "1.1", 1, 0, 0, 1, 1),
    (CK + "usda.gov.data.json", "1.1", 3, 0, 0, 3, 3),
    (GH + "dcatus.json", "1.1", 7, 0, 0, 7, 7),
    (GH + "dcatus3_0.json", "3.0", 4, 1, 3, 0, 3),
    (GH + "dcatus3_0_invalid.json", "3.0", 2, 0, 2, 0, 1),
    (GH + "dcatus3_0_nested_catalog.json", "3.0", 3, 0, 3, 0, 3),
    (GH + "dcatus3_0_no_identifier.json", "3.0", 1, 1, 0, 0, 0),
    (GH + "dcatus3_0_record_no_id.json", "3.0", 1, 0, 1, 0, 1),
    (GH + "dcatus3_0_series_member_also_top_level.json", "3.0", 2, 0, 2, 0, 2),
    (GH + "dcatus3_0_series_with_members.json", "3.0", 2, 0, 2, 0, 2),
    (GH + "dcatus3_0_service_no_identifier.json", "3.0", 1, 0, 1, 0, 1),
    (GH + "dcatus3_0_service_serves_dataset.json", "3.0", 1, 0, 1, 0, 1),
    (GH + "dcatus3_0_warning.json", "3.0", 3, 0, 3, 0, 3),
    (GH + "dcatus3_0_with_records.json", "3.0", 1, 0, 1, 0, 1),
    (GH + "dcatus3_0_with_services.json", "3.0", 1, 0, 1, 0, 1),
    (GH + "dcatus_2.json", "1.1", 3, 0, 0, 3, 3),
    (GH + "dcatus_bad_license_uri.json", "1.1", 1, 0, 1, 0, 1),
    (GH + "dcatus_long_description.json", "1.1", 1, 0, 1, 0, 1),
    (GH + "dcatus_multiple_invalid.json", "1.1", 1, 0, 1, 0, 1),
    (GH + "dcatus_no_identifier.json", "1.1", 1, 1, 0, 0, 0),
    (GH + "dcatus_same_title.json", "1.1", 2, 0, 0, 2, 2),
    (GH + "dcatus_same_title_step_2.json", "1.1", 2, 0, 0, 2, 2),
    (GH + "dcatus_single_record.json", "1.1", 1, 0, 0, 1, 1),
    (GH + "dcatus_single_record_non-federal.json", "1.1", 1, 0, 1, 0, 1),
    (GH + "dcatus_spatial_no_translate.json", "1.1", 1, 0, 0, 1, 1),
    (GH + "dcatus_with_none.json", "1.1", 402, 0, 402, 0, 402),
    (GH + "missing_title.json", "1.1", 1, 1, 0, 0, 0),
    ("pod-official-examples/v1.1-catalog-sample-extended.json", "1.1", 3, 0, 0, 3, 3),
    ("pod-official-examples/v1.1-catalog-sample.json", "1.1", 3, 0, 0, 3, 3),
]


@cache
def _harvest(name):
    parsed = parse_catalog((DATAJSON / name).read_bytes())
    return parsed, [harvest_dataset(raw, parsed.version) for raw in parsed.datasets]


def test_every_catalog_is_in_the_table():
    """A new fixture in the shared folder must get an asserted outcome here."""
    found = {
        str(path.relative_to(DATAJSON))
        for path in DATAJSON.rglob("*.json")
        if path.parent.name != "bad"
    }
    assert found == {row[0] for row in CATALOGS}


@pytest.mark.parametrize(
    ("name", "version", "datasets", "rejected", "warned", "v11", "v30"), CATALOGS
)
def test_real_catalog_harvests_and_reexports_valid(
    name, version, datasets, rejected, warned, v11, v30
):
    parsed, results = _harvest(name)
    assert (parsed.version, len(parsed.datasets)) == (version, datasets)
    assert sum(1 for result in results if result.record is None) == rejected
    assert sum(1 for result in results if result.record and result.warnings) == warned
    for result in results:
        assert (result.record is None) == bool(result.errors)
    records = [result.record for result in results if result.record]

    exported = [dataset_to_v11(record, check=False) for record in records]
    for result in exported:
        assert (result.data is None) == bool(result.errors)
    catalog = dict(_catalog_head("1.1", None, None), dataset=[r.data for r in exported if r.data])
    assert len(catalog["dataset"]) == v11
    assert validate_v11_catalog(catalog) == []

    exported = [dataset_to_v30(record, check=False) for record in records]
    catalog = dict(_catalog_head("3.0", None, None), dataset=[r.data for r in exported if r.data])
    assert len(catalog["dataset"]) == v30
    assert validate_v30_catalog(catalog) == []


@pytest.mark.parametrize(
    ("name", "kind", "phrase"),
    [
        ("hhs.gov.data.2023-12-17.http500.json", "http_error", "HTTP error response (status 500"),
        ("legacy-v1.0-hhs_cas.json", "legacy_v1_0", "bare JSON array of 16 datasets"),
        ("syntax-error.bad.json", "syntax", "not valid JSON"),
        ("syntax-error.sample6_bad_data.json", "syntax", "line 82, column 7"),
        ("not-a-catalog.json", "not_a_catalog", 'without a "dataset" list (its keys: good)'),
    ],
)
def test_bad_file_is_refused_with_a_clear_message(name, kind, phrase):
    with pytest.raises(CatalogError) as caught:
        parse_catalog((DATAJSON / "bad" / name).read_bytes())
    assert caught.value.kind == kind
    assert phrase in caught.value.message


def test_every_bad_file_is_covered():
    assert len(list((DATAJSON / "bad").iterdir())) == 5


@pytest.mark.parametrize(
    ("name", "index", "reason"),
    [
        ("ckanext-datajson-samples/missing-identifier-title.data.json", 0, "identifier is missing"),
        ("ckanext-datajson-samples/missing-identifier-title.data.json", 2, "title is missing"),
        ("ckanext-datajson-samples/numerical-title.data.json", 0, "title is a number (707)"),
        ("ckanext-datajson-samples/missing-dataset-fields.data.json", 0, "identifier is missing"),
        ("datagov-harvester-examples/dcatus_no_identifier.json", 0, "identifier is missing"),
        ("datagov-harvester-examples/missing_title.json", 0, "title is missing"),
        ("datagov-harvester-examples/dcatus3_0_no_identifier.json", 0, "without an '@id'"),
        ("datagov-harvester-examples/dcatus3_0.json", 3, "without an '@id'"),
    ],
)
def test_invalid_fixture_rejections_name_the_reason(name, index, reason):
    result = _harvest(name)[1][index]
    assert result.record is None
    assert any(reason in error for error in result.errors)


@pytest.mark.parametrize(
    ("name", "index", "warning"),
    [
        ("datagov-harvester-examples/dcatus_multiple_invalid.json", 0, "lacks 'mailto:'"),
        ("datagov-harvester-examples/dcatus_bad_license_uri.json", 0, "license"),
        ("datagov-harvester-examples/dcatus_with_none.json", 0, "modified"),
        ("datagov-harvester-examples/dcatus3_0_invalid.json", 0, "'contactPoint' is a required"),
        ("ckanext-datajson-samples/ny.data.json", 0, "'bureauCode' is a required property"),
        ("healthdata.gov.data.2021-06-01.json", 23, "accrualPeriodicity 'Ad hoc' read as"),
        ("healthdata.gov.data.2021-06-01.json", 1433, "title: HTML entities decoded"),
    ],
)
def test_imperfect_fixture_records_import_with_warnings(name, index, warning):
    result = _harvest(name)[1][index]
    assert result.record is not None
    assert any(warning in message for message in result.warnings), result.warnings


def test_catalog_level_warnings_and_duplicates():
    parsed, _ = _harvest("ckanext-datajson-samples/missing-catalog.data.json")
    assert parsed.warnings == (
        "The catalog has no conformsTo; it was read as DCAT-US 1.1.",
        "The catalog's @type is 'dcat:Test', not dcat:Catalog.",
    )
    parsed, _ = _harvest("ed.gov.data.json")
    assert find_duplicate_identifiers(parsed.datasets) == {"NCES_2016999": 2}


def test_v30_series_member_listed_at_top_level_is_one_dataset():
    parsed, _ = _harvest("datagov-harvester-examples/dcatus3_0_series_member_also_top_level.json")
    identifiers = [raw["identifier"] for raw in parsed.datasets]
    assert identifiers == [
        "https://example.gov/datasets/annual-report-2023",
        "https://example.gov/datasets/annual-report-2024",
    ]


def test_left_out_records_carry_their_reasons():
    _, results = _harvest("healthdata.gov.data.2021-06-01.json")
    reasons = [
        error for result in results for error in dataset_to_v11(result.record, check=False).errors
    ]
    assert sum("keyword is missing" in reason for reason in reasons) == 22
    assert sum("description is missing" in reason for reason in reasons) == 5
