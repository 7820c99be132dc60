"""From parsed rows to awards: per-row validation, HHS membership, division, folding by award key.

One award is one purchase. A row is checked and normalised into a draft; drafts with the same award
key are folded into one AwardRecord. Pure: values in, values out.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import parse_qsl, urlsplit

from marketplace.hhs import DIVISIONS, HHS_AGENCY_CODE, division_for_piid

from .layouts import SUMMARY_LAYOUTS, Layout
from .values import clean_code, clean_text, parse_date, parse_money_cents, without_placeholder

FUNDED_OUTSIDE = "funded by an agency outside HHS"
AWARDED_OUTSIDE = "awarded by an agency outside HHS"
PIID_OUTSIDE = "PIID not from an HHS contracting office"

_HHS_TOPTIERS = frozenset({HHS_AGENCY_CODE, "7500"})  # USAspending toptier, FPDS department ID
_HHS_PIID_PREFIXES = ("75", "HHS")  # contracting offices 75xxxx since FY2016, HHSx before
_NONE = "-NONE-"  # USAspending's placeholder in generated award keys
_IDV_TYPES = frozenset(
    {
        "BPA", "BOA", "FSS", "GWAC", "IDC", "BLANKET PURCHASE AGREEMENT",
        "BASIC ORDERING AGREEMENT", "FEDERAL SUPPLY SCHEDULE", "INDEFINITE DELIVERY CONTRACT",
        "GOVERNMENT WIDE ACQUISITION CONTRACT", "OTHER TRANSACTION IDV",
    }
)  # fmt: skip
_URL = re.compile(r"https?://[^\s\"']+")
_NAME_NOISE = re.compile(r"[^A-Z0-9]+")


@dataclass(frozen=True, slots=True)
class AwardRecord:
    """One award (one purchase) as the file describes it, folded over all its rows.

    Attributes:
        award_key: stable identity across imports: USAspending's contract_award_unique_key, or one
            built the same way ("CONT_AWD_{piid}_{agency}_{parent piid}_{parent agency}",
            "CONT_IDV_{piid}_{agency}"); "SEARCH_{piid}_{recipient}" for Advanced Search exports,
            which name neither agency nor parent; "TEMPLATE_{division}_{piid}_{parent piid}".
        piid: the award's PIID (or the template's reference), upper case.
        parent_piid: PIID of the IDV the award is an order under, or None.
        awarding_subtier / funding_subtier: sub-tier agency codes ("7529") as the file gives them.
        awarding_division / funding_division: the divisions those codes map to, or None.
        division: the division the purchase belongs to: the funding sub-tier's, else the awarding
            sub-tier's, else the row's division column, else the division chosen for the file,
            else the PIID's contracting-office prefix.
        vendor_*: the recipient's name, UEI, ultimate parent's UEI and name, doing-business-as name.
        description, product, award_type, psc, psc_description, naics, naics_description: as given
            (product only in the template).
        start: first day of the period of performance (earliest over the rows).
        current_end / potential_end: last day with exercised / all options (latest over the rows).
        last_action: latest action (signed) date seen, or None.
        obligated_cents: obligated amount in cents (summed over transactions; see read_awards).
        current_value_cents / potential_value_cents: base and exercised / all options, cents.
        source_rows: the file rows (1-based, header = row 1; ATOM: entry numbers) folded in.
        warnings: things the officer should know that did not stop the import.
    """

    award_key: str
    piid: str
    parent_piid: str | None
    awarding_subtier: str | None
    awarding_division: str | None
    funding_subtier: str | None
    funding_division: str | None
    division: str
    vendor_name: str
    vendor_uei: str | None
    vendor_parent_uei: str | None
    vendor_parent_name: str | None
    vendor_dba_name: str | None
    description: str | None
    product: str | None
    award_type: str | None
    psc: str | None
    psc_description: str | None
    naics: str | None
    naics_description: str | None
    start: date | None
    current_end: date | None
    potential_end: date | None
    last_action: date | None
    obligated_cents: int
    current_value_cents: int | None
    potential_value_cents: int | None
    source_rows: tuple[int, ...]
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RowError:
    """A data row that was not imported, with every reason found in it.

    Attributes:
        row: row number as a spreadsheet shows it (header = row 1); ATOM: the entry number.
        errors: readable messages, each naming the column.
    """

    row: int
    errors: tuple[str, ...]

    def __str__(self) -> str:
        return f"Row {self.row}: {'; '.join(self.errors)}"


@dataclass(frozen=True)
class AwardBatch:
    """What one import read.

    Attributes:
        layout: the layout read.
        awards: folded awards in first-seen order.
        rejected: rows with errors, in file order; valid rows were imported regardless.
        skipped: rows of agencies outside HHS, not errors.
        skipped_reasons: reason -> number of rows skipped for it.
        rows_read: data rows read (imported, rejected and skipped; blank rows excluded).
        notices: file-level remarks (e.g. lines decoded as Windows-1252).
    """

    layout: Layout
    awards: list[AwardRecord]
    rejected: list[RowError]
    skipped: int
    skipped_reasons: dict[str, int]
    rows_read: int
    notices: tuple[str, ...] = ()


def _name_key(text: str) -> str:
    return _NAME_NOISE.sub(" ", text.upper().replace("&", " AND ")).strip()


class Divisions:
    """Which HHS division a sub-tier code, name or typed code means.

    Args:
        subtier_divisions: the database's sub-tier code -> division code table; when given it is
            the complete table, when None the seeds in marketplace.hhs are used.
        known_divisions: the division codes that exist; None means the seeds' codes.
    """

    def __init__(
        self,
        subtier_divisions: Mapping[str, str] | None = None,
        known_divisions: Collection[str] | None = None,
    ) -> None:
        if subtier_divisions is None:
            subtier_divisions = {c: seed.code for seed in DIVISIONS for c in seed.subtier_codes}
        self._subtiers = {code.strip().upper(): div for code, div in subtier_divisions.items()}
        known = (
            {seed.code for seed in DIVISIONS} if known_divisions is None else set(known_divisions)
        )
        self._names: dict[str, str] = {}
        for seed in DIVISIONS:
            if seed.code in known:
                for name in (seed.name, *seed.aliases, seed.code):
                    self._names[_name_key(name)] = seed.code
        for code in known:
            self._names[_name_key(code)] = code
        self.known = frozenset(known)

    def for_subtier(self, code: str) -> str | None:
        """The division of a sub-tier agency code, or None."""
        return self._subtiers.get(code)

    def is_hhs_subtier(self, code: str) -> bool:
        """Whether a sub-tier code is HHS's: a known one, or any 75xx code (FPDS numbering)."""
        return code in self._subtiers or (len(code) == 4 and code.startswith("75"))

    def code_for(self, text: str) -> str | None:
        """The division code a person typed: code, alias or full name, any case; None if unknown."""
        return self._names.get(_name_key(text))


@dataclass(slots=True)
class _Draft:
    """One valid row on its way to an award; the first row of a key accumulates the others."""

    award_key: str
    row: int
    piid: str
    division: str
    vendor_name: str
    parent_piid: str | None = None
    awarding_subtier: str | None = None
    awarding_division: str | None = None
    funding_subtier: str | None = None
    funding_division: str | None = None
    vendor_uei: str | None = None
    vendor_parent_uei: str | None = None
    vendor_parent_name: str | None = None
    vendor_dba_name: str | None = None
    description: str | None = None
    product: str | None = None
    award_type: str | None = None
    psc: str | None = None
    psc_description: str | None = None
    naics: str | None = None
    naics_description: str | None = None
    start: date | None = None
    current_end: date | None = None
    potential_end: date | None = None
    last_action: date | None = None
    modified: date | None = None
    obligated: int = 0
    current_value: int | None = None
    potential_value: int | None = None
    total_obligated: int | None = None
    source_rows: list[int] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    amounts_row: int = 0
    total_rank: tuple[date, int] = (date.min, 0)


# Fields where the first non-empty value over an award's rows is kept.
_FIRST_NON_EMPTY = (
    "parent_piid", "awarding_subtier", "awarding_division", "funding_subtier", "funding_division",
    "vendor_uei", "vendor_parent_uei", "vendor_parent_name", "vendor_dba_name", "description",
    "product", "award_type", "psc", "psc_description", "naics", "naics_description",
)  # fmt: skip


class RowRejected(Exception):
    """A row has errors; key is its award key when it could still be worked out."""

    def __init__(self, errors: Sequence[str], key: str | None) -> None:
        super().__init__("; ".join(errors))
        self.errors = tuple(errors)
        self.key = key


class RowParser:
    """Checks and normalises one raw row (our field -> cell text) of a layout into a draft.

    Args:
        layout: the file's layout.
        labels: our field -> the column name the file uses, for messages.
        divisions: the division tables.
        override: the division chosen for the whole file, or None.
    """

    def __init__(
        self, layout: Layout, labels: Mapping[str, str], divisions: Divisions, override: str | None
    ) -> None:
        self.layout = layout
        self.labels = labels
        self.divisions = divisions
        self.override = override
        self.summary = layout in SUMMARY_LAYOUTS

    def parse(self, row: int, raw: Mapping[str, str]) -> _Draft | str:
        """A draft, or the reason the row is skipped (agency outside HHS).

        Raises:
            RowRejected: the row has errors.
        """
        errors: list[str] = []
        warnings: list[str] = []

        def code(name: str, *, strict: bool = True) -> str | None:
            try:
                return clean_code(raw.get(name))
            except ValueError as exc:
                if strict:
                    errors.append(f"{self._label(name)}: {exc}")
                else:
                    warnings.append(f"Row {row}: {self._label(name)}: {exc}; left empty.")
                return None

        piid = code("piid")
        if piid is None and not errors:
            errors.append(f"{self._label('piid')}: empty; every row needs a PIID or reference")
        parent_piid, parent_agency = code("parent_piid"), code("parent_agency")
        if self.layout is Layout.FPDS_EZSEARCH:
            parent_piid, parent_agency = _ezsearch_parent(raw.get("link"))
        awarding_subtier, funding_subtier = code("awarding_subtier"), code("funding_subtier")
        awarding_toptier = _toptier(code("awarding_toptier"))
        funding_toptier = _toptier(code("funding_toptier"))
        funding_name = clean_text(raw.get("funding_name"))
        funding_division = (
            self.divisions.for_subtier(funding_subtier)
            if funding_subtier
            else self.divisions.code_for(funding_name)
            if funding_name
            else None
        )
        if self.layout is not Layout.TEMPLATE:
            skip = self._outside_hhs(
                piid, awarding_subtier, awarding_toptier, funding_subtier, funding_toptier,
                funding_division,
            )  # fmt: skip
            if skip:
                return skip
        if piid is None:
            raise RowRejected(errors, None)

        awarding_division = (
            self.divisions.for_subtier(awarding_subtier) if awarding_subtier else None
        )
        row_division = None
        if division_text := clean_text(raw.get("division")):
            row_division = self.divisions.code_for(division_text)
            if row_division is None:
                errors.append(
                    f"{self._label('division')}: {division_text!r} is not a division we know "
                    f"(known: {', '.join(sorted(self.divisions.known))})"
                )
        division = (
            funding_division
            or awarding_division
            or row_division
            or self.override
            or division_for_piid(piid)
        )
        if division is None and not errors:
            errors.append(self._no_division(piid, funding_subtier or awarding_subtier))

        written_name = clean_text(raw.get("vendor_name"))
        vendor_name = _vendor_name(without_placeholder(written_name), self.layout)
        if vendor_name is None:
            errors.append(
                f"{self._label('vendor_name')}: "
                + ("empty" if written_name is None else f"{written_name!r} is not a name")
                + "; every row needs the vendor's name"
            )

        dates: dict[str, date | None] = {}
        for name in ("start", "current_end", "potential_end", "last_action", "modified"):
            try:
                dates[name] = parse_date(raw.get(name))
            except ValueError as exc:
                dates[name] = None
                if name in ("last_action", "modified"):
                    warnings.append(f"Row {row}: {self._label(name)}: {exc}; left empty.")
                else:
                    errors.append(f"{self._label(name)}: {exc}")
        start = dates["start"]
        if start is not None and self._checks_period(raw):
            for name in ("current_end", "potential_end"):
                end = dates[name]
                if end is not None and end < start:
                    errors.append(
                        f"{self._label(name)}: {end.isoformat()} is before the start "
                        f"{start.isoformat()} ({self._label('start')})"
                    )

        money: dict[str, int | None] = {}
        for name in ("obligated", "current_value", "potential_value", "total_obligated"):
            try:
                money[name] = parse_money_cents(raw.get(name))
            except ValueError as exc:
                errors.append(f"{self._label(name)}: {exc}")
        obligated = money.get("obligated")
        if "obligated" in money and obligated is None and self.summary:
            errors.append(f"{self._label('obligated')}: empty; enter the amount obligated")

        key = self._key(
            raw, piid, code("agency"), parent_piid, parent_agency, division, vendor_name
        )
        if errors or key is None or division is None or vendor_name is None:
            raise RowRejected(errors, key)
        return _Draft(
            award_key=key,
            row=row,
            piid=piid,
            division=sys.intern(division),
            vendor_name=vendor_name,
            parent_piid=parent_piid,
            awarding_subtier=_interned(awarding_subtier),
            awarding_division=_interned(awarding_division),
            funding_subtier=_interned(funding_subtier),
            funding_division=_interned(funding_division),
            vendor_uei=without_placeholder(code("vendor_uei", strict=False)),
            vendor_parent_uei=without_placeholder(code("vendor_parent_uei", strict=False)),
            vendor_parent_name=without_placeholder(clean_text(raw.get("vendor_parent_name"))),
            vendor_dba_name=without_placeholder(clean_text(raw.get("vendor_dba_name"))),
            description=clean_text(raw.get("description")),
            product=clean_text(raw.get("product")),
            award_type=_interned(clean_text(raw.get("award_type"))),
            psc=_interned(code("psc", strict=False)),
            psc_description=_interned(clean_text(raw.get("psc_description"))),
            naics=_interned(code("naics", strict=False)),
            naics_description=_interned(clean_text(raw.get("naics_description"))),
            start=start,
            current_end=dates["current_end"],
            potential_end=dates["potential_end"],
            last_action=dates["last_action"],
            modified=dates["modified"],
            obligated=obligated or 0,
            current_value=money["current_value"],
            potential_value=money["potential_value"],
            total_obligated=money["total_obligated"],
            source_rows=[row],
            warnings=warnings,
            amounts_row=row,
            total_rank=(dates["last_action"] or date.min, row),
        )

    def _label(self, name: str) -> str:
        return self.labels.get(name, name)

    def _outside_hhs(
        self,
        piid: str | None,
        awarding_subtier: str | None,
        awarding_toptier: str | None,
        funding_subtier: str | None,
        funding_toptier: str | None,
        funding_division: str | None,
    ) -> str | None:
        """The skip reason when the row belongs to another department, else None.

        The funding agency decides when the row names one: an HHS award bought for another
        department is that department's purchase. Without agencies, the PIID's office prefix does
        (unless the officer chose the file's division, which vouches for every row).
        """
        if funding_subtier:
            return None if self.divisions.is_hhs_subtier(funding_subtier) else FUNDED_OUTSIDE
        if funding_toptier:
            return None if funding_toptier in _HHS_TOPTIERS else FUNDED_OUTSIDE
        if funding_division:
            return None
        if awarding_subtier:
            return None if self.divisions.is_hhs_subtier(awarding_subtier) else AWARDED_OUTSIDE
        if awarding_toptier:
            return None if awarding_toptier in _HHS_TOPTIERS else AWARDED_OUTSIDE
        # A missing PIID is an error to report, not a reason to skip.
        if self.override or piid is None or piid.startswith(_HHS_PIID_PREFIXES):
            return None
        return PIID_OUTSIDE

    def _no_division(self, piid: str, subtier: str | None) -> str:
        if subtier:
            return (
                f"no division for HHS sub-tier agency {subtier}: link the code to a division, or "
                "choose the division for this file"
            )
        if self.layout is Layout.TEMPLATE:
            return f"{self._label('division')}: empty; enter the division (CDC, NIH, …)"
        return (
            f"{self._label('piid')}: {piid!r} is an HHS PIID but its contracting-office prefix "
            "names no division; choose the division for this file"
        )

    def _checks_period(self, raw: Mapping[str, str]) -> bool:
        """Whether start and end dates of this row must be in order.

        Summary rows describe the award. Of transaction rows only the base award (modification 0)
        does: close-out modifications are routinely effective after the period ended.
        """
        if self.summary:
            return True
        mod_number = (raw.get("mod_number") or "0").strip()
        return mod_number.strip("0") == ""

    def _key(
        self,
        raw: Mapping[str, str],
        piid: str,
        agency: str | None,
        parent_piid: str | None,
        parent_agency: str | None,
        division: str | None,
        vendor_name: str | None,
    ) -> str | None:
        """The award key (see AwardRecord.award_key), or None when its parts are missing."""
        try:
            given = clean_code(raw.get("award_key"))
        except ValueError:
            given = None
        if given:
            return given
        if self.layout is Layout.USASPENDING_SEARCH:
            return f"SEARCH_{piid}_{_name_key(vendor_name)}" if vendor_name else None
        if self.layout is Layout.TEMPLATE:
            return f"TEMPLATE_{division}_{piid}_{parent_piid or _NONE}" if division else None
        award_type = (clean_text(raw.get("award_type")) or "").upper()
        if raw.get("idv") or award_type in _IDV_TYPES:
            return f"CONT_IDV_{piid}_{agency or _NONE}"
        parent_agency = parent_agency if parent_piid else None
        return f"CONT_AWD_{piid}_{agency or _NONE}_{parent_piid or _NONE}_{parent_agency or _NONE}"


def _interned(text: str | None) -> str | None:
    # Codes and category names repeat across thousands of awards: one copy each saves memory.
    return sys.intern(text) if text is not None else None


def _toptier(code: str | None) -> str | None:
    # Spreadsheets drop the leading zero of "075".
    return code.zfill(3) if code and code.isdigit() and len(code) < 3 else code


def _vendor_name(name: str | None, layout: Layout) -> str | None:
    """The FPDS flat CSV joins two name elements with ';' ("ACME INC;ACME INC"): keep one."""
    if name and layout is Layout.FPDS_CSV and ";" in name:
        parts = [part.strip() for part in name.split(";")]
        if len(set(parts)) == 1:
            return parts[0]
    return name


def _ezsearch_parent(link: str | None) -> tuple[str | None, str | None]:
    """The parent IDV's PIID and agency from an ezSearch LINK URL (idvPIID=, idvAgencyID=)."""
    if not link or not (match := _URL.search(link)):
        return None, None
    query = {name.lower(): value for name, value in parse_qsl(urlsplit(match.group()).query)}
    try:
        return clean_code(query.get("idvpiid")), clean_code(query.get("idvagencyid"))
    except ValueError:
        return None, None


def _dollars(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents) // 100:,}.{abs(cents) % 100:02d}"


class Folder:
    """Folds drafts into awards by key and keeps the tallies of one import.

    Summary layouts (a row is an award): a repeated key is the same award listed twice; the
    amounts come from the listing with the latest last-modified date (ties: the later row), never
    a sum. Transaction layouts: obligations and option values are summed. Both keep the earliest
    start, the latest end and action dates, and the first non-empty descriptive fields.
    """

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.summary = layout in SUMMARY_LAYOUTS
        self.drafts: dict[str, _Draft] = {}
        self.rejected: list[RowError] = []
        self.rejected_by_key: dict[str, list[int]] = {}
        self.skipped: Counter[str] = Counter()
        self.rows_read = 0

    def add(self, draft: _Draft) -> None:
        """Fold a valid row's draft into its award."""
        current = self.drafts.get(draft.award_key)
        if current is None:
            self.drafts[draft.award_key] = draft
        else:
            self._merge(current, draft)

    def reject(self, row: int, errors: Iterable[str], key: str | None = None) -> None:
        """Record a row with errors."""
        self.rejected.append(RowError(row, tuple(errors)))
        if key is not None:
            self.rejected_by_key.setdefault(key, []).append(row)

    def skip(self, reason: str) -> None:
        """Count a row of another department."""
        self.skipped[reason] += 1

    def _merge(self, into: _Draft, new: _Draft) -> None:
        into.source_rows.append(new.row)
        into.warnings.extend(new.warnings)
        for name in _FIRST_NON_EMPTY:
            if getattr(into, name) is None:
                setattr(into, name, getattr(new, name))
        into.start = _earliest(into.start, new.start)
        into.current_end = _latest(into.current_end, new.current_end)
        into.potential_end = _latest(into.potential_end, new.potential_end)
        into.last_action = _latest(into.last_action, new.last_action)
        if new.division != into.division:
            into.warnings.append(
                f"Row {new.row} names division {new.division} but the award's first row names "
                f"{into.division}; {into.division} is kept."
            )
        if self.summary:
            if (new.modified or date.min) >= (into.modified or date.min):
                into.obligated = new.obligated
                into.current_value = new.current_value
                into.potential_value = new.potential_value
                into.modified = new.modified
                into.amounts_row = new.row
        else:
            into.obligated += new.obligated
            into.current_value = _sum(into.current_value, new.current_value)
            into.potential_value = _sum(into.potential_value, new.potential_value)
            if new.total_obligated is not None and new.total_rank >= into.total_rank:
                into.total_obligated, into.total_rank = new.total_obligated, new.total_rank

    def awards(self) -> Iterator[AwardRecord]:
        """The folded awards in first-seen order (consumes the drafts)."""
        while self.drafts:
            key = next(iter(self.drafts))
            yield self._record(self.drafts.pop(key))

    def _record(self, draft: _Draft) -> AwardRecord:
        warnings = draft.warnings
        rows = draft.source_rows
        if self.summary and len(rows) > 1:
            warnings.append(
                f"The file lists this award {len(rows)} times (rows "
                f"{', '.join(map(str, rows))}); amounts are from row {draft.amounts_row}, the "
                "latest listing, not added up."
            )
        if (
            not self.summary
            and draft.total_obligated is not None
            and draft.total_obligated != draft.obligated
        ):
            warnings.append(
                f"The obligations in this file add up to {_dollars(draft.obligated)} but the "
                f"source reports {_dollars(draft.total_obligated)} for the whole award: some of "
                "its transactions are not in this file."
            )
        if rejected := self.rejected_by_key.get(draft.award_key):
            warnings.append(
                f"Row(s) {', '.join(map(str, rejected))} of this award had errors and were left "
                "out of its figures."
            )
        return AwardRecord(
            award_key=draft.award_key,
            piid=draft.piid,
            parent_piid=draft.parent_piid,
            awarding_subtier=draft.awarding_subtier,
            awarding_division=draft.awarding_division,
            funding_subtier=draft.funding_subtier,
            funding_division=draft.funding_division,
            division=draft.division,
            vendor_name=draft.vendor_name,
            vendor_uei=draft.vendor_uei,
            vendor_parent_uei=draft.vendor_parent_uei,
            vendor_parent_name=draft.vendor_parent_name,
            vendor_dba_name=draft.vendor_dba_name,
            description=draft.description,
            product=draft.product,
            award_type=draft.award_type,
            psc=draft.psc,
            psc_description=draft.psc_description,
            naics=draft.naics,
            naics_description=draft.naics_description,
            start=draft.start,
            current_end=draft.current_end,
            potential_end=draft.potential_end,
            last_action=draft.last_action,
            obligated_cents=draft.obligated,
            current_value_cents=draft.current_value,
            potential_value_cents=draft.potential_value,
            source_rows=tuple(rows),
            warnings=tuple(warnings),
        )


def _earliest(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: date | None, b: date | None) -> date | None:
    return b if a is None else a if b is None else max(a, b)


def _sum(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else a + b
