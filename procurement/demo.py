"""Demo purchases, vendors and licences: what several divisions really buy, dated around today.

The same commercial data bought by several divisions over overlapping periods, orders under a shared
BPA, a subscription renewed year after year by one division, consultancies for many divisions and
purchase-card subscriptions entered by hand; licences of every scope, some due for renewal within
30, 60 and 120 days. Added by award key, so loading twice adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlmodel import Session, select

from marketplace.types import utcnow
from procurement.models import Licence, Purchase, PurchaseSource
from procurement.services.common import DivisionTable, today_at_hhs
from procurement.services.purchases import template_award_key
from procurement.services.vendors import VendorResolver, purchase_search_text

DEMO_SOURCE = "demo data"


@dataclass(frozen=True)
class DemoPurchase:
    """One demo purchase; days are offsets from the day the demo is loaded."""

    division: str
    piid: str
    vendor: str
    uei: str
    product: str
    description: str
    start: int
    end: int
    obligated: int  # dollars
    psc: str = "7A21"
    naics: str = "519290"
    award_type: str = "PURCHASE ORDER"
    parent_piid: str | None = None
    manual: bool = False
    potential_end: int | None = None
    notes: str = ""


MARKETSCAN = "Merative US L.P. (formerly IBM Watson Health)"
ELSEVIER = "Elsevier Inc."
ESRI = "Environmental Systems Research Institute, Inc."
POLITICO = "Politico LLC d/b/a Politico Pro"
CLARIVATE = "Clarivate Analytics (US) LLC"
IQVIA = "IQVIA Inc."
BOOZ = "Booz Allen Hamilton Inc."
CLARIVATE_BPA = "75N98023A00005"

PURCHASES: tuple[DemoPurchase, ...] = (
    # One claims database, bought by four divisions with overlapping periods.
    DemoPurchase("CDC", "75D30124P00412", MARKETSCAN, "NV7KDL9ZQ8M3", "MarketScan Commercial Claims and Encounters",
                 "Annual licence to MarketScan commercial claims for NCHS and NCEZID studies", -300, 65, 412_500),
    DemoPurchase("NIH", "75N95024P00188", MARKETSCAN, "NV7KDL9ZQ8M3", "MarketScan Commercial and Medicare Supplemental",
                 "MarketScan claims for NIMH and NIDA health-services research", -200, 165, 389_000),
    DemoPurchase("AHRQ", "75Q80124P00031", MARKETSCAN, "NV7KDL9ZQ8M3", "MarketScan Research Databases",
                 "Claims data for the Medical Expenditure Panel Survey linkage", -400, -35, 298_750),
    DemoPurchase("FDA", "75F40124P00077", MARKETSCAN, "NV7KDL9ZQ8M3", "MarketScan claims for Sentinel",
                 "Claims data supporting Sentinel post-market safety surveillance", -100, 265, 455_000),
    # A literature database, three divisions.
    DemoPurchase("NIH", "75N97024P00512", ELSEVIER, "R4KQW2J8F1T6", "Embase and Scopus",
                 "Biomedical literature databases for NIH Library users", -330, 35, 1_180_000),
    DemoPurchase("FDA", "75F40124P00301", ELSEVIER, "R4KQW2J8F1T6", "Embase",
                 "Embase for adverse-event literature surveillance", -250, 115, 264_300),
    DemoPurchase("CDC", "75D30124P00733", ELSEVIER, "R4KQW2J8F1T6", "Scopus",
                 "Citation database for CDC Stephen B. Thacker Library", -500, -135, 187_900),
    # A GIS platform: the department-wide agreement and a division's own add-on.
    DemoPurchase("ASA", "75P00123C00061", ESRI, "LX8HN3WQ2C5K", "ArcGIS Enterprise Agreement",
                 "Department-wide ArcGIS enterprise licence agreement", -600, 55, 3_450_000,
                 psc="7A20", naics="513210", award_type="DEFINITIVE CONTRACT", potential_end=1160),
    DemoPurchase("IHS", "75H70124P00094", ESRI, "LX8HN3WQ2C5K", "ArcGIS Online extra credits",
                 "Additional ArcGIS Online credits for tribal health-facility mapping", -90, 275, 48_200,
                 psc="7A20", naics="513210"),
    # Orders by several divisions under one library BPA.
    DemoPurchase("NIH", CLARIVATE_BPA, CLARIVATE, "C9TJ4PZ7XH2M", "Web of Science and InCites BPA",
                 "Blanket purchase agreement for Clarivate research analytics, open to HHS libraries",
                 -700, 1100, 0, award_type="BPA"),
    DemoPurchase("NIH", "75N98024F00021", CLARIVATE, "C9TJ4PZ7XH2M", "Web of Science Core Collection",
                 "NIH Library order for Web of Science", -280, 85, 615_000, award_type="BPA CALL",
                 parent_piid=CLARIVATE_BPA),
    DemoPurchase("FDA", "75F40124F00012", CLARIVATE, "C9TJ4PZ7XH2M", "Cortellis Drug Discovery Intelligence",
                 "FDA order for drug pipeline intelligence", -180, 185, 342_000, award_type="BPA CALL",
                 parent_piid=CLARIVATE_BPA),
    DemoPurchase("CDC", "75D30124F00045", CLARIVATE, "C9TJ4PZ7XH2M", "InCites Benchmarking",
                 "CDC order for research-impact analytics", -150, 20, 98_500, award_type="BPA CALL",
                 parent_piid=CLARIVATE_BPA),
    # One division renewing the same data year after year; the current year is due soon.
    DemoPurchase("CMS", "75FCMC22P00108", IQVIA, "G2XW5M8RK4L9", "National Prescription Audit",
                 "Prescription volume data for Part D analysis, 2022", -1090, -725, 540_000),
    DemoPurchase("CMS", "75FCMC23P00117", IQVIA, "G2XW5M8RK4L9", "National Prescription Audit",
                 "Prescription volume data for Part D analysis, 2023", -725, -360, 556_200),
    DemoPurchase("CMS", "75FCMC24P00121", IQVIA, "G2XW5M8RK4L9", "National Prescription Audit",
                 "Prescription volume data for Part D analysis, 2024", -360, 5, 572_900),
    # Consultancies doing different work for many divisions.
    DemoPurchase("CDC", "75D30124C00981", BOOZ, "J6PD3K9TQ2W7", "Data modernization strategy",
                 "Consulting for the CDC Data Modernization Initiative roadmap", -420, 310, 2_350_000,
                 psc="R408", naics="541611", award_type="DEFINITIVE CONTRACT"),
    DemoPurchase("CMS", "75FCMC24C00052", BOOZ, "J6PD3K9TQ2W7", "Medicaid data quality assessment",
                 "T-MSIS data quality assessment support", -260, 470, 1_870_000,
                 psc="R408", naics="541611", award_type="DEFINITIVE CONTRACT"),
    DemoPurchase("SAMHSA", "75S20324C00017", BOOZ, "J6PD3K9TQ2W7", "Survey data platform assessment",
                 "Assessment of the NSDUH data platform", -210, 155, 640_000,
                 psc="R499", naics="541611", award_type="DEFINITIVE CONTRACT"),
    DemoPurchase("FDA", "75F40124C00233", BOOZ, "J6PD3K9TQ2W7", "Real-world evidence analytics support",
                 "Analytics support for real-world evidence submissions", -120, 610, 1_240_000,
                 psc="R408", naics="541611", award_type="DEFINITIVE CONTRACT"),
    # Purchase-card subscriptions: never in FPDS, entered by hand with their own references.
    DemoPurchase("HRSA", "HHS-MAN-2025-00001", POLITICO, "", "Politico Pro Health Care",
                 "Policy news subscription for the Office of Legislation, 25 named users", -340, 25, 9_800,
                 psc="7A21", naics="513110", award_type="PURCHASE CARD", manual=True,
                 notes="Card holder: Office of Legislation. Renewal quote expected 30 days ahead."),
    DemoPurchase("CMS", "HHS-MAN-2025-00002", POLITICO, "", "Politico Pro Health Care",
                 "Policy news subscription for the Office of Legislation", -100, 265, 12_400,
                 psc="7A21", naics="513110", award_type="PURCHASE CARD", manual=True),
    DemoPurchase("ASPE", "HHS-MAN-2025-00003", "Inside Health Policy", "", "Inside Health Policy",
                 "News service for policy analysts, 10 named users", -300, 65, 7_950,
                 psc="7A21", naics="513110", award_type="PURCHASE CARD", manual=True),
)  # fmt: skip


@dataclass(frozen=True)
class DemoLicence:
    piid: str
    scope: str
    seats: int | None
    reuse: str
    listed: str = ""
    auto_renew: bool = False
    renewal_cost: int | None = None  # dollars
    redistribution: bool = False
    derivatives: bool = False
    dua: bool = False
    renewal_days_before_end: int = 0
    notes: str = ""
    owner_seats: int = 0
    price_per_seat: int | None = None  # dollars for one seat over the term
    share: str = "none"  # costs.ShareMethod


LICENCES: tuple[DemoLicence, ...] = (
    DemoLicence("75D30124P00412", "listed_divisions", None, "with_approval", listed="ATSDR,NIH",
                renewal_cost=425_000, dua=True, renewal_days_before_end=30, share="equal",
                notes="Covers CDC, ATSDR and NIH analysts; a DUA per project."),
    DemoLicence("75N95024P00188", "division", 40, "no", renewal_cost=395_000, dua=True),
    DemoLicence("75F40124P00077", "named_users", 60, "with_approval", renewal_cost=470_000,
                derivatives=True, owner_seats=40, price_per_seat=7_600, share="per_seat"),
    DemoLicence("75N97024P00512", "department", None, "yes", auto_renew=True,
                renewal_cost=1_210_000, renewal_days_before_end=0,
                notes="Campus-wide IP access for every HHS network."),
    DemoLicence("75P00123C00061", "department", None, "yes", auto_renew=False,
                renewal_cost=3_600_000, redistribution=True, derivatives=True,
                notes="Every HHS division may deploy ArcGIS under this agreement."),
    DemoLicence("75N98024F00021", "named_users", 150, "with_approval", renewal_cost=630_000,
                owner_seats=100, price_per_seat=4_100, share="per_seat"),
    DemoLicence("75D30124F00045", "division", 10, "no", auto_renew=True, renewal_cost=99_000),
    DemoLicence("75FCMC24P00121", "division", None, "no", renewal_cost=590_000,
                notes="Vendor terms forbid any use outside CMS."),
    DemoLicence("HHS-MAN-2025-00001", "named_users", 25, "with_approval", auto_renew=True,
                renewal_cost=10_200),
    DemoLicence("HHS-MAN-2025-00003", "named_users", 10, "no", renewal_cost=8_100),
)  # fmt: skip


def load_procurement_demo(db: Session) -> dict[str, int]:
    """Add the demo purchases and licences that are not there yet (by award key)."""
    today = today_at_hhs(utcnow())
    divisions = DivisionTable.load(db)
    keys = {p.piid: _award_key(p) for p in PURCHASES}
    existing = set(
        db.exec(select(Purchase.award_key).where(Purchase.award_key.in_(keys.values()))).all()  # type: ignore[attr-defined]
    )
    resolver = VendorResolver(db)
    wanted = [p for p in PURCHASES if keys[p.piid] not in existing]
    refs = {p.piid: resolver.resolve(p.vendor, uei=p.uei or None) for p in wanted}
    created_vendors = resolver.write()
    names = {
        **resolver.names,
        **{created_vendors[k]: v["name"] for k, v in resolver.new_vendors.items()},
    }
    for demo in wanted:
        ref = refs[demo.piid]
        vendor_id = created_vendors[ref] if isinstance(ref, str) else ref
        assert vendor_id is not None
        purchase = Purchase(
            award_key=keys[demo.piid],
            piid=demo.piid,
            parent_piid=demo.parent_piid,
            division_id=divisions.by_code[demo.division].id or 0,
            awarding_division_id=None if demo.manual else divisions.by_code[demo.division].id,
            vendor_id=vendor_id,
            product=demo.product,
            description=demo.description,
            award_type=demo.award_type,
            psc=demo.psc,
            naics=demo.naics,
            start_on=today + timedelta(days=demo.start),
            current_end_on=today + timedelta(days=demo.end),
            potential_end_on=today + timedelta(days=demo.potential_end or demo.end),
            obligated_cents=demo.obligated * 100,
            current_value_cents=demo.obligated * 100,
            potential_value_cents=demo.obligated * 100,
            source=PurchaseSource.MANUAL if demo.manual else PurchaseSource.IMPORT,
            source_file=None if demo.manual else DEMO_SOURCE,
            sensitive_notes=demo.notes,
        )
        purchase.search_text = purchase_search_text(purchase, names[vendor_id])
        db.add(purchase)
    db.flush()
    licences = _load_licences(db, keys, today)
    db.commit()
    return {"purchases_created": len(wanted), "licences_created": licences}


def _award_key(demo: DemoPurchase) -> str:
    if demo.manual:
        return template_award_key(demo.division, demo.piid, None)
    return f"CONT_AWD_{demo.piid}_7500_{demo.parent_piid or '-NONE-'}_-NONE-"


def _load_licences(db: Session, keys: dict[str, str], today: date) -> int:
    purchases = {
        p.award_key: p
        for p in db.exec(
            select(Purchase).where(Purchase.award_key.in_(keys.values()))  # type: ignore[attr-defined]
        ).all()
    }
    licensed = set(
        db.exec(
            select(Licence.purchase_id).where(
                Licence.purchase_id.in_([p.id for p in purchases.values()])  # type: ignore[attr-defined]
            )
        ).all()
    )
    created = 0
    for demo in LICENCES:
        purchase = purchases.get(keys[demo.piid])
        if purchase is None or purchase.id in licensed:
            continue
        assert purchase.start_on and purchase.current_end_on
        db.add(
            Licence(
                purchase_id=purchase.id or 0,
                scope=demo.scope,
                listed_divisions=demo.listed,
                seats=demo.seats,
                term_start_on=purchase.start_on,
                term_end_on=purchase.current_end_on,
                renewal_on=(
                    purchase.current_end_on - timedelta(days=demo.renewal_days_before_end)
                    if demo.renewal_days_before_end
                    else None
                ),
                auto_renew=demo.auto_renew,
                renewal_cost_cents=demo.renewal_cost * 100 if demo.renewal_cost else None,
                reuse_policy=demo.reuse,
                redistribution_allowed=demo.redistribution,
                derivatives_allowed=demo.derivatives,
                dua_required=demo.dua,
                notes=demo.notes,
                owner_seats=demo.owner_seats,
                price_per_seat_cents=demo.price_per_seat * 100 if demo.price_per_seat else None,
                share_method=demo.share,
            )
        )
        created += 1
    return created
