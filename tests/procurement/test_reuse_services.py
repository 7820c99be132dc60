"""Reuse requests through the services, on SQLite and PostgreSQL: asking, enforcement, decisions,
the daily sweep, delegates, attachments, and concurrent approvals of the last seat."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlmodel import Session, select

from marketplace.accounts import NotFound, ValidationFailed, principal_for
from marketplace.auth import PermissionDenied
from marketplace.models import AuditEvent, Notification
from procurement.models import Licence, ReuseRequest
from procurement.services import licences, purchases
from procurement.services import reuse as reuse_service
from procurement.services.licences import LicenceInput
from procurement.services.purchases import PurchaseInput
from procurement.services.reuse import Decision, ReuseInput
from procurement.services.reuse_spans import seats_in_use
from tests.support import make_user

TODAY = date(2026, 11, 25)


def person(db, email, division, *roles):
    return principal_for(db, make_user(db, email, division=division, roles=roles))


@pytest.fixture
def people(db):
    return {
        "cms_officer": person(db, "officer@cms.hhs.gov", "CMS", "officer"),
        "cms_steward": person(db, "steward@cms.hhs.gov", "CMS", "steward"),
        "cdc_viewer": person(db, "analyst@cdc.hhs.gov", "CDC", "viewer"),
        "cdc_officer": person(db, "officer@cdc.hhs.gov", "CDC", "officer"),
        "fda_viewer": person(db, "analyst@fda.hhs.gov", "FDA", "viewer"),
        "nih_officer": person(db, "officer@nih.hhs.gov", "NIH", "officer"),
        "leader": person(db, "leader@hhs.gov", "OS", "leadership"),
    }


def make_licence(db, owner, **terms) -> Licence:
    purchase = purchases.record_purchase(
        db,
        owner,
        PurchaseInput(
            division=owner.division_code,
            vendor="Definitive Healthcare LLC",
            product="HospitalView",
            description="Hospital and physician database subscription",
            start_on="2026-01-01",
            current_end_on="2026-12-31",
            obligated="$120,000.00",
        ),
        today=TODAY,
    )
    values = {
        "scope": "department",
        "seats": "10",
        "term_start_on": "2026-01-01",
        "term_end_on": "2026-12-31",
        "reuse_policy": "with_approval",
        "price_per_seat": "$12,000.00",
    }
    values.update(terms)
    licence = licences.save_licence(db, owner, purchase.id, LicenceInput(**values))
    return licence


def ask(db, actor, licence, **changes) -> ReuseRequest:
    values = {
        "purpose": "Hospital capacity analysis for the respiratory season",
        "seats": "2",
        "start_on": "2026-11-01",
        "end_on": "2026-12-31",
        "contact_name": "Ana Lyst",
        "contact_email": actor.email,
    }
    values.update(changes)
    target = reuse_service.find_target(db, licence_id=licence.id)
    return reuse_service.request_reuse(db, actor, target, ReuseInput(**values), today=TODAY)


def test_a_request_is_filed_with_a_deadline_notified_and_audited(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    assert request.status == "requested"
    assert request.due_on == date(2026, 12, 10)  # 10 business days, Thanksgiving skipped
    recipients = set(
        db.exec(select(Notification.user_id).where(Notification.kind == "reuse.requested")).all()
    )
    assert recipients == {people["cms_officer"].id, people["cms_steward"].id}
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "reuse.request")).one()
    assert event.after["seats"] == 2 and "CDC asked CMS" in event.summary


def test_field_errors_are_reported_together(db, people):
    licence = make_licence(db, people["cms_officer"])
    with pytest.raises(ValidationFailed) as failed:
        ask(
            db,
            people["cdc_viewer"],
            licence,
            purpose=" ",
            seats="0",
            end_on="2026-10-01",
            contact_email="nope",
        )
    assert set(failed.value.errors) == {"purpose", "seats", "end_on", "contact_email"}
    assert db.exec(select(ReuseRequest)).first() is None


@pytest.mark.parametrize(
    ("terms", "message"),
    [
        ({"reuse_policy": "no"}, "does not allow this licence to be shared"),
        ({"scope": "division"}, "covers CMS only; CDC is outside its scope"),
        ({"scope": "listed_divisions", "listed_divisions": ("FDA",)}, "covers CMS, FDA only"),
        ({"term_end_on": "2026-11-30"}, "after the licence term ends on 2026-11-30"),
    ],
)
def test_a_request_the_licence_can_never_allow_is_refused_with_the_reason(
    db, people, terms, message
):
    licence = make_licence(db, people["cms_officer"], **terms)
    with pytest.raises(ValidationFailed) as failed:
        ask(db, people["cdc_viewer"], licence)
    assert message in failed.value.errors["licence"]


def test_the_owner_division_cannot_request_its_own_licence(db, people):
    licence = make_licence(db, people["cms_officer"])
    with pytest.raises(ValidationFailed) as failed:
        ask(db, people["cms_steward"], licence)
    assert "CMS owns this" in failed.value.errors["licence"]


def test_approval_activates_counts_and_computes_avoided_spend(db, people):
    licence = make_licence(db, people["cms_officer"], owner_seats="3")
    request = ask(db, people["cdc_viewer"], licence)
    decided = reuse_service.decide(
        db, people["cms_steward"], request.id, Decision.APPROVE, today=TODAY
    )
    assert decided.status == "active"  # it started on 1 November
    # $12,000 per seat-year × 2 seats × 61 days ÷ 365 days of term
    assert decided.avoided_cents == round(1_200_000 * 2 * 61 / 365)
    db.refresh(licence)
    assert licence.reuse_count == 1
    assert seats_in_use(db, licence) == 5
    note = db.exec(select(Notification).where(Notification.kind == "reuse.approved")).one()
    assert note.user_id == people["cdc_viewer"].id


def test_an_officer_may_override_avoided_spend_only_with_a_reason(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(
            db,
            people["cms_officer"],
            request.id,
            Decision.APPROVE,
            today=TODAY,
            avoided_override="$5,000",
        )
    assert "override_reason" in failed.value.errors
    decided = reuse_service.decide(
        db,
        people["cms_officer"],
        request.id,
        Decision.APPROVE,
        today=TODAY,
        avoided_override="$5,000",
        override_reason="They had a quote for one seat",
    )
    assert decided.avoided_cents == 500_000
    assert decided.avoided_override_reason == "They had a quote for one seat"


def test_a_future_reuse_is_approved_then_started_by_the_sweep(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence, start_on="2026-12-01")
    assert (
        reuse_service.decide(
            db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY
        ).status
        == "approved"
    )
    assert reuse_service.sweep(db, today=date(2026, 11, 30)).moved == {}
    assert reuse_service.sweep(db, today=date(2026, 12, 1)).moved == {"active": 1}
    assert reuse_service.sweep(db, today=date(2027, 1, 1)).moved == {"expired": 1}
    db.refresh(request)
    assert request.status == "expired"


@pytest.mark.parametrize(
    ("decider", "message"),
    [
        ("cdc_viewer", "someone else must decide"),  # the requester
        ("cdc_officer", "Only stewards, officers or delegates of the owning division"),
        ("nih_officer", "Only stewards, officers or delegates of the owning division"),
        ("leader", "Only stewards, officers or delegates of the owning division"),
    ],
)
def test_only_the_owner_decides_and_never_the_requester(db, people, decider, message):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    with pytest.raises(PermissionDenied, match=message):
        reuse_service.decide(db, people[decider], request.id, Decision.APPROVE, today=TODAY)
    db.refresh(request)
    assert request.status == "requested"


def test_an_owner_officer_who_asked_cannot_approve_their_own_request(db, people):
    # A CDC officer asks CMS; a CDC officer cannot approve a CMS licence in any case, so make the
    # requester a member of the owner division's approvers through a delegation instead.
    licence = make_licence(db, people["cms_officer"])
    reuse_service.add_delegate(db, people["cms_officer"], "officer@cdc.hhs.gov", "", today=TODAY)
    request = ask(db, people["cdc_officer"], licence)
    with pytest.raises(PermissionDenied, match="someone else must decide"):
        reuse_service.decide(db, people["cdc_officer"], request.id, Decision.APPROVE, today=TODAY)


def test_no_seats_left_blocks_approval_with_the_count(db, people):
    licence = make_licence(db, people["cms_officer"], seats="5", owner_seats="3")
    request = ask(db, people["cdc_viewer"], licence, seats="3")  # filed: seats may free up
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY)
    assert failed.value.errors["licence"] == "Only 2 of 5 seats are free; 3 requested."
    db.refresh(request)
    assert request.status == "requested"


def test_an_agreement_is_required_before_approval_when_the_licence_says_so(db, people):
    licence = make_licence(db, people["cms_officer"], dua_required=True)
    request = ask(db, people["cdc_viewer"], licence)
    assert request.dua_required  # the licence's requirement is recorded on the request
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY)
    assert "requires a data use agreement" in failed.value.errors["licence"]
    reuse_service.attach(
        db,
        people["cdc_viewer"],
        request.id,
        filename="dua.pdf",
        content_type="application/pdf",
        size=1200,
        stored_name="abc123",
        is_agreement=True,
        today=TODAY,
    )
    assert (
        reuse_service.decide(
            db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY
        ).status
        == "active"
    )


def test_deny_needs_a_reason_and_is_final(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(db, people["cms_officer"], request.id, Decision.DENY, today=TODAY)
    assert "reason" in failed.value.errors
    denied = reuse_service.decide(
        db,
        people["cms_officer"],
        request.id,
        Decision.DENY,
        today=TODAY,
        reason="The vendor contract forbids analytics outside CMS programs.",
    )
    assert denied.status == "denied" and denied.reason.startswith("The vendor contract")
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY)
    assert failed.value.errors["decision"] == "This request is already denied."


def test_conditions_are_required_for_a_conditional_approval(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    with pytest.raises(ValidationFailed) as failed:
        reuse_service.decide(
            db, people["cms_officer"], request.id, Decision.APPROVE_WITH_CONDITIONS, today=TODAY
        )
    assert "conditions" in failed.value.errors
    approved = reuse_service.decide(
        db,
        people["cms_officer"],
        request.id,
        Decision.APPROVE_WITH_CONDITIONS,
        today=TODAY,
        conditions="No re-identification; aggregate outputs only.",
    )
    assert approved.conditions == "No re-identification; aggregate outputs only."


def test_revoking_ends_the_reuse_today_and_frees_its_seats(db, people):
    licence = make_licence(db, people["cms_officer"], seats="5", owner_seats="3")
    request = ask(db, people["cdc_viewer"], licence)
    reuse_service.decide(db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY)
    assert seats_in_use(db, licence) == 5
    revoked = reuse_service.decide(
        db,
        people["cms_officer"],
        request.id,
        Decision.REVOKE,
        today=TODAY,
        reason="Seats needed for the CMS program office.",
    )
    assert (revoked.status, revoked.end_on) == ("revoked", TODAY)
    assert seats_in_use(db, licence) == 3


def test_a_delegate_decides_until_their_delegation_ends(db, people):
    licence = make_licence(db, people["cms_officer"])
    reuse_service.add_delegate(
        db, people["cms_officer"], "officer@nih.hhs.gov", "2026-11-30", today=TODAY
    )
    first = ask(db, people["cdc_viewer"], licence)
    assert (
        reuse_service.decide(
            db, people["nih_officer"], first.id, Decision.APPROVE, today=TODAY
        ).status
        == "active"
    )
    second = ask(db, people["fda_viewer"], licence)
    with pytest.raises(PermissionDenied):
        reuse_service.decide(
            db, people["nih_officer"], second.id, Decision.APPROVE, today=date(2026, 12, 1)
        )


def test_reading_a_request_is_limited_to_the_two_divisions_and_leadership(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    for who in ("cdc_viewer", "cdc_officer", "cms_steward", "leader"):
        assert reuse_service.get_request(db, people[who], request.id, today=TODAY).id == request.id
    with pytest.raises(PermissionDenied):
        reuse_service.get_request(db, people["fda_viewer"], request.id, today=TODAY)
    with pytest.raises(NotFound):
        reuse_service.get_request(db, people["fda_viewer"], 999_999, today=TODAY)


def test_lists_show_each_side_its_requests(db, people):
    licence = make_licence(db, people["cms_officer"])
    ask(db, people["cdc_viewer"], licence)
    ask(db, people["fda_viewer"], licence)
    mine = reuse_service.list_requests(db, people["cdc_officer"], scope="mine", today=TODAY)
    assert [row.requester_code for row in mine] == ["CDC"]
    incoming = reuse_service.list_requests(db, people["cms_steward"], scope="division", today=TODAY)
    assert sorted(row.requester_code for row in incoming) == ["CDC", "FDA"]
    assert {row.title for row in incoming} == {"HospitalView"}


def test_reminders_go_once_before_and_once_after_the_deadline(db, people):
    licence = make_licence(db, people["cms_officer"])
    ask(db, people["cdc_viewer"], licence)
    assert reuse_service.sweep(db, today=date(2026, 12, 8)).reminded == 1
    assert reuse_service.sweep(db, today=date(2026, 12, 9)).reminded == 0
    assert reuse_service.sweep(db, today=date(2026, 12, 11)).reminded == 1
    assert reuse_service.sweep(db, today=date(2026, 12, 14)).reminded == 0
    reminders = db.exec(select(Notification).where(Notification.kind == "reuse.reminder")).all()
    assert len(reminders) == 4  # two approvers, twice


@pytest.mark.parametrize(
    ("filename", "head", "accepted"),
    [
        ("dua.pdf", b"%PDF-1.7\n", True),
        ("dua.PDF", b"%PDF-1.4\n", True),
        ("dua.docx", b"PK\x03\x04rest", True),
        ("dua.txt", b"Signed by both parties", True),
        ("dua.pdf", b"MZ\x90\x00", False),  # an executable renamed
        ("dua.exe", b"MZ\x90\x00", False),
        ("dua.html", b"<html>", False),
        ("dua.txt", b"\x00\x01binary", False),
    ],
)
def test_attachment_types_are_checked_by_name_and_content(filename, head, accepted):
    if accepted:
        assert reuse_service.attachment_type(filename, head)
    else:
        with pytest.raises(ValidationFailed):
            reuse_service.attachment_type(filename, head)


def test_only_the_parties_attach_files(db, people):
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence)
    with pytest.raises(PermissionDenied):
        reuse_service.check_may_attach(db, people["fda_viewer"], request.id, today=TODAY)
    assert reuse_service.check_may_attach(db, people["cms_officer"], request.id, today=TODAY)


def test_two_approvals_of_the_last_seat_at_once_let_exactly_one_through(
    database, database_url, people
):
    with Session(database.engine) as db:
        licence = make_licence(db, people["cms_officer"], seats="4", owner_seats="3")
        first = ask(db, people["cdc_viewer"], licence, seats="1")
        second = ask(db, people["fda_viewer"], licence, seats="1")
        request_ids = (first.id, second.id)
        licence_id = licence.id
    deciders = (people["cms_officer"], people["cms_steward"])
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def approve(request_id, decider):
        with Session(database.engine, expire_on_commit=False) as session:
            session.get(ReuseRequest, request_id)  # each starts with a read, like a page would
            barrier.wait()
            try:
                reuse_service.decide(session, decider, request_id, Decision.APPROVE, today=TODAY)
                outcomes.append("approved")
            except ValidationFailed as exc:
                outcomes.append(exc.errors.get("licence", ""))

    threads = [
        threading.Thread(target=approve, args=pair)
        for pair in zip(request_ids, deciders, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["None of the 4 seats are free; 1 requested.", "approved"]
    with Session(database.engine) as db:
        statuses = sorted(db.exec(select(ReuseRequest.status)).all())
        assert statuses == ["active", "requested"]
        assert db.get(Licence, licence_id).reuse_count == 1


def test_the_sweep_runs_as_a_periodic_worker_job(database, db, people):
    from datetime import UTC, datetime

    from marketplace import jobs
    from procurement.reuse_jobs import SWEEP_JOB

    assert SWEEP_JOB in jobs.PERIODIC_KINDS
    licence = make_licence(db, people["cms_officer"])
    request = ask(db, people["cdc_viewer"], licence, start_on="2026-12-01")
    reuse_service.decide(db, people["cms_officer"], request.id, Decision.APPROVE, today=TODAY)
    jobs.enqueue(db, SWEEP_JOB)
    db.commit()
    ran = jobs.run_pending(database, lambda: datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    assert ran >= 1
    db.rollback()
    db.refresh(request)
    assert request.status == "active"


def test_licence_terms_cited_by_a_reuse_cannot_be_removed(db, people):
    licence = make_licence(db, people["cms_officer"])
    ask(db, people["cdc_viewer"], licence)
    with pytest.raises(ValidationFailed) as failed:
        licences.delete_licence(db, people["cms_officer"], licence.purchase_id)
    assert "cannot be removed" in failed.value.errors["licence"]
    db.rollback()
    assert db.get(Licence, licence.id) is not None
