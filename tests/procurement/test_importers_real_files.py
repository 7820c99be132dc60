"""Award-file import against the real files in ../shared/data (skipped when absent, not in CI)."""

from __future__ import annotations

import csv
import io
import os
from collections import Counter
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from marketplace.hhs import division_for_subtier
from procurement.importers import (
    AWARDED_OUTSIDE,
    FUNDED_OUTSIDE,
    ImportFileError,
    Layout,
    UnknownLayout,
    read_awards,
)

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"
PROCUREMENT = DATA / "procurement"
PURCHASES = DATA / "eval" / "duplicates-dev" / "purchases.csv"
SEARCH = PROCUREMENT / "usaspending-search-export"
FPDS = PROCUREMENT / "fpds-atom"
REFERENCE = PROCUREMENT / "reference"


@pytest.fixture(scope="module")
def data() -> Path:
    """The shared data folder; its absence skips these tests, except in CI where it fails them."""
    if not DATA.is_dir():
        message = f"the shared data folder {DATA} is absent (it sits beside a checkout, not in it)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return DATA


def column_sum_cents(path: Path, column: str) -> int:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return int(sum(Decimal(row[column] or "0") for row in csv.DictReader(handle)) * 100)


# Every file under procurement/: what reading it gives. A new file must be added here.
# (layout, rows read, awards, rejected, skipped reasons) or the exception and part of its message.
OUTCOMES: dict[str, tuple[Layout, int, int, int, dict[str, int]] | tuple[type, str]] = {
    "usaspending-search-export/nih_awards_last_90d.csv": (
        Layout.USASPENDING_SEARCH, 5459, 4850, 0, {}
    ),
    # 52 rows carry legacy "HHSM…" PIIDs, whose prefix marketplace.hhs does not link to CMS.
    "usaspending-search-export/cms_awards_last_90d.csv": (
        Layout.USASPENDING_SEARCH, 845, 631, 52, {}
    ),
    "usaspending-search-export/ahrq_awards_last_90d.csv": (
        Layout.USASPENDING_SEARCH, 44, 40, 0, {}
    ),
    # The FPDS samples are DOE, USGS, DoD and GSA awards: nothing for HHS.
    "fpds-atom/kapangyu-gsa_fpds_feed_result_DOE.csv": (
        Layout.FPDS_CSV, 10, 0, 0, {FUNDED_OUTSIDE: 10}
    ),
    "fpds-atom/kapangyu-gsa_fpds_feed_result_USGS.csv": (
        Layout.FPDS_CSV, 10, 0, 0, {FUNDED_OUTSIDE: 5, AWARDED_OUTSIDE: 5}
    ),
    "fpds-atom/dherincx92_full_response_GSA_4740_FY14.xml": (
        Layout.FPDS_ATOM, 10, 0, 0, {FUNDED_OUTSIDE: 10}
    ),
    "reference/Contracts_PrimeAwardSummaries.columns.txt": (UnknownLayout, "piid, vendor"),
    "reference/fpds-ezsearch.header.csv": (ImportFileError, "header but no data rows"),
    "reference/usaspending-download-columns.csv": (UnknownLayout, "Award Element"),
    "reference/usaspending_agency_codes_list.csv": (UnknownLayout, "CGAC AGENCY CODE"),
    "reference/usaspending_psc_codes_2017.csv": (UnknownLayout, "PSC CODE"),
}  # fmt: skip


def test_every_procurement_file_is_accounted_for(data: Path) -> None:
    found = {p.relative_to(PROCUREMENT).as_posix() for p in PROCUREMENT.rglob("*") if p.is_file()}
    assert found == set(OUTCOMES)


@pytest.mark.parametrize("name", sorted(OUTCOMES))
def test_procurement_file(data: Path, name: str) -> None:
    expected = OUTCOMES[name]
    if len(expected) == 2:
        error, message = expected
        with pytest.raises(error, match=message):
            read_awards(PROCUREMENT / name)
        return
    layout, rows, awards, rejected, skipped = expected
    batch = read_awards(PROCUREMENT / name)
    assert batch.layout is layout
    assert (batch.rows_read, len(batch.awards), len(batch.rejected)) == (rows, awards, rejected)
    assert batch.skipped_reasons == skipped
    assert batch.skipped == sum(skipped.values())
    assert rows == len(batch.rejected) + batch.skipped + sum(
        len(a.source_rows) for a in batch.awards
    )


def test_purchases_import_completely(data: Path) -> None:
    batch = read_awards(PURCHASES)
    assert batch.layout is Layout.USASPENDING
    assert (batch.rows_read, len(batch.awards), batch.rejected, batch.skipped) == (376, 376, [], 0)
    with PURCHASES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [a.award_key for a in batch.awards] == [r["contract_award_unique_key"] for r in rows]
    assert [a.division for a in batch.awards] == [
        division_for_subtier(r["awarding_sub_agency_code"]) for r in rows
    ]
    assert Counter(a.division for a in batch.awards) == {
        "NIH": 47, "FDA": 43, "CMS": 39, "SAMHSA": 34, "ASA": 34, "CDC": 33, "ACL": 32, "IHS": 32,
        "HRSA": 31, "ACF": 31, "AHRQ": 20,
    }  # fmt: skip
    assert sum(a.obligated_cents for a in batch.awards) == 15_449_407_756
    assert sum(a.obligated_cents for a in batch.awards) == column_sum_cents(
        PURCHASES, "total_obligated_amount"
    )
    assert sum(1 for a in batch.awards if a.parent_piid) == 26
    assert all(a.warnings == () for a in batch.awards)
    assert all(a.start and a.current_end and a.start <= a.current_end for a in batch.awards)
    assert read_awards(PURCHASES).awards == batch.awards  # re-import: same keys, same values


def test_purchases_in_the_full_286_column_layout(data: Path, tmp_path: Path) -> None:
    header = (REFERENCE / "Contracts_PrimeAwardSummaries.columns.txt").read_text().split()
    assert len(header) == 286
    with PURCHASES.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, restval="", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = tmp_path / "Contracts_PrimeAwardSummaries_2025-01-01_H10M00S00_1.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
    assert read_awards(path).awards == read_awards(PURCHASES).awards


def test_real_ezsearch_header_is_detected(data: Path, tmp_path: Path) -> None:
    with (REFERENCE / "fpds-ezsearch.header.csv").open(encoding="utf-8", newline="") as handle:
        header = next(csv.reader(handle))
    assert len(header) == 104
    row = dict.fromkeys(header, "")
    row.update(
        AGENCY_ID="7526",
        PROCUREMENT_ID="75R60224P00010",
        MODIFICATION_NO="0",
        DATE_SIGNED="9/27/24",
        CURENT_ACTION_OBLIGATION="$12,500.00 ",
        LEGAL_BUSINESS_NAME="RURAL DATA CO",
        LINK="https://www.fpds.gov/ezsearch/jsp/viewLinkController.jsp?agencyID=7526"
        "&PIID=75R60224P00010&modNumber=0&contractType=AWARD",
    )
    path = tmp_path / "ezsearch.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerow(row)
    batch = read_awards(path)
    assert batch.layout is Layout.FPDS_EZSEARCH
    (award,) = batch.awards
    assert (award.award_key, award.division, award.obligated_cents) == (
        "CONT_AWD_75R60224P00010_7526_-NONE-_-NONE-",
        "HRSA",
        1250000,
    )


@pytest.mark.parametrize(
    ("name", "awards", "obligated_cents"),
    [("nih", 4850, 186_876_462_811), ("cms", 675, 264_888_030_237), ("ahrq", 40, 4_394_402_629)],
)
def test_search_exports_with_the_division_chosen(
    data: Path, name: str, awards: int, obligated_cents: int
) -> None:
    path = SEARCH / f"{name}_awards_last_90d.csv"
    batch = read_awards(path, division=name.upper())
    assert (len(batch.awards), batch.rejected, batch.skipped) == (awards, [], 0)
    assert {a.division for a in batch.awards} == {name.upper()}
    # Transactions are summed, so the awards add up to the file's column exactly.
    assert sum(a.obligated_cents for a in batch.awards) == obligated_cents
    assert obligated_cents == column_sum_cents(path, "Award Amount")
    assert all(a.piid for a in batch.awards)  # "Award Id" stands in where "Piid" is empty


def test_search_export_keeps_orders_under_different_parents_apart(data: Path) -> None:
    batch = read_awards(SEARCH / "ahrq_awards_last_90d.csv")
    orders = [a for a in batch.awards if a.piid == "75Q80125F32001"]
    # One order number issued to eleven vendors under eleven different agreements.
    assert len(orders) == 11
    assert len({a.vendor_name for a in orders}) == 11
    assert all(a.obligated_cents == 9_000_000 for a in orders)


# The FPDS samples read as if their agencies were HHS divisions, to fold real modifications.
AS_IF_HHS = dict.fromkeys(
    ("8900", "7200", "5700", "1700", "8000", "1434", "2100", "9700", "4730", "4735", "4740"), "TEST"
)


def test_fpds_csv_modifications_fold_on_real_data(data: Path) -> None:
    batch = read_awards(FPDS / "kapangyu-gsa_fpds_feed_result_DOE.csv", subtier_divisions=AS_IF_HHS)
    by_key = {a.award_key: a for a in batch.awards}
    assert list(by_key) == [
        "CONT_IDV_DEMA0011836_8900",
        "CONT_AWD_AIDOIGM1000019_7200_GS07F0009N_4730",
        "CONT_AWD_FA805218C0007_9700_-NONE-_-NONE-",
        "CONT_AWD_FA251710C9000_9700_-NONE-_-NONE-",
        "CONT_AWD_GST1004EC0219_4735_GS23F9796H_4730",
        "CONT_AWD_NNS11AA08T_8000_NNS08AA83B_8000",
    ]
    deloitte = by_key["CONT_AWD_GST1004EC0219_4735_GS23F9796H_4730"]
    # 250,028.00 then a -1,076.15 de-obligation: the feed's own total, so no warning.
    assert (deloitte.obligated_cents, deloitte.source_rows, deloitte.warnings) == (
        24_895_185,
        (7, 8),
        (),
    )
    assert deloitte.vendor_name == "DELOITTE CONSULTING L.L.P."
    nasa = by_key["CONT_AWD_NNS11AA08T_8000_NNS08AA83B_8000"]
    assert nasa.obligated_cents == 46_206_100
    assert "the source reports $1,228,934.00" in nasa.warnings[0]


def test_fpds_csv_same_piid_under_five_parents_is_five_awards(data: Path) -> None:
    batch = read_awards(
        FPDS / "kapangyu-gsa_fpds_feed_result_USGS.csv", subtier_divisions=AS_IF_HHS
    )
    orders = [a for a in batch.awards if a.piid == "00001"]
    assert sorted(a.parent_piid or "" for a in orders) == [
        "DAAG9999A0010",
        "DAAG9999A0014",
        "DAAG9999A0015",
        "DAAG9999A0017",
    ]
    # The fifth (row 7) names no vendor at all in FPDS.
    assert [(e.row, e.errors) for e in batch.rejected] == [
        (7, ("vendorName: empty; every row needs the vendor's name",))
    ]
    (raytheon,) = [a for a in batch.awards if a.piid == "00001199909D00HQCN0001"]
    assert (raytheon.obligated_cents, raytheon.source_rows) == (32_167_565, (2, 3, 4, 5, 6))


def test_fpds_atom_feed_folds_on_real_data(data: Path) -> None:
    path = FPDS / "dherincx92_full_response_GSA_4740_FY14.xml"
    batch = read_awards(path, subtier_divisions=AS_IF_HHS)
    assert (batch.rows_read, len(batch.awards), batch.rejected) == (10, 8, [])
    sign_order = batch.awards[-1]
    assert sign_order.award_key == "CONT_AWD_AZ000200206CP0302AZ0036GS07F0087K_4740_GS07F0087K_4730"
    assert (sign_order.source_rows, sign_order.obligated_cents) == ((8, 9, 10), 5_576_889)
    assert sign_order.vendor_name == "CREATIVE SIGN SERVICE INC."
    assert (sign_order.vendor_uei, sign_order.psc, sign_order.naics) == (
        "JJFVSN3MUNN5",
        "9905",
        "339950",
    )
    assert (sign_order.start, sign_order.current_end) == (date(2002, 6, 15), date(2003, 9, 15))
