"""The export's fast paths give exactly what the shared normalisers and plain json.dumps give."""

import json
from pathlib import Path

import pytest

from marketplace.dcat import (
    dataset_to_v11,
    dataset_to_v30,
    export,
    fields,
    harvest_dataset,
    parse_catalog,
)
from marketplace.dcat.records import DatasetRecord, Distribution

DATAJSON = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "datajson"
REAL_CATALOGS = ["cdc.gov.data.2022-06-19.json", "gsa.data.json", "dol.data.json"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://data.cdc.gov/api/views/x.csv", "https://data.cdc.gov/api/views/x.csv"),
        ("HTTP://Data.CDC.gov/a?b=1&c=%20#top", "HTTP://Data.CDC.gov/a?b=1&c=%20#top"),
        ("ftp://ftp.cdc.gov/pub/", "ftp://ftp.cdc.gov/pub/"),
        ("https://x.gov:8443/a", "https://x.gov:8443/a"),
        ("https://x.gov:/a", "https://x.gov:/a"),
        ("https://x.gov?q=[1]", "https://x.gov?q=[1]"),
        ("https://x.gov/a b.csv", "https://x.gov/a%20b.csv"),
        ("  https://x.gov/a  ", "https://x.gov/a"),
        ("https://x.gov/a\n", "https://x.gov/a"),
        ("https://x.gov/é", "https://x.gov/%C3%A9"),
        ("https://user@x.gov/a", "https://user@x.gov/a"),
        ("https://[::1]/a", "https://[::1]/a"),
        ("https://[::1/a", None),
        ("https://x.gov/<script>", None),
        ("https://", None),
        ("https:///path", None),
        ("mailto:data@cdc.gov", None),
        ("httpx://x.gov", None),
        ("www.cdc.gov/data", None),
        ("", None),
        (None, None),
        (42, None),
    ],
)
def test_url_fast_path_matches_normalize_url(value, expected):
    assert export._url(value) == expected
    assert export._url(value) == fields.normalize_url(value)


def _real_records(name: str) -> list[DatasetRecord]:
    if not (DATAJSON / name).is_file():
        pytest.skip(f"real DCAT-US test data not found at {DATAJSON}")
    parsed = parse_catalog((DATAJSON / name).read_bytes())
    results = (harvest_dataset(raw, parsed.version) for raw in parsed.datasets)
    return [result.record for result in results if result.record]


@pytest.mark.parametrize("name", REAL_CATALOGS)
def test_url_fast_path_matches_normalize_url_on_real_catalogs(name):
    urls = set()
    for record in _real_records(name):
        urls.update((record.license, record.landing_page, record.conforms_to, *record.references))
        for item in record.distributions:
            urls.update((item.download_url, item.access_url, item.conforms_to, item.described_by))
    urls.discard(None)
    assert len(urls) > 50
    assert {url: export._url(url) for url in urls} == {
        url: fields.normalize_url(url) for url in urls
    }


@pytest.mark.parametrize(
    "name",
    [
        "normalize_access_level",
        "normalize_bureau_code",
        "normalize_date",
        "normalize_email",
        "normalize_media_type",
        "normalize_modified",
        "normalize_periodicity",
        "normalize_program_code",
        "normalize_temporal",
        "normalize_url",
    ],
)
def test_memoised_normalisers_answer_as_the_shared_ones(name):
    values = [
        "Public",
        "009.20",
        "009:028 - Name",
        "04/24/2020",
        "2018",
        "mailto:Data@cdc.gov ",
        "Text/CSV; charset=utf-8",
        "R/P1Y",
        "Annual",
        "https://x.gov/a b",
        "",
        None,
        7,
        ("tuple",),
    ]
    memoised, shared = getattr(export, name), getattr(fields, name)
    assert memoised is not shared
    for _ in range(2):  # the second round is answered from the memo
        assert [memoised(value) for value in values] == [shared(value) for value in values]


def _reference_catalog(records, convert, head: dict) -> str:
    """The catalog as one json.dumps per dataset, the way the stream wrote it before."""
    datasets = [convert(record, check=False).data for record in records]
    texts = [json.dumps(data, ensure_ascii=False) for data in datasets if data is not None]
    opening = json.dumps(head, ensure_ascii=False)[:-1] + ', "dataset": ['
    return opening + ",\n".join(texts) + "]}\n"


@pytest.mark.parametrize(("version", "convert"), [("1.1", dataset_to_v11), ("3.0", dataset_to_v30)])
def test_stream_catalog_is_byte_identical_to_plain_json_dumps(version, convert):
    records = _real_records("cdc.gov.data.2022-06-19.json")
    records.append(DatasetRecord(identifier="x", title="Left out"))
    skipped = []
    chunks = list(
        export.stream_catalog(
            records,
            version=version,
            catalog_id="https://marketplace.hhs.gov/data.json",
            title="HHS",
            on_skip=lambda record, result: skipped.append(record.identifier),
        )
    )
    head = export._catalog_head(version, "https://marketplace.hhs.gov/data.json", "HHS")
    assert len(chunks) > 3  # several 64 KB chunks, so their seams are compared too
    assert "".join(chunks) == _reference_catalog(records, convert, head)
    assert "x" in skipped


def test_keywords_from_themes_are_distinct_trimmed_and_in_order():
    record = DatasetRecord(
        identifier="t",
        title="T",
        description="D",
        keywords=(" ", ""),
        themes=(" Health ", "Claims", "Health", ""),
        modified="2020-01-01",
        publisher_name="CDC",
        contact_name="Data",
        contact_email="data@cdc.gov",
        access_level="public",
        bureau_codes=("009:20",),
        distributions=(Distribution(access_url="https://x.gov/a"),),
    )
    result = dataset_to_v11(record)
    assert result.errors == []
    assert result.data["keyword"] == ["Health", "Claims"]
    assert result.data["theme"] == ["Health", "Claims"]
    assert "keyword taken from theme" in result.repairs
