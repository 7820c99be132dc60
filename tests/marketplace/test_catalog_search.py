"""Catalog search on both engines: the same order on curated cases, exact and sampled facet counts."""

from __future__ import annotations

import pytest
from sqlalchemy import event, update
from sqlmodel import col, select

from marketplace.catalog import search as search_module
from marketplace.catalog.models import Listing
from marketplace.catalog.search import (
    FacetValue,
    SearchQuery,
    Term,
    fts5_terms_expression,
    query_terms,
    search_listings,
    tsquery_terms_expression,
)
from marketplace.catalog.services import division_maps
from marketplace.controllers.catalog import facet_links, query_string, toggle
from tests.marketplace.test_catalog import catalog, dataset, harvest


@pytest.fixture
def curated(db):
    harvest(
        db,
        "curated.json",
        catalog(
            dataset("c-1", "Hospital Beds", keyword=["capacity"], modified="2024-03-01"),
            dataset("c-2", "Staffed Hospital Beds by State", keyword=["capacity", "beds"]),
            dataset(
                "c-3",
                "Nursing Home Inspections",
                description="Beds in nursing homes, hospital beds for comparison.",
                keyword=["inspections"],
                theme=["Health Care"],
            ),
            dataset("c-4", "Vaccination Coverage", keyword=["immunization"], modified="2023-01-01"),
            dataset("c-5", "Vaccinations by County", keyword=["immunization", "county"]),
            dataset("c-6", "Secret Beds", accessLevel="non-public", rights="Staff only."),
            dataset(
                "c-7",
                "Restricted Hospital Survey",
                accessLevel="restricted public",
                rights="Small cells.",
                keyword=["survey"],
            ),
        ),
    )
    return db


def found(db, signed_in: bool = False, **query) -> tuple[list[str], int, dict]:
    codes, _ = division_maps(db)
    result = search_listings(db, SearchQuery(**query), signed_in=signed_in, division_ids=codes)
    identifiers = dict(
        db.exec(select(Listing.id, Listing.identifier).where(col(Listing.id).in_(result.ids))).all()
    )
    return [identifiers[i] for i in result.ids], result.total, result.facets


def counts(facets: dict, name: str) -> dict[str, int]:
    return {item.value: item.count for item in facets[name]}


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # Exact title, then the query as a phrase in the title, then the other matches.
        ("hospital beds", ["c-1", "c-2", "c-3"]),
        # Plurals and prefixes: "vaccination" and "vaccinations" both match "vacc".
        ("vacc", ["c-4", "c-5"]),
        ("vaccinations", ["c-5", "c-4"]),
        ("VACCINATION COVERAGE", ["c-4"]),
        ("nursing homes", ["c-3"]),
    ],
)
def test_the_same_order_on_both_engines(curated, q, expected):
    ids, total, _ = found(curated, q=q)
    assert ids == expected
    assert total == len(expected)


def test_empty_query_orders_by_completeness_and_counts_facets(curated):
    ids, total, facets = found(curated)
    assert total == 6 and "c-6" not in ids
    assert counts(facets, "access_level") == {"public": 5, "restricted public": 1}
    assert counts(facets, "division") == {"CDC": 6}
    assert counts(facets, "keyword")["capacity"] == 2
    assert counts(facets, "keyword")["immunization"] == 2
    staff_ids, staff_total, staff_facets = found(curated, signed_in=True)
    assert staff_total == 7 and "c-6" in staff_ids
    assert counts(staff_facets, "access_level")["non-public"] == 1


def test_facet_counts_follow_the_filters(curated):
    ids, total, facets = found(curated, q="beds", keyword=("capacity",))
    assert sorted(ids) == ["c-1", "c-2"] and total == 2
    assert counts(facets, "keyword") == {"beds": 1, "capacity": 2}
    assert [f.value for f in facets["keyword"] if f.selected] == ["capacity"]
    _, _, restricted = found(curated, q="hospital", access_level=("restricted public",))
    assert counts(restricted, "access_level") == {"restricted public": 1}
    assert counts(restricted, "keyword") == {"survey": 1}


def test_pages_do_not_overlap_and_cover_the_results(curated):
    first, total, _ = found(curated, per_page=4)
    second, _, _ = found(curated, per_page=4, page=2)
    assert total == 6 and len(first) == 4 and len(second) == 2
    assert not set(first) & set(second)


def test_multi_valued_facets_are_sampled_past_the_scan_limit(curated, monkeypatch):
    codes, _ = division_maps(curated)
    exact = search_listings(curated, SearchQuery(), signed_in=False, division_ids=codes)
    assert not exact.facets_sampled
    monkeypatch.setattr(search_module, "FACET_SCAN_LIMIT", 2)
    sampled = search_listings(curated, SearchQuery(), signed_in=False, division_ids=codes)
    assert sampled.facets_sampled and sampled.total == 6
    # Single-valued facets stay exact; multi-valued ones count the two best results only.
    assert sum(f.count for f in sampled.facets["kind"]) == 6
    assert max(f.count for f in sampled.facets["keyword"]) <= 2
    assert sampled.ids == exact.ids


@pytest.mark.parametrize(
    "q", ["hospital", "beds", "vacc", "hospital beds", "beds hospital", "county"]
)
def test_two_stage_ranking_gives_the_full_ranking_page_by_page(curated, monkeypatch, q):
    """Scoring the title matches first (broad queries) keeps the order of scoring every hit."""
    everything, total, _ = found(curated, signed_in=True, q=q, per_page=100)
    monkeypatch.setattr(search_module, "TWO_STAGE_FROM", 0)
    # Each page needs only its own rows: the first stage fills some pages, the second the rest.
    monkeypatch.setattr(search_module, "FACET_SCAN_LIMIT", 1)
    paged = []
    for page in range(1, total + 1):
        ids, page_total, _ = found(curated, signed_in=True, q=q, per_page=1, page=page)
        assert page_total == total
        paged.extend(ids)
    assert paged == everything


@pytest.mark.parametrize("signed_in", [False, True])
def test_two_stage_ranking_breaks_ties_at_the_cut_by_completeness_then_id(
    db, monkeypatch, signed_in
):
    """Hidden listings and equal scores around the last ranked result keep the full order."""
    alike = {"description": "Notes on zebra.", "keyword": ["health"]}
    # Hidden from anonymous callers and scored better than the others: the cut must reach past them.
    secret = {"accessLevel": "non-public", "rights": "Staff only.", "description": "Zebra, zebra."}
    harvest(
        db,
        "ties.json",
        catalog(
            dataset("z-1", "Zebra Crossing"),
            dataset("z-2", "Alpha Report", **alike),
            dataset("z-3", "Alpha Report", **alike),
            dataset("z-4", "Alpha Report", **{**alike, **secret}),
            dataset("z-5", "Alpha Report", **alike),
            dataset("z-6", "Alpha Report", **{**alike, **secret}),
            dataset("z-7", "Alpha Report", **alike),
        ),
    )
    completeness = {"z-2": 50, "z-3": 80, "z-4": 80, "z-5": 80, "z-6": 50, "z-7": 50}
    for identifier, value in completeness.items():
        db.execute(
            update(Listing).where(col(Listing.identifier) == identifier).values(completeness=value)
        )
    db.commit()
    everything, total, _ = found(db, signed_in=signed_in, q="zebra", per_page=100)
    staff = ["z-4", "z-6"] if signed_in else []
    assert everything == ["z-1", *staff, "z-3", "z-5", "z-2", "z-7"]
    monkeypatch.setattr(search_module, "TWO_STAGE_FROM", 0)
    for scan in (1, 2, 3):
        monkeypatch.setattr(search_module, "FACET_SCAN_LIMIT", scan)
        paged = []
        for page in range(1, total + 1):
            ids, page_total, _ = found(db, signed_in=signed_in, q="zebra", per_page=1, page=page)
            assert page_total == total
            paged.extend(ids)
        assert paged == everything


@pytest.mark.parametrize("signed_in", [False, True])
@pytest.mark.parametrize("q", ["zebra", "zebras"])
def test_ranking_the_best_scored_title_hits_first_keeps_the_full_order(
    db, monkeypatch, signed_in, q
):
    """One word and many title hits: SQLite looks up only the best-scored ones first (near_first).

    The exact title scores below the others, the best-scored listing is hidden from anonymous
    callers, and "zebras" leaves most titles in the weaker tier (they hold "zebra" only): each
    must still come out where scoring every hit puts it.
    """
    many = {"keyword": ["zebra"], "description": "Zebra, zebra, zebra."}
    hidden = {"accessLevel": "non-public", "rights": "Staff only."}
    harvest(
        db,
        "near.json",
        catalog(
            dataset("n-1", "Zebra", description="Notes."),
            dataset("n-2", "Zebra Zebra Crossing", **many),
            dataset("n-3", "Zebra Zebra Herd", **{**many, **hidden}),
            dataset("n-4", "Zebras of Kenya"),
            dataset("n-5", "Zebra Report", **many),
            dataset("n-6", "Plains Zebra Census"),
        ),
    )
    everything, total, _ = found(db, signed_in=signed_in, q=q, per_page=100)
    if q == "zebra":
        assert everything[0] == "n-1"  # the exact title, though others score better
    else:
        assert everything[0] == "n-4"  # the only title holding "zebras"
    assert ("n-3" in everything) == signed_in
    statements: list[str] = []
    engine = db.get_bind()

    def record(_conn, _cursor, statement, *_rest) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    monkeypatch.setattr(search_module, "TWO_STAGE_FROM", 0)
    try:
        for scan in (1, 2, 3):
            monkeypatch.setattr(search_module, "FACET_SCAN_LIMIT", scan)
            paged = []
            for page in range(1, total + 1):
                ids, _, _ = found(db, signed_in=signed_in, q=q, per_page=1, page=page)
                paged.extend(ids)
            assert paged == everything
    finally:
        event.remove(engine, "before_cursor_execute", record)
    if engine.dialect.name == "sqlite":
        assert any("near_tiered" in statement for statement in statements)


def test_kept_facet_counts_follow_every_catalog_change(curated):
    before_ids, before_total, before = found(curated, q="beds")
    assert found(curated, q="beds")[:2] == (before_ids, before_total)  # kept, same answer
    harvest(curated, "more.json", catalog(dataset("m-1", "Beds by County", keyword=["capacity"])))
    ids, total, facets = found(curated, q="beds")
    assert total == before_total + 1 and "m-1" in ids
    assert counts(facets, "keyword")["capacity"] == counts(before, "keyword")["capacity"] + 1
    # The source's next run withdraws m-1 (retired): the count goes back down at once.
    harvest(curated, "more.json", catalog(dataset("m-2", "Something Else")))
    ids, total, _ = found(curated, q="beds")
    assert total == before_total and "m-1" not in ids


def test_most_reused_sort_puts_the_most_reused_first_with_or_without_words(curated):
    reuses = {"c-3": 4, "c-1": 2, "c-4": 7}
    for identifier, count in reuses.items():
        listing = curated.exec(select(Listing).where(Listing.identifier == identifier)).one()
        listing.reuse_count = count
        curated.add(listing)
    curated.commit()
    ids, _, _ = found(curated, sort="reused")
    assert ids[:3] == ["c-4", "c-3", "c-1"]
    ids, total, _ = found(curated, q="hospital beds", sort="reused")
    assert ids == ["c-3", "c-1", "c-2"] and total == 3


@pytest.mark.parametrize(
    ("q", "terms", "fts5", "tsquery"),
    [
        ("", [], "", ""),
        ('"', [], "", ""),
        ("hosp", [Term(("hosp",), True)], '"hosp"*', "'hosp':*"),
        ("of", [Term(("of",), False)], '"of"', "'of'"),
        # A closed quote is an exact phrase: no completions, the words in order.
        (
            '"Hospital Beds"',
            [Term(("hospital", "beds"), False)],
            '"hospital beds"',
            "('hospital' <-> 'beds')",
        ),
        # Punctuation inside a phrase splits words as the index does ("COVID-19" is two words).
        (
            '"COVID-19 deaths, by state"',
            [Term(("covid", "19", "deaths", "by", "state"), False)],
            '"covid 19 deaths by state"',
            "('covid' <-> '19' <-> 'deaths' <-> 'by' <-> 'state')",
        ),
        # A quote still open is a phrase being typed: its last word finds completions.
        (
            '"hospital be',
            [Term(("hospital", "be"), False)],
            '"hospital be"',
            "('hospital' <-> 'be')",
        ),
        (
            '"hospital bed',
            [Term(("hospital", "bed"), True)],
            '"hospital bed"*',
            "('hospital' <-> 'bed':*)",
        ),
        ('"beds"', [Term(("beds",), False)], '"beds"', "'beds'"),
        (
            'county "hospital beds" county',
            [Term(("county",), True), Term(("hospital", "beds"), False)],
            '"county"* "hospital beds"',
            "'county':* & ('hospital' <-> 'beds')",
        ),
        (
            "NEAR( x* -y",
            [Term(("near",), True), Term(("x",), False), Term(("y",), False)],
            '"near"* "x" "y"',
            "'near':* & 'x' & 'y'",
        ),
    ],
)
def test_query_terms_become_the_same_expression_on_both_engines(q, terms, fts5, tsquery):
    assert query_terms(q) == terms
    assert fts5_terms_expression(terms) == fts5
    assert tsquery_terms_expression(terms) == tsquery


def test_query_terms_keep_at_most_max_tokens_words():
    words = [f"w{i}x" for i in range(30)]
    loose = query_terms(" ".join(words))
    quoted = query_terms('"' + " ".join(words) + '" extra')
    assert len(loose) == search_module.MAX_TOKENS
    assert [len(t.words) for t in quoted] == [search_module.MAX_TOKENS]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        # The phrase in a title or a description, never the words apart or in another order.
        ('"hospital beds"', ["c-1", "c-2", "c-3"]),
        ('"beds hospital"', []),
        ('"staffed beds"', []),
        ('"hospital beds" state', ["c-2"]),
        # An open quote while typing: the last word is a prefix.
        # (Two letters stay whole words; English stop words such as "be" would not count on PostgreSQL.)
        ('"hospital bd', []),
        ('"hospital bed', ["c-1", "c-2", "c-3"]),
        # A quoted word is a whole word (stemmed), not a prefix.
        ('"vacc"', []),
        ('"vaccinations"', ["c-5", "c-4"]),
    ],
)
def test_quoted_words_are_an_exact_phrase_on_both_engines(curated, q, expected):
    ids, total, _ = found(curated, q=q)
    assert ids == expected
    assert total == len(expected)


def _statements(db) -> list[str]:
    seen: list[str] = []
    event.listen(db.connection(), "before_cursor_execute", lambda *args: seen.append(args[2]))
    return seen


def test_a_repeated_query_is_answered_from_kept_results_until_the_catalog_changes(curated):
    first = found(curated, q="beds")
    seen = _statements(curated)
    again = found(curated, q="beds")
    assert again == first
    # Only the catalog's stamp (and the identifiers looked up by `found`) were read.
    assert sum("listing_fts" in sql or "search_vector" in sql for sql in seen) == 0
    harvest(curated, "more.json", catalog(dataset("m-1", "Beds by County")))
    ids, total, _ = found(curated, q="beds")
    assert total == first[1] + 1 and "m-1" in ids


def test_most_reused_order_is_never_kept(curated):
    """Approving a reuse raises reuse_count without moving the catalog's stamp."""
    ids, _, _ = found(curated, sort="reused")
    last = curated.exec(select(Listing).where(Listing.identifier == ids[-1])).one()
    curated.execute(update(Listing).where(col(Listing.id) == last.id).values(reuse_count=5))
    curated.commit()
    assert found(curated, sort="reused")[0][0] == ids[-1]


@pytest.mark.parametrize(
    "query",
    [
        SearchQuery(),
        SearchQuery(q="hospital beds & co", sort="modified", page=3),
        SearchQuery(q="é?=/", keyword=("beds", "a&b"), access_level=("public",)),
        SearchQuery(division=("CDC", "External"), theme=("Health Care",), include_retired=True),
    ],
)
def test_facet_links_are_the_query_with_one_value_toggled(query):
    facets = {
        "kind": [FacetValue("dataset", "Dataset", 3, False)],
        "division": [FacetValue("CDC", "CDC", 2, "CDC" in query.division)],
        "access_level": [FacetValue("public", "Public", 1, "public" in query.access_level)],
        "keyword": [FacetValue("beds", "beds", 2, False), FacetValue("a&b", "a&b", 1, False)],
        "theme": [FacetValue("Health Care", "Health Care", 1, False)],
    }
    links = facet_links(query, facets)
    for name, values in facets.items():
        expected = [
            "/catalog?"
            + query_string(query, page=1, **{name: toggle(getattr(query, name), v.value)})
            for v in values
        ]
        assert [href for _, href in links[name]] == expected
        assert [item for item, _ in links[name]] == values


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"q": "beds"},
        {"q": "hosp"},
        {"q": '"hospital beds"'},
        {"q": "nothing-matches-this"},
        {"q": "beds", "kind": ("dataset",)},
        {"q": "hospital", "access_level": ("restricted public",)},
        {"division": ("CDC",)},
        {"division": ("External",)},
        {"division": ("NOPE",)},
        {"q": "beds", "keyword": ("capacity",)},
        {"include_retired": True},
    ],
)
@pytest.mark.parametrize("signed_in", [False, True])
def test_counts_from_kept_listing_facts_equal_counting_in_sql(
    curated, monkeypatch, query, signed_in
):
    """SQLite counts unfiltered hits from the kept (status, access, kind, division) of listings."""
    curated.execute(update(Listing).where(Listing.identifier == "c-4").values(status="retired"))
    curated.commit()
    in_memory = found(curated, signed_in=signed_in, **query)
    search_module.clear_kept_results()
    monkeypatch.setattr(search_module, "_count_cube_in_memory", lambda *args: None)
    assert found(curated, signed_in=signed_in, **query) == in_memory


def test_kept_listing_facts_never_count_a_listing_added_since(curated):
    codes, _ = division_maps(curated)
    stamped = (search_module.database_key(curated), search_module._catalog_stamp(curated))
    sqlite = curated.get_bind().dialect.name == "sqlite"
    if sqlite:  # PostgreSQL always counts in SQL
        search_module._count_cube_in_memory(curated, stamped, None, SearchQuery(), False, codes)
    harvest(curated, "more.json", catalog(dataset("m-1", "Beds by County")))
    if sqlite:
        # Facts read before the new listing cannot count it: the search counts in SQL instead.
        stale = search_module._count_cube_in_memory(
            curated, stamped, '"beds"*', SearchQuery(q="beds"), False, codes
        )
        assert stale is None
    assert found(curated, q="beds")[1] == 4


def test_search_index_keeps_prefix_indexes_on_sqlite(curated):
    """Partial words are answered from FTS5 prefix indexes (migration 0012), same matches."""
    if curated.get_bind().dialect.name == "postgresql":
        assert found(curated, q="hosp")[1] == 4
        return
    sql = (
        curated.connection()
        .exec_driver_sql("SELECT sql FROM sqlite_master WHERE name = 'listing_fts'")
        .scalar()
    )
    assert "prefix = '2 3 4 5 6'" in sql
    assert found(curated, q="hosp")[1] == 4
