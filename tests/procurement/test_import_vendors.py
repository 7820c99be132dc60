"""Vendors an import creates: placeholder cells never merge different vendors."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import func, select

from procurement.models import Vendor
from procurement.services.imports import ImportOptions, import_awards
from tests.procurement.test_importers import USAS_HEADER, usas_row, write_csv


def test_vendors_sharing_a_placeholder_dba_or_parent_stay_apart(db, tmp_path: Path) -> None:
    header = [*USAS_HEADER, "recipient_doing_business_as_name"]
    rows = [
        [
            *usas_row(
                contract_award_unique_key=f"CONT_AWD_75N9702{n}P00123_7529_-NONE-_-NONE-",
                award_id_piid=f"75N9702{n}P00123",
                recipient_name=name,
                recipient_uei="",
                recipient_parent_uei="NOT APPLICABLE",
                recipient_parent_name="NOT APPLICABLE",
            ),
            "NOT APPLICABLE",
        ]
        for n, name in enumerate(("ACME HEALTH DATA LLC", "ROADRUNNER ANALYTICS INC", "IQVIA INC"))
    ]
    path = write_csv(tmp_path, [header, *rows])
    outcome = import_awards(db, "cli: test", path, ImportOptions(filename=path.name))
    assert outcome.created == 3
    names = db.exec(select(Vendor.name).order_by(Vendor.name)).all()
    assert names == ["ACME HEALTH DATA LLC", "IQVIA INC", "ROADRUNNER ANALYTICS INC"]
    assert db.exec(select(func.count()).where(Vendor.parent_uei.is_not(None))).one() == 0
