"""Vendors: resolving names and UEIs to canonical vendors, listing them, merging two.

A name reaches a vendor through `vendor_alias` (normalised with procurement.vendor_names, the same
rules the duplicate matcher uses); a UEI reaches it directly and outranks the name. A merge moves
the loser's aliases to the winner, so the next import of the loser's spellings lands on the winner.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from sqlalchemy import func, insert, update
from sqlmodel import Session, col, select

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, Principal, require
from marketplace.types import utcnow
from procurement.models import Purchase, Vendor, VendorAlias
from procurement.services.common import LIKE_ESCAPE, query_words, search_text
from procurement.vendor_names import normalise_vendor_name, vendor_name_variants

Actor = Principal | str

# A vendor not yet inserted is referred to by its name key until the batch is written.
VendorRef = int | str


@dataclass
class VendorResolver:
    """Resolves many names at once for an import: two queries up front, one batched write after.

    `resolve` returns an existing vendor id, or the name key of a vendor to create; `write` inserts
    the new vendors and aliases and returns name key -> new id.
    """

    db: Session
    aliases: dict[str, int] = field(default_factory=dict)
    ueis: dict[str, int] = field(default_factory=dict)
    new_vendors: dict[str, dict] = field(default_factory=dict)
    new_by_uei: dict[str, str] = field(default_factory=dict)
    new_aliases: dict[str, tuple[VendorRef, str, str]] = field(default_factory=dict)
    filled: dict[int, dict[str, str]] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = dict(self.db.exec(select(Vendor.id, Vendor.name)).all())
        self.aliases = dict(
            self.db.exec(select(VendorAlias.alias_key, VendorAlias.vendor_id)).all()
        )
        self.ueis = {
            uei: vendor_id
            for vendor_id, uei in self.db.exec(
                select(Vendor.id, Vendor.uei).where(col(Vendor.uei).is_not(None))
            ).all()
        }
        self.missing_uei = set(
            self.db.exec(select(Vendor.id).where(col(Vendor.uei).is_(None))).all()
        )

    def resolve(
        self,
        name: str,
        *,
        uei: str | None = None,
        parent_uei: str | None = None,
        parent_name: str | None = None,
        dba_name: str | None = None,
    ) -> VendorRef | None:
        """The vendor for a name as written (and its UEI and d/b/a name), or None for a blank name."""
        variants = vendor_name_variants(name) + (vendor_name_variants(dba_name) if dba_name else ())
        if not variants:
            return None
        key = variants[0]
        ref: VendorRef | None = None
        if uei:
            ref = self.ueis.get(uei) or self.new_by_uei.get(uei)
        if ref is None:
            ref = next((self._known(v) for v in variants if self._known(v) is not None), None)
        if ref is None:
            ref = key
            self.new_vendors[key] = {
                "name": name.strip()[:300],
                "name_key": key,
                "uei": None,
                "parent_uei": parent_uei,
                "parent_name": (parent_name or "")[:300] or None,
            }
        if uei and uei not in self.ueis and uei not in self.new_by_uei:
            if isinstance(ref, str) and self.new_vendors[ref]["uei"] is None:
                self.new_vendors[ref]["uei"] = uei
                self.new_by_uei[uei] = ref
            elif isinstance(ref, int) and ref in self.missing_uei:
                self.missing_uei.discard(ref)
                self.ueis[uei] = ref
                self.filled[ref] = {"uei": uei}
        for position, variant in enumerate(variants):
            if self._known(variant) is None:
                origin = "import" if position == 0 else "variant"
                self.new_aliases[variant] = (ref, name.strip()[:300], origin)
        return ref

    def _known(self, key: str) -> VendorRef | None:
        if key in self.aliases:
            return self.aliases[key]
        if key in self.new_aliases:
            return self.new_aliases[key][0]
        return None

    def write(self) -> dict[str, int]:
        """Insert the new vendors and aliases (and fill UEIs); returns name key -> new vendor id."""
        created: dict[str, int] = {}
        now = utcnow()
        if self.new_vendors:
            rows = [
                {**row, "created_at": now, "updated_at": now} for row in self.new_vendors.values()
            ]
            result = self.db.execute(
                insert(Vendor).returning(Vendor.id, Vendor.name_key, sort_by_parameter_order=True),
                rows,
            )
            created = {name_key: vendor_id for vendor_id, name_key in result.all()}
        if self.filled:
            self.db.execute(
                update(Vendor),
                [{"id": vid, **values, "updated_at": now} for vid, values in self.filled.items()],
            )
        if self.new_aliases:
            self.db.execute(
                insert(VendorAlias),
                [
                    {
                        "alias_key": key,
                        "vendor_id": ref if isinstance(ref, int) else created[ref],
                        "name": name,
                        "origin": origin,
                        "created_at": now,
                    }
                    for key, (ref, name, origin) in self.new_aliases.items()
                ],
            )
        return created


def find_or_create_vendor(db: Session, name: str, uei: str | None = None) -> Vendor:
    """The vendor an officer means by a typed name (and UEI), created when new (no commit)."""
    resolver = VendorResolver(db)
    ref = resolver.resolve(name, uei=uei)
    if ref is None:
        raise ValidationFailed({"vendor": "Enter the vendor's name."})
    created = resolver.write()
    vendor = db.get(Vendor, ref if isinstance(ref, int) else created[ref])
    assert vendor is not None
    return vendor


@dataclass(frozen=True)
class VendorRow:
    vendor: Vendor
    purchases: int
    obligated_cents: int


def list_vendors(
    db: Session, actor: Principal | None, *, query: str = "", page: int = 1, per_page: int = 50
) -> tuple[list[VendorRow], int]:
    """One page of vendors by name with their purchase counts and total obligations; and the total."""
    require(actor, Permission.VIEW_STAFF_CONTENT)
    base = select(Vendor.id)
    for word in query_words(query):
        base = base.where(
            col(Vendor.id).in_(
                select(VendorAlias.vendor_id).where(
                    func.lower(VendorAlias.alias_key).like(f"%{word}%", escape=LIKE_ESCAPE)
                )
            )
            | func.lower(func.coalesce(Vendor.uei, "")).like(f"%{word}%", escape=LIKE_ESCAPE)
        )
    total = db.exec(select(func.count()).select_from(base.subquery())).one()
    counts = (
        select(
            Purchase.vendor_id,
            func.count().label("n"),
            func.sum(Purchase.obligated_cents).label("obligated"),
        )
        .group_by(Purchase.vendor_id)
        .subquery()
    )
    rows = db.exec(
        select(Vendor, func.coalesce(counts.c.n, 0), func.coalesce(counts.c.obligated, 0))
        .outerjoin(counts, counts.c.vendor_id == Vendor.id)
        .where(col(Vendor.id).in_(base))
        .order_by(Vendor.name_key, Vendor.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [VendorRow(v, int(n), int(o)) for v, n, o in rows], int(total)


@dataclass(frozen=True)
class VendorDetail:
    vendor: Vendor
    aliases: list[VendorAlias]
    purchases: list[tuple[Purchase, str]]  # (purchase, division code), newest first
    purchase_count: int
    can_merge: bool


def vendor_detail(db: Session, actor: Principal | None, vendor_id: int) -> VendorDetail:
    """A vendor, its aliases and its latest 200 purchases (three queries)."""
    from marketplace.models import Division

    principal = require(actor, Permission.VIEW_STAFF_CONTENT)
    vendor = db.get(Vendor, vendor_id)
    if vendor is None:
        raise NotFound
    aliases = list(
        db.exec(
            select(VendorAlias)
            .where(VendorAlias.vendor_id == vendor_id)
            .order_by(VendorAlias.alias_key)
        ).all()
    )
    purchases = db.exec(
        select(Purchase, Division.code)
        .join(Division, col(Division.id) == Purchase.division_id)
        .where(Purchase.vendor_id == vendor_id)
        .order_by(col(Purchase.start_on).desc(), col(Purchase.id).desc())
        .limit(200)
    ).all()
    count = db.exec(
        select(func.count()).select_from(Purchase).where(Purchase.vendor_id == vendor_id)
    ).one()
    return VendorDetail(
        vendor,
        aliases,
        [(p, code) for p, code in purchases],
        int(count),
        can_merge=_may_merge(principal),
    )


def _may_merge(principal: Principal) -> bool:
    from marketplace.auth import can

    return can(principal, Permission.MANAGE_PURCHASES)


def _snapshot(vendor: Vendor) -> dict:
    return {
        "id": vendor.id,
        "name": vendor.name,
        "name_key": vendor.name_key,
        "uei": vendor.uei,
        "parent_uei": vendor.parent_uei,
        "parent_name": vendor.parent_name,
    }


def merge_vendors(db: Session, actor: Actor, keep_id: int, merge_id: int) -> Vendor:
    """Fold vendor `merge_id` into `keep_id`: its purchases and aliases move, it is deleted.

    Any procurement officer may merge (vendors belong to no division). Audited with both vendors
    as they were and what moved.

    Raises:
        ValidationFailed: the same vendor twice.
        NotFound: either vendor does not exist.
    """
    if isinstance(actor, Principal):
        require(actor, Permission.MANAGE_PURCHASES)
    if keep_id == merge_id:
        raise ValidationFailed({"merge_id": "Choose a different vendor to merge into this one."})
    keep, gone = db.get(Vendor, keep_id), db.get(Vendor, merge_id)
    if keep is None or gone is None:
        raise NotFound
    before = {"kept": _snapshot(keep), "merged": _snapshot(gone)}
    moved_aliases = db.execute(
        update(VendorAlias)
        .where(col(VendorAlias.vendor_id) == merge_id)
        .values(vendor_id=keep_id, origin="merge")
    ).rowcount
    if gone.name_key not in {keep.name_key} and db.get(VendorAlias, gone.name_key) is None:
        db.add(
            VendorAlias(alias_key=gone.name_key, vendor_id=keep_id, name=gone.name, origin="merge")
        )
    moved = list(db.exec(select(Purchase).where(Purchase.vendor_id == merge_id)).all())
    now = utcnow()
    for purchase in moved:
        purchase.vendor_id = keep_id
        purchase.search_text = purchase_search_text(purchase, keep.name)
        purchase.updated_at = now
        db.add(purchase)
    lost_uei = gone.uei
    gone_parent = (gone.parent_uei, gone.parent_name)
    db.flush()
    db.delete(gone)
    db.flush()
    if keep.uei is None and lost_uei:
        keep.uei = lost_uei  # the UEI is unique: set it only once the loser is gone
    if keep.parent_uei is None and gone_parent[0]:
        keep.parent_uei, keep.parent_name = gone_parent
    keep.updated_at = now
    db.add(keep)
    record_event(
        db,
        actor,
        "vendor.merge",
        object_type="vendor",
        object_id=keep_id,
        summary=f"Merged vendor {gone.name} into {keep.name}",
        before=before,
        after={
            "kept": _snapshot(keep),
            "purchases_moved": [p.id for p in moved],
            "aliases_moved": int(moved_aliases or 0),
        },
    )
    db.commit()
    return keep


def purchase_search_text(purchase: Purchase, vendor_name: str) -> str:
    """What live search matches for a purchase: its PIIDs, vendor, product, description, codes."""
    return search_text_of(
        purchase.piid,
        purchase.parent_piid,
        vendor_name,
        purchase.product,
        purchase.description,
        purchase.psc,
        purchase.naics,
    )


def search_text_of(
    piid: str,
    parent_piid: str | None,
    vendor_name: str,
    product: str | None,
    description: str | None,
    psc: str | None,
    naics: str | None,
) -> str:
    """The search text from plain values (imports build it without model objects, for speed)."""
    return search_text(
        piid, parent_piid, vendor_name, _vendor_key(vendor_name), product, description, psc, naics
    )


@lru_cache(maxsize=1 << 16)
def _vendor_key(name: str) -> str:
    return normalise_vendor_name(name)


def vendor_choices(db: Session, ids: Sequence[int]) -> dict[int, str]:
    """Names of the given vendors (for facet labels), one query."""
    if not ids:
        return {}
    return dict(db.exec(select(Vendor.id, Vendor.name).where(col(Vendor.id).in_(ids))).all())
