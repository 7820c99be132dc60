"""Reference facts about the HHS organisation: divisions, OMB bureau codes, sub-tier codes, PIID prefixes.

These are the seeds of the `division` table (a data migration loads them) and the fallbacks the
importers use to place an award in a division. Pure data and lookups: no database, no web.
"""

from __future__ import annotations

from dataclasses import dataclass

HHS_AGENCY_CODE = "075"  # USAspending / Treasury toptier code for HHS
HHS_OMB_AGENCY = "009"  # OMB agency code used in DCAT-US bureauCode "009:NN"
HHS_NAME = "U.S. Department of Health and Human Services"


@dataclass(frozen=True)
class DivisionSeed:
    """One HHS operating or staff division as seeded on a new database.

    Attributes:
        code: the short code users type (CDC, NIH, …); unique.
        name: the official name.
        bureau_code: OMB bureau code "009:NN" used in DCAT-US.
        subtier_codes: USAspending / FPDS sub-tier agency codes ("7523") that map to the division.
        piid_prefixes: contracting-office PIID prefixes ("75D") that identify its awards.
        aliases: other acronyms or names people use for it.
        kind: "operating" or "staff" (or "department" for the department-wide pseudo-division).
    """

    code: str
    name: str
    bureau_code: str
    subtier_codes: tuple[str, ...] = ()
    piid_prefixes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    kind: str = "operating"


DIVISIONS: tuple[DivisionSeed, ...] = (
    DivisionSeed(
        "HHS",
        "Department of Health and Human Services (department-wide)",
        "009:00",
        ("7500",),
        (),
        ("DHHS",),
        "department",
    ),
    DivisionSeed(
        "CDC",
        "Centers for Disease Control and Prevention",
        "009:20",
        ("7523", "7559"),
        ("75D",),
        ("NCHS",),
    ),
    DivisionSeed(
        "ATSDR", "Agency for Toxic Substances and Disease Registry", "009:20", ("7525",), ()
    ),
    DivisionSeed("NIH", "National Institutes of Health", "009:25", ("7529",), ("75N", "HHSN"), ()),
    DivisionSeed("FDA", "Food and Drug Administration", "009:10", ("7524",), ("75F4",), ()),
    DivisionSeed(
        "CMS",
        "Centers for Medicare & Medicaid Services",
        "009:38",
        ("7530",),
        ("75FC",),
        ("Centers for Medicare and Medicaid Services",),
    ),
    DivisionSeed(
        "HRSA", "Health Resources and Services Administration", "009:15", ("7526",), ("75R",), ()
    ),
    DivisionSeed("IHS", "Indian Health Service", "009:17", ("7527",), ("75H",), ()),
    DivisionSeed(
        "SAMHSA",
        "Substance Abuse and Mental Health Services Administration",
        "009:30",
        ("7522",),
        ("75S",),
        (),
    ),
    DivisionSeed(
        "AHRQ", "Agency for Healthcare Research and Quality", "009:33", ("7528",), ("75Q",), ()
    ),
    DivisionSeed("ACF", "Administration for Children and Families", "009:70", ("7590",), (), ()),
    DivisionSeed(
        "ACL", "Administration for Community Living", "009:75", ("7577", "7545"), (), ("AOA",)
    ),
    DivisionSeed(
        "ARPA-H", "Advanced Research Projects Agency for Health", "009:25", (), (), ("ARPAH",)
    ),
    DivisionSeed(
        "OS",
        "Office of the Secretary",
        "009:90",
        ("7501", "750S", "7502", "7503", "7508", "7509", "7511", "7515", "7521"),
        (),
        ("IOS", "OGC", "OCR", "OASH"),
        "staff",
    ),
    DivisionSeed(
        "ASA",
        "Office of the Assistant Secretary for Administration",
        "009:90",
        ("7570",),
        ("75P",),
        (),
        "staff",
    ),
    DivisionSeed(
        "ASPR",
        "Administration for Strategic Preparedness and Response",
        "009:90",
        ("7505", "7512"),
        ("75A5",),
        (),
        "staff",
    ),
    DivisionSeed(
        "ASPE",
        "Office of the Assistant Secretary for Planning and Evaluation",
        "009:90",
        ("7506",),
        (),
        (),
        "staff",
    ),
    DivisionSeed(
        "ONC",
        "Assistant Secretary for Technology Policy / Office of the National "
        "Coordinator for Health IT",
        "009:90",
        ("7576",),
        (),
        ("ASTP",),
        "staff",
    ),
    DivisionSeed(
        "OMHA", "Office of Medicare Hearings and Appeals", "009:90", ("7575",), (), (), "staff"
    ),
    DivisionSeed(
        "DM",
        "Departmental Management",
        "009:90",
        ("7571", "7572", "7573", "7574"),
        (),
        ("ASFR",),
        "staff",
    ),
    DivisionSeed("PSC", "Program Support Center", "009:91", ("7555", "7565"), (), (), "staff"),
    DivisionSeed("OIG", "Office of Inspector General", "009:92", ("7504",), (), (), "staff"),
)


def division_for_piid(piid: str) -> str | None:
    """Division code implied by an HHS contracting-office PIID prefix, or None.

    The longest matching prefix wins, so "75FC…" (CMS) beats a shorter "75F" rule. "75P…" is the
    Program Support Center's acquisition office, which buys for ASA, ACF and ACL alike; it maps to ASA,
    and importers prefer the record's own sub-tier code whenever the layout has one.
    """
    normalised = piid.strip().upper()
    best: tuple[int, str] | None = None
    for seed in DIVISIONS:
        for prefix in seed.piid_prefixes:
            if normalised.startswith(prefix) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), seed.code)
    return best[1] if best else None


def division_for_subtier(code: str) -> str | None:
    """Division code for a USAspending/FPDS sub-tier agency code ("7523" → "CDC"), or None."""
    wanted = code.strip().upper()
    for seed in DIVISIONS:
        if wanted in seed.subtier_codes:
            return seed.code
    return None
