"""Full-text search over listings with the same behaviour on SQLite (FTS5) and PostgreSQL (tsvector).

Field weights follow data.gov: title above keywords, keywords above publisher, publisher above
description. Exact titles come first, then titles containing the whole query as a phrase, then
the engine's relevance, then completeness. Every word is matched as a prefix (partial words find
their completions) and stemmed (plurals match singulars); words in quotes are an exact phrase, as
on data.gov. User input never reaches the engines' query syntax: it is reduced to word tokens and
quoted.

One page costs a fixed number of queries whatever the result size: the catalog's stamp, the
total with the single-valued facets (one grouped query), the ranked hits, and the multi-valued
facets. Counts of kind, division and access level are always exact; theme, keyword, format and
licence counts are exact up to FACET_SCAN_LIMIT results and beyond that are counted over the
FACET_SCAN_LIMIT best results (`SearchResult.facets_sampled`), which bounds the cost of a broad
query. The counts and the ranked ids of a query are kept while the catalog is unchanged
(`_kept_results`), so a repeated query costs the stamp only. On SQLite the first request of a
query counts its hits without looking each one up (`_count_cube_in_memory`), and FTS5's prefix
indexes (migration 0012) answer a broad partial word such as "medic*" without merging the lists
of all its completions in every statement that reads the match.

Past TWO_STAGE_FROM results, ranking is done in two stages (`_ranked_in_two_stages`): the
listings whose title holds every word are scored first and the others only when that group
cannot fill the page and the facet scan, so a broad word scores the few thousand titles that hold
it instead of every hit. Below it every hit is scored, which is exact and cheaper there than a
second full-text pass. On the benchmark's 100,000 listings the two-stage order first differs
from scoring every hit at rank 134 or later, on both engines. On SQLite, when the title hits
cannot fill the page, one full-text pass scores every hit and only the best others are looked
up in the listing table (`_ranked_scoring_once`), with the same result.
"""

from __future__ import annotations

import re
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col

from marketplace.catalog.models import AccessLevel, Listing, ListingKind, ListingStatus
from marketplace.memo import KeptResults, database_key, read_stamp

MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 40
MIN_PREFIX_LENGTH = 3  # shorter words match whole words only: "a*" would match everything
PER_PAGE_MAX = 100
FACET_LIMIT = 12
FACET_SCAN_LIMIT = 500  # multi-valued facets are counted over at most this many best results
# Past this many results, ranking scores the listings whose title holds every word first
# (_ranked_in_two_stages); below it every hit is scored, which is cheap and exact.
TWO_STAGE_FROM = 2000
# On SQLite, when the title hits can fill the page, this many times the page's need of the
# best-scored ones are looked up first (_ranked_scoring_once); the others only if too few of those
# are visible in the first tiers.
NEAR_FACTOR = 1.25

# Relative weights of the indexed fields (FTS5 bm25 column weights; tsvector A/B/C/D).
FIELD_WEIGHTS = {"title": 10.0, "keywords": 5.0, "publisher": 3.0, "description": 1.0}

SORTS = {
    "relevance": "Relevance",
    "modified": "Recently modified",
    "reused": "Most reused",
    "title": "Title (A–Z)",
}

SINGLE_FACETS = ("kind", "division", "access_level")
MULTI_FACETS = ("theme", "keyword", "format", "license")
FACET_LABELS = {
    "kind": "Kind",
    "division": "Division",
    "access_level": "Access level",
    "theme": "Theme",
    "keyword": "Keyword",
    "format": "Format",
    "license": "Licence",
}

_WORD = re.compile(r"[^\W_]+", re.UNICODE)


def query_tokens(query: str) -> list[str]:
    """The words of a user's query, lower-cased, without any search-engine syntax.

    Quotes, `*`, `OR`, `NEAR(`, `-` and SQL all become plain words or vanish; at most
    MAX_TOKENS words of at most MAX_TOKEN_LENGTH characters are kept, so a 10 kB query is cheap.
    """
    tokens: list[str] = []
    for match in _WORD.finditer(query[:2000].lower()):
        token = match.group(0)[:MAX_TOKEN_LENGTH]
        if token not in tokens:
            tokens.append(token)
        if len(tokens) == MAX_TOKENS:
            break
    return tokens


@dataclass(frozen=True)
class Term:
    """One thing every result must hold: a word, or the words of a quoted phrase in order."""

    words: tuple[str, ...]
    prefix: bool  # the last word also finds its completions


def query_terms(query: str) -> list[Term]:
    """The terms of a user's query: loose words, and quoted phrases matched as phrases.

    Loose words are matched as prefixes from MIN_PREFIX_LENGTH characters, as in query_tokens.
    Words between quotes must follow each other and are matched whole: `"hospital beds"` is an
    exact phrase, which is also far cheaper for the engines than the prefixes of every word of a
    long title. A quote left open is a phrase still being typed, so its last word is a prefix.
    At most MAX_TOKENS words count in all.
    """
    terms: list[Term] = []
    loose: set[str] = set()
    budget = MAX_TOKENS
    segments = query[:2000].lower().split('"')
    for position, segment in enumerate(segments):
        words = [m.group(0)[:MAX_TOKEN_LENGTH] for m in _WORD.finditer(segment)][:budget]
        quoted = position % 2 == 1
        if quoted and len(words) > 1:
            still_typing = position == len(segments) - 1
            terms.append(Term(tuple(words), still_typing and len(words[-1]) >= MIN_PREFIX_LENGTH))
            budget -= len(words)
            continue
        for word in words:
            if word in loose:
                continue
            loose.add(word)
            still_typing = not quoted or position == len(segments) - 1
            terms.append(Term((word,), still_typing and len(word) >= MIN_PREFIX_LENGTH))
            budget -= 1
        if budget <= 0:
            break
    return terms


def fts5_terms_expression(terms: Sequence[Term]) -> str:
    """An FTS5 MATCH expression for query_terms: each term quoted (a phrase), ANDed."""
    return " ".join(
        '"' + " ".join(term.words) + '"' + ("*" if term.prefix else "") for term in terms
    )


def tsquery_terms_expression(terms: Sequence[Term]) -> str:
    """A to_tsquery expression with the same meaning as fts5_terms_expression."""
    parts = []
    for term in terms:
        # Only word characters reach here; quoting as a lexeme keeps tsquery operators inert.
        lexemes = [f"'{word}'" for word in term.words]
        if term.prefix:
            lexemes[-1] += ":*"
        parts.append(lexemes[0] if len(lexemes) == 1 else "(" + " <-> ".join(lexemes) + ")")
    return " & ".join(parts)


def fts5_expression(tokens: Sequence[str]) -> str:
    """An FTS5 MATCH expression: every token quoted, prefix-matched when long enough, ANDed."""
    parts = []
    for token in tokens:
        quoted = '"' + token.replace('"', "") + '"'
        parts.append(quoted + "*" if len(token) >= MIN_PREFIX_LENGTH else quoted)
    return " ".join(parts)


def tsquery_expression(tokens: Sequence[str]) -> str:
    """A to_tsquery expression with the same meaning as fts5_expression."""
    parts = []
    for token in tokens:
        # Only word characters reach here; quoting as a lexeme keeps tsquery operators inert.
        lexeme = "'" + token.replace("'", "") + "'"
        parts.append(lexeme + ":*" if len(token) >= MIN_PREFIX_LENGTH else lexeme)
    return " & ".join(parts)


@dataclass(frozen=True)
class SearchQuery:
    """What the catalog page and the API ask for; every field already validated."""

    q: str = ""
    kind: tuple[str, ...] = ()
    division: tuple[str, ...] = ()  # division codes, or "External"
    access_level: tuple[str, ...] = ()
    theme: tuple[str, ...] = ()
    keyword: tuple[str, ...] = ()
    format: tuple[str, ...] = ()
    license: tuple[str, ...] = ()
    sort: str = "relevance"
    page: int = 1
    per_page: int = 20
    include_retired: bool = False

    def filters(self) -> dict[str, tuple[str, ...]]:
        return {name: getattr(self, name) for name in (*SINGLE_FACETS, *MULTI_FACETS)}

    def active_filters(self) -> list[tuple[str, str]]:
        return [(name, value) for name, values in self.filters().items() for value in values]


@dataclass(frozen=True)
class FacetValue:
    value: str
    label: str
    count: int
    selected: bool


@dataclass(frozen=True)
class SearchResult:
    ids: list[int]
    total: int
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    # True when theme/keyword/format/licence counts cover only the FACET_SCAN_LIMIT best results.
    facets_sampled: bool = False


def _visibility_sql(signed_in: bool, include_retired: bool) -> str:
    statuses = [ListingStatus.PUBLISHED.value] + (
        [ListingStatus.RETIRED.value] if include_retired else []
    )
    status_sql = ", ".join(f"'{s}'" for s in statuses)
    clause = f"l.status IN ({status_sql})"
    if not signed_in:
        clause += f" AND l.access_level IN ('{AccessLevel.PUBLIC.value}', '{AccessLevel.RESTRICTED.value}')"
    return clause


class _Builder:
    """Collects WHERE clauses and bound parameters for one search."""

    def __init__(self) -> None:
        self.where: list[str] = []
        self.params: dict[str, Any] = {}
        self._n = 0

    def bind(self, value: Any) -> str:
        self._n += 1
        name = f"p{self._n}"
        self.params[name] = value
        return f":{name}"

    def in_list(self, column: str, values: Iterable[str]) -> str:
        return f"{column} IN ({', '.join(self.bind(v) for v in values)})"


def search_listings(
    db: Session, query: SearchQuery, *, signed_in: bool, division_ids: dict[str, int]
) -> SearchResult:
    """Run a search: the page of listing ids in order, the total, and facet counts.

    Three queries whatever the result size: the total with the single-valued facets, the ranked
    ids (the page and the best FACET_SCAN_LIMIT), and the multi-valued facets over those; none
    of them when the query was answered since the catalog last changed.

    Args:
        db: the session.
        query: the validated request.
        signed_in: staff see non-public listings; anonymous callers do not.
        division_ids: division code → id, to translate the division filter.
    """
    dialect = db.get_bind().dialect.name
    terms = query_terms(query.q)
    # Every word in the order typed: the exact-title and title-phrase tiers compare the title to it.
    tokens = [word for term in terms for word in term.words]
    built = _Builder()
    built.where.append(_visibility_sql(signed_in, query.include_retired))
    # Counting reads only kind, division and access level per hit; ranking also reads the title.
    count_from = rank_from = "listing l"
    rank_sql = title_sql = "0"
    match_clause = ""  # SQLite: the full-text condition among built.where
    if tokens:
        if dialect == "postgresql":
            tsq = built.bind(tsquery_terms_expression(terms))
            built.where.append(f"l.search_vector @@ to_tsquery('english', {tsq})")
            # ts_rank_cd grows with relevance; negate so that "lower is better" on both engines.
            rank_sql = f"-ts_rank_cd('{{0.1, 0.3, 0.5, 1.0}}', l.search_vector, to_tsquery('english', {tsq}))"
            # The title's lexemes are the 'A' part of the vector (ix_listing_search_title).
            title_sql = f"ts_filter(l.search_vector, '{{a}}') @@ to_tsquery('english', {tsq})"
        else:
            expression = fts5_terms_expression(terms)
            match = built.bind(expression)
            # The narrow and covering indexes answer every per-hit lookup without the wide row.
            count_from = (
                "listing l INDEXED BY ix_listing_search_scored "
                "JOIN listing_fts ON listing_fts.rowid = l.id"
            )
            rank_from = (
                "listing l INDEXED BY ix_listing_search_cover "
                "JOIN listing_fts ON listing_fts.rowid = l.id"
            )
            match_clause = f"listing_fts MATCH {match}"
            built.where.append(match_clause)
            weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
            rank_sql = f"bm25(listing_fts, {weights})"
            title_sql = built.bind(f"title : ({expression})")
    _apply_filters(built, query, division_ids)
    where = " AND ".join(built.where)

    # Counts and rankings are kept per query while the catalog is unchanged (see _kept_results).
    catalog = (database_key(db), _catalog_stamp(db))
    key = (*catalog, signed_in, query, FACET_SCAN_LIMIT)
    kept = _kept_results.get(key)
    if kept is None:
        cube = None
        if dialect == "sqlite" and not any(getattr(query, name) for name in MULTI_FACETS):
            match = fts5_terms_expression(terms) if tokens else None
            cube = _count_cube_in_memory(db, catalog, match, query, signed_in, division_ids)
        if cube is None:
            cube = _count_cube(db, count_from, where, built.params)
        kept = _Kept(cube=cube)
    total = sum(int(row[3]) for row in kept.cube)
    if not total:
        _kept_results.put(key, _Kept(cube=kept.cube, facet_rows=[], ranked=[]))
        return SearchResult(ids=[], total=0)
    per_page = max(1, min(query.per_page, PER_PAGE_MAX))
    offset = (max(query.page, 1) - 1) * per_page
    # One ranking serves the page and the facet scan: fetch ids down to whichever ends later.
    need = max(FACET_SCAN_LIMIT, offset + per_page)
    ranked = kept.ranked
    if ranked is None:
        if tokens and query.sort == "relevance" and total > TWO_STAGE_FROM:
            if dialect == "sqlite":
                near_first = len(tokens) == 1 and not any(query.filters().values())
                sql = _ranked_scoring_once(
                    tokens,
                    built,
                    rank_from,
                    where,
                    match_clause,
                    rank_sql,
                    title_sql,
                    near_first=near_first,
                )
                near = int(NEAR_FACTOR * need)
                params = {**built.params, "need": need, "near": near, "total": total}
            else:
                sql = _ranked_in_two_stages(
                    dialect, tokens, built, (rank_from, count_from), where, rank_sql, title_sql
                )
                params = {**built.params, "need": need}
        else:
            order_sql = _order_sql(query, tokens, built, rank_sql)
            sql = f"SELECT l.id FROM {rank_from} WHERE {where} ORDER BY {order_sql} LIMIT {need}"
            params = built.params
        ranked = [int(row[0]) for row in _sql(db, sql, params).all()]
    scanned = ranked[:FACET_SCAN_LIMIT]
    facet_rows = kept.facet_rows
    if facet_rows is None:
        facet_rows = _multi_facet_rows(db, scanned)
    # Approving a reuse raises reuse_count without moving the catalog's stamp: that order is
    # never kept; every other order reads only columns whose changes move the stamp. Deep pages
    # are not kept either, so an entry holds at most FACET_SCAN_LIMIT ids.
    keep_ranking = query.sort != "reused" and need == FACET_SCAN_LIMIT
    _kept_results.put(key, _Kept(kept.cube, facet_rows, ranked if keep_ranking else None))
    facets = _single_facets(kept.cube, query, division_ids)
    facets.update(_multi_facets(facet_rows, query))
    return SearchResult(
        ids=ranked[offset : offset + per_page],
        total=total,
        facets=facets,
        facets_sampled=total > len(scanned),
    )


def _count_cube(
    db: Session, count_from: str, where: str, params: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """(kind, division id, access level, count) for every combination among the hits."""
    rows = _sql(
        db,
        f"SELECT l.kind, l.division_id, l.access_level, count(*) FROM {count_from} "
        f"WHERE {where} GROUP BY l.kind, l.division_id, l.access_level",
        params,
    ).all()
    return [tuple(row) for row in rows]


def _count_cube_in_memory(
    db: Session,
    catalog: tuple[Any, ...],
    match: str | None,
    query: SearchQuery,
    signed_in: bool,
    division_ids: dict[str, int],
) -> list[tuple[Any, ...]] | None:
    """_count_cube on SQLite without looking up each hit: the same rows, or None if it cannot.

    Counting by kind, division and access level costs a lookup per full-text hit (about 30 ms
    for the 32,000 hits of "medic*"). Here the hits' ids come from the full-text index alone, in
    one string, and are counted by the listings' (status, access level, kind, division)
    combination, kept per catalog (_ListingFacts): a few milliseconds. Multi-valued facet
    filters need the facet table, so those queries (and a hit newer than the kept facts) are
    counted in SQL.
    """
    hits_sql = "SELECT group_concat(rowid) FROM listing_fts WHERE listing_fts MATCH :match"
    facts = _kept_listing_facts.get(catalog)
    ids: str | None = None
    if facts is None:
        facts, ids = _read_listing_facts(db, hits_sql if match else "NULL", {"match": match})
        _kept_listing_facts.put(catalog, facts)
    elif match:
        ids = _sql(db, hits_sql, {"match": match}).scalar()
    if match is None:
        counts = dict(enumerate(facts.sizes))
    elif ids is None:
        return []
    else:
        try:
            counts = Counter(map(facts.codes.__getitem__, map(int, ids.split(","))))
        except IndexError:  # a listing added since the facts were read: let SQL count
            return None
    visible = _visible_combination(query, signed_in, division_ids)
    return [
        (kind, division_id, access_level, count)
        for code, count in counts.items()
        if code and count
        for status, access_level, kind, division_id in (facts.combinations[code],)
        if visible(status, access_level, kind, division_id)
    ]


def _visible_combination(
    query: SearchQuery, signed_in: bool, division_ids: dict[str, int]
) -> Callable[[str, str, str, int | None], bool]:
    """The WHERE clause of _visibility_sql and _apply_filters' single-valued filters, in Python."""
    statuses = {ListingStatus.PUBLISHED.value}
    if query.include_retired:
        statuses.add(ListingStatus.RETIRED.value)
    access_levels = None if signed_in else {AccessLevel.PUBLIC.value, AccessLevel.RESTRICTED.value}
    divisions = {division_ids[code] for code in query.division if code in division_ids}
    if "External" in query.division:
        divisions.add(None)

    def visible(status: str, access_level: str, kind: str, division_id: int | None) -> bool:
        return (
            status in statuses
            and (access_levels is None or access_level in access_levels)
            and (not query.kind or kind in query.kind)
            and (not query.access_level or access_level in query.access_level)
            and (not query.division or division_id in divisions)
        )

    return visible


@dataclass(frozen=True)
class _ListingFacts:
    """Every listing's (status, access level, kind, division id) combination, by listing id."""

    codes: array[int]  # listing id -> index in combinations; 0: no such listing
    combinations: list[tuple[str, str, str, int | None]]  # index 0 is unused
    sizes: list[int]  # listings per combination


# One entry per database while its catalog is unchanged (keyed like _kept_results): reading
# them costs one pass over ix_listing_search_facets, about 40 ms per 100,000 listings, once
# after each catalog change (one search pays it; every first search saves 5-30 ms); an entry
# is 4 bytes per listing.
_kept_listing_facts: KeptResults[_ListingFacts] = KeptResults(8)


def _read_listing_facts(
    db: Session, hits_sql: str, params: dict[str, Any]
) -> tuple[_ListingFacts, str | None]:
    """The listings' facts, and the hits' ids (the scalar hits_sql) read in the same statement.

    One statement whether the facts are kept or not, so a page costs the same number of queries.
    """
    rows = _sql(
        db,
        "SELECT status, access_level, kind, division_id, count(*), group_concat(id), "
        f"({hits_sql}) FROM listing INDEXED BY ix_listing_search_facets "
        "GROUP BY status, access_level, kind, division_id",
        params,
    ).all()
    groups = [[int(i) for i in row[5].split(",")] for row in rows]
    codes = array("I", bytes(4 * (max(map(max, groups), default=0) + 1)))
    combinations: list[tuple[str, str, str, int | None]] = [("", "", "", None)]
    sizes = [0]
    for row, ids in zip(rows, groups, strict=True):
        code = len(combinations)
        status, access_level, kind, division_id = row[:4]
        combinations.append((status, access_level, kind, division_id))
        sizes.append(int(row[4]))
        for listing_id in ids:
            codes[listing_id] = code
    return _ListingFacts(codes, combinations, sizes), (rows[0][6] if rows else None)


def _apply_filters(built: _Builder, query: SearchQuery, division_ids: dict[str, int]) -> None:
    if query.kind:
        built.where.append(built.in_list("l.kind", query.kind))
    if query.access_level:
        built.where.append(built.in_list("l.access_level", query.access_level))
    if query.division:
        ids = [division_ids[code] for code in query.division if code in division_ids]
        parts = []
        if ids:
            parts.append(f"l.division_id IN ({', '.join(built.bind(i) for i in ids)})")
        if "External" in query.division:
            parts.append("l.division_id IS NULL")
        built.where.append("(" + " OR ".join(parts) + ")" if parts else "1 = 0")
    for facet in MULTI_FACETS:
        for value in getattr(query, facet):
            # Each selected value narrows the results (AND), as data.gov's facets do.
            built.where.append(
                "EXISTS (SELECT 1 FROM listing_facet f WHERE f.listing_id = l.id "
                f"AND f.facet = {built.bind(facet)} AND f.value = {built.bind(value)})"
            )


def _ranked_in_two_stages(
    dialect: str,
    tokens: list[str],
    built: _Builder,
    froms: tuple[str, str],
    where: str,
    rank_sql: str,
    title_sql: str,
) -> str:
    """One statement ranking by relevance, scoring only the listings that can reach the top.

    The order is: exact title, the query as a phrase in the title, every word in the title,
    then the other matches; within each tier bm25 / ts_rank_cd, then completeness. Listings whose
    title holds every word are scored first ("strong", LIMIT :need); the other hits ("weak") are
    scored only when there are fewer than :need strong ones (a LIMIT of 0 skips their scan on
    both engines; a WHERE condition would still walk every hit). A broad word such as "covid" matches
    10,000 listings but the title of 6,000, and the engines' relevance functions cost per row
    scored, so this halves the work on the broadest words and removes most of it on the others
    while returning the same first :need ids.
    """
    # The weak stage reads no title: on SQLite a narrower index serves its per-hit lookups.
    strong_from, weak_from = froms
    phrase = " ".join(tokens)
    exact = built.bind(phrase)
    contains = built.bind(f"%{phrase}%")
    if dialect == "postgresql":
        title_hits = ""
        in_title, not_in_title = title_sql, f"NOT ({title_sql})"
    else:
        # FTS5 answers the title-only match from its index; the set is probed before scoring.
        # The unary + keeps SQLite from turning the probe into one FTS lookup per title hit.
        title_hits = (
            "title_hits AS MATERIALIZED (SELECT rowid AS id FROM listing_fts "
            f"WHERE listing_fts MATCH {title_sql}), "
        )
        in_title = "+listing_fts.rowid IN title_hits"
        not_in_title = "+listing_fts.rowid NOT IN title_hits"
    tier_sql = (
        f"CASE WHEN lower(l.title) = {exact} THEN 0 "
        f"WHEN lower(l.title) LIKE {contains} THEN 1 ELSE 2 END"
    )
    strong_columns, weak_columns = (
        f"l.id AS id, {tier} AS tier, {rank_sql} AS score, l.completeness AS completeness"
        for tier in (tier_sql, "3")
    )
    order = "tier, score, completeness DESC, id"
    return (
        f"WITH {title_hits}"
        f"strong AS MATERIALIZED (SELECT {strong_columns} FROM {strong_from} "
        f"WHERE {where} AND {in_title} ORDER BY {order} LIMIT :need), "
        f"weak AS MATERIALIZED (SELECT {weak_columns} FROM {weak_from} "
        f"WHERE {where} AND {not_in_title} "
        f"ORDER BY {order} LIMIT (SELECT :need - count(*) FROM strong)) "
        "SELECT id FROM (SELECT * FROM strong UNION ALL SELECT * FROM weak) ranked "
        f"ORDER BY {order} LIMIT :need"
    )


def _ranked_scoring_once(
    tokens: list[str],
    built: _Builder,
    strong_from: str,
    where: str,
    match_clause: str,
    rank_sql: str,
    title_sql: str,
    *,
    near_first: bool,
) -> str:
    """_ranked_in_two_stages on SQLite: the same :need ids, with each hit scored at most once.

    When fewer listings than :need hold every word in their title, every hit must be scored
    anyway: one full-text pass ("scored") scores them all, instead of one pass for the title
    hits and a second for the others (each pass walks every hit and bm25 reads each phrase's
    document count again). The other hits are then looked up in the listing table only down to
    a cut: the score of the (slots + hidden)-th best of them, where slots is what the title hits
    leave of :need and hidden the number of hits the visibility and filters exclude (all hits
    minus :total). At least `slots` visible hits score no worse than the cut, so none beyond it
    can be in the page; those equal to it are all kept, so ties are still broken by
    completeness and id. Lookups are correlated subqueries, never a join from a materialized
    table, which SQLite could answer with a Bloom filter built over the whole listing table.
    When the title hits can fill :need, they are ranked as in _ranked_in_two_stages, and the
    other hits are scored ("rest") only if too few title hits are visible.

    With `near_first` (one word, no filter), title hits that fill :need are not all looked up:
    they are scored from the full-text index alone ("title_scored") and only the :near best, with
    every tie of the last and every exact title (ix_listing_search_exact_title), are looked up
    ("near"). If at least :need of those are visible in the first two tiers, no other title hit
    can reach :need: it is in tier 1 or 2 and scores worse than all of them. Otherwise the rest
    are looked up too ("far"). For "medic*" that is 625 lookups instead of 6,400 (29 -> 24 ms);
    the fallback costs about 2 ms more than looking everything up at once, and filters or
    several words make it likely, so those rank as before.
    """
    # The visibility and filters alone, for looking up one listing by id.
    listing_where = " AND ".join(c for c in built.where if c != match_clause)
    phrase = " ".join(tokens)
    exact = built.bind(phrase)
    contains = built.bind(f"%{phrase}%")
    # The length test spares lower() for nearly every title (SQLite's lower() keeps the length).
    tier_sql = (
        f"CASE WHEN length(l.title) = length({exact}) AND lower(l.title) = {exact} THEN 0 "
        f"WHEN lower(l.title) LIKE {contains} THEN 1 ELSE 2 END"
    )
    order = "tier, score, completeness DESC, id"
    visible = (
        f"FROM listing l INDEXED BY ix_listing_search_scored WHERE l.id = {{}} AND {listing_where}"
    )

    def tiered(source: str) -> str:
        """The visible rows of `source` (id, score) with their tier and completeness."""
        # One lookup per row: the tier (0-2) and the completeness (an integer) come back packed
        # in one value. OFFSET 0 keeps SQLite from flattening the subquery, which would repeat
        # the lookup for each use of the value.
        return (
            "SELECT id, packed % 4 AS tier, score, packed / 4 AS completeness FROM ("
            "SELECT s.id AS id, s.score AS score, "
            f"(SELECT l.completeness * 4 + {tier_sql} FROM listing l "
            f"INDEXED BY ix_listing_search_cover WHERE l.id = s.id AND {listing_where}) AS packed "
            f"FROM {source} s LIMIT -1 OFFSET 0) WHERE packed IS NOT NULL"
        )

    unless_few = "LIMIT (SELECT CASE WHEN yes THEN 0 ELSE -1 END FROM few)"  # no rows when few
    if near_first:
        many_title_hits = (
            f"title_scored AS MATERIALIZED (SELECT rowid AS id, {rank_sql} AS score "
            f"FROM listing_fts WHERE {match_clause} AND +rowid IN title_hits {unless_few}), "
            "near AS MATERIALIZED (SELECT id, score FROM title_scored WHERE score <= coalesce(("
            "SELECT score FROM title_scored ORDER BY score LIMIT 1 OFFSET :near - 1), 1e308) "
            "OR id IN (SELECT id FROM listing INDEXED BY ix_listing_search_exact_title "
            f"WHERE lower(title) = {exact})), "
            f"near_tiered AS MATERIALIZED ({tiered('near')}), "
            "enough AS MATERIALIZED "
            "(SELECT count(*) >= :need AS yes FROM near_tiered WHERE tier <= 1), "
            "far_tiered AS MATERIALIZED ("
            + tiered(
                "(SELECT * FROM title_scored WHERE id NOT IN (SELECT id FROM near) "
                "LIMIT (SELECT CASE WHEN yes THEN 0 ELSE -1 END FROM enough))"
            )
            + "), "
        )
        strong_title_hits = (
            "SELECT * FROM near_tiered UNION ALL SELECT * FROM far_tiered "
            f"ORDER BY {order} LIMIT :need"
        )
    else:
        many_title_hits = ""
        strong_title_hits = (
            f"SELECT l.id AS id, {tier_sql} AS tier, {rank_sql} AS score, "
            f"l.completeness AS completeness FROM {strong_from} "
            f"WHERE {where} AND +listing_fts.rowid IN title_hits ORDER BY {order} "
            "LIMIT (SELECT CASE WHEN yes THEN 0 ELSE :need END FROM few)"
        )
    # The unary + keeps SQLite from turning the probe into one FTS lookup per title hit.
    return (
        "WITH title_hits AS MATERIALIZED (SELECT rowid AS id FROM listing_fts "
        f"WHERE listing_fts MATCH {title_sql}), "
        "few AS MATERIALIZED (SELECT count(*) < :need AS yes FROM title_hits), "
        f"scored AS MATERIALIZED (SELECT rowid AS id, {rank_sql} AS score, "
        "+rowid IN title_hits AS in_title FROM listing_fts "
        f"WHERE {match_clause} "
        "LIMIT (SELECT CASE WHEN yes THEN -1 ELSE 0 END FROM few)), "
        f"{many_title_hits}"
        f"strong AS MATERIALIZED (SELECT * FROM ({strong_title_hits}) "
        "UNION ALL SELECT * FROM ("
        + tiered("(SELECT id, score FROM scored WHERE in_title)")
        + f" ORDER BY {order} LIMIT :need)), "
        f"rest AS MATERIALIZED (SELECT rowid AS id, {rank_sql} AS score FROM listing_fts "
        f"WHERE {match_clause} AND +rowid NOT IN title_hits "
        "LIMIT (SELECT CASE WHEN NOT yes AND (SELECT count(*) FROM strong) < :need "
        "THEN -1 ELSE 0 END FROM few)), "
        "others AS MATERIALIZED (SELECT id, score FROM scored WHERE NOT in_title "
        "UNION ALL SELECT id, score FROM rest), "
        "weak AS MATERIALIZED (SELECT id, 3 AS tier, score, completeness FROM ("
        f"SELECT w.id AS id, w.score AS score, (SELECT l.completeness {visible.format('w.id')}) "
        "AS completeness FROM others w WHERE w.score <= coalesce((SELECT score FROM others "
        "ORDER BY score LIMIT 1 OFFSET (SELECT :need - count(*) FROM strong) "
        "+ (SELECT count(*) FROM title_hits) + (SELECT count(*) FROM others) - :total - 1), "
        "1e308) LIMIT -1 OFFSET 0) WHERE completeness IS NOT NULL "
        f"ORDER BY {order} LIMIT (SELECT :need - count(*) FROM strong)) "
        "SELECT id FROM (SELECT * FROM strong UNION ALL SELECT * FROM weak) ranked "
        f"ORDER BY {order} LIMIT :need"
    )


def _order_sql(query: SearchQuery, tokens: list[str], built: _Builder, rank_sql: str) -> str:
    # NULLS LAST spelled out: SQLite and PostgreSQL put NULLs at opposite ends by default.
    if query.sort == "title":
        return "lower(l.title), l.id"
    if query.sort == "modified":
        return "l.modified_on DESC NULLS LAST, l.id DESC"
    if query.sort == "reused":
        # Approved reuses ever granted (kept by the reuse service), then the freshest.
        return "l.reuse_count DESC, l.modified_on DESC NULLS LAST, l.id DESC"
    if not tokens:
        # Matches ix_listing_search_order, so the first page is read from the index.
        return "l.completeness DESC, l.modified_on DESC NULLS LAST, l.id"
    phrase = " ".join(tokens)
    exact = built.bind(phrase)
    contains = built.bind(f"%{phrase}%")
    # Exact title first, then the whole query as a phrase in the title, then relevance.
    return (
        f"CASE WHEN lower(l.title) = {exact} THEN 0 "
        f"WHEN lower(l.title) LIKE {contains} THEN 1 ELSE 2 END, "
        f"{rank_sql}, l.completeness DESC, l.id"
    )


def _single_facets(
    cube: Sequence[Any], query: SearchQuery, division_ids: dict[str, int]
) -> dict[str, list[FacetValue]]:
    """Kind, division and access-level counts: the margins of the (kind, division, access) counts."""
    codes_by_id = {v: k for k, v in division_ids.items()}
    counts: dict[str, dict[str, int]] = {name: {} for name in SINGLE_FACETS}
    for kind, division_id, access_level, count in cube:
        division = codes_by_id.get(division_id, "External") if division_id else "External"
        for facet, value in (
            ("kind", kind),
            ("division", division),
            ("access_level", access_level),
        ):
            counts[facet][value] = counts[facet].get(value, 0) + int(count)
    selected = query.filters()
    return {
        facet: sorted(
            (
                FacetValue(value, _label(facet, value), count, value in selected[facet])
                for value, count in values.items()
            ),
            key=lambda item: (-item.count, item.label),
        )
        for facet, values in counts.items()
    }


def _multi_facet_rows(db: Session, listing_ids: Sequence[int]) -> list[tuple[str, str, int]]:
    """(facet, value, count): the FACET_LIMIT commonest theme, keyword, format and licence values."""
    if not listing_ids:
        return []
    # Integers from our own query, inlined: one statement on both engines, whatever the count.
    id_list = ", ".join(str(int(i)) for i in listing_ids)
    rows = _sql(
        db,
        "SELECT facet, value, n FROM ("
        " SELECT f.facet AS facet, f.value AS value, count(*) AS n,"
        " row_number() OVER (PARTITION BY f.facet ORDER BY count(*) DESC, f.value) AS position"
        f" FROM listing_facet f WHERE f.listing_id IN ({id_list})"
        " GROUP BY f.facet, f.value) ranked"
        f" WHERE position <= {FACET_LIMIT} ORDER BY facet, n DESC, value",
    ).all()
    return [(facet, value, int(count)) for facet, value, count in rows]


def _multi_facets(
    rows: Sequence[tuple[str, str, int]], query: SearchQuery
) -> dict[str, list[FacetValue]]:
    """Theme, keyword, format and licence counts as facet values, marking the selected ones."""
    facets: dict[str, list[FacetValue]] = {name: [] for name in MULTI_FACETS}
    selected = query.filters()
    for facet, value, count in rows:
        facets[facet].append(FacetValue(value, value, count, value in selected[facet]))
    return facets


# ------------------------------------------------------------------ results kept per query


@dataclass(frozen=True)
class _Kept:
    """What a query found: its count cube, multi-valued facet rows and ranked ids (None: not yet)."""

    cube: list[tuple[Any, ...]]
    facet_rows: list[tuple[str, str, int]] | None = None
    ranked: list[int] | None = None


# Facet counts (so the total) and rankings of recent queries, valid while the catalog is unchanged.
#
# Counting every hit of a broad word by kind, division and access level costs about a
# microsecond per hit (33 ms for the 33,000 hits of "medic*" on SQLite, 250 ms on PostgreSQL),
# and ranking them by relevance about as much again; broad words are the queries people repeat.
# An entry is keyed by the catalog's stamp (the latest `updated_at` and the highest id: every
# listing change moves one of them, and listings are never deleted), so a change is visible to
# the next search. Raw rows and ids are kept, never labels or listings, so renaming a division
# or editing a title shows at once. Per process, thread-safe, least recently used entries
# dropped first; an entry is a few kilobytes (at most FACET_SCAN_LIMIT ids).
KEPT_RESULTS_SIZE = 512
_kept_results: KeptResults[_Kept] = KeptResults(KEPT_RESULTS_SIZE)


def clear_kept_results() -> None:
    """Forget every kept count and ranking (to measure the first request of a query)."""
    _kept_results.clear()


def _catalog_stamp(db: Session) -> tuple[Any, ...]:
    # Latest change and highest id: every listing change moves one (listings are never deleted).
    return read_stamp(db, func.max(Listing.updated_at), func.max(col(Listing.id)))


def _label(facet: str, value: str) -> str:
    if facet == "kind" and value in ListingKind._value2member_map_:
        return ListingKind(value).label
    if facet == "access_level":
        return value.capitalize()
    return value


# ------------------------------------------------------------------ index maintenance


def _sql(db: Session, sql: Any, params: Any = None) -> Any:
    """Run hand-written SQL on the session's connection (inside its transaction)."""
    statement = text(sql) if isinstance(sql, str) else sql
    return db.connection().execute(statement, params or {})


def index_documents(db: Session, documents: Sequence[tuple[int, str, str, str, str]]) -> None:
    """Write the search index for listings: (id, title, keywords, publisher, description).

    The only code path that writes the index, called by the catalog services in the same
    transaction as the listing change, so the index can never disagree with the table.
    """
    if not documents:
        return
    if db.get_bind().dialect.name == "postgresql":
        _sql(
            db,
            text(
                "UPDATE listing SET search_vector = "
                "setweight(to_tsvector('english', :title), 'A') || "
                "setweight(to_tsvector('english', :keywords), 'B') || "
                "setweight(to_tsvector('english', :publisher), 'C') || "
                "setweight(to_tsvector('english', :description), 'D') WHERE id = :id"
            ),
            [_document_params(d) for d in documents],
        )
        return
    ids = [d[0] for d in documents]
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        _sql(
            db,
            text(
                f"DELETE FROM listing_fts WHERE rowid IN ({', '.join(str(int(i)) for i in chunk)})"
            ),
        )
    _sql(
        db,
        text(
            "INSERT INTO listing_fts (rowid, title, keywords, publisher, description) "
            "VALUES (:id, :title, :keywords, :publisher, :description)"
        ),
        [_document_params(d) for d in documents],
    )


_NON_WORD = re.compile(r"[^\w']+", re.UNICODE)


def _words(text: str) -> str:
    """The text as plain words, split exactly as query_tokens splits a query.

    PostgreSQL's parser would read "(0-35 Months)" as the tokens "0" and "-35", so a search for
    "0-35" (the words 0 and 35) found nothing there while FTS5 found it: both engines now index the
    same words.
    """
    return _NON_WORD.sub(" ", text)


def _document_params(document: tuple[int, str, str, str, str]) -> dict[str, Any]:
    listing_id, title, keywords, publisher, description = document
    return {
        "id": listing_id,
        "title": _words(title),
        "keywords": _words(keywords),
        "publisher": _words(publisher),
        "description": _words(description[:20000]),
    }


def remove_documents(db: Session, ids: Sequence[int]) -> None:
    """Drop listings from the index (SQLite; PostgreSQL's vector goes with the row)."""
    if not ids or db.get_bind().dialect.name == "postgresql":
        return
    _sql(
        db, text(f"DELETE FROM listing_fts WHERE rowid IN ({', '.join(str(int(i)) for i in ids)})")
    )
