"""Unit tables for marketplace.dcat: validators, normalisers, repairs, completeness, JSON-LD."""

import json
from dataclasses import replace

import pytest

from marketplace.dcat import (
    CatalogError,
    DatasetRecord,
    Distribution,
    completeness,
    cross_field_errors,
    dataset_to_v11,
    dataset_to_v30,
    find_duplicate_identifiers,
    harvest_dataset,
    json_ld_script_text,
    normalize_date,
    normalize_periodicity,
    normalize_temporal,
    parse_catalog,
    schema_org_dataset,
    stream_catalog,
    validate_accrual_periodicity,
    validate_bureau_code,
    validate_email,
    validate_iso_date,
    validate_language,
    validate_media_type,
    validate_program_code,
    validate_temporal,
    validate_url,
    validate_v11_catalog,
    validate_v11_dataset,
    validate_v30_catalog,
    validate_v30_dataset,
)

COMPLETE = DatasetRecord(
    identifier="cdc-covid-cases",
    title="COVID-19 Case Surveillance Public Use Data",
    description="Case-level data on COVID-19 cases reported to CDC by jurisdictions, "
    "de-identified, with demographics, exposure history and outcomes.",
    keywords=("covid-19", "surveillance", "cases"),
    modified="2024-05-01",
    issued="2020-05-18",
    publisher_name="Centers for Disease Control and Prevention",
    publisher_parent_name="U.S. Department of Health & Human Services",
    contact_name="CDC INFO",
    contact_email="cdcinfo@cdc.gov",
    access_level="public",
    bureau_codes=("009:20",),
    program_codes=("009:020",),
    license="https://www.usa.gov/government-works",
    spatial="United States",
    temporal="2020-01-01/2024-04-30",
    accrual_periodicity="R/P1M",
    language=("en-US",),
    landing_page="https://data.cdc.gov/d/vbim-akqf",
    themes=("Public Health",),
    distributions=(
        Distribution(
            download_url="https://data.cdc.gov/api/views/vbim-akqf/rows.csv",
            media_type="text/csv",
            title="CSV",
        ),
    ),
)


@pytest.mark.parametrize(
    ("validator", "value", "ok"),
    [
        (validate_bureau_code, "009:20", True),
        (validate_bureau_code, "", True),
        (validate_bureau_code, "009:020", False),
        (validate_bureau_code, "CDC", False),
        (validate_bureau_code, "009:20x", False),
        (validate_program_code, "009:020", True),
        (validate_program_code, "009:20", False),
        (validate_program_code, "009.020", False),
        (validate_iso_date, "2020-04-24", True),
        (validate_iso_date, "2020-04", True),
        (validate_iso_date, "2020", True),
        (validate_iso_date, "2020-04-24T13:05:00Z", True),
        (validate_iso_date, "2020-04-24T13:05-05:00", True),
        (validate_iso_date, "2020-02-30", False),
        (validate_iso_date, "04/24/2020", False),
        (validate_iso_date, "2020-04-24 13:05", False),
        (validate_temporal, "2015-01-01/2019-12-31", True),
        (validate_temporal, "2015-01-01T00:00:00Z/P1Y", True),
        (validate_temporal, "P1Y/2019-12-31", True),
        (validate_temporal, "P1Y/P2Y", False),
        (validate_temporal, "2019-12-31/2015-01-01", False),
        (validate_temporal, "2015", False),
        (validate_temporal, "2020-12-13/Present", False),
        (validate_accrual_periodicity, "R/P1Y", True),
        (validate_accrual_periodicity, "R/PT1H", True),
        (validate_accrual_periodicity, "irregular", True),
        (validate_accrual_periodicity, "R/P", False),
        (validate_accrual_periodicity, "Annual", False),
        (validate_email, "data@cdc.gov", True),
        (validate_email, "mailto:data@cdc.gov", True),
        (validate_email, "cdcinfo.cdc.gov", False),
        (validate_email, "HHS/ASPA", False),
        (validate_url, "https://data.cdc.gov/x?y=1", True),
        (validate_url, "http://example.gov", True),
        (validate_url, "www.cdc.gov", False),
        (validate_url, "ftp://ftp.cdc.gov/pub", False),
        (validate_url, "javascript:alert(1)", False),
        (validate_media_type, "text/csv", True),
        (validate_media_type, "application/vnd.ms-excel", True),
        (validate_media_type, "application/ld+json", True),
        (validate_media_type, "CSV", False),
        (validate_language, "en", True),
        (validate_language, "en-US", True),
        (validate_language, "zh-Hant-TW", True),
        (validate_language, "English", False),
        (validate_language, "e", False),
    ],
)
def test_field_validators(validator, value, ok):
    message = validator(value)
    assert (message is None) is ok, message
    if not ok:
        assert message.endswith(".")


def test_validators_suggest_the_iso_form():
    assert validate_accrual_periodicity("Annual") == "Use the ISO 8601 form: R/P1Y."
    assert validate_language("English") == "Use the language tag en."


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, {}),
        ({"access_level": "restricted public", "rights": None}, {"rights"}),
        ({"access_level": "non-public", "rights": "Contains PII."}, {}),
        ({"access_level": "open"}, {"access_level"}),
        ({"access_level": None}, {"access_level"}),
        (
            {"distributions": (Distribution(download_url="https://x.gov/a.csv"),)},
            {"distributions.0.media_type"},
        ),
        ({"distributions": (Distribution(access_url="https://x.gov/api"),)}, {}),
    ],
)
def test_cross_field_rules(changes, expected):
    assert set(cross_field_errors(replace(COMPLETE, **changes))) == set(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2020-04-24", "2020-04-24"),
        ("2020-04-24 13:05", "2020-04-24T13:05"),
        ("2020-04-24T13:05:00Z", "2020-04-24T13:05:00Z"),
        ("04/24/2020", "2020-04-24"),
        ("4/2/2020 1:05 PM", "2020-04-02T13:05"),
        ("2020/04/24", "2020-04-24"),
        ("April 24, 2020", "2020-04-24"),
        ("24 Apr 2020", "2020-04-24"),
        ("13/24/2020", None),
        ("2020-02-30", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_normalize_date(text, expected):
    assert normalize_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("R/P1Y", "R/P1Y"),
        ("Annual", "R/P1Y"),
        ("annually", "R/P1Y"),
        ("daily", "R/P1D"),
        ("Daily (Monday-Friday)", "R/P1D"),
        ("Weekly", "R/P1W"),
        ("Approximately Weekly", "R/P1W"),
        ("Bi-weekly", "R/P2W"),
        ("Every 2 weeks", "R/P2W"),
        ("Monthly", "R/P1M"),
        ("Quarterly", "R/P3M"),
        ("biennial", "R/P2Y"),
        ("Twice Daily", "R/PT12H"),
        ("On a continuous basis", "R/PT1S"),
        ("Annual (R/P1Y)", "R/P1Y"),
        ("Ad hoc", "irregular"),
        ("Irregular", "irregular"),
        ("Never", None),
        ("No longer being updated", None),
        ("n/a", None),
    ],
)
def test_normalize_periodicity(text, expected):
    assert normalize_periodicity(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-01-01/2019-12-31", "2015-01-01/2019-12-31"),
        ("2018", "2018-01-01/2018-12-31"),
        ("1899-2017", "1899-01-01/2017-12-31"),
        ("2013 - 2017", "2013-01-01/2017-12-31"),
        ("2020-02/2020-03", "2020-02/2020-03"),
        ("2020-02 to 2020-02", "2020-02-01/2020-02-29"),
        ("April 4, 2021-May 21, 2022", "2021-04-04/2022-05-21"),
        ("August 1, 2011 to June 30, 2020", "2011-08-01/2020-06-30"),
        ("2020-12-13/Present", None),
        ("Through 2018", None),
    ],
)
def test_normalize_temporal(text, expected):
    assert normalize_temporal(text) == expected


def _raw(**changes):
    raw = {
        "identifier": "id-1",
        "title": "Hospital capacity",
        "description": "Beds by facility.",
        "keyword": ["hospitals"],
        "modified": "2021-05-01",
        "publisher": {"name": "Centers for Medicare &amp; Medicaid Services"},
        "contactPoint": {"fn": "Data team", "hasEmail": "mailto:data@cms.hhs.gov"},
        "accessLevel": "public",
        "bureauCode": ["009:38"],
        "programCode": ["009:000"],
    }
    raw.update(changes)
    return {key: value for key, value in raw.items() if value is not ...}


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"identifier": ...}, "identifier is missing"),
        ({"identifier": "  "}, "identifier is missing"),
        ({"identifier": {"@type": "Identifier"}}, "without an '@id'"),
        ({"title": ...}, "title is missing"),
        ({"title": 707}, "title is a number (707), not text"),
    ],
)
def test_harvest_rejects_only_what_cannot_be_a_listing(changes, error):
    result = harvest_dataset(_raw(**changes))
    assert result.record is None
    assert any(error in message for message in result.errors)


@pytest.mark.parametrize(
    ("changes", "field", "value", "warning"),
    [
        ({"accrualPeriodicity": "Annual"}, "accrual_periodicity", "R/P1Y", "read as 'R/P1Y'"),
        ({"programCode": ...}, "program_codes", (), "programCode"),
        (
            {"contactPoint": {"fn": "Team", "hasEmail": "data@cms.hhs.gov"}},
            "contact_email",
            "data@cms.hhs.gov",
            "lacks 'mailto:'",
        ),
        ({}, "publisher_name", "Centers for Medicare & Medicaid Services", "HTML entities"),
        ({"modified": None}, "modified", None, "modified"),
        ({"modified": "04/24/2020"}, "modified", "2020-04-24", "read as '2020-04-24'"),
        ({"bureauCode": ["CDC"]}, "bureau_codes", ("009:20",), "read as '009:20'"),
        ({"programCode": ["009.020"]}, "program_codes", ("009:020",), "read as '009:020'"),
        ({"language": ["English"]}, "language", ("en",), "read as 'en'"),
        ({"keyword": "a, b"}, "keywords", ("a", "b"), "split"),
        ({"temporal": "2018"}, "temporal", "2018-01-01/2018-12-31", "read as"),
    ],
)
def test_harvest_imports_imperfect_records_with_warnings(changes, field, value, warning):
    result = harvest_dataset(_raw(**changes))
    assert result.errors == []
    assert getattr(result.record, field) == value
    assert any(warning in message for message in result.warnings), result.warnings


def test_harvest_keeps_unreadable_and_unknown_values_aside():
    result = harvest_dataset(_raw(license="<p>Terms</p>", primaryITInvestmentUII="009-1"))
    assert result.record.license is None
    assert result.record.extras == {"license": "<p>Terms</p>", "primaryITInvestmentUII": "009-1"}


def test_duplicate_identifiers_are_counted():
    raws = [_raw(), _raw(), _raw(identifier=" id-1 "), _raw(identifier="id-2"), "junk"]
    assert find_duplicate_identifiers(raws) == {"id-1": 3}


@pytest.mark.parametrize(
    ("data", "kind", "phrase"),
    [
        (b"", "empty", "empty"),
        (b"  \n", "empty", "empty"),
        (b"\xff\xfe\x00{", "encoding", "not UTF-8"),
        (b"<!DOCTYPE html><title>502 Bad Gateway</title>", "html", "'502 Bad Gateway'"),
        (b'{"dataset": [', "syntax", "not valid JSON"),
        (b'{"status": 404, "error": "Not Found"}', "http_error", "status 404: Not Found"),
        (b'[{"title": "x"}]', "legacy_v1_0", "DCAT-US 1.0"),
        (b"[1, 2]", "not_a_catalog", "a list of 2 items"),
        (b'"data.json"', "not_a_catalog", "single str"),
        (b'{"good": "json"}', "not_a_catalog", 'without a "dataset" list'),
        (b'{"dataset": "none"}', "not_a_catalog", '"dataset" is a str'),
    ],
)
def test_parse_catalog_refuses_what_is_not_a_catalog(data, kind, phrase):
    with pytest.raises(CatalogError) as caught:
        parse_catalog(data)
    assert caught.value.kind == kind
    assert phrase in caught.value.message


def test_parse_catalog_reads_bom_and_warns_on_missing_conforms_to():
    parsed = parse_catalog(b"\xef\xbb\xbf" + json.dumps({"dataset": [_raw()]}).encode())
    assert parsed.version == "1.1"
    assert parsed.conforms_to is None
    assert "no conformsTo" in parsed.warnings[0]


def test_parse_v30_collects_nested_datasets_once():
    member = {"identifier": "m", "title": "M", "description": "d"}
    catalog = {
        "@type": "Catalog",
        "dataset": [member],
        "catalog": [{"dataset": [{"identifier": "sub", "title": "S"}]}],
        "datasetSeries": [{"seriesMember": [member], "first": member, "last": {"identifier": "z"}}],
        "service": [{"servesDataset": [{"identifier": "served"}]}],
    }
    parsed = parse_catalog(json.dumps(catalog).encode())
    assert parsed.version == "3.0"
    assert [item["identifier"] for item in parsed.datasets] == ["m", "sub", "z", "served"]


@pytest.mark.parametrize(
    ("changes", "key", "expected", "repair"),
    [
        (
            {"contact_email": "mailto:Data@cdc.gov "},
            "contactPoint",
            "mailto:Data@cdc.gov",
            "written as",
        ),
        ({"program_codes": ()}, "programCode", ["009:000"], "no program"),
        ({"program_codes": ("bogus",)}, "programCode", ["009:000"], "no program"),
        ({"bureau_codes": ("CDC",), "program_codes": ()}, "bureauCode", ["009:20"], "written as"),
        ({"bureau_codes": ()}, "bureauCode", ["009:20"], "taken from the publisher"),
        ({"modified": "2020-04-24 13:05"}, "modified", "2020-04-24T13:05", "written as"),
        ({"modified": "04/24/2020"}, "modified", "2020-04-24", "written as"),
        ({"accrual_periodicity": "Annual"}, "accrualPeriodicity", "R/P1Y", "written as"),
        ({"accrual_periodicity": "daily"}, "accrualPeriodicity", "R/P1D", "written as"),
        ({"temporal": "2018"}, "temporal", "2018-01-01/2018-12-31", "written as"),
        ({"keywords": ()}, "keyword", ["Public Health"], "keyword taken from theme"),
        ({"access_level": "restricted public", "rights": "x " * 200}, "rights", None, "shortened"),
        ({"license": "<p>see terms</p>"}, "license", None, "left out"),
    ],
)
def test_export_v11_repairs(changes, key, expected, repair):
    result = dataset_to_v11(replace(COMPLETE, **changes))
    assert result.errors == []
    assert validate_v11_dataset(result.data) == []
    value = result.data.get(key)
    if key == "contactPoint":
        value = value["hasEmail"]
    if key == "rights":
        assert len(value) <= 255 and value.endswith("…")
    else:
        assert value == expected
    assert any(repair in message for message in result.repairs), result.repairs


def test_export_v11_download_without_media_type_becomes_access_url():
    record = replace(COMPLETE, distributions=(Distribution(download_url="https://x.gov/a.csv"),))
    result = dataset_to_v11(record)
    assert result.data["distribution"] == [
        {"@type": "dcat:Distribution", "accessURL": "https://x.gov/a.csv"}
    ]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"description": ""}, "description is missing"),
        ({"keywords": (), "themes": ()}, "keyword is missing"),
        ({"modified": None}, "modified"),
        ({"contact_email": None}, "contact e-mail"),
        ({"access_level": "restricted public"}, "rights"),
        ({"bureau_codes": (), "publisher_name": "data.cdc.gov"}, "bureauCode is missing"),
    ],
)
def test_export_v11_leaves_out_what_cannot_be_made_valid(changes, reason):
    result = dataset_to_v11(replace(COMPLETE, **changes))
    assert result.data is None
    assert any(reason in message for message in result.errors), result.errors


def test_export_v30_is_valid_and_converts_dates():
    record = replace(COMPLETE, modified="2020-04-24T13:05", issued="2020-04-24T13:05+0500")
    result = dataset_to_v30(record)
    assert validate_v30_dataset(result.data) == []
    assert result.data["modified"] == "2020-04-24"
    assert result.data["issued"] == "2020-04-24T13:05:00+05:00"
    assert result.data["language"] == ["en"]
    assert result.data["temporal"] == [
        {"@type": "PeriodOfTime", "startDate": "2020-01-01", "endDate": "2024-04-30"}
    ]


@pytest.mark.parametrize("version", ["1.1", "3.0"])
def test_stream_catalog_is_one_valid_document(version):
    records = [replace(COMPLETE, identifier=f"id-{n}") for n in range(3)]
    skipped = []
    records.append(replace(COMPLETE, identifier="bad", contact_email=None))
    text = "".join(
        stream_catalog(
            records,
            version=version,
            catalog_id="https://marketplace.hhs.gov/data.json",
            on_skip=lambda record, result: skipped.append(record.identifier),
        )
    )
    catalog = json.loads(text)
    validate = validate_v11_catalog if version == "1.1" else validate_v30_catalog
    assert validate(catalog) == []
    assert [item["identifier"] for item in catalog["dataset"]] == ["id-0", "id-1", "id-2"]
    assert skipped == ["bad"]
    reparsed = parse_catalog(text.encode())
    assert reparsed.version == version


def test_stream_catalog_empty_and_unknown_version():
    assert json.loads("".join(stream_catalog([])))["dataset"] == []
    with pytest.raises(ValueError, match="unknown DCAT-US version"):
        list(stream_catalog([], version="2.0"))


@pytest.mark.parametrize(
    ("changes", "score"),
    [
        ({}, 100),
        ({"license": None, "landing_page": None}, 90),
        ({"keywords": ("one",)}, 90),
        ({"access_level": "non-public", "rights": None}, 90),
        ({"distributions": ()}, 90),
        ({"description": "Short."}, 85),
    ],
)
def test_completeness(changes, score):
    result = completeness(replace(COMPLETE, **changes))
    assert result.score == score
    assert sum(item.weight for item in result.checklist) == 100
    label, done, weight = result.checklist[0]
    assert (label, done, weight) == ("Title", True, 10)


def test_completeness_of_a_bare_record():
    result = completeness(DatasetRecord(identifier="x", title="X"))
    assert result.score == 10
    assert next(item.label for item in result.checklist if not item.done).startswith("Descr")


def test_schema_org_dataset():
    data = schema_org_dataset(COMPLETE, "https://marketplace.hhs.gov/listings/1")
    assert data["@type"] == "Dataset"
    assert data["name"] == COMPLETE.title
    assert data["isAccessibleForFree"] is True
    assert data["distribution"][0] == {
        "@type": "DataDownload",
        "contentUrl": "https://data.cdc.gov/api/views/vbim-akqf/rows.csv",
        "encodingFormat": "text/csv",
        "name": "CSV",
    }
    assert data["publisher"]["contactPoint"]["email"] == "cdcinfo@cdc.gov"


def test_json_ld_script_text_keeps_a_script_title_inert():
    title = "</script><script>alert('x')</script><!-- & \u2028"
    text = json_ld_script_text(schema_org_dataset(replace(COMPLETE, title=title), "https://h/1"))
    assert "<" not in text and ">" not in text and "&" not in text and "\u2028" not in text
    assert "\\u003c/script\\u003e" in text
    assert json.loads(text)["name"] == title
