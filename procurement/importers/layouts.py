"""The award-file layouts we read: their columns, how a header is recognised, our own template.

A layout maps our field names (the vocabulary of `awards.py`) to the column names of one export.
Pure data and lookups: no I/O.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Layout(StrEnum):
    """A known award-file layout."""

    USASPENDING = "usaspending"  # bulk award download, Contracts_PrimeAwardSummaries_*.csv
    USASPENDING_SEARCH = "usaspending_search"  # Advanced Search export, one row per transaction
    FPDS_ATOM = "fpds_atom"  # FPDS ATOM feed XML
    FPDS_CSV = "fpds_csv"  # the ATOM feed flattened to CSV, camelCase columns
    FPDS_EZSEARCH = "fpds_ezsearch"  # FPDS ezSearch CSV export, UPPERCASE columns
    TEMPLATE = "template"  # our own CSV template (or any CSV through a ColumnMapping)


LAYOUT_TITLES: Mapping[Layout, str] = MappingProxyType(
    {
        Layout.USASPENDING: "USAspending award download (Contracts_PrimeAwardSummaries)",
        Layout.USASPENDING_SEARCH: "USAspending Advanced Search export",
        Layout.FPDS_ATOM: "FPDS ATOM feed (XML)",
        Layout.FPDS_CSV: "FPDS ATOM feed flattened to CSV",
        Layout.FPDS_EZSEARCH: "FPDS ezSearch export",
        Layout.TEMPLATE: "HHS Data Marketplace template",
    }
)

# Layouts whose row is already one award's summary: a repeated key is the same award listed twice,
# never two pieces to add up. The others list one transaction (action, modification) per row.
SUMMARY_LAYOUTS = frozenset({Layout.USASPENDING, Layout.TEMPLATE})

Columns = Mapping[str, tuple[str, ...]]  # our field -> candidate column names, first present wins


@dataclass(frozen=True)
class LayoutSpec:
    """How one CSV layout names our fields.

    Attributes:
        layout: which layout this is.
        required: columns a header must have to be this layout; each entry lists accepted spellings.
        columns: our field name -> the column names that carry it, in order of preference.
    """

    layout: Layout
    required: tuple[tuple[str, ...], ...]
    columns: Columns


USASPENDING_SPEC = LayoutSpec(
    Layout.USASPENDING,
    required=(
        ("award_id_piid",),
        ("recipient_name",),
        ("total_obligated_amount",),
        ("awarding_sub_agency_code",),
    ),
    columns={
        "award_key": ("contract_award_unique_key",),
        "piid": ("award_id_piid",),
        "parent_piid": ("parent_award_id_piid",),
        "parent_agency": ("parent_award_agency_id",),
        "agency": ("awarding_sub_agency_code",),
        "awarding_toptier": ("awarding_agency_code",),
        "awarding_subtier": ("awarding_sub_agency_code",),
        "funding_toptier": ("funding_agency_code",),
        "funding_subtier": ("funding_sub_agency_code",),
        "vendor_name": ("recipient_name", "recipient_name_raw"),
        "vendor_dba_name": ("recipient_doing_business_as_name",),
        "vendor_uei": ("recipient_uei",),
        "vendor_parent_uei": ("recipient_parent_uei",),
        "vendor_parent_name": ("recipient_parent_name", "recipient_parent_name_raw"),
        "description": ("prime_award_base_transaction_description",),
        "award_type": ("award_type", "idv_type"),
        "psc": ("product_or_service_code",),
        "psc_description": ("product_or_service_code_description",),
        "naics": ("naics_code",),
        "naics_description": ("naics_description",),
        "start": ("period_of_performance_start_date",),
        "current_end": ("period_of_performance_current_end_date",),
        "potential_end": ("period_of_performance_potential_end_date",),
        "last_action": ("award_latest_action_date",),
        "modified": ("last_modified_date",),
        "obligated": ("total_obligated_amount",),
        "current_value": ("current_total_value_of_award",),
        "potential_value": ("potential_total_value_of_award",),
    },
)

USASPENDING_SEARCH_SPEC = LayoutSpec(
    Layout.USASPENDING_SEARCH,
    required=(("Award Id",), ("Recipient Name",), ("Action Date",), ("Award Amount",)),
    columns={
        "piid": ("Piid", "Award Id"),
        "vendor_name": ("Recipient Name",),
        "vendor_uei": ("Recipient Uei", "Recipient UEI"),
        "description": ("Description",),
        "award_type": ("Contract Award Type", "Award Type"),
        "psc": ("Product Or Service Code (Psc)", "Product Or Service Code"),
        "psc_description": ("Psc Description",),
        "naics": ("Naics Code",),
        "naics_description": ("Naics Description",),
        "last_action": ("Action Date",),
        "modified": ("Last Modified Date",),
        "obligated": ("Award Amount",),
    },
)

FPDS_CSV_SPEC = LayoutSpec(
    Layout.FPDS_CSV,
    required=(("agencyID",), ("PIID",), ("modNumber",), ("signedDate",), ("obligatedAmount",)),
    columns={
        "piid": ("PIID",),
        "agency": ("agencyID",),
        "mod_number": ("modNumber",),
        "parent_piid": ("ref-PIID",),
        "parent_agency": ("ref-agencyID",),
        "awarding_subtier": ("contractingOfficeAgencyID", "agencyID"),
        "awarding_toptier": ("contractingOfficeAgencyID-departmentID",),
        "funding_subtier": ("fundingRequestingAgencyID",),
        "funding_toptier": ("fundingRequestingAgencyID-departmentID",),
        "vendor_name": ("vendorName", "UEILegalBusinessName", "vendorLegalOrganizationName"),
        "vendor_dba_name": ("vendorDoingAsBusinessName",),
        "vendor_uei": ("UEI",),
        "vendor_parent_uei": ("ultimateParentUEI",),
        "vendor_parent_name": ("ultimateParentUEIName",),
        "description": ("descriptionOfContractRequirement",),
        "award_type": ("contractActionType-description",),
        "psc": ("productOrServiceCode", "PSCCode"),
        "psc_description": ("productOrServiceCode-description", "PSCCode-description"),
        "naics": ("principalNAICSCode",),
        "naics_description": ("principalNAICSCode-description",),
        "start": ("effectiveDate",),
        "current_end": ("currentCompletionDate",),
        "potential_end": ("ultimateCompletionDate",),
        "last_action": ("signedDate",),
        "modified": ("lastModifiedDate",),
        "obligated": ("obligatedAmount",),
        "current_value": ("baseAndExercisedOptionsValue",),
        "potential_value": ("baseAndAllOptionsValue",),
        "total_obligated": ("totalObligatedAmount",),
    },
)

FPDS_EZSEARCH_SPEC = LayoutSpec(
    Layout.FPDS_EZSEARCH,
    required=(
        ("AGENCY_ID",),
        ("PROCUREMENT_ID",),
        ("MODIFICATION_NO",),
        ("DATE_SIGNED",),
        ("CURENT_ACTION_OBLIGATION", "CURRENT_ACTION_OBLIGATION"),
    ),
    columns={
        "piid": ("PROCUREMENT_ID",),
        "agency": ("AGENCY_ID",),
        "awarding_subtier": ("AGENCY_ID",),
        "mod_number": ("MODIFICATION_NO",),
        "link": ("LINK",),
        "funding_name": ("FUNDING_AGENCY_NAME",),
        "vendor_name": ("LEGAL_BUSINESS_NAME",),
        "vendor_uei": ("UNIQUE_ENTITY_ID",),
        "description": ("DESCRIPTION_OF_REQUIREMENT",),
        "award_type": ("AWARD_TYPE",),
        "psc": ("PRODUCT_SERVICE_CODE",),
        "psc_description": ("PRODUCT_SERVICE_DESCRIPTION",),
        "naics": ("PRINCIPAL_NAICS_CODE",),
        "naics_description": ("PRINCIPAL_NAICS_DESCRIPTION",),
        "start": ("PERIOD_OF_PERF_START",),
        "current_end": ("COMPLETION_DATE",),
        "potential_end": ("EST_ULTIMATE_COMPLETION_DATE",),
        "last_action": ("DATE_SIGNED",),
        "modified": ("LAST_MODIFIED_DATE",),
        "obligated": ("CURENT_ACTION_OBLIGATION", "CURRENT_ACTION_OBLIGATION"),
        "current_value": ("CURRENT_BASE_AND_EXERCISED_OPTIONS_VALUE",),
        "potential_value": ("CURRENT_BASE_AND_ALL_OPTIONS_VALUE_TCV",),
        "total_obligated": ("TOTAL_ACTION_OBLIGATION",),
    },
)

# Our template: column -> one-line meaning, in file order. The import page shows these.
TEMPLATE_COLUMNS: Mapping[str, str] = MappingProxyType(
    {
        "piid": "Contract number (PIID), or your own reference when there is none. Required.",
        "parent_piid": "PIID of the contract or agreement the order is placed under, if any.",
        "division": "HHS division code (CDC, NIH, CMS, …); empty: the division chosen on upload.",
        "vendor": "Vendor's legal business name. Required.",
        "vendor_uei": "Vendor's Unique Entity ID from SAM.gov (12 characters).",
        "parent_uei": "Unique Entity ID of the vendor's ultimate parent company.",
        "product": "What was bought, by name: the data set, software or subscription.",
        "description": "What the purchase is for, in a sentence or two.",
        "award_type": "PURCHASE ORDER, DELIVERY ORDER, DEFINITIVE CONTRACT, BPA CALL, …",
        "psc": "Product and Service Code, 4 characters (e.g. 7A21).",
        "naics": "NAICS code, 6 digits (e.g. 519290).",
        "start": "First day of the period of performance (YYYY-MM-DD or M/D/YYYY).",
        "current_end": "Last day of the period of performance with the options exercised so far.",
        "potential_end": "Last day of the period of performance if every option is exercised.",
        "obligated": "Dollars obligated so far, e.g. 1234.56 or $1,234.56. Required.",
        "current_value": "Dollars: base plus exercised options.",
        "potential_value": "Dollars: base plus all options.",
    }
)
TEMPLATE_REQUIRED = ("piid", "vendor", "obligated")

# Template column -> our field name, where they differ.
_TEMPLATE_FIELDS = {"vendor": "vendor_name", "parent_uei": "vendor_parent_uei"}

TEMPLATE_SPEC = LayoutSpec(
    Layout.TEMPLATE,
    required=(("piid", "reference"), ("vendor",), ("obligated",)),
    columns={
        _TEMPLATE_FIELDS.get(name, name): (name, "reference") if name == "piid" else (name,)
        for name in TEMPLATE_COLUMNS
    },
)

# Detection order: the most specific headers first.
CSV_SPECS: tuple[LayoutSpec, ...] = (
    USASPENDING_SPEC,
    FPDS_CSV_SPEC,
    FPDS_EZSEARCH_SPEC,
    USASPENDING_SEARCH_SPEC,
    TEMPLATE_SPEC,
)
SPECS: Mapping[Layout, LayoutSpec] = MappingProxyType({spec.layout: spec for spec in CSV_SPECS})

# FPDS ATOM: our field -> paths of local element names below the <award>/<IDV> element;
# "path@attr" reads an attribute.
_ATOM_IDS = ("awardID/awardContractID", "contractID/IDVID", "awardID/OtherTransactionAwardID")
_ATOM_REFS = ("awardID/referencedIDVID", "contractID/referencedIDVID")
_VENDOR_UEI = "vendor/vendorSiteDetails/entityIdentifiers/vendorUEIInformation"
ATOM_PATHS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "piid": tuple(f"{base}/PIID" for base in _ATOM_IDS),
        "agency": tuple(f"{base}/agencyID" for base in _ATOM_IDS),
        "mod_number": tuple(f"{base}/modNumber" for base in _ATOM_IDS),
        "parent_piid": tuple(f"{base}/PIID" for base in _ATOM_REFS),
        "parent_agency": tuple(f"{base}/agencyID" for base in _ATOM_REFS),
        "awarding_subtier": (
            "purchaserInformation/contractingOfficeAgencyID",
            *(f"{base}/agencyID" for base in _ATOM_IDS),
        ),
        "awarding_toptier": ("purchaserInformation/contractingOfficeAgencyID@departmentID",),
        "funding_subtier": ("purchaserInformation/fundingRequestingAgencyID",),
        "funding_toptier": ("purchaserInformation/fundingRequestingAgencyID@departmentID",),
        "vendor_name": (
            "vendor/vendorHeader/vendorName",
            "vendor/contractorName",
            f"{_VENDOR_UEI}/UEILegalBusinessName",
        ),
        "vendor_dba_name": ("vendor/vendorHeader/vendorDoingAsBusinessName",),
        "vendor_uei": (f"{_VENDOR_UEI}/UEI",),
        "vendor_parent_uei": (f"{_VENDOR_UEI}/ultimateParentUEI",),
        "vendor_parent_name": (f"{_VENDOR_UEI}/ultimateParentUEIName",),
        "description": ("contractData/descriptionOfContractRequirement",),
        "award_type": ("contractData/contractActionType@description",),
        "psc": ("productOrServiceInformation/productOrServiceCode",),
        "psc_description": ("productOrServiceInformation/productOrServiceCode@description",),
        "naics": ("productOrServiceInformation/principalNAICSCode",),
        "naics_description": ("productOrServiceInformation/principalNAICSCode@description",),
        "start": ("relevantContractDates/effectiveDate",),
        "current_end": ("relevantContractDates/currentCompletionDate",),
        "potential_end": ("relevantContractDates/ultimateCompletionDate",),
        "last_action": ("relevantContractDates/signedDate",),
        "modified": ("transactionInformation/lastModifiedDate",),
        "obligated": ("dollarValues/obligatedAmount",),
        "current_value": ("dollarValues/baseAndExercisedOptionsValue",),
        "potential_value": ("dollarValues/baseAndAllOptionsValue",),
        "total_obligated": ("totalDollarValues/totalObligatedAmount",),
    }
)


class UnknownLayout(Exception):
    """The header matches no known layout.

    Attributes:
        needed: the columns the closest layout needs (template columns when nothing is close).
        found: the columns the file has.
        closest: the layout the header resembles most.
    """

    def __init__(self, needed: Sequence[str], found: Sequence[str], closest: Layout) -> None:
        self.needed = tuple(needed)
        self.found = tuple(found)
        self.closest = closest
        missing = [name for name in self.needed if _norm(name) not in {_norm(f) for f in found}]
        shown_found = ", ".join(self.found[:40]) or "(none)"
        if len(self.found) > 40:
            shown_found += f", … ({len(self.found)} columns)"
        super().__init__(
            f"The columns of this file match no layout we know. The closest is "
            f"{LAYOUT_TITLES[closest]}, which needs: {', '.join(self.needed)}; missing: "
            f"{', '.join(missing)}. Columns found: {shown_found}. Use the template, or map your "
            "columns to the template's."
        )


def _norm(name: str) -> str:
    return name.strip().lstrip("\ufeff").casefold()


def detect_layout(header: Sequence[str]) -> Layout:
    """The CSV layout a header row belongs to (column names compared case-insensitively).

    Raises:
        UnknownLayout: no layout's required columns are all present.
    """
    present = {_norm(name) for name in header}
    best: tuple[float, LayoutSpec] | None = None
    for spec in CSV_SPECS:
        hits = sum(any(_norm(name) in present for name in names) for names in spec.required)
        if hits == len(spec.required):
            return spec.layout
        score = hits / len(spec.required)
        if best is None or score > best[0]:
            best = (score, spec)
    closest = best[1] if best and best[0] > 0 else TEMPLATE_SPEC
    raise UnknownLayout([names[0] for names in closest.required], list(header), closest.layout)


def column_indexes(columns: Columns, header: Sequence[str]) -> dict[str, tuple[int, ...]]:
    """Our field -> indexes of its candidate columns present in header, in order of preference.

    A column name that appears twice (the FPDS flat CSV repeats obligatedAmount) is read from its
    first occurrence.
    """
    first: dict[str, int] = {}
    for index, name in enumerate(header):
        first.setdefault(_norm(name), index)
    found: dict[str, tuple[int, ...]] = {}
    for field_name, names in columns.items():
        indexes = tuple(first[_norm(name)] for name in names if _norm(name) in first)
        if indexes:
            found[field_name] = indexes
    return found


@dataclass(frozen=True)
class ColumnMapping:
    """An officer's one-time mapping of their CSV's columns onto the template's.

    Attributes:
        columns: template column (a key of TEMPLATE_COLUMNS) -> the column name in their file.
            piid, vendor and obligated must be mapped.
    """

    columns: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.columns) - set(TEMPLATE_COLUMNS))
        if unknown:
            raise ValueError(
                f"Unknown template column(s) {', '.join(unknown)}; "
                f"choose from {', '.join(TEMPLATE_COLUMNS)}"
            )
        missing = [name for name in TEMPLATE_REQUIRED if not self.columns.get(name)]
        if missing:
            raise ValueError(f"Map a column of your file to: {', '.join(missing)}")
        object.__setattr__(self, "columns", MappingProxyType(dict(self.columns)))

    def spec(self) -> LayoutSpec:
        """The template layout reading this mapping's columns."""
        return LayoutSpec(
            Layout.TEMPLATE,
            required=tuple((theirs,) for theirs in self.columns.values()),
            columns={
                _TEMPLATE_FIELDS.get(ours, ours): (theirs,) for ours, theirs in self.columns.items()
            },
        )


def template_csv() -> str:
    """Our template as CSV text: the header and one realistic example row (dollars, ISO dates)."""
    example = {
        "piid": "75N97024P00123",
        "parent_piid": "",
        "division": "NIH",
        "vendor": "Acme Health Data LLC",
        "vendor_uei": "AB12CD34EF56",
        "parent_uei": "AB12CD34EF56",
        "product": "National Claims Insights database, 25 named users",
        "description": "Annual subscription to a de-identified claims database for NIMH studies",
        "award_type": "PURCHASE ORDER",
        "psc": "7A21",
        "naics": "519290",
        "start": "2024-10-01",
        "current_end": "2025-09-30",
        "potential_end": "2028-09-30",
        "obligated": "185000.00",
        "current_value": "185000.00",
        "potential_value": "780000.00",
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(TEMPLATE_COLUMNS)
    writer.writerow(example[name] for name in TEMPLATE_COLUMNS)
    return buffer.getvalue()
