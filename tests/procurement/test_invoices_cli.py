"""`marketplace invoices generate|list|render`: the JSON contract, idempotence, exit statuses."""

from __future__ import annotations

import io
import json

from pypdf import PdfReader
from sqlmodel import Session, create_engine, func, select

from marketplace.models import AuditEvent
from procurement.models import Invoice
from tests.marketplace.test_cli import run_cli
from tests.procurement.test_invoices_services import running_example


def seed(database_url: str) -> None:
    engine = create_engine(database_url)
    with Session(engine, expire_on_commit=False) as db:
        running_example(db, share_method="per_seat")
    engine.dispose()


def invoices_in(database_url: str) -> int:
    engine = create_engine(database_url)
    with Session(engine) as db:
        total = db.exec(select(func.count()).select_from(Invoice)).one()
    engine.dispose()
    return total


def test_generate_list_and_render(database_url, tmp_path):
    seed(database_url)

    def cli(*args: str):
        return run_cli(*args, database_url=database_url, tmp_path=tmp_path)

    first = cli("invoices", "generate", "--period", "FY26Q1", "--json")
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["period"] == "FY2026 Q1" and report["existing"] == 0
    assert [(c["to_division"], c["total_cents"]) for c in report["created"]] == [
        ("FDA", 120986),
        ("NIH", 60493),
    ]
    again = cli("invoices", "generate", "--period", "FY26Q1")
    assert again.returncode == 0, again.stderr
    assert "created 0 invoices, 2 already invoiced" in again.stdout
    assert invoices_in(database_url) == 2

    listed = cli("invoices", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    numbers = [c["number"] for c in report["created"]]
    assert rows == [
        {
            "number": numbers[0],
            "status": "draft",
            "total_cents": 120986,
            "from_division": "CDC",
            "to_division": "FDA",
        },
        {
            "number": numbers[1],
            "status": "draft",
            "total_cents": 60493,
            "from_division": "CDC",
            "to_division": "NIH",
        },
    ]

    target = tmp_path / "invoice.pdf"
    rendered = cli("invoices", "render", numbers[0], "-o", str(target))
    assert rendered.returncode == 0, rendered.stderr
    reader = PdfReader(io.BytesIO(target.read_bytes()))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert numbers[0] in text and "$1,209.86" in text and "10 of 25 seats" in text

    engine = create_engine(database_url)
    with Session(engine) as db:
        actors = set(
            db.exec(select(AuditEvent.actor).where(AuditEvent.action == "invoice.generate"))
        )
    engine.dispose()
    assert actors == {"cli: marketplace invoices generate"}


def test_bad_period_and_unknown_number_exit_non_zero(database_url, tmp_path):
    bad = run_cli(
        "invoices",
        "generate",
        "--period",
        "Q1",
        "--json",
        database_url=database_url,
        tmp_path=tmp_path,
    )
    assert bad.returncode == 1
    assert "Unrecognised period" in json.loads(bad.stdout)["error"]
    target = tmp_path / "missing.pdf"
    missing = run_cli(
        "invoices", "render", "HHS-FY26-000999", "-o", str(target),
        database_url=database_url, tmp_path=tmp_path,
    )  # fmt: skip
    assert missing.returncode == 1
    assert "no invoice numbered 'HHS-FY26-000999'" in missing.stderr
    assert not target.exists()
    empty = run_cli("invoices", "list", "--json", database_url=database_url, tmp_path=tmp_path)
    assert empty.returncode == 0 and json.loads(empty.stdout) == []
