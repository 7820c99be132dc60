"""The demo data set: loads on both engines, is believable, and a second load adds nothing."""

from __future__ import annotations

from collections import Counter

from sqlmodel import select

from marketplace.demo import load_demo
from procurement.models import Invoice, Licence, ReuseRequest


def test_demo_loads_reuses_in_every_state_once(database, db):
    first = load_demo(database)
    assert first["reuse_requests_created"] == 6
    states = Counter(db.exec(select(ReuseRequest.status)).all())
    assert states == {"active": 3, "requested": 2, "denied": 1}
    denied = db.exec(select(ReuseRequest).where(ReuseRequest.status == "denied")).one()
    assert "ask again at the renewal" in denied.reason
    conditional = [r for r in db.exec(select(ReuseRequest)).all() if r.conditions]
    assert len(conditional) == 1
    assert sum(licence.reuse_count for licence in db.exec(select(Licence)).all()) == 3
    invoice_states = set(db.exec(select(Invoice.status)).all())
    assert invoice_states == {"draft", "issued", "paid", "void"}
    again = load_demo(database)
    assert {key: value for key, value in again.items() if key != "skipped"} == dict.fromkeys(
        (key for key in again if key != "skipped"), 0
    )
