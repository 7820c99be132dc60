"""Duplicate procurements across divisions, and check-before-you-buy, over the register.

Loads purchases as `matching.PurchaseRecord`s (one query), runs the pure matcher, and shapes the
answers the CLI and pages show. Officers' decisions on pairs come in a later change; until then a
scan reports every pair at or above the threshold.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from marketplace.catalog.models import Listing
from marketplace.catalog.search import SearchQuery, search_listings
from marketplace.catalog.services import division_maps
from marketplace.models import Division
from procurement.licensing import LicenceScope, ReusePolicy
from procurement.matching import (
    DEFAULT_THRESHOLD,
    NeedQuery,
    PurchaseRecord,
    ScanResult,
    find_duplicates,
    rank_need,
)
from procurement.models import Licence, Purchase, Vendor


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
    return find_duplicates(loaded.records, threshold=threshold), loaded


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
