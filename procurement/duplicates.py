"""Duplicate procurements across divisions, and check-before-you-buy, over the register.

Loads purchases as `matching.PurchaseRecord`s (one query), runs the pure matcher, and shapes the
answers the CLI and pages show. Decisions on pairs (`duplicate_decision`) are kept and reused: a
dismissed pair never comes back, a confirmed one is always reported.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import String, type_coerce, union
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, PermissionDenied, Principal, SignInRequired, can, require
from marketplace.catalog.models import Listing
from marketplace.catalog.search import SearchQuery, search_listings
from marketplace.catalog.services import division_maps
from marketplace.models import Division, Role
from marketplace.types import utcnow
from procurement.duplicate_groups import Stamp
from procurement.licensing import LicenceScope, ReusePolicy
from procurement.matching import (
    DEFAULT_THRESHOLD,
    NeedQuery,
    PurchaseRecord,
    ScanResult,
    find_duplicates,
    rank_need,
)
from procurement.models import DuplicateDecision, Licence, Purchase, Vendor


class Decision(StrEnum):
    """What an officer or leadership decided about a reported pair."""

    CONFIRMED = "confirmed"
    NOT_DUPLICATE = "not_duplicate"
    SHARED_VEHICLE = "shared_vehicle"
    DIFFERENT_PRODUCT = "different_product"

    @property
    def label(self) -> str:
        return {
            Decision.CONFIRMED: "Confirmed duplicate",
            Decision.NOT_DUPLICATE: "Not a duplicate",
            Decision.SHARED_VEHICLE: "Ordered under a shared vehicle",
            Decision.DIFFERENT_PRODUCT: "Different product",
        }[self]


REVIEWER_ROLES = frozenset({Role.OFFICER, Role.LEADERSHIP})
NOTE_MAX = 1000


@dataclass(frozen=True)
class LoadedPurchases:
    """The records the matcher needs, plus how to show each one (PIID, id) by its key.

    `stamps` holds every purchase read, those without a start date (and so without a record)
    included, as the same query read it: an incremental scan compares them with `purchase_stamps`
    to find the purchases that may have changed without reading every record again.
    """

    records: list[PurchaseRecord]
    piids: dict[str, str]
    ids: dict[str, int]
    stamps: dict[str, Stamp] = field(default_factory=dict)


# updated_at as the driver gives it (SQLite: text): a stamp is only compared with another one,
# and parsing 100,000 datetimes costs most of reading them.
_RAW_UPDATED_AT = type_coerce(Purchase.updated_at, String)


def purchase_stamps(db: Session) -> dict[str, Stamp]:
    """Award key -> stamp of every purchase: three small columns, a tenth of a full load.

    Read through the connection, not the ORM session: rows of plain columns either way, without
    the ORM's per-row work."""
    return {
        key: (updated_at, vendor_id, division_id)
        for key, updated_at, vendor_id, division_id in db.connection().execute(
            select(Purchase.award_key, _RAW_UPDATED_AT, Purchase.vendor_id, Purchase.division_id)
        )
    }


def load_purchases(db: Session, keys: Collection[str] | None = None) -> LoadedPurchases:
    """Every purchase with a start date (or those of `keys`), as matcher records keyed by award
    key, with the stamps of every purchase read. One query of plain columns through the
    connection (no ORM objects or ORM row handling: at 100,000 rows they cost seconds)."""
    division = aliased(Division)
    query = (
        select(
            Purchase.id,
            Purchase.award_key,
            Purchase.piid,
            Purchase.description,
            Purchase.start_on,
            Purchase.last_action_on,
            Purchase.current_end_on,
            Purchase.obligated_cents,
            Purchase.product,
            Purchase.psc,
            Purchase.naics,
            Purchase.parent_piid,
            Vendor.id,
            Vendor.name,
            Vendor.uei,
            Vendor.parent_uei,
            Vendor.parent_name,
            division.code,
            _RAW_UPDATED_AT,
            Purchase.division_id,
        )
        .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
        .join(division, col(division.id) == Purchase.division_id)
        .order_by(col(Purchase.id))
    )
    rows: list[Any] = []
    if keys is None:
        rows = list(db.connection().execute(query))
    else:
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows.extend(db.connection().execute(query.where(col(Purchase.award_key).in_(chunk))))
    records: list[PurchaseRecord] = []
    piids: dict[str, str] = {}
    ids: dict[str, int] = {}
    stamps: dict[str, Stamp] = {}
    for (
        purchase_id,
        award_key,
        piid,
        description,
        start_on,
        last_action_on,
        current_end_on,
        obligated_cents,
        product,
        psc,
        naics,
        parent_piid,
        vendor_id,
        vendor_name,
        vendor_uei,
        parent_uei,
        parent_name,
        division_code,
        updated_at,
        division_id,
    ) in rows:
        stamps[award_key] = (updated_at, vendor_id, division_id)
        start = start_on or last_action_on
        if start is None:
            continue  # no period at all: nothing to overlap with
        records.append(
            PurchaseRecord(
                key=award_key,
                division=division_code,
                vendor_name=vendor_name,
                description=description,
                start=start,
                end=current_end_on,
                obligated_cents=obligated_cents,
                vendor_uei=vendor_uei,
                parent_uei=parent_uei,
                parent_name=parent_name,
                product=product or None,
                psc=psc,
                naics=naics,
                parent_piid=parent_piid,
                vendor_id=vendor_id,
            )
        )
        piids[award_key] = piid
        ids[award_key] = purchase_id or 0
    return LoadedPurchases(records, piids, ids, stamps)


def scan(
    db: Session, *, threshold: float = DEFAULT_THRESHOLD
) -> tuple[ScanResult, LoadedPurchases]:
    """Scan the whole register for cross-division duplicates and consolidation candidates."""
    loaded = load_purchases(db)
    dismissed, confirmed = decided_pairs(db)
    result = find_duplicates(
        loaded.records, threshold=threshold, dismissed=dismissed, confirmed=confirmed
    )
    return result, loaded


def decided_pairs(db: Session) -> tuple[set[frozenset[str]], set[frozenset[str]]]:
    """Stored decisions as the matcher takes them: (dismissed pairs, confirmed pairs)."""
    dismissed: set[frozenset[str]] = set()
    confirmed: set[frozenset[str]] = set()
    for key_a, key_b, decision in db.exec(
        select(DuplicateDecision.key_a, DuplicateDecision.key_b, DuplicateDecision.decision)
    ).all():
        pair = frozenset((key_a, key_b))
        (confirmed if decision == Decision.CONFIRMED else dismissed).add(pair)
    return dismissed, confirmed


def require_reviewer(actor: Principal | None) -> Principal:
    """Duplicate reviews are for procurement officers and leadership."""
    if actor is None:
        raise SignInRequired
    if not actor.roles & REVIEWER_ROLES:
        raise PermissionDenied(
            "Duplicate reviews are for procurement officers and leadership.",
            permission=Permission.READ_REPORTS,
        )
    return actor


@dataclass(frozen=True)
class Decided:
    """A stored decision and the two purchases it is about (in key order)."""

    decision: DuplicateDecision
    purchases: tuple[Purchase, Purchase]


def decide_pair(
    db: Session,
    actor: Principal | None,
    key_a: str,
    key_b: str,
    decision: str,
    note: str = "",
) -> Decided:
    """Record (or change) the decision on a pair; audited with the previous and new values.

    Only officers of one of the two purchases' divisions, or leadership, may decide.

    Raises:
        NotFound: a key names no purchase.
        ValidationFailed: the same purchase twice, or an unknown decision.
        PermissionDenied / SignInRequired: the caller may not decide on this pair.
    """
    first, second = sorted((key_a, key_b))
    found = {
        p.award_key: p
        for p in db.exec(select(Purchase).where(col(Purchase.award_key).in_([first, second])))
    }
    if first not in found or second not in found:
        raise NotFound("No such purchase.")
    errors: dict[str, str] = {}
    if first == second:
        errors["key_b"] = "A purchase cannot duplicate itself."
    if decision not in set(Decision):
        errors["decision"] = "Choose a decision."
    note = note.strip()
    if len(note) > NOTE_MAX:
        errors["note"] = f"Use at most {NOTE_MAX} characters."
    purchase_a, purchase_b = found[first], found[second]
    divisions = (purchase_a.division_id, purchase_b.division_id)
    if not (
        (actor is not None and Role.LEADERSHIP in actor.roles)
        or any(can(actor, Permission.MANAGE_PURCHASES, d) for d in divisions)
    ):
        require(actor, Permission.MANAGE_PURCHASES, purchase_a.division_id)
    if errors:
        raise ValidationFailed(errors)
    row = db.exec(
        select(DuplicateDecision).where(
            DuplicateDecision.key_a == first, DuplicateDecision.key_b == second
        )
    ).first()
    before = None if row is None else {"decision": row.decision, "note": row.note}
    if row is None:
        row = DuplicateDecision(key_a=first, key_b=second, decision=decision, decided_by="")
    row.decision = Decision(decision).value
    row.note = note
    row.decided_by = actor.email  # type: ignore[union-attr]  (require passed)
    row.decided_at = utcnow()
    db.add(row)
    db.flush()
    from procurement.duplicate_scans import apply_decision  # it builds on this module

    apply_decision(db, first, second, row.decision)
    record_event(
        db,
        actor,
        "duplicate.decide",
        object_type="duplicate_pair",
        object_id=f"{purchase_a.piid} / {purchase_b.piid}",
        summary=f"{Decision(decision).label}: {purchase_a.piid} and {purchase_b.piid}",
        before=before,
        after={"decision": row.decision, "note": row.note, "key_a": first, "key_b": second},
    )
    db.commit()
    db.refresh(row)
    return Decided(row, (purchase_a, purchase_b))


def scan_document(result: ScanResult, loaded: LoadedPurchases) -> dict[str, Any]:
    """The `marketplace duplicates scan --json` document: pairs once each, then clusters."""
    piid = loaded.piids
    return {
        "pairs": [
            {
                "piid_a": piid[pair.key_a],
                "piid_b": piid[pair.key_b],
                "division_a": pair.division_a,
                "division_b": pair.division_b,
                "score": round(pair.score, 3),
                "overlap_days": pair.overlap_days,
                "estimated_avoidable_cents": pair.estimated_avoidable_cents,
                "reasons": list(pair.reasons),
            }
            for pair in result.pairs
        ],
        "clusters": [
            {
                "id": cluster.id,
                "piids": [piid[key] for key in cluster.keys],
                "divisions": list(cluster.divisions),
                "total_cents": cluster.total_cents,
                "estimated_avoidable_cents": cluster.estimated_avoidable_cents,
            }
            for cluster in result.clusters
        ],
        "consolidation": [
            {
                "id": candidate.id,
                "piids": [piid[key] for key in candidate.keys],
                "divisions": list(candidate.divisions),
                "vendor": candidate.vendor,
                "product": candidate.product,
                "total_cents": candidate.total_cents,
            }
            for candidate in result.consolidation
        ],
    }


def check_need(
    db: Session,
    need: NeedQuery,
    *,
    signed_in: bool = True,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """What already covers a need, best first: purchases, licences open to the division, listings.

    Scores are in [0, 1]. A licence inherits its purchase's score when its terms let the asking
    division reuse it; a catalog listing scores by its rank in a full-text search of the need.
    Only candidate purchases are scored (`_need_candidates`), never the whole register; token
    weights (IDF) are counted over those candidates.
    """
    loaded = _need_candidates(db, need)
    matches: list[dict[str, Any]] = []
    ranked = rank_need(need, loaded.records, limit=limit)
    for match in ranked:
        matches.append(
            {
                "kind": "purchase",
                "id": loaded.ids[match.key],
                "piid": loaded.piids[match.key],
                "division": match.division,
                "score": round(match.score, 3),
                "reasons": list(match.reasons),
            }
        )
    matches.extend(_open_licences(db, need, ranked, loaded))
    matches.extend(_listings(db, need, signed_in))
    matches.sort(key=lambda item: (-item["score"], item["kind"], str(item["id"])))
    return matches[:limit]


# Check before you buy scores candidates found through the indexes, at most this many per look-up.
NEED_CANDIDATES = 100
# The any-word look-up runs only when the others found fewer purchases than this.
NEED_WIDEN_BELOW = 20


def _need_candidates(db: Session, need: NeedQuery) -> LoadedPurchases:
    """Purchases that may cover a need, as matcher records: the vendor's family and word matches.

    The family: vendors the typed name (or one of its variants) is an alias of, and vendors linked
    to them by UEI or parent UEI. Word matches come from the purchase word index: purchases
    holding every vendor word, every product word, or (when those find fewer than
    NEED_WIDEN_BELOW) any product word.
    Each look-up takes at most NEED_CANDIDATES purchases, latest recorded first; a few queries.
    """
    from procurement.matching import search_tokens
    from procurement.models import VendorAlias
    from procurement.services.purchases import word_match
    from procurement.vendor_names import vendor_name_variants

    tokens = search_tokens(need.vendor_name, need.text)
    variants = vendor_name_variants(need.vendor_name)
    looks: list[Any] = []
    if variants:
        named = select(VendorAlias.vendor_id).where(col(VendorAlias.alias_key).in_(variants))
        ueis = select(Vendor.uei).where(col(Vendor.id).in_(named), col(Vendor.uei).is_not(None))
        parents = select(Vendor.parent_uei).where(
            col(Vendor.id).in_(named), col(Vendor.parent_uei).is_not(None)
        )
        # A union, not one WHERE of ORs: PostgreSQL read all 27,000 vendors for the ORs (9 ms);
        # each branch is an index look-up on both engines.
        family = union(
            select(Vendor.id).where(col(Vendor.id).in_(named)),
            select(Vendor.id).where(col(Vendor.parent_uei).in_(ueis)),
            select(Vendor.id).where(col(Vendor.parent_uei).in_(parents)),
            select(Vendor.id).where(col(Vendor.uei).in_(parents)),
        )
        # The family's ids first, as a list: PostgreSQL cannot size the subquery and would walk
        # every purchase in id order looking for the family's few.
        family_ids = sorted(db.execute(family).scalars().all())
        if family_ids:
            looks.append(
                select(Purchase.id)
                .where(col(Purchase.vendor_id).in_(family_ids))
                .order_by(col(Purchase.id).desc())
                .limit(NEED_CANDIDATES)
            )
    for words, any_word in (
        (tokens.vendor_tokens, False),
        (tokens.product_tokens, False),
        (tokens.product_tokens, True),
    ):
        match = word_match(db, " ".join(words).lower(), any_word=any_word)
        if match is not None and (not any_word or len(match.tokens) > 1):
            looks.append(match.latest_ids(NEED_CANDIDATES))
    ids: set[int] = set()
    for position, look in enumerate(looks):
        if position == len(looks) - 1 and position >= 2 and len(ids) >= NEED_WIDEN_BELOW:
            break  # the any-word look-up only widens a search that found little
        ids.update(db.exec(look).all())
    return _load_candidates(db, ids)


def _load_candidates(db: Session, ids: set[int]) -> LoadedPurchases:
    """These purchases (with a start date) as matcher records, as `load_purchases` builds them."""
    if not ids:
        return LoadedPurchases([], {}, {})
    division = aliased(Division)
    # Plain columns, not ORM objects: this runs on every check.
    rows = db.exec(
        select(
            Purchase.id,
            Purchase.award_key,
            Purchase.piid,
            division.code,
            Vendor.id,
            Vendor.name,
            Vendor.uei,
            Vendor.parent_uei,
            Vendor.parent_name,
            Purchase.description,
            Purchase.product,
            Purchase.start_on,
            Purchase.last_action_on,
            Purchase.current_end_on,
            Purchase.obligated_cents,
            Purchase.psc,
            Purchase.naics,
            Purchase.parent_piid,
        )
        .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
        .join(division, col(division.id) == Purchase.division_id)
        .where(col(Purchase.id).in_(sorted(ids)))
        .order_by(col(Purchase.id))
    ).all()
    records: list[PurchaseRecord] = []
    piids: dict[str, str] = {}
    keys: dict[str, int] = {}
    for row in rows:
        (purchase_id, key, piid, division_code, vendor_id, vendor_name, uei, parent_uei) = row[:8]
        (parent_name, description, product, start_on, last_action_on, end_on) = row[8:14]
        start = start_on or last_action_on
        if start is None:
            continue  # no period at all, as in load_purchases
        records.append(
            PurchaseRecord(
                key=key,
                division=division_code,
                vendor_name=vendor_name,
                description=description,
                start=start,
                end=end_on,
                obligated_cents=row[14],
                vendor_uei=uei,
                parent_uei=parent_uei,
                parent_name=parent_name,
                product=product or None,
                psc=row[15],
                naics=row[16],
                parent_piid=row[17],
                vendor_id=vendor_id,
            )
        )
        piids[key] = piid
        keys[key] = purchase_id
    return LoadedPurchases(records, piids, keys)


def _open_licences(
    db: Session, need: NeedQuery, ranked: Sequence[Any], loaded: LoadedPurchases
) -> list[dict[str, Any]]:
    purchase_ids = {loaded.ids[m.key]: m for m in ranked}
    if not purchase_ids:
        return []
    licences = db.exec(
        select(Licence).where(col(Licence.purchase_id).in_(list(purchase_ids)))
    ).all()
    by_purchase_key = {loaded.ids[k]: k for k in loaded.ids}
    found = []
    for licence in licences:
        match = purchase_ids[licence.purchase_id]
        if licence.reuse_policy == ReusePolicy.NO:
            continue
        listed = {c.strip() for c in licence.listed_divisions.split(",") if c.strip()}
        if (
            need.division
            and licence.scope == LicenceScope.LISTED_DIVISIONS
            and need.division not in listed | {match.division}
        ):
            continue
        if (
            need.division
            and licence.scope == LicenceScope.DIVISION
            and need.division != match.division
        ):
            continue
        found.append(
            {
                "kind": "licence",
                "id": licence.id,
                "piid": loaded.piids[by_purchase_key[licence.purchase_id]],
                "division": match.division,
                "score": round(match.score, 3),
                "reasons": [
                    f"licence of {match.division} ({licence.scope.replace('_', ' ')}), reuse "
                    + (
                        "allowed"
                        if licence.reuse_policy == ReusePolicy.YES
                        else "with the owner's approval"
                    ),
                    f"term ends {licence.term_end_on.isoformat()}",
                    *match.reasons[:2],
                ],
            }
        )
    return found


def _listings(db: Session, need: NeedQuery, signed_in: bool) -> list[dict[str, Any]]:
    text = " ".join(part for part in (need.vendor_name, need.text) if part)
    codes, _ = division_maps(db)
    result = search_listings(
        db, SearchQuery(q=text, per_page=5), signed_in=signed_in, division_ids=codes
    )
    if not result.ids:
        # Every word must match in the catalog's search; a need phrased with extra words finds
        # nothing that way, so fall back on its words one at a time.
        for word in need.text.split()[:3]:
            result = search_listings(
                db, SearchQuery(q=word, per_page=5), signed_in=signed_in, division_ids=codes
            )
            if result.ids:
                break
    titles = dict(
        db.exec(select(Listing.id, Listing.title).where(col(Listing.id).in_(result.ids))).all()
    )
    return [
        {
            "kind": "listing",
            "id": listing_id,
            "piid": None,
            "division": None,
            "title": titles.get(listing_id, ""),
            # Catalog hits carry no calibrated score: rank 1 → 0.5, fading with rank.
            "score": round(0.5 / (position + 1), 3),
            "reasons": [f"catalog search for “{text[:80]}” ranks it #{position + 1}"],
        }
        for position, listing_id in enumerate(result.ids)
    ]


# ---------------------------------------------------------------------------- pages

AVOIDABLE_METHOD = (
    "Estimated avoidable spend: the overlapping share of the smaller annualised cost "
    "(obligated amount ÷ days of the period × 365, as in procurement.costs), "
    "i.e. min(annualised A, annualised B) × overlap days ÷ 365; a cluster counts each day once."
)
