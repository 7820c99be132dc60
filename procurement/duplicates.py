"""Duplicate procurements across divisions, and check-before-you-buy, over the register.

Loads purchases as `matching.PurchaseRecord`s (one query), runs the pure matcher, and shapes the
answers the CLI and pages show. Decisions on pairs (`duplicate_decision`) are kept and reused: a
dismissed pair never comes back, a confirmed one is always reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

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
    """The records the matcher needs, plus how to show each one (PIID, id) by its key."""

    records: list[PurchaseRecord]
    piids: dict[str, str]
    ids: dict[str, int]


def load_purchases(db: Session) -> LoadedPurchases:
    """Every purchase with a start date, as matcher records keyed by award key (one query)."""
    division = aliased(Division)
    rows = db.exec(
        select(Purchase, Vendor, division.code)
        .join(Vendor, col(Vendor.id) == Purchase.vendor_id)
        .join(division, col(division.id) == Purchase.division_id)
        .order_by(col(Purchase.id))
    ).all()
    records: list[PurchaseRecord] = []
    piids: dict[str, str] = {}
    ids: dict[str, int] = {}
    for purchase, vendor, division_code in rows:
        start = purchase.start_on or purchase.last_action_on
        if start is None:
            continue  # no period at all: nothing to overlap with
        records.append(
            PurchaseRecord(
                key=purchase.award_key,
                division=division_code,
                vendor_name=vendor.name,
                description=purchase.description,
                start=start,
                end=purchase.current_end_on,
                obligated_cents=purchase.obligated_cents,
                vendor_uei=vendor.uei,
                parent_uei=vendor.parent_uei,
                parent_name=vendor.parent_name,
                product=purchase.product or None,
                psc=purchase.psc,
                naics=purchase.naics,
                parent_piid=purchase.parent_piid,
                vendor_id=vendor.id,
            )
        )
        piids[purchase.award_key] = purchase.piid
        ids[purchase.award_key] = purchase.id or 0
    return LoadedPurchases(records, piids, ids)


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
    """
    loaded = load_purchases(db)
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


def _purchase_view(loaded: LoadedPurchases, key: str) -> dict[str, Any]:
    record = next(r for r in loaded.records if r.key == key)
    return {
        "key": key,
        "id": loaded.ids[key],
        "piid": loaded.piids[key],
        "division": record.division,
        "vendor": record.vendor_name,
        "product": record.product or record.description[:120],
        "obligated_cents": record.obligated_cents,
        "start": record.start,
        "end": record.end,
    }


def review_view(result: ScanResult, loaded: LoadedPurchases) -> list[dict[str, Any]]:
    """Clusters for the scan page, largest avoidable spend first, each with its pairs."""
    purchases = {
        key: _purchase_view(loaded, key) for cluster in result.clusters for key in cluster.keys
    }
    clusters = []
    for cluster in result.clusters:
        members = set(cluster.keys)
        clusters.append(
            {
                "cluster": cluster,
                "purchases": [purchases[key] for key in cluster.keys],
                "pairs": [
                    {"pair": pair, "a": purchases[pair.key_a], "b": purchases[pair.key_b]}
                    for pair in result.pairs
                    if pair.key_a in members
                ],
            }
        )
    return clusters


def consolidation_view(result: ScanResult, loaded: LoadedPurchases) -> list[dict[str, Any]]:
    """Offerings two or more divisions buy at once (clusters) or one after another, by spend."""
    offers = []
    for cluster in result.clusters:
        members = [_purchase_view(loaded, key) for key in cluster.keys]
        offers.append(
            _offer(
                "at the same time",
                Counter(m["vendor"] for m in members).most_common(1)[0][0],
                Counter(m["product"] for m in members).most_common(1)[0][0],
                cluster.divisions,
                members,
                cluster.total_cents,
            )
        )
    for candidate in result.consolidation:
        members = [_purchase_view(loaded, key) for key in candidate.keys]
        offers.append(
            _offer(
                "one after another",
                candidate.vendor,
                candidate.product,
                candidate.divisions,
                members,
                candidate.total_cents,
            )
        )
    offers.sort(key=lambda offer: (-offer["total_cents"], offer["vendor"], offer["product"]))
    return offers


def _offer(
    timing: str,
    vendor: str,
    product: str,
    divisions: Sequence[str],
    members: list[dict[str, Any]],
    total_cents: int,
) -> dict[str, Any]:
    return {
        "timing": timing,
        "vendor": vendor,
        "product": product,
        "divisions": list(divisions),
        "purchases": members,
        "total_cents": total_cents,
        "first_start": min(m["start"] for m in members),
        "last_end": max((m["end"] for m in members if m["end"]), default=None),
        "suggestion": (
            f"Consider a department-wide licence covering {', '.join(divisions)} "
            f"instead of {len(members)} separate purchases."
        ),
    }
