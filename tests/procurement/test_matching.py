"""Tests for duplicate-procurement matching: product extraction, pair rules, scans, need checks."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from procurement.matching import (
    DEFAULT_THRESHOLD,
    MIN_OVERLAP_DAYS,
    NeedQuery,
    PurchaseRecord,
    build_context,
    cluster_avoidable_cents,
    extract_product,
    find_duplicates,
    pair_avoidable_cents,
    rank_need,
    score_pair,
    search_tokens,
)

START = date(2023, 1, 1)


def rec(
    key: str,
    division: str,
    vendor: str,
    description: str,
    start: date = START,
    days: int = 365,
    **fields: object,
) -> PurchaseRecord:
    """A purchase of `days` days (inclusive) from start, 365 000 cents unless told."""
    fields.setdefault("obligated_cents", 36_500_000)
    return PurchaseRecord(
        key=key,
        division=division,
        vendor_name=vendor,
        description=description,
        start=start,
        end=start + timedelta(days=days - 1),
        **fields,  # type: ignore[arg-type]
    )


# Background purchases: other vendors and products, so token weights look like a real scan.
BACKGROUND = [
    rec(f"BG{i:03d}", ("CDC", "NIH", "FDA", "CMS")[i % 4], f"{name} {suffix}", f"{what} FOR {div}")
    for i, (name, suffix, what, div) in enumerate(
        [
            ("NORTHSTAR HEALTH", "LLC", "JANITORIAL SERVICES", "CDC"),
            ("BLUE RIVER", "INC", "TRANSLATION SERVICES", "NIH"),
            ("KEYSTONE DATA", "CORP", "IT HELP DESK SUPPORT", "FDA"),
            ("SUMMIT HEALTH SOLUTIONS", "INC", "CONFERENCE LOGISTICS", "CMS"),
            ("PIONEER ANALYTICS", "LLC", "PROGRAM EVALUATION SUPPORT", "CDC"),
            ("HARBOR SOLUTIONS", "GROUP", "LABORATORY SUPPLIES", "NIH"),
            ("ORION HEALTH DATA", "INC", "DATA ANALYSIS SUPPORT SERVICES", "FDA"),
            ("MERIDIAN SOLUTIONS", "CORP", "FACILITY MAINTENANCE", "CMS"),
        ]
    )
]


def scan(*records: PurchaseRecord, **kwargs: object):  # type: ignore[no-untyped-def]
    return find_duplicates([*records, *BACKGROUND], **kwargs)  # type: ignore[arg-type]


def pair_keys(result) -> set[tuple[str, str]]:  # type: ignore[no-untyped-def]
    return {(p.key_a, p.key_b) for p in result.pairs}


# --- product extraction ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("description", "vendor_names", "expected"),
    [
        ("OPTION YEAR 4: HOSPITALVIEW", (), ("HOSPITALVIEW",)),
        ("WEB OF SCIENCE SUBSCRIPTION FOR CDC", (), ("WEB", "SCIENCE")),
        ("Cortellis SUBSCRIPTION FOR NATIONAL", (), ("CORTELLIS",)),
        ("SCOPUS SUBSCRIPTION FOR NAT", (), ("SCOPUS",)),  # cut-short buyer name
        ("LABORATORY SUPPLIES FOR INDIAN HEALTH SERVICE HQ", (), ("LABORATORY", "SUPPLIE")),
        ("ANNUAL LICENSE RENEWAL - ARCGIS ENTERPRISE ADVANCED", (),
         ("ARCGIS", "ENTERPRISE", "ADVANCED")),
        ("Purchase of Scopus (abstract and citation database) for FY23", (),
         ("SCOPUS", "ABSTRACT", "CITATION", "DATABASE")),
        ("TABLEAU CREATOR 25 SEATS FY2024", (), ("TABLEAU", "CREATOR")),
        ("TABLEAU CREATOR - 100 USERS - JANUARY 2024 - BASE YEAR", (), ("TABLEAU", "CREATOR")),
        ("ArcGIS Online SUBSC", (), ("ARCGIS", "ONLINE")),  # cut-short "SUBSCRIPTION"
        ("ARCGIS ONLINE SUBSCRIPTIION", (), ("ARCGIS", "ONLINE")),  # misspelt noise
        ("cloud analytics platform subscription (SAS Viya) enterprise license", ("SAS INSTITUTE",),
         ("CLOUD", "ANALYTIC", "PLATFORM", "VIYA")),
        ("statistical software (SAS Analytics Pro) enterprise lciense", ("SAS INSTITUTE",),
         ("STATISTICAL", "SOFTWARE", "ANALYTIC", "PRO")),
        ("OPTUM LABS DATA WAREHOUSE", ("OPTUMINSIGHT",), ("LABS", "DATA", "WAREHOUSE")),
        ("ZOOM 100 USERS", ("ZOOM VIDEO COMMUNICATIONS",), ("ZOOM",)),  # only the vendor's name
        ("IGF::OT::IGF CDDI DRUG PIPELINE", (), ("CDDI", "DRUG", "PIPELINE")),
    ],
)  # fmt: skip
def test_extract_product(description: str, vendor_names: tuple[str, ...], expected: tuple) -> None:
    product = extract_product(description, vendor_names)
    assert product.tokens == expected
    assert not product.vague


@pytest.mark.parametrize(
    "description",
    [
        "IGF::OT::IGF",
        "EXERCISE OPTION YEAR 3",
        "OPTION YEAR 2",
        "ANNUAL LICENSE RENE",
        "FY2024 SUBSCRIPTION RENEWAL",
        "BASE YEAR - 12 MONTHS",
        "Renewal for CDC",
        "",
    ],
)
def test_noise_only_descriptions_are_vague(description: str) -> None:
    assert extract_product(description).vague


# --- pair rules --------------------------------------------------------------------------------

UEI_A, UEI_B, PARENT = "AAAAAAAAAAA1", "BBBBBBBBBBB2", "PPPPPPPPPPP9"


def test_cross_division_same_uei_same_product_is_a_duplicate() -> None:
    a = rec("A1", "CDC", "CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE SUBSCRIPTION", vendor_uei=UEI_A)
    b = rec("B1", "NIH", "Clarivate Analytics (US) LLC", "OPTION YEAR 2: CLARIVATE WEB OF SCIENCE",
            vendor_uei=UEI_A, start=START + timedelta(days=122))  # fmt: skip
    result = scan(a, b)
    assert pair_keys(result) == {("A1", "B1")}
    pair = result.pairs[0]
    assert pair.overlap_days == 243
    assert "same UEI AAAAAAAAAAA1" in pair.reasons
    assert any(r.startswith("product names 100 % alike: 'WEB SCIENCE'") for r in pair.reasons)
    assert "243 days overlap" in pair.reasons


@pytest.mark.parametrize(
    ("name", "description", "b_fields", "why"),
    [
        # Renewal within one division.
        ("CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE", {"division": "CDC"}, "same division"),
        # Ordered under one shared vehicle.
        ("CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE",
         {"parent_piid": "75N00020A00001"}, "shared vehicle"),
        # Same vendor, different product.
        ("CLARIVATE ANALYTICS LLC", "CORTELLIS DRUG DISCOVERY INTELLIGENCE", {},
         "different offering"),
        # Look-alike product of another vendor.
        ("WEBSCI TOOLS INC", "WEB OF SCIENCE", {"vendor_uei": UEI_B}, "different offering"),
    ],
)  # fmt: skip
def test_not_duplicates(name: str, description: str, b_fields: dict, why: str) -> None:
    a = rec("A1", "CDC", "CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE SUBSCRIPTION",
            vendor_uei=UEI_A, parent_piid="75N00020A00001")  # fmt: skip
    fields = {"division": "NIH", "vendor_uei": UEI_A, **b_fields}
    b = replace(rec("B1", "NIH", name, description), **fields)
    records = [a, b, *BACKGROUND]
    assert score_pair(a, b, build_context(records)).kind == why
    assert pair_keys(find_duplicates(records)) == set()


def test_shared_vehicle_is_explained() -> None:
    vehicle = "75N00020A00001"
    a = rec("A1", "CDC", "ESRI", "ARCGIS ENTERPRISE", vendor_uei=UEI_A, parent_piid=vehicle)
    b = rec("B1", "NIH", "ESRI", "ARCGIS ENTERPRISE", vendor_uei=UEI_A, parent_piid=vehicle)
    score = score_pair(a, b, build_context([a, b, *BACKGROUND]))
    assert score.score == 0.0
    assert score.offering >= DEFAULT_THRESHOLD
    assert f"ordered under the same vehicle {vehicle}: not a duplicate" in score.reasons


def test_consultancy_doing_different_work_for_many_divisions_is_not_a_duplicate() -> None:
    works = ["PROGRAM EVALUATION SUPPORT", "IT HELP DESK SUPPORT", "JANITORIAL SERVICES",
             "TRANSLATION SERVICES", "CONFERENCE LOGISTICS"]  # fmt: skip
    records = [
        rec(f"K{i}", division, "BOOZ ALLEN HAMILTON INC", f"{work} FOR {division}",
            vendor_uei=UEI_A)
        for i, (division, work) in enumerate(zip(["CDC", "NIH", "FDA", "CMS", "HRSA"], works,
                                                 strict=True))
    ]  # fmt: skip
    assert pair_keys(scan(*records)) == set()


@pytest.mark.parametrize(
    ("overlap", "kind"),
    [(MIN_OVERLAP_DAYS - 1, "consolidation"), (MIN_OVERLAP_DAYS, "duplicate")],
)
def test_overlap_boundary(overlap: int, kind: str) -> None:
    a = rec("A1", "CDC", "SCOPUS CORP", "SCOPUS DATABASE", vendor_uei=UEI_A)
    b = rec("B1", "NIH", "SCOPUS CORP", "SCOPUS DATABASE", vendor_uei=UEI_A,
            start=START + timedelta(days=365 - overlap))  # fmt: skip
    result = scan(a, b)
    score = score_pair(a, b, build_context([a, b, *BACKGROUND]))
    assert score.overlap_days == overlap
    assert score.kind == kind
    assert (pair_keys(result) == {("A1", "B1")}) is (kind == "duplicate")
    assert (len(result.consolidation) == 1) is (kind == "consolidation")


@pytest.mark.parametrize(
    ("a_fields", "b_fields", "reason"),
    [
        # Subsidiary: both carry the parent's UEI.
        ({"vendor_name": "OPTUM GOVERNMENT SOLUTIONS INC", "vendor_uei": UEI_A,
          "parent_uei": PARENT},
         {"vendor_name": "OPTUMINSIGHT INC", "vendor_uei": UEI_B, "parent_uei": PARENT},
         f"same parent company (UEI {PARENT})"),
        # The parent itself bought as the other's parent.
        ({"vendor_name": "UNITEDHEALTH GROUP INC", "vendor_uei": PARENT},
         {"vendor_name": "OPTUM INC", "vendor_uei": UEI_B, "parent_uei": PARENT},
         "A1's vendor is the parent company of B1's"),
        # Former name, no UEIs.
        ({"vendor_name": "IQVIA INC (FORMERLY QUINTILESIMS)"},
         {"vendor_name": "QUINTILESIMS"}, "same vendor name or alias 'QUINTILESIMS'"),
        # d/b/a name, no UEIs.
        ({"vendor_name": "ACME WIDGETS CORP", "dba_name": "ROADRUNNER ANALYTICS"},
         {"vendor_name": "Roadrunner Analytics, LLC"},
         "same vendor name or alias 'ROADRUNNER ANALYTICS'"),
        # Register merge taught by an officer.
        ({"vendor_name": "ALPHA DATA", "vendor_id": 7}, {"vendor_name": "OMEGA INSIGHTS",
                                                          "vendor_id": 7},
         "same vendor in the register (id 7)"),
    ],
)  # fmt: skip
def test_vendor_family(a_fields: dict, b_fields: dict, reason: str) -> None:
    a = replace(rec("A1", "CDC", "", "CLINFORMATICS DATA MART"), **a_fields)
    b = replace(rec("B1", "NIH", "", "OPTION YEAR 1: CLINFORMATICS DATA MART"), **b_fields)
    result = scan(a, b)
    assert pair_keys(result) == {("A1", "B1")}
    assert reason in result.pairs[0].reasons


def test_missing_uei_with_typo_in_name() -> None:
    a = rec("A1", "CDC", "CLARIVATE ANALYTICS US LLC", "WEB OF SCIENCE", vendor_uei=UEI_A)
    b = rec("B1", "NIH", "CLARIVATE ANALYTCS LLC", "Web of Science subscription")
    result = scan(a, b)
    assert pair_keys(result) == {("A1", "B1")}
    assert any(r.startswith("vendor names 9") for r in result.pairs[0].reasons)


def test_common_name_words_do_not_make_one_vendor() -> None:
    a = rec("A1", "CDC", "SUMMIT HEALTH SOLUTIONS INC", "CLINFORMATICS DATA MART")
    b = rec("B1", "NIH", "NORTHSTAR HEALTH SOLUTIONS LLC", "CLINFORMATICS DATA MART")
    assert pair_keys(scan(a, b)) == set()


def test_acronym_of_the_product_name_matches() -> None:
    a = rec("A1", "CDC", "OPTUM INC", "ANNUAL LICENSE RENEWAL - CDM", vendor_uei=UEI_A)
    b = rec("B1", "NIH", "OPTUM INC", "CLINFORMATICS DATA MART DEIDENTIFIED CLAIMS",
            vendor_uei=UEI_A)  # fmt: skip
    result = scan(a, b)
    assert pair_keys(result) == {("A1", "B1")}
    assert any("CDM = CLINFORMATIC DATA MART" in r for r in result.pairs[0].reasons)


def test_vague_description_is_matched_only_when_the_family_sells_one_product() -> None:
    one = [
        rec("A1", "CDC", "DEFINITIVE HEALTHCARE LLC", "HOSPITALVIEW", vendor_uei=UEI_A),
        rec("B1", "NIH", "DEFINITIVE HEALTHCARE LLC", "EXERCISE OPTION YEAR 3", vendor_uei=UEI_A),
    ]
    result = scan(*one)
    assert pair_keys(result) == {("A1", "B1")}
    assert any("assumed the same (lower confidence)" in r for r in result.pairs[0].reasons)
    several = [*one, rec("C1", "FDA", "DEFINITIVE HEALTHCARE LLC", "MONOCL EXPERT DIRECTORY",
                         vendor_uei=UEI_A, start=START + timedelta(days=400))]  # fmt: skip
    assert pair_keys(scan(*several)) == set()


def test_a_name_shared_by_two_products_of_the_vendor_is_ambiguous() -> None:
    records = [
        rec("A1", "CDC", "ESRI", "ARCGIS ENTERPRISE", vendor_uei=UEI_A),
        rec("B1", "NIH", "ESRI", "OPTION YEAR 4: ARCGIS", vendor_uei=UEI_A),
        rec("C1", "FDA", "ESRI", "ARCGIS ONLINE ORGANIZATIONAL", vendor_uei=UEI_A,
            start=START + timedelta(days=500)),
    ]  # fmt: skip
    score = score_pair("A1", "B1", build_context([*records, *BACKGROUND]))
    assert score.kind == "different offering"
    assert any("a different product of this vendor family" in r for r in score.reasons)


def test_unknown_end_assumes_one_year() -> None:
    a = rec("A1", "CDC", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A)
    b = replace(rec("B1", "NIH", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A), end=None)
    score = score_pair(a, b, build_context([a, b, *BACKGROUND]))
    assert score.overlap_days == 365
    assert "365 days overlap (end date of B1 unknown: one year assumed)" in score.reasons


def test_duplicate_keys_are_rejected() -> None:
    a = rec("A1", "CDC", "X", "Y")
    with pytest.raises(ValueError, match="duplicate purchase key 'A1'"):
        build_context([a, a])


# --- officer feedback, incremental scans, clusters ---------------------------------------------


def _web_of_science(*divisions: str) -> list[PurchaseRecord]:
    return [
        rec(f"W{i}", division, "CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE", vendor_uei=UEI_A,
            start=START + timedelta(days=30 * i), obligated_cents=36_500_000 * (i + 1))
        for i, division in enumerate(divisions)
    ]  # fmt: skip


def test_dismissed_pair_never_returns() -> None:
    records = _web_of_science("CDC", "NIH")
    dismissed = {frozenset({"W0", "W1"})}
    assert pair_keys(scan(*records)) == {("W0", "W1")}
    assert pair_keys(scan(*records, dismissed=dismissed)) == set()
    assert pair_keys(scan(*records, dismissed=dismissed, confirmed=dismissed)) == set()
    assert scan(*records, dismissed=dismissed, only_keys=["W1"]).pairs == []


def test_confirmed_pair_is_always_reported() -> None:
    vehicle = "75N00020A00001"
    records = [replace(r, parent_piid=vehicle) for r in _web_of_science("CDC", "NIH")]
    assert pair_keys(scan(*records)) == set()
    result = scan(*records, confirmed={frozenset({"W1", "W0"})})
    assert pair_keys(result) == {("W0", "W1")}
    assert result.pairs[0].confirmed
    assert result.pairs[0].reasons[0] == "confirmed by an officer"
    assert result.pairs[0].score >= DEFAULT_THRESHOLD


def _mixed_population() -> list[PurchaseRecord]:
    products = [("CLARIVATE ANALYTICS LLC", "WEB OF SCIENCE"), ("ELSEVIER BV", "SCOPUS"),
                ("ELSEVIER BV", "SCIENCEDIRECT"), ("SAS INSTITUTE INC", "SAS VIYA"),
                ("SAS INSTITUTE INC", "SAS ANALYTICS PRO")]  # fmt: skip
    divisions = ["CDC", "NIH", "FDA", "CMS"]
    records = []
    for p, (vendor, product) in enumerate(products):
        for d, division in enumerate(divisions):
            for year in range(2):
                start = START + timedelta(days=365 * year + 40 * d + 7 * p)
                records.append(rec(f"P{p}D{d}Y{year}", division, vendor, f"{product} RENEWAL",
                                   start=start, vendor_uei=f"UEI{p // 2}"))  # fmt: skip
    return records + BACKGROUND


def test_incremental_scan_equals_full_scan_restricted() -> None:
    records = _mixed_population()
    full = find_duplicates(records)
    focus = {"P0D1Y0", "P3D2Y1", "BG001"}
    incremental = find_duplicates(records, only_keys=focus)
    expected = {(p.key_a, p.key_b) for p in full.pairs if {p.key_a, p.key_b} & focus}
    assert expected
    assert pair_keys(incremental) == expected
    assert {p.key_a for p in incremental.pairs} | {p.key_b for p in incremental.pairs} >= {
        "P0D1Y0",
        "P3D2Y1",
    }


def test_clusters_are_components_with_stable_ids() -> None:
    records = _web_of_science("CDC", "NIH", "FDA")
    result = scan(*records)
    assert pair_keys(result) == {("W0", "W1"), ("W0", "W2"), ("W1", "W2")}
    [cluster] = result.clusters
    assert cluster.id == "dup-W0"
    assert cluster.keys == ("W0", "W1", "W2")
    assert cluster.divisions == ("CDC", "FDA", "NIH")
    assert cluster.total_cents == 36_500_000 * 6
    # Annualised 36.5M, 73M, 109.5M cents; days 30-59 two cover, 60-364 three, 365-394 two.
    expected = (36_500_000 * 30 + (36_500_000 + 73_000_000) * 305 + 73_000_000 * 30) // 365
    assert cluster.estimated_avoidable_cents == expected
    assert scan(*reversed(records)).clusters == result.clusters


@pytest.mark.parametrize(
    ("annual_a", "annual_b", "days", "expected"),
    [
        (36_500, 73_000, 100, 10_000),
        (73_000, 36_500, 100, 10_000),
        (36_500, 36_500, 0, 0),
        (-36_500, 36_500, 100, 0),  # de-obligations never make avoidable spend negative
        (1_000, 1_000, 1, 2),  # rounded down
    ],
)
def test_pair_avoidable_cents(annual_a: int, annual_b: int, days: int, expected: int) -> None:
    assert pair_avoidable_cents(annual_a, annual_b, days) == expected


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        # Two members: equals the pair formula.
        ([("CDC", date(2023, 1, 1), date(2023, 12, 31), 36_500),
          ("NIH", date(2023, 7, 1), date(2024, 6, 29), 73_000)], 36_500 * 184 // 365),
        # Same division only: nothing avoidable across divisions.
        ([("CDC", date(2023, 1, 1), date(2023, 12, 31), 36_500),
          ("CDC", date(2023, 7, 1), date(2024, 6, 29), 73_000)], 0),
        # Three at once: all but the dearest each day, each day counted once.
        ([("CDC", date(2023, 1, 1), date(2023, 1, 10), 365),
          ("NIH", date(2023, 1, 1), date(2023, 1, 10), 730),
          ("FDA", date(2023, 1, 1), date(2023, 1, 10), 1_095)], (365 + 730) * 10 // 365),
    ],
)  # fmt: skip
def test_cluster_avoidable_cents(members: list, expected: int) -> None:
    assert cluster_avoidable_cents(members) == expected


def test_pair_avoidable_uses_annualised_costs() -> None:
    a = rec("A1", "CDC", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A, obligated_cents=36_500_000)
    b = rec("B1", "NIH", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A, days=730,
            obligated_cents=36_500_000, start=START + timedelta(days=265))  # fmt: skip
    [pair] = scan(a, b).pairs
    # B's annualised cost is 36.5M × 365 / 730 = 18.25M cents; 100 days overlap.
    assert pair.overlap_days == 100
    assert pair.estimated_avoidable_cents == 18_250_000 * 100 // 365


def test_consolidation_candidates_group_sequential_purchases() -> None:
    records = [
        rec("S1", "CDC", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A, obligated_cents=100),
        rec("S2", "NIH", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A, obligated_cents=200,
            start=START + timedelta(days=365)),
        rec("S3", "FDA", "SCOPUS CORP", "SCOPUS", vendor_uei=UEI_A, obligated_cents=300,
            start=START + timedelta(days=730)),
    ]  # fmt: skip
    result = scan(*records)
    assert result.pairs == []
    [candidate] = result.consolidation
    assert candidate.keys == ("S1", "S2", "S3")
    assert candidate.divisions == ("CDC", "FDA", "NIH")
    assert candidate.total_cents == 600
    assert candidate.product == "SCOPUS"


# --- check before you buy ----------------------------------------------------------------------


def test_rank_need_orders_by_vendor_and_product() -> None:
    records = [
        *_web_of_science("CDC"),
        rec("C1", "NIH", "CLARIVATE ANALYTICS LLC", "CORTELLIS", vendor_uei=UEI_A),
        rec("L1", "FDA", "WEBSCI TOOLS INC", "WEB OF SCIENCE LOOKALIKE", vendor_uei=UEI_B),
        *BACKGROUND,
    ]
    need = NeedQuery(
        "Clarivate",
        "Web of Science subscription",
        division="FDA",
        start=START + timedelta(days=100),
        end=START + timedelta(days=464),
    )
    matches = rank_need(need, records)  # fmt: skip
    assert [m.key for m in matches[:3]] == ["W0", "L1", "C1"]
    best = matches[0]
    assert best.vendor_similarity >= 0.85
    assert best.product_similarity == pytest.approx(1.0)
    assert best.overlap_days == 265
    assert "bought by CDC: ask to share or reuse" in best.reasons
    assert all(0.0 < m.score <= 1.0 for m in matches)
    assert len(rank_need(need, records, limit=1)) == 1


def test_rank_need_without_vendor_uses_the_product() -> None:
    records = [*_web_of_science("CDC"), *BACKGROUND]
    [first, *_] = rank_need(NeedQuery("", "web of science"), records)
    assert first.key == "W0"
    assert first.vendor_similarity == 0.0


def test_search_tokens() -> None:
    tokens = search_tokens("Clarivate Analytics (US) LLC", "Web of Science subscriptions FY24")
    assert tokens.vendor_tokens == ("CLARIVATE", "ANALYTICS")
    assert tokens.product_tokens == ("WEB", "SCIENCE")
