"""`marketplace purchases import|export`: one JSON document, exit 1 only for an unusable file."""

from __future__ import annotations

import csv
import io
import json

from sqlmodel import Session, create_engine, func, select

from marketplace.models import AuditEvent
from procurement.models import Purchase
from tests.marketplace.test_cli import run_cli
from tests.procurement.test_purchases_services import ROW_A, ROW_B, TEMPLATE_HEADER


def purchases_in(database_url: str) -> int:
    engine = create_engine(database_url)
    with Session(engine) as session:
        total = session.exec(select(func.count()).select_from(Purchase)).one()
    engine.dispose()
    return total


def test_import_prints_exactly_the_outcome_and_is_idempotent(database_url, tmp_path):
    path = tmp_path / "purchases.csv"
    bad = "75D30124P00009,,CDC,Broken,,,,,,,2026-01-01,,,lots,,"
    path.write_text("\n".join([TEMPLATE_HEADER, ROW_A, ROW_B, bad]) + "\n")
    first = run_cli(
        "purchases", "import", str(path), "--json", database_url=database_url, tmp_path=tmp_path
    )
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "format": "template",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "skipped": 0,
        "rejected": [
            {
                "row": 4,
                "errors": [
                    "obligated: 'lots' is not an amount of money (expected e.g. 1234.56, "
                    "$1,234.56 or (1,234.56) for a negative)"
                ],
            }
        ],
    }
    assert "Reading the file" in first.stderr
    again = run_cli(
        "purchases", "import", str(path), "--format", "template", "--json",
        database_url=database_url, tmp_path=tmp_path,
    )  # fmt: skip
    assert json.loads(again.stdout)["unchanged"] == 2
    assert purchases_in(database_url) == 2
    engine = create_engine(database_url)
    with Session(engine) as session:
        actors = session.exec(
            select(AuditEvent.actor).where(AuditEvent.action == "purchases.import")
        ).all()
    engine.dispose()
    assert set(actors) == {"cli: marketplace purchases import"}


def test_an_unusable_file_exits_non_zero_and_writes_nothing(database_url, tmp_path):
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    result = run_cli(
        "purchases", "import", str(path), "--json", database_url=database_url, tmp_path=tmp_path
    )
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"error": "empty.csv: The file is empty."}
    dry = tmp_path / "ok.csv"
    dry.write_text("\n".join([TEMPLATE_HEADER, ROW_A]) + "\n")
    result = run_cli(
        "purchases", "import", str(dry), "--dry-run", "--division", "NOPE", "--json",
        database_url=database_url, tmp_path=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "not a division we know" in result.stdout
    assert purchases_in(database_url) == 0


def test_export_writes_the_csv(database_url, tmp_path):
    path = tmp_path / "purchases.csv"
    path.write_text("\n".join([TEMPLATE_HEADER, ROW_A, ROW_B]) + "\n")
    run_cli("purchases", "import", str(path), database_url=database_url, tmp_path=tmp_path)
    out = tmp_path / "out.csv"
    result = run_cli(
        "purchases",
        "export",
        "-o",
        str(out),
        "--json",
        database_url=database_url,
        tmp_path=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"output": str(out), "purchases": 2}
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert sorted(r["obligated_amount"] for r in rows) == ["-250.50", "1000.00"]
    stdout = run_cli("purchases", "export", database_url=database_url, tmp_path=tmp_path)
    assert stdout.stdout.startswith("piid,parent_piid,division,vendor")
