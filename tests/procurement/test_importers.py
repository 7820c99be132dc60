"""Award-file import: cell parsers, layout detection, and small synthetic files of every layout."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest

from procurement.importers import (
    AWARDED_OUTSIDE,
    FUNDED_OUTSIDE,
    PIID_OUTSIDE,
    TEMPLATE_COLUMNS,
    ColumnMapping,
    ImportFileError,
    Layout,
    UnknownLayout,
    clean_code,
    detect_layout,
    parse_date,
    parse_money_cents,
    read_awards,
    template_csv,
)
from procurement.importers.values import without_placeholder

# ---------------------------------------------------------------- helpers


def write_csv(
    folder: Path,
    rows: list[list[str]],
    *,
    name: str = "awards.csv",
    encoding: str = "utf-8",
    bom: bool = False,
) -> Path:
    """Rows as a CSV file with CRLF line ends (what Excel and USAspending write)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    path = folder / name
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


USAS_HEADER = [
    "contract_award_unique_key", "award_id_piid", "parent_award_agency_id", "parent_award_id_piid",
    "total_obligated_amount", "current_total_value_of_award", "potential_total_value_of_award",
    "period_of_performance_start_date", "period_of_performance_current_end_date",
    "period_of_performance_potential_end_date", "awarding_agency_code", "awarding_sub_agency_code",
    "funding_agency_code", "funding_sub_agency_code", "recipient_uei", "recipient_name",
    "recipient_parent_uei", "recipient_parent_name", "product_or_service_code",
    "prime_award_base_transaction_description", "naics_code", "award_type", "last_modified_date",
]  # fmt: skip


def usas_row(**values: str) -> list[str]:
    """One USAspending bulk row with sensible defaults; keyword names are column names."""
    defaults = {
        "contract_award_unique_key": "CONT_AWD_75N97024P00123_7529_-NONE-_-NONE-",
        "award_id_piid": "75N97024P00123",
        "total_obligated_amount": "185000.00",
        "current_total_value_of_award": "185000.00",
        "potential_total_value_of_award": "780000.00",
        "period_of_performance_start_date": "2024-10-01",
        "period_of_performance_current_end_date": "2025-09-30",
        "period_of_performance_potential_end_date": "2028-09-30",
        "awarding_agency_code": "075",
        "awarding_sub_agency_code": "7529",
        "recipient_uei": "AB12CD34EF56",
        "recipient_name": "ACME HEALTH DATA LLC",
        "product_or_service_code": "7A21",
        "prime_award_base_transaction_description": "CLAIMS DATABASE SUBSCRIPTION",
        "naics_code": "519290",
        "award_type": "PURCHASE ORDER",
        "last_modified_date": "2025-01-02 10:00:00",
    }
    defaults.update(values)
    return [defaults.get(name, "") for name in USAS_HEADER]


SEARCH_HEADER = [
    "Award Id", "Recipient Name", "Action Date", "Award Amount", "Piid",
    "Product Or Service Code (Psc)", "Psc Description", "Naics Code", "Naics Description",
    "Last Modified Date",
]  # fmt: skip

FPDS_HEADER = [
    "agencyID", "PIID", "modNumber", "transactionNumber", "ref-agencyID", "ref-PIID", "signedDate",
    "effectiveDate", "currentCompletionDate", "ultimateCompletionDate", "obligatedAmount",
    "baseAndExercisedOptionsValue", "baseAndAllOptionsValue", "totalObligatedAmount",
    "contractingOfficeAgencyID", "contractingOfficeAgencyID-departmentID",
    "fundingRequestingAgencyID", "fundingRequestingAgencyID-departmentID",
    "contractActionType-description", "descriptionOfContractRequirement", "productOrServiceCode",
    "principalNAICSCode", "vendorName", "UEI", "obligatedAmount",
]  # fmt: skip


def fpds_row(**values: str) -> list[str]:
    """One FPDS flat-CSV row; obligatedAmount is written to both of its columns, like the feed."""
    defaults = {
        "agencyID": "7523",
        "PIID": "75D30124C00001",
        "modNumber": "0",
        "signedDate": "2024-01-10 00:00:00",
        "effectiveDate": "2024-01-15 00:00:00",
        "currentCompletionDate": "2025-01-14 00:00:00",
        "ultimateCompletionDate": "2027-01-14 00:00:00",
        "obligatedAmount": "100000.00",
        "baseAndExercisedOptionsValue": "100000.00",
        "baseAndAllOptionsValue": "300000.00",
        "contractingOfficeAgencyID": "7523",
        "contractingOfficeAgencyID-departmentID": "7500",
        "fundingRequestingAgencyID": "7523",
        "fundingRequestingAgencyID-departmentID": "7500",
        "contractActionType-description": "DEFINITIVE CONTRACT",
        "descriptionOfContractRequirement": "SURVEILLANCE DATA PLATFORM",
        "productOrServiceCode": "DA01",
        "principalNAICSCode": "541511",
        "vendorName": "DATAWORKS INC;DATAWORKS INC",
        "UEI": "DW12DW12DW12",
    }
    defaults.update(values)
    return [defaults.get(name, "") for name in FPDS_HEADER]


EZ_HEADER = [
    "LINK", "AWARD_TYPE", "AGENCY_ID", "PROCUREMENT_ID", "MODIFICATION_NO", "DATE_SIGNED",
    "PERIOD_OF_PERF_START", "COMPLETION_DATE", "EST_ULTIMATE_COMPLETION_DATE",
    "CONTRACTNG_OFFICE_AGENCY_NAME", "FUNDING_AGENCY_NAME", "CURENT_ACTION_OBLIGATION",
    "TOTAL_ACTION_OBLIGATION", "UNIQUE_ENTITY_ID", "LEGAL_BUSINESS_NAME", "PRODUCT_SERVICE_CODE",
    "PRINCIPAL_NAICS_CODE", "DESCRIPTION_OF_REQUIREMENT",
]  # fmt: skip
EZ_LINK = (
    "https://www.fpds.gov/ezsearch/jsp/viewLinkController.jsp?agencyID=7524&PIID=75F40124F19001"
    "&modNumber=0&idvAgencyID=4732&idvPIID=47QTCA19D00AB&contractType=AWARD"
)


def ez_row(**values: str) -> list[str]:
    """One FPDS ezSearch row: money as "$1,234.00 ", dates as m/d/yy."""
    defaults = {
        "LINK": EZ_LINK,
        "AWARD_TYPE": "DELIVERY ORDER",
        "AGENCY_ID": "7524",
        "PROCUREMENT_ID": "75F40124F19001",
        "MODIFICATION_NO": "0",
        "DATE_SIGNED": "3/4/24",
        "PERIOD_OF_PERF_START": "3/5/24",
        "COMPLETION_DATE": "3/4/25",
        "EST_ULTIMATE_COMPLETION_DATE": "3/4/29",
        "CONTRACTNG_OFFICE_AGENCY_NAME": "FOOD AND DRUG ADMINISTRATION",
        "FUNDING_AGENCY_NAME": "FOOD AND DRUG ADMINISTRATION",
        "CURENT_ACTION_OBLIGATION": "$1,234.00 ",
        "UNIQUE_ENTITY_ID": "EZ12EZ12EZ12",
        "LEGAL_BUSINESS_NAME": "LABELDATA CORP",
        "PRODUCT_SERVICE_CODE": "7A21",
        "PRINCIPAL_NAICS_CODE": "513210",
        "DESCRIPTION_OF_REQUIREMENT": "ADVERSE EVENT LABEL DATA LICENSE",
    }
    defaults.update(values)
    return [defaults.get(name, "") for name in EZ_HEADER]


def template_rows(*rows: dict[str, str]) -> list[list[str]]:
    """Template header plus rows given as column -> value."""
    return [
        list(TEMPLATE_COLUMNS),
        *([row.get(name, "") for name in TEMPLATE_COLUMNS] for row in rows),
    ]


# ---------------------------------------------------------------- cell parsers


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1234.5", 123450),
        ("-1234.5", -123450),
        ("$1,234.00 ", 123400),
        ("(474,000.00)", -47400000),
        ("", None),
        ("   ", None),
        (None, None),
        ("NULL", None),
        ("0", 0),
        ("0.00", 0),
        ("-0.5", -50),
        (".5", 50),
        ("-$12.00", -1200),
        ("$-12.00", -1200),
        ("($12.00)", -1200),
        ("$ -   ", 0),
        ("\u00a01,000.00", 100000),
        ("\u22121.50", -150),
        ("1234.565", 123457),
        ("-1234.565", -123457),
        ("1,234,567.89", 123456789),
        ("100000000000", 10_000_000_000_000),
        ("-100,000,000,000.00", -10_000_000_000_000),
    ],
)
def test_parse_money_cents(text: str | None, cents: int | None) -> None:
    assert parse_money_cents(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("12abc", "not an amount"),
        ("1.2.3", "not an amount"),
        ("1,23", "not an amount"),
        ("1.234,56", "not an amount"),
        ("USD 12", "not an amount"),
        ("7.5E+06", "scientific notation"),
        ("100000000000.01", "100 billion"),
        ("(200,000,000,000.00)", "100 billion"),
    ],
)
def test_parse_money_cents_refuses(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_money_cents(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2015-05-11", date(2015, 5, 11)),
        ("2015-05-11 00:00:00", date(2015, 5, 11)),
        ("2015-05-11T13:45:00Z", date(2015, 5, 11)),
        (" 2015-05-11 ", date(2015, 5, 11)),
        ("5/11/15", date(2015, 5, 11)),
        ("5/11/2015", date(2015, 5, 11)),
        ("05/11/2015 0:00", date(2015, 5, 11)),
        ("2015/05/11", date(2015, 5, 11)),
        ("12/31/99", date(1999, 12, 31)),
        ("1/1/68", date(2068, 1, 1)),
        ("1/1/69", date(1969, 1, 1)),
        ("", None),
        (None, None),
        ("NULL", None),
    ],
)
def test_parse_date(text: str | None, expected: date | None) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    ["2015-02-30", "2/30/2020", "13/1/2020", "11 May 2015", "2015-13-01", "5/11/150", "20150511"],
)
def test_parse_date_refuses(text: str) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7523", "7523"),
        ("7523.0", "7523"),
        ("541512.00", "541512"),
        (" r499 ", "R499"),
        ("7E20", "7E20"),  # a real PSC, not a number
        ("'0123", "0123"),
        ('="075"', "075"),
        ("75n97024p00123", "75N97024P00123"),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_clean_code(text: str | None, expected: str | None) -> None:
    assert clean_code(text) == expected


@pytest.mark.parametrize("text", ["7.00E+21", "7E+20", "1.23457E+11", "5.42E-05"])
def test_clean_code_refuses_scientific_notation(text: str) -> None:
    with pytest.raises(ValueError, match="scientific notation"):
        clean_code(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("NOT APPLICABLE", None),
        ("not  applicable", None),
        ("N/A", None),
        ("n.a.", None),
        ("NONE", None),
        ("-", None),
        ("Unknown", None),
        (None, None),
        ("NONE SUCH ANALYTICS LLC", "NONE SUCH ANALYTICS LLC"),
        ("NA HOLDINGS", "NA HOLDINGS"),
        ("ACME", "ACME"),
    ],
)
def test_without_placeholder(text: str | None, expected: str | None) -> None:
    assert without_placeholder(text) == expected


def test_placeholder_vendor_cells_are_no_value(tmp_path: Path) -> None:
    """USAspending and FPDS exports write NOT APPLICABLE or N/A where a vendor has no parent or
    d/b/a name: read as values they would make one parent of every vendor."""
    header = [*USAS_HEADER, "recipient_doing_business_as_name"]
    row = usas_row(
        recipient_parent_uei="NOT APPLICABLE", recipient_parent_name="N/A", recipient_uei="NONE"
    )
    path = write_csv(
        tmp_path,
        [
            header,
            [*row, "NOT APPLICABLE"],
            [*usas_row(award_id_piid="75N97024P00124", recipient_name="N/A"), ""],
        ],
    )
    batch = read_awards(path)
    (award,) = batch.awards
    assert award.vendor_parent_uei is None
    assert award.vendor_parent_name is None
    assert award.vendor_uei is None
    assert award.vendor_dba_name is None
    assert award.vendor_name == "ACME HEALTH DATA LLC"
    (rejected,) = batch.rejected
    assert "'N/A' is not a name" in str(rejected)


# ---------------------------------------------------------------- layout detection


@pytest.mark.parametrize(
    ("header", "layout"),
    [
        (USAS_HEADER, Layout.USASPENDING),
        (SEARCH_HEADER, Layout.USASPENDING_SEARCH),
        (FPDS_HEADER, Layout.FPDS_CSV),
        (EZ_HEADER, Layout.FPDS_EZSEARCH),
        ([h.replace("CURENT", "CURRENT") for h in EZ_HEADER], Layout.FPDS_EZSEARCH),
        (list(TEMPLATE_COLUMNS), Layout.TEMPLATE),
        (["reference", "vendor", "obligated"], Layout.TEMPLATE),
        (["\ufeffPIID ", " Vendor", "OBLIGATED"], Layout.TEMPLATE),
        ([h.upper() for h in SEARCH_HEADER], Layout.USASPENDING_SEARCH),
    ],
)
def test_detect_layout(header: list[str], layout: Layout) -> None:
    assert detect_layout(header) is layout


def test_unknown_layout_lists_needed_and_found() -> None:
    with pytest.raises(UnknownLayout) as caught:
        detect_layout(["Contract", "Company", "Amount"])
    assert caught.value.needed == ("piid", "vendor", "obligated")
    assert caught.value.found == ("Contract", "Company", "Amount")
    assert caught.value.closest is Layout.TEMPLATE
    assert "needs: piid, vendor, obligated" in str(caught.value)
    assert "Columns found: Contract, Company, Amount" in str(caught.value)


def test_unknown_layout_names_the_closest_and_what_is_missing() -> None:
    header = [h for h in EZ_HEADER if h != "DATE_SIGNED"]
    with pytest.raises(UnknownLayout) as caught:
        detect_layout(header)
    assert caught.value.closest is Layout.FPDS_EZSEARCH
    assert "missing: DATE_SIGNED." in str(caught.value)


# ---------------------------------------------------------------- template and mapping


def test_template_csv_documents_every_column_and_imports(tmp_path: Path) -> None:
    text = template_csv()
    header = next(csv.reader(io.StringIO(text)))
    assert header == list(TEMPLATE_COLUMNS)
    assert all(meaning and "\n" not in meaning for meaning in TEMPLATE_COLUMNS.values())
    path = tmp_path / "template.csv"
    path.write_text(text, encoding="utf-8", newline="")
    batch = read_awards(path)
    assert batch.layout is Layout.TEMPLATE
    assert batch.rejected == []
    (award,) = batch.awards
    assert award.award_key == "TEMPLATE_NIH_75N97024P00123_-NONE-"
    assert (award.division, award.obligated_cents, award.potential_value_cents) == (
        "NIH",
        18500000,
        78000000,
    )
    assert award.product == "National Claims Insights database, 25 named users"
    assert award.start == date(2024, 10, 1)


def test_template_rows_division_aliases_override_and_errors(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        template_rows(
            {"piid": "SUB-2024-001", "division": "cdc", "vendor": "Acme", "obligated": "$1,000"},
            {"piid": "75FCMC24P0001", "vendor": "Acme", "obligated": "10"},  # division from PIID
            {"piid": "SUB-2024-002", "vendor": "Acme", "obligated": "10"},  # no way to tell
            {
                "piid": "SUB-2024-003",
                "division": "Indian Health Service",
                "vendor": "Acme",
                "obligated": "10",
            },
            {"piid": "SUB-2024-004", "division": "NASA", "vendor": "Acme", "obligated": "10"},
            {"piid": "SUB-2024-005", "division": "FDA", "vendor": "Acme", "obligated": ""},
        ),
    )
    batch = read_awards(path)
    assert [(a.piid, a.division) for a in batch.awards] == [
        ("SUB-2024-001", "CDC"),
        ("75FCMC24P0001", "CMS"),
        ("SUB-2024-003", "IHS"),
    ]
    assert [e.row for e in batch.rejected] == [4, 6, 7]
    assert "division: empty" in str(batch.rejected[0])
    assert "'NASA' is not a division we know" in str(batch.rejected[1])
    assert "obligated: empty" in str(batch.rejected[2])
    assert batch.skipped == 0  # template rows are HHS purchases by definition

    with_override = read_awards(path, division="ASPR")
    assert [a.division for a in with_override.awards] == ["CDC", "ASPR", "ASPR", "IHS"]


def test_formulas_in_cells_are_kept_as_text(tmp_path: Path) -> None:
    formula = '=HYPERLINK("http://evil.example","click")'
    path = write_csv(
        tmp_path,
        template_rows(
            {"piid": "75N97024P00001", "vendor": "+ACME", "description": formula, "obligated": "5"}
        ),
    )
    (award,) = read_awards(path).awards
    assert award.description == formula
    assert award.vendor_name == "+ACME"


def test_column_mapping_reads_any_csv_as_the_template(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            ["Contract #", "Company", "Paid ($)", "Office", "Begins", "Notes"],
            ["75N97024P00077", "Acme Data", "(1,500.00)", "NIH", "1/2/2024", "credit"],
        ],
    )
    mapping = ColumnMapping(
        {"piid": "Contract #", "vendor": "Company", "obligated": "Paid ($)", "division": "Office",
         "start": "Begins"}
    )  # fmt: skip
    batch = read_awards(path, mapping=mapping)
    assert batch.layout is Layout.TEMPLATE
    (award,) = batch.awards
    assert (award.piid, award.vendor_name, award.obligated_cents, award.start) == (
        "75N97024P00077",
        "Acme Data",
        -150000,
        date(2024, 1, 2),
    )
    with pytest.raises(UnknownLayout, match="Amount"):
        read_awards(path, mapping=ColumnMapping({**mapping.columns, "obligated": "Amount"}))


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        ({"piid": "A", "vendor": "B"}, "obligated"),
        ({"piid": "A", "vendor": "B", "obligated": "C", "colour": "D"}, "colour"),
    ],
)
def test_column_mapping_refuses_incomplete_or_unknown_fields(
    columns: dict[str, str], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        ColumnMapping(columns)


# ---------------------------------------------------------------- USAspending bulk


def test_usaspending_rows_division_from_funding_then_awarding(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            USAS_HEADER,
            usas_row(),
            usas_row(
                contract_award_unique_key="CONT_AWD_75P00124F00002_7570_75P00122A00001_7570",
                award_id_piid="75P00124F00002",
                parent_award_id_piid="75P00122A00001",
                awarding_sub_agency_code="7570",
                funding_agency_code="075",
                funding_sub_agency_code="7590",
            ),
            usas_row(
                contract_award_unique_key="",
                award_id_piid="75D30124P00003",
                awarding_sub_agency_code="7523.0",
                awarding_agency_code="75",
            ),
        ],
    )
    batch = read_awards(path)
    assert batch.layout is Layout.USASPENDING
    assert (batch.rows_read, batch.skipped, batch.rejected) == (3, 0, [])
    first, ordered, unkeyed = batch.awards
    assert first.award_key == "CONT_AWD_75N97024P00123_7529_-NONE-_-NONE-"
    assert (first.division, first.obligated_cents, first.source_rows) == ("NIH", 18500000, (2,))
    assert (ordered.awarding_division, ordered.funding_division, ordered.division) == (
        "ASA",
        "ACF",
        "ACF",
    )
    assert ordered.parent_piid == "75P00122A00001"
    assert unkeyed.award_key == "CONT_AWD_75D30124P00003_7523_-NONE-_-NONE-"
    assert unkeyed.division == "CDC"


def test_usaspending_award_listed_twice_is_not_summed(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            USAS_HEADER,
            usas_row(total_obligated_amount="200.00", last_modified_date="2025-03-01 00:00:00"),
            usas_row(total_obligated_amount="100.00", last_modified_date="2025-01-01 00:00:00"),
            usas_row(
                total_obligated_amount="300.00",
                last_modified_date="2025-03-01 00:00:00",
                period_of_performance_current_end_date="2026-09-30",
            ),
        ],
    )
    (award,) = read_awards(path).awards
    assert award.obligated_cents == 30000  # the latest listing; ties go to the later row
    assert award.current_end == date(2026, 9, 30)
    assert award.source_rows == (2, 3, 4)
    assert "lists this award 3 times" in award.warnings[0]


def test_non_hhs_rows_are_skipped_with_reasons(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            USAS_HEADER,
            usas_row(awarding_agency_code="089", awarding_sub_agency_code="8900"),
            usas_row(funding_agency_code="036", funding_sub_agency_code="3600"),  # HHS buys for VA
            usas_row(
                awarding_sub_agency_code="4732", funding_sub_agency_code="7530"
            ),  # GSA for CMS
            usas_row(awarding_sub_agency_code="8900", total_obligated_amount="oops"),
            usas_row(
                awarding_sub_agency_code="8900", award_id_piid="", contract_award_unique_key=""
            ),
        ],
    )
    batch = read_awards(path)
    assert batch.skipped == 4
    assert batch.skipped_reasons == {AWARDED_OUTSIDE: 3, FUNDED_OUTSIDE: 1}
    assert [a.division for a in batch.awards] == ["CMS"]
    assert batch.rejected == []  # errors in rows we skip do not matter


def test_row_errors_are_reported_with_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            USAS_HEADER,
            usas_row(),
            usas_row(
                contract_award_unique_key="CONT_AWD_X_7529_-NONE-_-NONE-",
                total_obligated_amount="250,000,000,000.00",
            ),
            usas_row(
                contract_award_unique_key="CONT_AWD_Y_7529_-NONE-_-NONE-",
                period_of_performance_current_end_date="2024-09-30",
            ),
            usas_row(contract_award_unique_key="", award_id_piid="7.50E+13"),
            usas_row(contract_award_unique_key="", award_id_piid="", recipient_name=""),
            usas_row(
                contract_award_unique_key="CONT_AWD_Z_7529_-NONE-_-NONE-",
                naics_code="5.42E+05",
                period_of_performance_start_date="31/12/2024",
            ),
        ],
    )
    batch = read_awards(path)
    assert [e.row for e in batch.rejected] == [3, 4, 5, 6, 7]
    messages = [str(e) for e in batch.rejected]
    assert "total_obligated_amount: '250,000,000,000.00' is more than $100 billion" in messages[0]
    assert "period_of_performance_current_end_date: 2024-09-30 is before the start" in messages[1]
    assert "award_id_piid: '7.50E+13' was turned into scientific notation" in messages[2]
    assert "award_id_piid: empty" in messages[3]
    assert "period_of_performance_start_date: '31/12/2024' is not a valid date" in messages[4]
    assert messages[0].startswith("Row 3: ")
    assert len(batch.awards) == 1


def test_excel_mangled_descriptive_code_is_a_warning(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [USAS_HEADER, usas_row(naics_code="5.42E+05")])
    (award,) = read_awards(path).awards
    assert award.naics is None
    assert award.warnings == (
        "Row 2: naics_code: '5.42E+05' was turned into scientific notation by a spreadsheet and "
        "its digits are lost; re-export the file or format the column as text; left empty.",
    )


def test_rejected_row_of_an_award_is_flagged_on_the_award(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path, [FPDS_HEADER, fpds_row(), fpds_row(modNumber="P00001", obligatedAmount="n/a")]
    )
    batch = read_awards(path)
    (award,) = batch.awards
    assert [e.row for e in batch.rejected] == [3]
    assert "Row(s) 3 of this award had errors" in award.warnings[-1]


def test_database_divisions_override_the_seeds(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [USAS_HEADER, usas_row()])
    batch = read_awards(
        path, subtier_divisions={"7529": "NIH-OD"}, known_divisions={"NIH-OD", "CDC"}
    )
    assert batch.awards[0].division == "NIH-OD"
    with pytest.raises(ValueError, match="not a division we know"):
        read_awards(path, division="NIH", known_divisions={"NIH-OD"})


def test_hhs_subtier_without_division_uses_the_file_division(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [USAS_HEADER, usas_row(awarding_sub_agency_code="7599", award_id_piid="GS00Q14OADU123")],
    )
    assert "no division for HHS sub-tier agency 7599" in str(read_awards(path).rejected[0])
    assert read_awards(path, division="OS").awards[0].division == "OS"


# ---------------------------------------------------------------- USAspending Advanced Search


def test_search_export_folds_transactions_per_piid_and_recipient(tmp_path: Path) -> None:
    rows = [
        SEARCH_HEADER,
        ["75N98025F00005", "ACME INC", "2025-09-24", "479572.33", "75N98025F00005"],
        ["75N98025F00005", "OTHER LLC", "2025-09-24", "68004.18", "75N98025F00005"],
        ["75N98025F00005", "Acme  Inc", "2025-08-21", "-99.72", "75N98025F00005"],
        ["75FCMC25FJ151", "DAVIS FARR LLP", "2025-09-01", "1438620.0", ""],
        ["HHSM500201700010C", "MITRE", "2025-09-02", "10.0", "HHSM500201700010C"],
        ["47QFCA22F0001", "GSA VENDOR", "2025-09-03", "10.0", "47QFCA22F0001"],
    ]
    path = write_csv(tmp_path, [rows[0], *(row + [""] * 5 for row in rows[1:])])
    batch = read_awards(path)
    assert batch.layout is Layout.USASPENDING_SEARCH
    acme, other, davis = batch.awards
    assert acme.award_key == "SEARCH_75N98025F00005_ACME INC"
    assert (acme.obligated_cents, acme.source_rows, acme.last_action) == (
        47947261,
        (2, 4),
        date(2025, 9, 24),
    )
    assert acme.start is None  # the export has action dates only, no period of performance
    assert other.vendor_name == "OTHER LLC"
    assert (davis.piid, davis.division) == ("75FCMC25FJ151", "CMS")
    assert [e.row for e in batch.rejected] == [6]
    assert "HHS PIID but its contracting-office prefix names no division" in str(batch.rejected[0])
    assert batch.skipped_reasons == {PIID_OUTSIDE: 1}

    chosen = read_awards(path, division="Centers for Medicare & Medicaid Services")
    assert {a.division for a in chosen.awards} == {"CMS"}
    assert (len(chosen.awards), chosen.rejected, chosen.skipped) == (5, [], 0)


# ---------------------------------------------------------------- FPDS flat CSV


def test_fpds_csv_folds_modifications(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            FPDS_HEADER,
            fpds_row(totalObligatedAmount="125000.00"),
            fpds_row(
                modNumber="P00001",
                signedDate="2024-06-01 00:00:00",
                effectiveDate="2025-03-01 00:00:00",  # close-out after the end: not an error
                currentCompletionDate="2025-02-14 00:00:00",
                obligatedAmount="25000.00",
                baseAndExercisedOptionsValue="25000.00",
                baseAndAllOptionsValue="0.00",
                totalObligatedAmount="125000.00",
                descriptionOfContractRequirement="CHANGED TEXT",
            ),
            fpds_row(
                PIID="75D30124C00001", **{"ref-PIID": "75D30120A00009", "ref-agencyID": "7523"}
            ),
            fpds_row(PIID="75D30124A00001", **{"contractActionType-description": "BPA"}),
        ],
    )
    batch = read_awards(path)
    assert batch.layout is Layout.FPDS_CSV
    assert batch.rejected == []
    contract, order, agreement = batch.awards
    assert contract.award_key == "CONT_AWD_75D30124C00001_7523_-NONE-_-NONE-"
    assert (contract.obligated_cents, contract.current_value_cents) == (12500000, 12500000)
    assert contract.potential_value_cents == 30000000
    assert (contract.start, contract.current_end) == (date(2024, 1, 15), date(2025, 2, 14))
    assert contract.last_action == date(2024, 6, 1)
    assert contract.description == "SURVEILLANCE DATA PLATFORM"
    assert contract.vendor_name == "DATAWORKS INC"
    assert contract.warnings == ()
    assert order.award_key == "CONT_AWD_75D30124C00001_7523_75D30120A00009_7523"
    assert agreement.award_key == "CONT_IDV_75D30124A00001_7523"


def test_fpds_csv_partial_actions_and_base_period_check(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            FPDS_HEADER,
            fpds_row(modNumber="P00004", totalObligatedAmount="900000.00"),
            fpds_row(PIID="75D30124C00002", currentCompletionDate="2023-01-01 00:00:00"),
        ],
    )
    batch = read_awards(path)
    assert "add up to $100,000.00 but the source reports $900,000.00" in batch.awards[0].warnings[0]
    assert "currentCompletionDate: 2023-01-01 is before the start 2024-01-15" in str(
        batch.rejected[0]
    )


# ---------------------------------------------------------------- FPDS ezSearch


def test_ezsearch_money_dates_parent_from_link_and_funding_name(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            EZ_HEADER,
            ez_row(),
            ez_row(MODIFICATION_NO="P00001", DATE_SIGNED="9/30/24", CURENT_ACTION_OBLIGATION="(234.00)"),
            ez_row(PROCUREMENT_ID="75N95024P00001", AGENCY_ID="7529", LINK="", FUNDING_AGENCY_NAME=""),
            ez_row(AGENCY_ID="4732", FUNDING_AGENCY_NAME="GENERAL SERVICES ADMINISTRATION"),
            ez_row(AGENCY_ID="9700", FUNDING_AGENCY_NAME="National Institutes of Health",
                   PROCUREMENT_ID="W91ZLK24F0001", LINK=""),
        ],
    )  # fmt: skip
    batch = read_awards(path)
    assert batch.layout is Layout.FPDS_EZSEARCH
    assert (batch.skipped_reasons, batch.rejected) == ({AWARDED_OUTSIDE: 1}, [])
    fda, nih, army = batch.awards
    assert fda.award_key == "CONT_AWD_75F40124F19001_7524_47QTCA19D00AB_4732"
    assert fda.parent_piid == "47QTCA19D00AB"
    assert (fda.obligated_cents, fda.source_rows) == (100000, (2, 3))
    assert (fda.start, fda.current_end, fda.potential_end) == (
        date(2024, 3, 5),
        date(2025, 3, 4),
        date(2029, 3, 4),
    )
    assert fda.last_action == date(2024, 9, 30)
    assert (fda.division, fda.funding_division) == ("FDA", "FDA")
    assert nih.award_key == "CONT_AWD_75N95024P00001_7529_-NONE-_-NONE-"
    assert army.division == "NIH"  # funded by NIH, awarded by the Army


# ---------------------------------------------------------------- FPDS ATOM


def atom_entry(
    piid: str, mod: str, amount: str, agency: str = "7530", parent: str | None = None
) -> str:
    reference = (
        f"<ns1:referencedIDVID><ns1:agencyID>{agency}</ns1:agencyID><ns1:PIID>{parent}</ns1:PIID>"
        "<ns1:modNumber>0</ns1:modNumber></ns1:referencedIDVID>"
        if parent
        else ""
    )
    return f"""
  <entry>
    <title>award {piid}</title>
    <content type="application/xml">
      <ns1:award version="1.5">
        <ns1:awardID>
          <ns1:awardContractID><ns1:agencyID name="CMS">{agency}</ns1:agencyID>
            <ns1:PIID>{piid}</ns1:PIID><ns1:modNumber>{mod}</ns1:modNumber>
          </ns1:awardContractID>{reference}
        </ns1:awardID>
        <ns1:relevantContractDates>
          <ns1:signedDate>2024-02-01 00:00:00</ns1:signedDate>
          <ns1:effectiveDate>2024-02-01 00:00:00</ns1:effectiveDate>
          <ns1:currentCompletionDate>2025-01-31 00:00:00</ns1:currentCompletionDate>
          <ns1:ultimateCompletionDate>2028-01-31 00:00:00</ns1:ultimateCompletionDate>
        </ns1:relevantContractDates>
        <ns1:dollarValues><ns1:obligatedAmount>{amount}</ns1:obligatedAmount></ns1:dollarValues>
        <ns1:purchaserInformation>
          <ns1:contractingOfficeAgencyID departmentID="{agency[:2]}00">{agency}</ns1:contractingOfficeAgencyID>
          <ns1:fundingRequestingAgencyID departmentID="{agency[:2]}00">{agency}</ns1:fundingRequestingAgencyID>
        </ns1:purchaserInformation>
        <ns1:contractData>
          <ns1:contractActionType description="DELIVERY ORDER">C</ns1:contractActionType>
          <ns1:descriptionOfContractRequirement>MEDICARE CLAIMS ANALYTICS</ns1:descriptionOfContractRequirement>
        </ns1:contractData>
        <ns1:productOrServiceInformation>
          <ns1:productOrServiceCode description="IT SOFTWARE">7A21</ns1:productOrServiceCode>
          <ns1:principalNAICSCode description="SOFTWARE PUBLISHERS">513210</ns1:principalNAICSCode>
        </ns1:productOrServiceInformation>
        <ns1:vendor>
          <ns1:vendorHeader><ns1:vendorName>CLAIMSCO LLC</ns1:vendorName></ns1:vendorHeader>
          <ns1:vendorSiteDetails><ns1:entityIdentifiers><ns1:vendorUEIInformation>
            <ns1:UEI>CL12CL12CL12</ns1:UEI><ns1:ultimateParentUEI>PA12PA12PA12</ns1:ultimateParentUEI>
          </ns1:vendorUEIInformation></ns1:entityIdentifiers></ns1:vendorSiteDetails>
        </ns1:vendor>
      </ns1:award>
    </content>
  </entry>"""


def atom_feed(*entries: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xmlns:ns1="https://www.fpds.gov/FPDS">'
        f"<title>FPDS-NG search results</title>{''.join(entries)}\n</feed>\n"
    )


def test_fpds_atom_feed(tmp_path: Path) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(
        atom_feed(
            atom_entry("75FCMC24F0001", "0", "1000.00", parent="75FCMC20A0001"),
            atom_entry("75FCMC24F0001", "P00001", "500.50", parent="75FCMC20A0001"),
            atom_entry("75FCMC24F0001", "0", "7.00", parent="75FCMC20A0002"),
            atom_entry("47QTCA24F0001", "0", "9.00", agency="4732"),
        ),
        encoding="utf-8",
    )
    batch = read_awards(path)
    assert batch.layout is Layout.FPDS_ATOM
    assert (batch.rows_read, batch.skipped, batch.rejected) == (4, 1, [])
    first, second = batch.awards
    assert first.award_key == "CONT_AWD_75FCMC24F0001_7530_75FCMC20A0001_7530"
    assert (first.obligated_cents, first.source_rows, first.division) == (150050, (1, 2), "CMS")
    assert (first.vendor_name, first.vendor_uei, first.vendor_parent_uei) == (
        "CLAIMSCO LLC",
        "CL12CL12CL12",
        "PA12PA12PA12",
    )
    assert (first.psc, first.psc_description, first.naics) == ("7A21", "IT SOFTWARE", "513210")
    assert second.award_key == "CONT_AWD_75FCMC24F0001_7530_75FCMC20A0002_7530"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY a "aaaa">]><feed>&a;</feed>',
            "DOCTYPE",
        ),
        ("<feed><entry></feed>", "not well formed"),
        ("<catalog><item/></catalog>", "not an FPDS ATOM feed"),
        ('<feed xmlns="http://www.w3.org/2005/Atom"><title>none</title></feed>', "no entries"),
    ],
)
def test_bad_xml_is_a_file_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ImportFileError, match=message):
        read_awards(path)


# ---------------------------------------------------------------- stability, encodings, shapes


def test_reading_again_gives_identical_keys_in_any_order(tmp_path: Path) -> None:
    rows = [
        fpds_row(),
        fpds_row(modNumber="P00001"),
        fpds_row(PIID="75D30124F00009", **{"ref-PIID": "75D30120A00001", "ref-agencyID": "7523"}),
        fpds_row(PIID="75D30124F00009", **{"ref-PIID": "75D30120A00002", "ref-agencyID": "7523"}),
    ]
    first = read_awards(write_csv(tmp_path, [FPDS_HEADER, *rows], name="a.csv"))
    again = read_awards(write_csv(tmp_path, [FPDS_HEADER, *rows], name="b.csv"))
    reordered = read_awards(write_csv(tmp_path, [FPDS_HEADER, *rows[::-1]], name="c.csv"))
    keys = [a.award_key for a in first.awards]
    assert len(keys) == 3
    assert keys == [a.award_key for a in again.awards]
    assert set(keys) == {a.award_key for a in reordered.awards}
    assert first.awards == again.awards


def test_latin1_bom_crlf_and_quoted_newlines(tmp_path: Path) -> None:
    rows = template_rows(
        {"piid": "75N97024P00001", "vendor": "Société Générale – Données", "obligated": "1",
         "division": "NIH", "description": "line one\r\nline two"},
        {"piid": "75N97024P00002", "vendor": "Acme", "obligated": "bad", "division": "NIH"},
    )  # fmt: skip
    for encoding, bom in (("cp1252", False), ("utf-8", True)):
        path = write_csv(tmp_path, rows, name=f"{encoding}.csv", encoding=encoding, bom=bom)
        batch = read_awards(path)
        (award,) = batch.awards
        assert award.vendor_name == "Société Générale – Données"
        assert award.description == "line one\r\nline two"
        assert [e.row for e in batch.rejected] == [3]  # the multi-line cell is one row
        assert bool(batch.notices) is (encoding == "cp1252")


@pytest.mark.parametrize(
    "content",
    [
        b"piid;vendor;obligated;division\n75N97024P00001;Acme;12.50;NIH\n",  # European Excel
        b"piid\tvendor\tobligated\tdivision\n75N97024P00001\tAcme\t12.50\tNIH\n",  # "Text"
        b"piid,vendor,obligated,division\r75N97024P00001,Acme,12.50,NIH\r",  # Excel for Mac
    ],
)
def test_other_separators_and_line_ends(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "other.csv"
    path.write_bytes(content)
    batch = read_awards(path)
    assert (batch.rejected, batch.awards[0].obligated_cents) == ([], 1250)


def test_ragged_rows_are_reported_per_row(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        [
            ["piid", "vendor", "obligated", "division"],
            ["75N97024P00001", "Acme", "1", "NIH"],
            ["75N97024P00002", "Acme", "1"],
            ["75N97024P00003", "Acme", "1", "NIH", "", ""],  # trailing empty cells are harmless
            ["75N97024P00004", "Acme, Inc", "1", "NIH", "stray"],
            ["", "", "", ""],  # a blank row is not data
        ],
    )
    batch = read_awards(path)
    assert [a.piid for a in batch.awards] == ["75N97024P00001", "75N97024P00003"]
    assert [(e.row, e.errors[0][:38]) for e in batch.rejected] == [
        (3, "the row has 3 cells but the header has"),
        (5, "the row has 5 cells but the header has"),
    ]
    assert batch.rows_read == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\r\n \r\n", "empty"),
        (b"\xef\xbb\xbf", "empty"),
        (b"\x00\x01\x02binary\x00", "binary"),
        (b"PK\x03\x04rest-of-zip", "ZIP archive or an Excel workbook"),
        ("piid,vendor\n".encode("utf-16"), "UTF-16"),
        (b"piid,vendor,obligated\r\n", "header but no data rows"),
        (b"piid,vendor,obligated\r\n,,\r\n\r\n", "header but no data rows"),
    ],
)
def test_bad_files_raise_one_file_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError, match=message):
        read_awards(path)
    with pytest.raises(ImportFileError, match=message):
        read_awards(io.BytesIO(content))


def test_oversize_file_is_refused(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path,
        template_rows(*({"piid": f"P{n}", "vendor": "A", "obligated": "1"} for n in range(500))),
    )
    with pytest.raises(ImportFileError, match="larger than the 1000 bytes limit"):
        read_awards(path, max_bytes=1000)
    # A stream of unknown size is counted while it is read.
    with pytest.raises(ImportFileError, match="limit"):
        read_awards(io.BytesIO(path.read_bytes()), max_bytes=1000)
    assert len(read_awards(io.BytesIO(path.read_bytes()), division="NIH").awards) == 500


def test_layout_argument_is_checked(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [USAS_HEADER, usas_row()])
    with pytest.raises(UnknownLayout) as caught:
        read_awards(path, layout=Layout.FPDS_EZSEARCH)
    assert caught.value.closest is Layout.FPDS_EZSEARCH
    with pytest.raises(ImportFileError, match="not an XML file"):
        read_awards(path, layout=Layout.FPDS_ATOM)
    with pytest.raises(ValueError, match="mapping"):
        read_awards(
            path,
            layout=Layout.USASPENDING,
            mapping=ColumnMapping({"piid": "a", "vendor": "b", "obligated": "c"}),
        )
    assert read_awards(path, layout=Layout.USASPENDING).awards[0].division == "NIH"
