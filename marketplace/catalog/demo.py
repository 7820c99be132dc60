"""Demo listings: a few hundred believable datasets, code, APIs and purchased datasets across
divisions, written for this project (never read from ../shared). Added by identifier: idempotent."""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlmodel import Session, col, select

from marketplace.catalog.models import Listing, ListingKind, ListingStatus
from marketplace.catalog.services import apply_record, reindex, save_version
from marketplace.dcat import DatasetRecord, Distribution
from marketplace.models import Division
from marketplace.types import utcnow

HHS = "U.S. Department of Health and Human Services"
ACTOR = "cli: marketplace demo load"

# (division, subject, keywords, theme): the subjects each division really publishes about.
SUBJECTS = [
    ("CDC", "COVID-19 Vaccinations", ("covid-19", "vaccination", "immunization"), "Public Health"),
    ("CDC", "Influenza Surveillance", ("influenza", "surveillance", "flu"), "Public Health"),
    (
        "CDC",
        "Behavioral Risk Factor Surveillance System",
        ("brfss", "chronic disease", "survey"),
        "Public Health",
    ),
    (
        "CDC",
        "National Notifiable Diseases",
        ("nndss", "infectious disease", "surveillance"),
        "Public Health",
    ),
    ("CDC", "Drug Overdose Deaths", ("overdose", "opioids", "mortality"), "Public Health"),
    ("CDC", "Youth Tobacco Use", ("tobacco", "youth", "survey"), "Public Health"),
    (
        "CMS",
        "Hospital Compare Quality Measures",
        ("hospitals", "quality", "medicare"),
        "Health Care",
    ),
    ("CMS", "Medicare Part D Prescribers", ("medicare", "part d", "prescriptions"), "Health Care"),
    (
        "CMS",
        "Nursing Home Inspections",
        ("nursing homes", "inspections", "long-term care"),
        "Health Care",
    ),
    ("CMS", "Medicaid Enrollment", ("medicaid", "enrollment", "chip"), "Health Care"),
    ("CMS", "Physician Fee Schedule", ("payment", "physicians", "fee schedule"), "Health Care"),
    (
        "NIH",
        "Clinical Trials Registrations",
        ("clinical trials", "research", "registrations"),
        "Research",
    ),
    ("NIH", "Research Grants Awarded", ("grants", "research funding", "reporter"), "Research"),
    ("NIH", "Genomic Data Commons Cases", ("genomics", "cancer", "gdc"), "Research"),
    (
        "NIH",
        "All of Us Participant Summary",
        ("precision medicine", "cohort", "all of us"),
        "Research",
    ),
    ("FDA", "Adverse Event Reports", ("adverse events", "faers", "drug safety"), "Safety"),
    ("FDA", "Drug Recalls", ("recalls", "enforcement", "drugs"), "Safety"),
    ("FDA", "Medical Device Clearances", ("510k", "devices", "clearances"), "Safety"),
    (
        "FDA",
        "Food Inspection Classifications",
        ("food safety", "inspections", "facilities"),
        "Safety",
    ),
    (
        "HRSA",
        "Health Center Program Sites",
        ("health centers", "primary care", "uds"),
        "Health Care",
    ),
    (
        "HRSA",
        "Health Professional Shortage Areas",
        ("hpsa", "workforce", "shortage areas"),
        "Health Care",
    ),
    (
        "HRSA",
        "Organ Procurement and Transplantation",
        ("organ donation", "transplants", "optn"),
        "Health Care",
    ),
    ("AHRQ", "Medical Expenditure Panel Survey", ("meps", "expenditures", "survey"), "Research"),
    (
        "AHRQ",
        "Healthcare Cost and Utilization Project",
        ("hcup", "hospital stays", "utilization"),
        "Research",
    ),
    (
        "SAMHSA",
        "National Survey on Drug Use and Health",
        ("nsduh", "substance use", "mental health"),
        "Public Health",
    ),
    (
        "SAMHSA",
        "Treatment Facility Locator",
        ("treatment", "facilities", "behavioral health"),
        "Public Health",
    ),
    (
        "IHS",
        "Indian Health Service Facilities",
        ("tribal health", "facilities", "ihs"),
        "Health Care",
    ),
    ("ACF", "Child Care Subsidies", ("child care", "ccdf", "subsidies"), "Human Services"),
    ("ACF", "Foster Care Statistics", ("afcars", "foster care", "adoption"), "Human Services"),
    (
        "ACL",
        "Older Americans Act Services",
        ("aging", "older adults", "services"),
        "Human Services",
    ),
]
VARIANTS = [
    ("by State", "Figures for each state and territory."),
    ("by County", "County-level figures, suppressed where counts are small."),
    ("Annual Summary", "One row per year with national totals."),
    ("Monthly Trends", "Monthly counts since 2015, revised as late reports arrive."),
    ("Provider-Level Detail", "One row per provider with identifiers for linkage."),
    ("Data Dictionary", "Definitions of every field, with valid values."),
    ("by Age Group and Sex", "Rates by age group and sex, age-adjusted to the 2000 standard."),
    ("by Race and Ethnicity", "Figures by race and Hispanic origin, following OMB categories."),
    ("Public Use File", "A de-identified public use file with its codebook."),
]
FREQUENCIES = ["R/P1Y", "R/P1M", "R/P1W", "R/P3M", "irregular"]
FORMATS = [
    ("text/csv", "CSV"),
    ("application/json", "JSON"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
]


def _records(divisions: dict[str, Division]) -> list[tuple[str, str, DatasetRecord, dict]]:
    rng = random.Random(2026)  # fixed seed: the demo is the same on every machine
    today = date(2026, 11, 1)
    out = []
    for code, subject, keywords, theme in SUBJECTS:
        division = divisions.get(code)
        if division is None:
            continue
        for variant, sentence in VARIANTS:
            slug = f"{subject} {variant}".lower().replace(" ", "-").replace("/", "-")
            identifier = f"https://data.hhs.gov/demo/{code.lower()}/{slug}"
            access = rng.choices(["public", "restricted public", "non-public"], weights=[7, 2, 1])[
                0
            ]
            media_type, fmt = rng.choice(FORMATS)
            modified = today - timedelta(days=rng.randint(0, 900))
            record = DatasetRecord(
                identifier=identifier,
                title=f"{subject} {variant}",
                description=(
                    f"{subject} published by the {division.name}. {sentence} "
                    f"Use it to compare {keywords[0]} across places and years; methods and "
                    "limitations are described in the data dictionary."
                ),
                keywords=keywords,
                themes=(theme,),
                modified=modified.isoformat(),
                issued=(modified - timedelta(days=rng.randint(300, 3000))).isoformat(),
                publisher_name=division.name,
                publisher_parent_name=HHS,
                contact_name=f"{code} Data Team",
                contact_email=f"data@{code.lower()}.hhs.gov",
                access_level=access,
                rights=None
                if access == "public"
                else "Contains small cells; available to HHS staff under the division's data use policy.",
                bureau_codes=(division.bureau_code,),
                program_codes=(division.bureau_code.split(":")[0] + ":000",),
                license="https://creativecommons.org/publicdomain/zero/1.0/"
                if access == "public"
                else None,
                spatial="United States",
                temporal=f"{modified.year - 5}-01-01/{modified.year}-12-31",
                accrual_periodicity=rng.choice(FREQUENCIES),
                language=("en-US",),
                distributions=(
                    Distribution(
                        title=f"{subject} {variant} ({fmt})",
                        download_url=f"{identifier}/download.{fmt.lower()}",
                        media_type=media_type,
                        format=fmt,
                    ),
                ),
            )
            out.append((code, ListingKind.DATASET, record, {}))
    extras = [
        (
            "CDC",
            ListingKind.CODE,
            "Syndromic Surveillance Pipeline",
            "Open-source code that cleans and aggregates emergency department visits for syndromic surveillance.",
            {
                "repository_url": "https://github.com/CDCgov/demo-syndromic-pipeline",
                "languages": ["Python", "SQL"],
                "spdx_license": "Apache-2.0",
            },
        ),
        (
            "CMS",
            ListingKind.API,
            "Provider Data API",
            "A REST API for searching Medicare provider records and quality measures.",
            {
                "endpoint_url": "https://data.cms.gov/demo/provider-data/api/1",
                "documentation_url": "https://data.cms.gov/demo/provider-data/docs",
            },
        ),
        (
            "NIH",
            ListingKind.API,
            "Research Portfolio API",
            "Query funded research projects, publications and patents.",
            {
                "endpoint_url": "https://api.reporter.nih.gov/demo/v2",
                "documentation_url": "https://api.reporter.nih.gov/demo/docs",
            },
        ),
        (
            "FDA",
            ListingKind.CODE,
            "Adverse Event Signal Detection",
            "Code for disproportionality analysis of adverse event reports.",
            {
                "repository_url": "https://github.com/FDA/demo-signal-detection",
                "languages": ["R"],
                "spdx_license": "MIT",
            },
        ),
        (
            "CMS",
            ListingKind.PURCHASED_DATASET,
            "Commercial Claims Database (licensed)",
            "Licensed, de-identified commercial insurance claims covering 2016 onward. Bought by CMS; other divisions may request reuse under the licence.",
            {},
        ),
        (
            "CDC",
            ListingKind.PURCHASED_DATASET,
            "Syndicated News Service (licensed)",
            "Licensed news and press monitoring service with department-wide seats.",
            {},
        ),
        (
            "NIH",
            ListingKind.PURCHASED_DATASET,
            "Scholarly Literature Citation Index (licensed)",
            "Licensed citation index used for bibliometric analysis of funded research.",
            {},
        ),
    ]
    for code, kind, title, description, details in extras:
        division = divisions.get(code)
        if division is None:
            continue
        identifier = f"https://data.hhs.gov/demo/{code.lower()}/{title.lower().replace(' ', '-').replace('(', '').replace(')', '')}"
        access = "non-public" if kind == ListingKind.PURCHASED_DATASET else "public"
        record = DatasetRecord(
            identifier=identifier,
            title=title,
            description=description,
            keywords=tuple(w.lower() for w in title.replace("(licensed)", "").split()[:3]),
            themes=("Purchased data",) if kind == ListingKind.PURCHASED_DATASET else ("Tools",),
            modified=date(2026, 10, 1).isoformat(),
            publisher_name=division.name,
            publisher_parent_name=HHS,
            contact_name=f"{code} Data Team",
            contact_email=f"data@{code.lower()}.hhs.gov",
            access_level=access,
            rights="Licensed third-party data: reuse only through an approved request."
            if access != "public"
            else None,
            bureau_codes=(division.bureau_code,),
            program_codes=(division.bureau_code.split(":")[0] + ":000",),
        )
        out.append((code, kind, record, details))
    return out


def load_demo_listings(db: Session) -> dict[str, int]:
    divisions = {d.code: d for d in db.exec(select(Division)).all()}
    wanted = _records(divisions)
    present = set(
        db.exec(
            select(Listing.identifier).where(
                col(Listing.identifier).in_([r.identifier for _, _, r, _ in wanted])
            )
        ).all()
    )
    created: list[Listing] = []
    for code, kind, record, details in wanted:
        if record.identifier in present:
            continue
        listing = Listing(
            identifier=record.identifier,
            kind=kind,
            status=ListingStatus.PUBLISHED,
            division_id=divisions[code].id,
            title=record.title,
            published_at=utcnow(),
        )
        apply_record(listing, record, details)
        db.add(listing)
        created.append(listing)
    db.flush()
    reindex(db, created)
    for listing in created:
        save_version(db, listing, ACTOR, "Created (demo)")
    db.commit()
    return {"listings_created": len(created)}
