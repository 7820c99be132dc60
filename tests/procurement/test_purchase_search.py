"""The purchase word index (migration 0007) on SQLite and PostgreSQL: matches, safety, upkeep."""

from __future__ import annotations

import sqlite3
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlmodel import col, select

from marketplace import accounts
from marketplace.migrate import alembic_config, upgrade
from procurement.models import Purchase
from procurement.services import purchases
from procurement.services.imports import ImportOptions, import_awards
from procurement.services.purchase_index import SQLITE_INSERT_TRIGGER
from procurement.services.purchases import PurchaseInput, PurchaseQuery, WordReach, search_words
from tests.support import make_user, see_latest

TODAY = date(2026, 11, 26)
HEADER = (
    "piid,parent_piid,division,vendor,vendor_uei,product,description,award_type,psc,naics,"
    "start,current_end,potential_end,obligated,current_value,potential_value"
)
ROWS = [
    "75D30124P00001,,CDC,Acme Health Data LLC,,Claims DB,Claims data mart,PURCHASE ORDER,7A21,"
    "519290,2026-01-01,2026-12-31,,1000.00,,",
    "75D30124P00002,,CDC,Roadrunner Analytics Inc.,,News,Newsletter service,PURCHASE ORDER,7A21,"
    "519290,2026-02-01,2026-06-30,,250.50,,",
    "75N95024P00003,,NIH,Café Résumé GmbH,,Données,Hospital-level datasets (0-35 months),"
    "PURCHASE ORDER,DA01,519290,2026-03-01,2026-12-31,,99.00,,",
]


def load(db, tmp_path: Path, rows: list[str] = ROWS, name: str = "purchases.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    outcome = import_awards(db, "cli: test", path, ImportOptions(filename=name))
    see_latest(db)
    return outcome


def officer(db):
    user = make_user(db, "officer@hhs.gov", division="CDC", roles=("officer",))
    return accounts.principal_for(db, user)


def piids(db, user, q: str, **query) -> list[str]:
    page = purchases.search_purchases(db, user, PurchaseQuery(q=q, **query), today=TODAY)
    assert page.total == sum(f.count for f in page.facets["division"])
    return sorted(row.purchase.piid for row in page.rows)


def test_words_are_cleaned_of_query_syntax():
    assert search_words('"claims" OR data* -news NEAR(x') == [
        "claims",
        "or",
        "data",
        "news",
        "near",
        "x",
    ]
    assert search_words("HHS-MAN-2026-00042") == ["hhs", "man", "2026", "00042"]
    assert search_words("'\"*-()") == []
    assert len(search_words("word " * 5000)) == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("acme", ["75D30124P00001"]),
        ("acm", ["75D30124P00001"]),  # a prefix, as the user types
        ("ACME claims", ["75D30124P00001"]),  # every word must match
        ("acme news", []),
        ("roadrunner news", ["75D30124P00002"]),
        ("75d3012", ["75D30124P00001", "75D30124P00002"]),  # PIID prefix
        ("75D30124P00002", ["75D30124P00002"]),
        ("7a21", ["75D30124P00001", "75D30124P00002"]),  # PSC
        ("caf", ["75N95024P00003"]),  # non-ASCII words, prefix
        ("café résumé", ["75N95024P00003"]),
        ("données", ["75N95024P00003"]),
        ("0-35", ["75N95024P00003"]),  # the words 0 and 35, whole words
        ("hospital level", ["75N95024P00003"]),
        ("da", []),  # under three characters: whole words only
        ("ospital", []),  # no infix matches
        ("", ["75D30124P00001", "75D30124P00002", "75N95024P00003"]),
    ],
)
def test_prefix_matches_are_the_same_on_both_engines(db, tmp_path, q, expected):
    load(db, tmp_path)
    assert piids(db, officer(db), q) == expected


@pytest.mark.parametrize(
    "q",
    [
        '"',
        "'",
        "*",
        "-",
        "OR",
        "acme OR",
        "NEAR(acme",
        "acme*",
        '"acme',
        "a:* & b",
        "'; DROP TABLE purchase; --",
        "\\",
        "%_",
        "🙂 données",
        "x" * 10_000,
        "acme " * 2000,
    ],
)
def test_any_input_gives_results_or_none_never_an_error(db, tmp_path, client, q):
    load(db, tmp_path)
    user = officer(db)
    page = purchases.search_purchases(db, user, PurchaseQuery(q=q), today=TODAY)
    assert page.total == len(page.rows)
    if search_words(q) == ["acme"]:  # "acme OR" asks for the word "or" too: no match
        assert [r.purchase.piid for r in page.rows] == ["75D30124P00001"]
    text_of_export = "".join(purchases.export_csv(db, user, PurchaseQuery(q=q), today=TODAY))
    assert text_of_export.count("\r\n") == page.total + 1


def test_facets_count_the_matches_only(db, tmp_path):
    load(db, tmp_path)
    page = purchases.search_purchases(db, officer(db), PurchaseQuery(q="7a21"), today=TODAY)
    assert page.total == 2
    assert [(f.value, f.count) for f in page.facets["division"]] == [("CDC", 2)]
    assert {f.value: f.count for f in page.facets["status"]} == {"active": 1, "expired": 1}
    assert sum(f.count for f in page.facets["vendor"]) == 2
    assert page.total_obligated_cents == 100000 + 25050


def test_words_every_purchase_holds_filter_nothing(db, tmp_path):
    load(db, tmp_path)
    user = officer(db)
    # "519290" (the NAICS code) is in every purchase: the shortcut must give the plain counts.
    words = purchases.search_purchases(
        db, user, PurchaseQuery(q="519290", status="active"), today=TODAY
    )
    plain = purchases.search_purchases(db, user, PurchaseQuery(status="active"), today=TODAY)
    assert words.total == plain.total == 2
    assert words.facets == plain.facets
    assert [r.purchase.id for r in words.rows] == [r.purchase.id for r in plain.rows]


def manual(**changes) -> PurchaseInput:
    values = {
        "division": "CDC",
        "vendor": "Politico LLC",
        "product": "Politico Pro",
        "description": "Policy news service",
        "start_on": "2026-01-01",
        "current_end_on": "2026-12-31",
        "obligated": "9800",
    }
    values.update(changes)
    return PurchaseInput(**values)


def test_the_index_follows_create_edit_and_delete(db):
    user = officer(db)
    purchase = purchases.record_purchase(db, user, manual(), today=TODAY)
    assert piids(db, user, "politi pro") == [purchase.piid]
    purchases.update_purchase(
        db, user, purchase.id, manual(product="Bloomberg Government", vendor="Bloomberg LP")
    )
    assert piids(db, user, "politico") == []
    assert piids(db, user, "bloomb govern") == [purchase.piid]
    db.delete(db.get(Purchase, purchase.id))
    db.commit()
    assert piids(db, user, "bloomberg") == []
    assert index_size(db) == 0


def test_the_index_follows_import_and_reimport(db, tmp_path):
    load(db, tmp_path)
    user = officer(db)
    assert piids(db, user, "newsletter") == ["75D30124P00002"]
    changed = [ROWS[0], ROWS[1].replace("Newsletter service", "Wire feed"), ROWS[2]]
    outcome = load(db, tmp_path, changed, "again.csv")
    assert (outcome.updated, outcome.unchanged) == (1, 2)
    assert piids(db, user, "newsletter") == []
    assert piids(db, user, "wire feed") == ["75D30124P00002"]
    assert index_size(db) == 3


def index_size(db) -> int:
    """Purchases the word index holds (SQLite: FTS rows; PostgreSQL: non-empty vectors)."""
    if db.get_bind().dialect.name == "postgresql":
        sql = (
            "SELECT count(*) FROM purchase WHERE search_vector IS NOT NULL AND search_vector <> ''"
        )
    else:
        # An integrity check fails when the external-content index and the table disagree.
        db.connection().exec_driver_sql(
            "INSERT INTO purchase_fts (purchase_fts, rank) VALUES ('integrity-check', 1)"
        )
        sql = "SELECT count(*) FROM purchase_fts_docsize"
    return db.connection().exec_driver_sql(sql).scalar_one()


def test_upgrade_indexes_purchases_already_in_the_table(database_url, tmp_path):
    """Migration 0007 back-fills: rows written before it are found after it."""
    config = alembic_config(database_url)
    command.downgrade(config, "0006")
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            division = connection.execute(text("SELECT id FROM division WHERE code = 'CDC'")).one()
            vendor = connection.execute(
                text(
                    "INSERT INTO vendor (name, name_key, created_at, updated_at) "
                    "VALUES ('Old Vendor', 'OLD VENDOR', :now, :now) RETURNING id"
                ),
                {"now": "2026-01-01 00:00:00"},
            ).one()
            connection.execute(
                text(
                    "INSERT INTO purchase (award_key, piid, division_id, vendor_id, product, "
                    "description, obligated_cents, source, sensitive_notes, search_text, "
                    "created_at, updated_at) VALUES ('K1', 'OLD-1', :d, :v, '', 'legacy', 0, "
                    "'manual', '', 'old-1 old vendor legacy archive', :now, :now)"
                ),
                {"d": division[0], "v": vendor[0], "now": "2026-01-01 00:00:00"},
            )
    finally:
        engine.dispose()
    upgrade(database_url)
    from marketplace.db import Database
    from tests.support import settings_for

    database = Database(settings_for(database_url, tmp_path / "var"))
    try:
        with database.session() as db:
            user = officer(db)
            assert piids(db, user, "archiv") == ["OLD-1"]
            assert piids(db, user, "old vendor legacy") == ["OLD-1"]
            assert index_size(db) == 1
    finally:
        database.dispose()


def test_sqlite_keeps_its_sync_triggers_at_head(sqlite_template):
    """Batch migrations drop triggers: a later migration of `purchase` must recreate them."""
    with sqlite3.connect(sqlite_template) as connection:
        names = {
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        }
    assert {"purchase_fts_insert", "purchase_fts_update", "purchase_fts_delete"} <= names


def test_bulk_import_recreates_exactly_the_migrations_insert_trigger(sqlite_template):
    with sqlite3.connect(sqlite_template) as connection:
        (sql,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'purchase_fts_insert'"
        ).fetchone()
    assert " ".join(sql.split()) == " ".join(SQLITE_INSERT_TRIGGER.split())


def test_rows_imported_in_bulk_are_searchable_and_the_trigger_is_back(db, tmp_path):
    user = officer(db)
    rows = [
        f"75N950{n:02d}P00001,,NIH,Bulkindexed Analytics LLC,,Claims extract {n},Claims,"
        "PURCHASE ORDER,7A21,519290,2026-01-01,2026-12-31,,1000.00,,"
        for n in range(30)
    ]
    assert load(db, tmp_path, rows).created == 30
    found = purchases.search_purchases(db, user, PurchaseQuery(q="bulkindexed"), today=TODAY)
    assert found.total == 30
    if db.get_bind().dialect.name == "sqlite":
        triggers = db.connection().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger'"
        )
        assert "purchase_fts_insert" in {row[0] for row in triggers}
    # A purchase recorded by hand afterwards is indexed by the trigger again.
    purchases.record_purchase(db, user, manual(vendor="Handmade Data LLC"), today=TODAY)
    assert len(piids(db, user, "handmade")) == 1


# ------------------------------------------------------------- summaries kept per search


def summary(db, user, **query) -> tuple[int, int, dict[str, list[tuple[str, str, int]]]]:
    page = purchases.search_purchases(db, user, PurchaseQuery(**query), today=TODAY)
    facets = {
        name: [(f.value, f.label, f.count) for f in values] for name, values in page.facets.items()
    }
    return page.total, page.total_obligated_cents, facets


def test_a_kept_summary_equals_a_fresh_count_for_every_page_and_sort(db, tmp_path):
    load(db, tmp_path)
    user = officer(db)
    purchases.clear_summary_cache()
    fresh = summary(db, user, q="519290")
    for sort in purchases.SORTS:
        for page in (1, 2):
            assert summary(db, user, q="519290", sort=sort, page=page) == fresh
    purchases.clear_summary_cache()
    assert summary(db, user, q="519290", sort="amount", page=2) == fresh


def test_every_write_path_shows_in_the_next_summary(db, tmp_path):
    from procurement.services import licences, vendors
    from procurement.services.licences import LicenceInput

    load(db, tmp_path)
    user = officer(db)
    total, cents, facets = summary(db, user)
    assert (total, cents) == (3, 100000 + 25050 + 9900)
    assert dict((v, n) for v, _, n in facets["licence"]) == {"yes": 0, "no": 3}

    first = db.exec(select(Purchase).where(Purchase.piid == "75D30124P00001")).one()
    licences.save_licence(
        db, user, first.id, LicenceInput(term_start_on="2026-01-01", term_end_on="2026-12-31")
    )
    assert dict((v, n) for v, _, n in summary(db, user)[2]["licence"]) == {"yes": 1, "no": 2}

    licences.delete_licence(db, user, first.id)
    assert dict((v, n) for v, _, n in summary(db, user)[2]["licence"]) == {"yes": 0, "no": 3}

    purchases.update_purchase(
        db, user, first.id, manual(obligated="1.00", vendor="Acme Health Data LLC")
    )
    assert summary(db, user)[1] == 100 + 25050 + 9900

    recorded = purchases.record_purchase(db, user, manual(), today=TODAY)
    total, cents, facets = summary(db, user)
    assert (total, cents) == (4, 100 + 25050 + 9900 + 980000)

    roadrunner = db.exec(select(Purchase).where(Purchase.piid == "75D30124P00002")).one()
    vendors.merge_vendors(db, user, recorded.vendor_id, roadrunner.vendor_id)
    by_vendor = {label: n for _, label, n in summary(db, user)[2]["vendor"]}
    assert by_vendor["Politico LLC"] == 2 and "Roadrunner Analytics Inc." not in by_vendor

    outcome = load(db, tmp_path, [ROWS[1].replace("250.50", "300.00")], "again.csv")
    assert outcome.updated == 1
    assert summary(db, user)[1] == 100 + 30000 + 9900 + 980000


# ------------------------------------------------------------- how few and many matches are counted


def register_of_sixty(db, tmp_path: Path) -> None:
    """Three divisions of 20 purchases, seven vendors, three PSCs, open and ended periods, and a
    licence on every sixth; "alpha" is in every fifth description, "beta" in the others."""
    from procurement.models import Licence

    rows = []
    for n in range(60):
        end = "" if n % 11 == 0 else ("2026-06-30" if n % 2 else "2027-06-30")
        rows.append(
            f"75D30124P{n:05d},,{('CDC', 'NIH', 'FDA')[n % 3]},Vendor {n % 7} Data LLC,,"
            f"Feed {n},Feed {'alpha' if n % 5 == 0 else 'beta'} item{n},PURCHASE ORDER,"
            f"{('7A21', 'DA01', 'R408')[n % 4 % 3]},519290,2025-01-{1 + n % 28:02d},{end},,"
            f"{100 + n * 7}.00,,"
        )
    load(db, tmp_path, rows)
    for purchase in db.exec(select(Purchase).order_by(Purchase.id)).all():
        if int(purchase.piid[-5:]) % 6 == 0:
            db.add(Licence(purchase_id=purchase.id, scope="division", term_start_on=TODAY,
                           term_end_on=date(2027, 1, 1)))  # fmt: skip
    db.commit()
    see_latest(db)


def outcome(db, user, query: PurchaseQuery):
    purchases.clear_summary_cache()
    page = purchases.search_purchases(db, user, query, today=TODAY)
    facets = {name: [(f.value, f.count) for f in values] for name, values in page.facets.items()}
    return [row.purchase.id for row in page.rows], page.total, page.total_obligated_cents, facets


@pytest.mark.parametrize("q", ["alpha", "beta", "item1", "feed alpha", "alpha beta"])
def test_few_and_many_matches_give_the_same_page_and_counts(db, tmp_path, monkeypatch, q):
    # SQLite counts few matches in one pass grouped by vendor too, and may walk the order's
    # index for their page; both must agree with the broad way for every filter, sort and page.
    register_of_sixty(db, tmp_path)
    user = officer(db)
    cdc_vendor = db.exec(select(Purchase.vendor_id).where(Purchase.piid == "75D30124P00003")).one()
    filters = [
        {}, {"division": "NIH"}, {"status": "active"}, {"status": "expired"}, {"licence": "yes"},
        {"licence": "no"}, {"psc": "DA01"}, {"vendor_id": cdc_vendor},
    ]  # fmt: skip
    for where in filters:
        for sort in purchases.SORTS:
            for page in (1, 3):
                query = PurchaseQuery(q=q, sort=sort, page=page, per_page=3, **where)
                monkeypatch.setattr(purchases, "_DENSE_SHARE", 1000)  # many: the broad way
                broad = outcome(db, user, query)
                monkeypatch.setattr(purchases, "_DENSE_SHARE", 0)  # few, page looked up by id
                monkeypatch.setattr(purchases, "_WALK_SHARE", 10**6)
                assert outcome(db, user, query) == broad, (query, "few")
                monkeypatch.setattr(purchases, "_WALK_SHARE", 1)  # few, page by walking
                assert outcome(db, user, query) == broad, (query, "few, walked")


def test_equal_division_counts_are_listed_in_division_order(db, tmp_path):
    register_of_sixty(db, tmp_path)
    ids = {d.code: d.id for d in accounts.list_divisions(db)}
    user = officer(db)
    for q in ("", "feed"):  # every purchase holds "feed": counted without the words
        _, total, _, facets = outcome(db, user, PurchaseQuery(q=q))
        assert total == 60
        assert [code for code, _ in facets["division"]] == sorted(
            ["CDC", "NIH", "FDA"], key=ids.__getitem__
        )


@pytest.mark.parametrize("q", ["feed", "75d30124p0000", "alpha", "item1", "alpha beta"])
def test_words_counted_in_the_grouping_pass_give_the_same_page_and_counts(
    db, tmp_path, monkeypatch, q
):
    # PostgreSQL tests the words of the first purchases only; when none misses, the grouping
    # pass counts with and without them. Probing every purchase or none must agree.
    register_of_sixty(db, tmp_path)
    user = officer(db)
    for where in ({}, {"division": "NIH"}, {"status": "active"}, {"licence": "yes"}):
        for sort, page in (("newest", 1), ("amount", 2)):
            query = PurchaseQuery(q=q, sort=sort, page=page, per_page=4, **where)
            monkeypatch.setattr(purchases, "_PROBE_ROWS", 10**6)
            probed = outcome(db, user, query)
            monkeypatch.setattr(purchases, "_PROBE_ROWS", 0)
            assert outcome(db, user, query) == probed, query


@pytest.mark.parametrize("q", ["", "feed", "alpha", "alpha beta"])
def test_no_licence_counted_as_a_difference_gives_the_same_page_and_counts(
    db, tmp_path, monkeypatch, q
):
    # PostgreSQL counts "no licence" as every match minus the licensed ones, words proven or
    # tested row by row included (a probe of none makes "alpha" such words, which then filter).
    # Testing the licence of each match must give the same page and counts.
    register_of_sixty(db, tmp_path)
    user = officer(db)
    summarise = purchases._summarise
    subtracted = []

    def natural_way(*args, excluded=None, **options):
        subtracted.append(excluded is not None)
        return summarise(*args, excluded=excluded, **options)

    def tested_on_each(db, where, *args, excluded=None, **options):
        return summarise(db, where if excluded is None else [*where, ~excluded], *args, **options)

    for where in ({}, {"division": "NIH"}, {"status": "expired", "psc": "7A21"}):
        for probe in (10**6, 0):
            for sort, page in (("newest", 1), ("amount", 2)):
                query = PurchaseQuery(q=q, licence="no", sort=sort, page=page, per_page=4, **where)
                monkeypatch.setattr(purchases, "_PROBE_ROWS", probe)
                monkeypatch.setattr(purchases, "_summarise", natural_way)
                natural = outcome(db, user, query)
                monkeypatch.setattr(purchases, "_summarise", tested_on_each)
                assert outcome(db, user, query) == natural, (query, probe)
                assert natural[1] == 0 or natural[3]["vendor"], query
                assert dict(natural[3]["licence"]) == {"yes": 0, "no": natural[1]}
    assert any(subtracted) == (db.get_bind().dialect.name == "postgresql")


def test_counts_as_a_difference_equal_the_counts_of_the_rest(db, tmp_path):
    # Both engines: every count of `where` minus `excluded` equals that of `where` and not
    # `excluded`, also where whole groups and vendors are excluded (every sixth is licensed;
    # the purchases starting 2025-01-01 are numbers 0, 28 and 56, and 0 alone is licensed).
    register_of_sixty(db, tmp_path)
    licensed = purchases._has_licence()
    first = db.exec(select(Purchase.id).where(Purchase.piid == "75D30124P00000")).one()
    words = purchases.word_match(db, "alpha")
    every_word = purchases.word_match(db, "feed")

    def plain(tally):
        groups, vendors, active, licensed_n = tally[0]
        rows = sorted((d, psc, int(n), int(cents)) for d, psc, n, cents in groups)
        return rows, vendors, int(active), int(licensed_n), tally[1]

    cases = [
        ([], None),
        ([Purchase.start_on == date(2025, 1, 1)], None),
        ([Purchase.id == first], None),
        ([words.condition()], None),
        ([], words.condition()),
        ([], every_word.condition()),
        ([Purchase.start_on == date(2025, 1, 1)], every_word.condition()),
    ]
    for where, likely in cases:
        apart = plain(purchases._tally_many(db, where, TODAY, likely, excluded=licensed))
        rest = plain(purchases._tally_many(db, [*where, ~licensed], TODAY, likely))
        assert apart == rest, (where, likely)
    none_left = plain(purchases._tally_many(db, [Purchase.id == first], TODAY, excluded=licensed))
    assert none_left == ([], [], 0, 0, True)
    three = plain(purchases._tally_many(db, [Purchase.start_on == date(2025, 1, 1)], TODAY))
    two = plain(
        purchases._tally_many(db, [Purchase.start_on == date(2025, 1, 1)], TODAY, excluded=licensed)
    )
    assert (len(three[0]), three[1][0][2], three[3]) == (3, 3, 1)
    assert (len(two[0]), two[1][0][2], two[3]) == (2, 2, 0)


def test_the_probe_of_words_also_tests_the_latest_purchases(db, tmp_path, monkeypatch):
    # PostgreSQL asks whether the first and the latest purchases hold the words before counting
    # them: "alpha" is in the first of the register of sixty (number 0) but not in the latest
    # (59), "feed" in both. SQLite counts the word index's matches instead.
    register_of_sixty(db, tmp_path)
    latest = db.exec(select(Purchase.piid).order_by(col(Purchase.id).desc())).first()
    assert latest == "75D30124P00059"
    monkeypatch.setattr(purchases, "_PROBE_ROWS", 1)
    postgres = db.get_bind().dialect.name == "postgresql"
    reach = {q: purchases.word_match(db, q).reach(db) for q in ("alpha", "feed")}
    if postgres:
        assert reach == {"alpha": WordReach.SOME, "feed": WordReach.LIKELY}
    else:
        assert reach == {"alpha": WordReach.DENSE, "feed": WordReach.EVERY}
