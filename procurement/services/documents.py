"""Contract documents attached to purchases: sensitive, so reads are checked and audited."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session

from marketplace.accounts import NotFound, ValidationFailed
from marketplace.audit import record_event
from marketplace.auth import Permission, Principal, require
from marketplace.settings import Settings
from procurement.models import Purchase, PurchaseDocument

MAX_FILENAME = 255


def attach_document(
    db: Session,
    actor: Principal,
    purchase_id: int,
    *,
    filename: str,
    content_type: str,
    size: int,
    stored_name: str,
    max_bytes: int,
) -> PurchaseDocument:
    """Record a document already stored under upload_dir/documents (officers of the division).

    Raises:
        ValidationFailed: an empty or oversized file, or no file name.
    """
    purchase = check_may_attach(db, actor, purchase_id)
    if size == 0:
        raise ValidationFailed({"document": "The document is empty."})
    if size > max_bytes:
        raise ValidationFailed(
            {"document": f"The document is larger than the {max_bytes // 1_048_576} MB limit."}
        )
    name = filename.strip()[:MAX_FILENAME]
    if not name:
        raise ValidationFailed({"document": "The document needs a file name."})
    document = PurchaseDocument(
        purchase_id=purchase_id,
        filename=name,
        content_type=content_type[:100],
        size_bytes=size,
        stored_name=stored_name,
        uploaded_by=actor.email,
    )
    db.add(document)
    db.flush()
    record_event(
        db,
        actor,
        "purchase.document_add",
        object_type="purchase",
        object_id=purchase_id,
        summary=f"Attached {name} to purchase {purchase.piid}",
        after={"document_id": document.id, "filename": name, "size_bytes": size},
    )
    db.commit()
    return document


def check_may_attach(db: Session, actor: Principal | None, purchase_id: int) -> Purchase:
    """The purchase, when the caller may attach documents to it (before any upload is read)."""
    purchase = db.get(Purchase, purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.MANAGE_PURCHASES, purchase.division_id)
    return purchase


def open_document(
    db: Session, actor: Principal | None, settings: Settings, document_id: int
) -> tuple[PurchaseDocument, Path]:
    """A document and its path on disk, for the owning division and leadership (the read is audited)."""
    document = db.get(PurchaseDocument, document_id)
    if document is None:
        raise NotFound
    purchase = db.get(Purchase, document.purchase_id)
    if purchase is None:
        raise NotFound
    require(actor, Permission.READ_SENSITIVE_PROCUREMENT, purchase.division_id)
    path = Path(settings.upload_dir) / "documents" / document.stored_name
    if not path.is_file():
        raise NotFound
    record_event(
        db,
        actor,
        "purchase.document_read",
        object_type="purchase",
        object_id=purchase.id or "",
        summary=f"Downloaded {document.filename} of purchase {purchase.piid}",
    )
    db.commit()
    return document, path
