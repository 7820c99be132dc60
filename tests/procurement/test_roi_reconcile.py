"""The ROI report reconciles with the records, on SQLite and PostgreSQL, and respects who may see.

`build_dataset` writes a known register (purchases in several divisions and fiscal years, licences,
reuses in every status, invoices in every status, duplicate decisions, listings) straight into the
tables; each test then sums the rows itself and compares with the report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import Session, col, func, select

from marketplace import accounts
from marketplace.auth import PermissionDenied
from marketplace.catalog.models import Listing, ListingUsage
from marketplace.models import Division
from marketplace.types import utcnow
from procurement.costs import (
    annualised_cents,
    cost_in_period_cents,
    cost_per_reuse_cents,
    fiscal_quarter_bounds,
    fiscal_year,
    overlap_days,
)
from procurement.matching import pair_avoidable_cents
from procurement.models import (
    DuplicateDecision,
    Invoice,
    Licence,
    Purchase,
    ReuseRequest,
    Vendor,
)
from procurement.services import roi as roi_service
from procurement.services.reuse_spans import GRANTED_STATUSES
from tests.support import make_user

TODAY = date(2026, 11, 26)
D = date


@dataclass
class Dataset:
    purchases: dict[str, Purchase]
    licences: dict[str, Licence]
    reuses: dict[str, ReuseRequest]
    users: dict[str, object]
    divisions: dict[str, int]


def _division_ids(db: Session) -> dict[str, int]:
    return {d.code: d.id for d in db.exec(select(Division)).all()}


def build_dataset(db: Session) -> Dataset:
    """The register every reconciliation test reads (see the module docstring)."""
    ids = _division_ids(db)
    users = {
        "leader": make_user(db, "leader@hhs.gov", division="OS", roles=("leadership",)),
        "cdc": make_user(db, "officer.cdc@hhs.gov", division="CDC", roles=("officer",)),
        "nih": make_user(db, "officer.nih@hhs.gov", division="NIH", roles=("officer",)),
        "admin": make_user(db, "admin@hhs.gov", division="OS", roles=("admin",)),
        "viewer": make_user(db, "viewer@hhs.gov", division="CDC", roles=("viewer",)),
        "steward": make_user(db, "steward@hhs.gov", division="CDC", roles=("steward",)),
    }
    vendors = {
        key: Vendor(name=name, name_key=name.lower())
        for key, name in (
            ("acme", "Acme Data Inc"),
            ("claims", "Claims Co LLC"),
            ("survey", "Survey Works"),
        )
    }
    db.add_all(vendors.values())
    db.flush()
    # key: (division, vendor, psc, start, end, obligated cents)
    rows = {
        "p1": ("CDC", "acme", "7A21", D(2024, 11, 15), D(2025, 11, 14), 120_000_000),
        "p2": ("CDC", "claims", "R408", D(2025, 10, 1), D(2026, 9, 30), 100_000_000),
        "p3": ("NIH", "acme", "7A21", D(2026, 1, 10), D(2027, 1, 9), 50_000_000),
        "p4": ("FDA", "survey", None, D(2026, 4, 1), D(2026, 6, 30), 7_500_000),
        "p5": ("CMS", "claims", "R408", D(2026, 7, 15), D(2027, 7, 14), -1_000_000),
        "p6": ("NIH", "survey", "R499", None, None, 3_333_333),
        "p7": ("CDC", "acme", "7A21", D(2026, 12, 1), D(2027, 11, 30), 25_000_000),
        "p8": ("FDA", "acme", "7A20", D(2026, 2, 1), D(2027, 1, 31), 30_000_000),
    }
    purchases = {}
    for key, (division, vendor, psc, start, end, cents) in rows.items():
        purchases[key] = Purchase(
            award_key=f"award-{key}",
            piid=f"75X-{key.upper()}",
            division_id=ids[division],
            vendor_id=vendors[vendor].id,
            product=f"Product {key}",
            psc=psc,
            start_on=start,
            current_end_on=end,
            obligated_cents=cents,
        )
    db.add_all(purchases.values())
    db.flush()
    licence_rows = {
        # key: (purchase, seats, owner seats, term start, term end, renewal on)
        "L1": ("p1", 25, 5, D(2024, 11, 15), D(2025, 11, 14), None),
        "L2": ("p2", 10, 2, D(2025, 10, 1), D(2026, 9, 30), TODAY + timedelta(days=20)),
        "L3": ("p3", None, 0, D(2026, 1, 10), D(2027, 1, 9), TODAY + timedelta(days=45)),
        "L4": ("p8", 5, 1, D(2026, 2, 1), TODAY + timedelta(days=100), None),
    }
    licences = {}
    for key, (purchase, seats, owner_seats, start, end, renewal) in licence_rows.items():
        licences[key] = Licence(
            purchase_id=purchases[purchase].id,
            scope="department",
            seats=seats,
            owner_seats=owner_seats,
            term_start_on=start,
            term_end_on=end,
            renewal_on=renewal,
            renewal_cost_cents=1_000_000 if key == "L2" else None,
            price_per_seat_cents=4_800_000,
        )
    db.add_all(licences.values())
    db.flush()
    listings = {
        "l1": Listing(identifier="roi-l1", title="Claims extract", kind="dataset", division_id=ids["CDC"]),
        "l2": Listing(identifier="roi-l2", title="Cohort API", kind="api", division_id=ids["NIH"]),
        "l3": Listing(identifier="roi-l3", title="Linkage code", kind="code", division_id=ids["NIH"]),
    }  # fmt: skip
    db.add_all(listings.values())
    db.flush()
    db.add(ListingUsage(listing_id=listings["l1"].id, month=D(2025, 11, 1), views=40, downloads=7))
    reuse_rows = {
        # key: (licence, listing, owner, requester, status, start, end, seats, avoided cents)
        "r1": ("L2", "l1", "CDC", "NIH", "active", D(2025, 11, 1), D(2026, 9, 30), 3, 15_000_000),
        "r2": ("L2", None, "CDC", "FDA", "expired", D(2025, 12, 1), D(2025, 12, 31), 2, 1_000_000),
        "r3": ("L2", None, "CDC", "CMS", "revoked", D(2026, 2, 1), D(2026, 3, 1), 1, None),
        "r4": ("L2", None, "CDC", "CMS", "denied", D(2026, 2, 1), D(2026, 3, 1), 1, 99_900),
        "r5": ("L2", None, "CDC", "ATSDR", "requested", D(2026, 2, 1), D(2026, 3, 1), 1, None),
        "r6": ("L3", "l2", "NIH", "CDC", "approved", D(2026, 12, 1), D(2027, 1, 9), 4, 2_000_000),
        "r7": ("L1", "l1", "CDC", "FDA", "expired", D(2024, 12, 1), D(2025, 6, 30), 10, 20_000_000),
        "r8": (None, "l3", "NIH", "CMS", "active", D(2026, 3, 1), D(2026, 12, 31), 1, None),
    }  # fmt: skip
    reuses = {}
    for key, row in reuse_rows.items():
        licence, listing, owner, requester, status, start, end, seats, avoided = row
        reuses[key] = ReuseRequest(
            licence_id=licences[licence].id if licence else None,
            listing_id=listings[listing].id if listing else None,
            owner_division_id=ids[owner],
            requesting_division_id=ids[requester],
            requested_by_id=users["nih"].id,
            contact_name="Test",
            contact_email="test@hhs.gov",
            purpose="Reconciliation",
            seats=seats,
            start_on=start,
            end_on=end,
            due_on=start,
            status=status,
            avoided_cents=avoided,
        )
    db.add_all(reuses.values())
    invoice_rows = [
        # (from, to, status, period start, total cents)
        ("CDC", "NIH", "issued", D(2025, 10, 1), 10_000_000),
        ("CDC", "FDA", "paid", D(2025, 10, 1), 500_000),
        ("CDC", "CMS", "void", D(2025, 10, 1), 700_000),
        ("CDC", "NIH", "draft", D(2026, 1, 1), 300_000),
        ("NIH", "CDC", "issued", D(2026, 10, 1), 250_000),
    ]
    for n, (source, target, status, start, total) in enumerate(invoice_rows, start=1):
        db.add(
            Invoice(
                number=f"HHS-FY{fiscal_year(start) % 100}-{n:06d}",
                fiscal_year=fiscal_year(start),
                sequence=n,
                from_division_id=ids[source],
                to_division_id=ids[target],
                licence_id=licences["L2"].id if source == "CDC" else licences["L3"].id,
                period_start=start,
                period_end=start + timedelta(days=89),
                status=status,
                total_cents=total,
                created_by="test",
            )
        )
    for a, b, decision in (
        ("p2", "p5", "confirmed"),
        ("p3", "p8", "confirmed"),
        ("p1", "p7", "not_duplicate"),
    ):
        first, second = sorted((f"award-{a}", f"award-{b}"))
        db.add(DuplicateDecision(key_a=first, key_b=second, decision=decision, decided_by="t"))
    db.commit()
    return Dataset(purchases, licences, reuses, users, ids)


def _principal(db: Session, data: Dataset, who: str):
    return accounts.principal_for(db, data.users[who])


def _report(db, data, who="leader", **filters):
    parsed, errors = roi_service.parse_filters(**{k: str(v) for k, v in filters.items()})
    assert errors == {}
    return roi_service.roi_report(db, _principal(db, data, who), parsed, today=TODAY)


def _spend(db: Session, *conditions) -> tuple[int, int]:
    total, count = db.exec(
        select(func.coalesce(func.sum(Purchase.obligated_cents), 0), func.count()).where(
            *conditions
        )
    ).one()
    return int(total), int(count)


def _granted(db: Session, *conditions) -> list[ReuseRequest]:
    return list(
        db.exec(
            select(ReuseRequest).where(
                col(ReuseRequest.status).in_([s.value for s in GRANTED_STATUSES]), *conditions
            )
        ).all()
    )


@pytest.fixture(autouse=True)
def _no_kept_reports():
    roi_service.clear_cache()


@pytest.fixture
def data(db):
    return build_dataset(db)


def test_all_time_totals_equal_the_sums_of_the_records(db, data):
    view = _report(db, data)
    f = view.report.figures
    total, count = _spend(db)
    assert (f["total_spend_cents"], f["purchase_count"]) == (total, count) == (334_833_333, 8)
    assert sum(view.report.spend_by_division.values()) == total
    for code, cents in view.report.spend_by_division.items():
        assert cents == _spend(db, Purchase.division_id == data.divisions[code])[0], code
    granted = _granted(db)
    assert f["reuse_count"] == len(granted) == 6  # requested and denied never count
    avoided = sum(r.avoided_cents or 0 for r in granted)
    assert f["avoided_by_reuse_cents"] == avoided == 38_000_000
    assert f["avoided_spend_cents"] == avoided + f["avoided_by_checks_cents"]
    assert f["reuses_without_avoided_figure"] == sum(r.avoided_cents is None for r in granted)
    invoices = db.exec(select(Invoice)).all()
    assert f["invoiced_cents"] == sum(
        i.total_cents for i in invoices if i.status in ("issued", "paid")
    )
    assert f["paid_cents"] == sum(i.total_cents for i in invoices if i.status == "paid") == 500_000
    assert f["listings_reused"] == 3


def test_fiscal_year_counts_what_starts_in_it(db, data):
    view = _report(db, data, fiscal_year="FY2026")
    f = view.report.figures
    fy26 = [p for p in data.purchases.values() if p.start_on and fiscal_year(p.start_on) == 2026]
    assert f["total_spend_cents"] == sum(p.obligated_cents for p in fy26) == 186_500_000
    assert f["purchase_count"] == len(fy26) == 5
    granted = [r for r in _granted(db) if fiscal_year(r.start_on) == 2026]
    assert f["reuse_count"] == len(granted) == 4
    assert f["avoided_by_reuse_cents"] == sum(r.avoided_cents or 0 for r in granted)
    # Invoices for billed periods starting in FY2026, issued or paid.
    assert (f["invoiced_cents"], f["paid_cents"]) == (10_500_000, 500_000)
    # The quarters add up to the year.
    quarters = [_report(db, data, fiscal_year=2026, quarter=q).report.figures for q in (1, 2, 3, 4)]
    for name in ("total_spend_cents", "reuse_count", "avoided_by_reuse_cents", "invoiced_cents"):
        assert sum(q[name] for q in quarters) == f[name], name


def test_spend_charts_add_up_to_total_spend(db, data):
    for filters in ({}, {"fiscal_year": 2026}, {"fiscal_year": 2026, "quarter": 1}):
        view = _report(db, data, **filters)
        total = view.report.figures["total_spend_cents"]
        for chart in view.report.charts:
            if chart.chart_id.startswith("chart-spend"):
                values = [v for s in chart.data.series for _, v in s.points]
                assert sum(values) == total, (filters, chart.chart_id)


def test_cost_per_reuse_and_seats_for_a_quarter(db, data):
    view = _report(db, data, fiscal_year=2026, quarter=1, division="CDC")
    f = view.report.figures
    q1 = fiscal_quarter_bounds(2026, 1)
    p1, p2 = data.purchases["p1"], data.purchases["p2"]
    cost = sum(
        cost_in_period_cents(p.obligated_cents, p.start_on, p.current_end_on, q1.start, q1.end)
        for p in (p1, p2)
    )
    # L1: CDC alone (FDA's reuse ended in June). L2: CDC, NIH (from Nov), FDA (December).
    assert (f["licence_cost_cents"], f["uses_count"]) == (cost, 4)
    assert f["cost_per_reuse_cents"] == cost_per_reuse_cents(cost, 4)
    # On 31 December 2025, L2 (10 seats) holds CDC's 2 + NIH's 3 + FDA's 2.
    assert view.report.as_of == D(2025, 12, 31)
    assert (f["active_licences"], f["seats_available"], f["seats_used"]) == (1, 10, 7)
    assert f["seat_utilisation_bp"] == 7_000


def test_renewals_duplicates_and_listings(db, data):
    f = _report(db, data).report.figures
    assert (f["expiring_30"], f["expiring_60"], f["expiring_120"]) == (1, 1, 1)
    assert f["expiring_renewal_cost_cents"] == 1_000_000

    def avoidable(a, b):
        pa, pb = data.purchases[a], data.purchases[b]
        return pair_avoidable_cents(
            annualised_cents(pa.obligated_cents, pa.start_on, pa.current_end_on),
            annualised_cents(pb.obligated_cents, pb.start_on, pb.current_end_on),
            overlap_days(pa.start_on, pa.current_end_on, pb.start_on, pb.current_end_on),
        )

    assert f["duplicate_pairs"] == 2  # the dismissed pair is left out
    assert f["duplicate_spend_cents"] == avoidable("p2", "p5") + avoidable("p3", "p8")
    assert f["duplicate_confirmed_cents"] == f["duplicate_spend_cents"]
    # p2 ended on 30 September 2026: that duplication is resolved.
    assert f["duplicate_resolved_cents"] == avoidable("p2", "p5")
    listings = _report(db, data).report.listings
    assert (listings[0].title, listings[0].reuses) == ("Claims extract", 2)
    assert (listings[0].views, listings[0].downloads) == (40, 7)


def test_kind_and_vendor_filters(db, data):
    api = _report(db, data, kind="api").report.figures
    assert api["reuse_count"] == 1 and api["avoided_by_reuse_cents"] == 2_000_000
    assert api["total_spend_cents"] == _spend(db)[0]  # spend is not catalogued by kind
    acme = _report(db, data, vendor="acme").report.figures
    acme_ids = [
        p.id for p in data.purchases.values() if p.vendor_id == data.purchases["p1"].vendor_id
    ]
    assert acme["total_spend_cents"] == _spend(db, col(Purchase.id).in_(acme_ids))[0]
    assert acme["reuse_count"] == 2  # reuses of the Acme licences L1 and L3
    nothing = _report(db, data, vendor="no such vendor")
    assert nothing.report.figures["total_spend_cents"] == 0
    assert any("No vendor" in note for note in nothing.notes)


@pytest.mark.parametrize("who", ["viewer", "steward"])
def test_viewers_and_stewards_may_not_read_the_report(db, data, who):
    with pytest.raises(PermissionDenied):
        _report(db, data, who=who)


def test_officer_sees_only_their_division_even_when_asking_for_another(db, data):
    view = _report(db, data, who="nih", division="CDC")
    assert view.division == "NIH"
    assert view.notes and "own division" in view.notes[0]
    f = view.report.figures
    nih = data.divisions["NIH"]
    assert f["total_spend_cents"] == _spend(db, Purchase.division_id == nih)[0]
    assert set(view.report.spend_by_division) == {"NIH"}
    assert f["reuse_count"] == len(_granted(db, ReuseRequest.owner_division_id == nih)) == 2
    assert f["invoiced_cents"] == 250_000
    admin = _report(db, data, who="admin")
    assert admin.division == "OS" and admin.report.figures["total_spend_cents"] == 0


def test_leadership_sees_every_division_or_the_one_chosen(db, data):
    assert _report(db, data).division is None
    cdc = _report(db, data, division="cdc")
    assert cdc.division == "CDC"
    assert (
        cdc.report.figures["total_spend_cents"]
        == _spend(db, Purchase.division_id == data.divisions["CDC"])[0]
    )


@pytest.mark.parametrize(
    "filters,field",
    [
        ({"fiscal_year": "20x6"}, "fiscal_year"),
        ({"fiscal_year": "99999"}, "fiscal_year"),
        ({"quarter": "2"}, "quarter"),  # a quarter needs a year
        ({"fiscal_year": "2026", "quarter": "5"}, "quarter"),
        ({"kind": "spaceship"}, "kind"),
    ],
)
def test_bad_filters_are_explained_and_dropped(filters, field):
    parsed, errors = roi_service.parse_filters(**filters)
    assert errors.get(field)
    assert parsed.quarter is None or parsed.fiscal_year is not None


def test_unknown_division_is_an_error_for_leadership(db, data):
    parsed, _ = roi_service.parse_filters(division="XYZ")
    view = roi_service.roi_report(db, _principal(db, data, "leader"), parsed, today=TODAY)
    assert "division" in view.errors and view.division is None


def test_kept_reports_are_reused_until_a_record_changes(db, data):
    first = _report(db, data)
    assert _report(db, data).report is first.report  # unchanged data: the kept report
    purchase = data.purchases["p4"]
    purchase.obligated_cents += 12_345
    purchase.updated_at = utcnow()
    db.add(purchase)
    db.commit()
    changed = _report(db, data).report.figures
    assert changed["total_spend_cents"] == first.report.figures["total_spend_cents"] + 12_345
    request = data.reuses["r5"]  # requested → approved: now a granted reuse
    request.status = "approved"
    request.avoided_cents = 5_000
    request.updated_at = utcnow()
    db.add(request)
    db.commit()
    approved = _report(db, data).report.figures
    assert approved["reuse_count"] == changed["reuse_count"] + 1
    assert approved["avoided_by_reuse_cents"] == changed["avoided_by_reuse_cents"] + 5_000
    db.delete(db.get(Invoice, 1))
    db.commit()
    assert (
        _report(db, data).report.figures["invoiced_cents"]
        == approved["invoiced_cents"] - 10_000_000
    )


def test_all_time_spend_by_fiscal_year_equals_the_purchases_starting_in_it(db, data):
    # Spend is read grouped by chart period: each year's bars hold exactly its purchases.
    chart = next(c for c in _report(db, data).report.charts if c.chart_id == "chart-spend-division")
    by_label: dict[str, int] = {}
    for series in chart.data.series:
        for label, cents in series.points:
            by_label[label] = by_label.get(label, 0) + cents
    expected: dict[str, int] = {}
    for p in data.purchases.values():
        label = f"FY{fiscal_year(p.start_on)}" if p.start_on else "No start date"
        expected[label] = expected.get(label, 0) + p.obligated_cents
    assert {k: v for k, v in by_label.items() if v} == {k: v for k, v in expected.items() if v}


@pytest.mark.parametrize(
    "filters",
    [{}, {"fiscal_year": 2026}, {"fiscal_year": 2026, "quarter": 1}, {"division": "CDC"}],
)
def test_licence_results_kept_across_a_change_equal_a_fresh_computation(db, data, filters):
    before = _report(db, data, **filters).report  # keeps every licence's facts and results
    purchase = db.get(Purchase, data.licences["L2"].purchase_id)
    purchase.obligated_cents += 1_000_001
    purchase.updated_at = datetime(2030, 1, 1, tzinfo=UTC)  # moves the data stamp
    db.add(purchase)
    db.commit()
    kept = _report(db, data, **filters).report
    roi_service.clear_cache(licences=True)
    fresh = _report(db, data, **filters).report
    assert kept == fresh
    assert kept.figures["licence_cost_cents"] != before.figures["licence_cost_cents"]


@pytest.mark.parametrize(
    "filters",
    [
        {"vendor": "acme"},
        {"vendor": "a", "fiscal_year": 2026},
        {"vendor": "a", "fiscal_year": 2026, "quarter": 1},
    ],
)
def test_spend_of_a_few_vendors_summed_in_python_equals_the_sql_grouping(
    db, data, monkeypatch, filters
):
    fast = _report(db, data, **filters).report
    roi_service.clear_cache()
    monkeypatch.setattr(roi_service, "FEW_VENDORS", 0)  # every vendor filter grouped in SQL
    grouped = _report(db, data, **filters).report
    assert fast.figures == grouped.figures
    assert [c.data for c in fast.charts] == [c.data for c in grouped.charts]


def _change_reuse(db, data):
    request = data.reuses["r5"]  # requested → approved: L2 gains a use, the reuse figures move
    request.status = "approved"
    request.avoided_cents = 7_000
    request.updated_at = utcnow()
    db.add(request)


def _change_licence(db, data):
    licence = data.licences["L4"]  # seats and renewal: utilisation and renewals move
    licence.seats = 9
    licence.renewal_on = TODAY + timedelta(days=10)
    licence.updated_at = utcnow()
    db.add(licence)


def _change_purchase(db, data):
    purchase = db.get(Purchase, data.licences["L3"].purchase_id)  # cost and spend move
    purchase.obligated_cents += 3_000_001
    purchase.updated_at = utcnow()
    db.add(purchase)


def _delete_licence(db, data):
    db.delete(db.get(Licence, data.licences["L4"].id))  # the licence no reuse or invoice names


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"fiscal_year": 2026},
        {"fiscal_year": 2026, "quarter": 2},
        {"division": "CDC"},
        {"vendor": "acme"},
        {"kind": "api"},
    ],
)
def test_parts_and_licence_facts_kept_across_changes_equal_a_fresh_computation(db, data, filters):
    # Each part of a report is kept under the stamps of the tables it reads, and each licence's
    # fact under its own stamp: after a change to any of them, the report equals one computed
    # with nothing kept.
    before = _report(db, data, **filters).report
    for change in (_change_reuse, _change_licence, _change_purchase, _delete_licence):
        change(db, data)
        db.commit()
        kept = _report(db, data, **filters).report
        roi_service.clear_cache(licences=True)
        fresh = _report(db, data, **filters).report
        assert kept == fresh, change.__name__
    assert fresh != before
