"""The catalog export reads the same records as the rest of the catalog, faster."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlmodel import select

from marketplace.catalog import export
from marketplace.catalog.models import AccessLevel, Listing, ListingStatus
from marketplace.catalog.records import record_from_json, record_to_json
from marketplace.catalog.services import without_links
from marketplace.dcat import harvest_dataset, parse_catalog, stream_catalog
from tests.marketplace.test_catalog import catalog, dataset, harvest

DATAJSON = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "datajson"
COMPLETE = {
    "identifier": "a",
    "title": "A",
    "keywords": ["x", "y"],
    "distributions": [{"download_url": "https://x.gov/a.csv", "media_type": "text/csv"}],
    "extras": {"landingPage": "https://x.gov", "n": 1.5},
}


def _same(left, right) -> bool:
    # DatasetRecord equality leaves out `extras`.
    return left == right and dict(left.extras) == dict(right.extras)


@pytest.mark.parametrize(
    "stored",
    [
        COMPLETE,
        {"identifier": "a", "title": "A", "unknown": [1], "distributions": []},
        {"title": "no identifier"},
        {"identifier": "a", "title": "A", "description": None},
        {"identifier": "a", "title": "A", "keywords": [1, "x"]},
        {"identifier": "a", "title": "A", "license": ["https://x.gov/l"]},
        {"identifier": "a", "title": "A", "data_quality": 1},
        {"identifier": "a", "title": "A", "distributions": [{"title": "t", "extra": 2}]},
        {"identifier": "a", "title": "A\ud800", "extras": {"big": 2**70}},
        {},
    ],
)
def test_stored_record_reads_what_record_from_json_reads(stored):
    text = json.dumps(stored)
    assert _same(export.stored_record(text), record_from_json(json.loads(text)))


def test_stored_record_reads_real_harvested_records():
    name = "cdc.gov.data.2022-06-19.json"
    if not (DATAJSON / name).is_file():
        pytest.skip(f"real DCAT-US test data not found at {DATAJSON}")
    parsed = parse_catalog((DATAJSON / name).read_bytes())
    records = [harvest_dataset(raw, parsed.version).record for raw in parsed.datasets]
    texts = [json.dumps(record_to_json(record)) for record in records if record]
    assert len(texts) > 800
    for text in texts:
        assert _same(export.stored_record(text), record_from_json(json.loads(text)))


@pytest.fixture
def listed(db):
    harvest(
        db,
        "export.json",
        catalog(
            *(dataset(f"e-{n}", f"Open {n}", keyword=["beds"]) for n in range(5)),
            dataset("e-secret", "Secret", accessLevel="non-public", rights="Staff only."),
            dataset(
                "e-restricted",
                "Restricted",
                accessLevel="restricted public",
                rights="Small cells.",
                distribution=[
                    {"downloadURL": "https://example.gov/secret.csv", "mediaType": "text/csv"}
                ],
            ),
        ),
    )
    return db


def reference_public_records(db) -> list:
    """What the export must read, the plain way: every listing, filtered and parsed one by one."""
    records = []
    for listing in sorted(db.exec(select(Listing)).all(), key=lambda listing: listing.id):
        if listing.status != ListingStatus.PUBLISHED or listing.access_level not in (
            AccessLevel.PUBLIC,
            AccessLevel.RESTRICTED,
        ):
            continue
        record = record_from_json(listing.record)
        records.append(
            record if listing.access_level == AccessLevel.PUBLIC else without_links(record)
        )
    return records


def test_export_reads_the_public_records_in_pages(listed):
    paged = list(export.public_records(listed, batch=2))
    assert paged == reference_public_records(listed)
    assert len(paged) == 6 and "e-secret" not in {record.identifier for record in paged}
    restricted = next(record for record in paged if record.identifier == "e-restricted")
    assert restricted.distributions and all(
        item.download_url is None and item.access_url is None for item in restricted.distributions
    )


@pytest.mark.parametrize("version", ["1.1", "3.0"])
def test_stream_export_equals_the_catalog_of_public_records(listed, version):
    report = export.ExportReport()
    text = "".join(export.stream_export(listed, version, report, catalog_id="https://m/data.json"))
    expected = "".join(
        stream_catalog(
            reference_public_records(listed),
            version=version,
            catalog_id="https://m/data.json",
            title="HHS Data Marketplace",
        )
    )
    assert text == expected
    assert "https://example.gov/secret.csv" not in text
    assert report.exported == len(json.loads(text)["dataset"]) == 6
