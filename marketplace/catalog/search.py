"""Full-text search over listings with the same behaviour on SQLite (FTS5) and PostgreSQL (tsvector).

Field weights follow data.gov: title above keywords, keywords above publisher, publisher above
description. Exact titles come first, then titles containing the whole query as a phrase, then the
engine's relevance, then completeness. Every word is matched as a prefix (partial words find
their completions) and stemmed (plurals match singulars). User input never reaches the engines'
query syntax: it is reduced to word tokens and quoted.

One page costs a fixed number of queries whatever the result size: the total with the
single-valued facets (one grouped query), the ranked hits, and the multi-valued facets. Counts of
kind, division and access level are always exact; theme, keyword, format and licence counts are
exact up to FACET_SCAN_LIMIT results and beyond that are counted over the FACET_SCAN_LIMIT best
results (`SearchResult.facets_sampled`), which bounds the cost of a broad query.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from marketplace.catalog.models import AccessLevel, ListingKind, ListingStatus

MAX_TOKENS = 12
MAX_TOKEN_LENGTH = 40
MIN_PREFIX_LENGTH = 3  # shorter words match whole words only: "a*" would match everything
PER_PAGE_MAX = 100
FACET_LIMIT = 12
FACET_SCAN_LIMIT = 500  # multi-valued facets are counted over at most this many best results

# Relative weights of the indexed fields (FTS5 bm25 column weights; tsvector A/B/C/D).
FIELD_WEIGHTS = {"title": 10.0, "keywords": 5.0, "publisher": 3.0, "description": 1.0}

SORTS = {
    "relevance": "Relevance",
    "modified": "Recently modified",
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
    ids (the page and the best FACET_SCAN_LIMIT), and the multi-valued facets over those.

    Args:
        db: the session.
        query: the validated request.
        signed_in: staff see non-public listings; anonymous callers do not.
        division_ids: division code → id, to translate the division filter.
    """
    dialect = db.get_bind().dialect.name
    tokens = query_tokens(query.q)
    built = _Builder()
    built.where.append(_visibility_sql(signed_in, query.include_retired))
    listing_from = "listing l"
    rank_sql = "0"
    if tokens:
        if dialect == "postgresql":
            tsq = built.bind(tsquery_expression(tokens))
            built.where.append(f"l.search_vector @@ to_tsquery('english', {tsq})")
            # ts_rank_cd grows with relevance; negate so that "lower is better" on both engines.
            rank_sql = f"-ts_rank_cd('{{0.1, 0.3, 0.5, 1.0}}', l.search_vector, to_tsquery('english', {tsq}))"
        else:
            match = built.bind(fts5_expression(tokens))
            # The covering index answers every per-hit lookup without reading the wide row.
            listing_from = (
                "listing l INDEXED BY ix_listing_search_cover "
                "JOIN listing_fts ON listing_fts.rowid = l.id"
            )
            built.where.append(f"listing_fts MATCH {match}")
            weights = ", ".join(str(w) for w in FIELD_WEIGHTS.values())
            rank_sql = f"bm25(listing_fts, {weights})"
    _apply_filters(built, query, division_ids)
    base_from = f"FROM {listing_from} WHERE {' AND '.join(built.where)}"

    cube = _sql(
        db,
        f"SELECT l.kind, l.division_id, l.access_level, count(*) {base_from} "
        "GROUP BY l.kind, l.division_id, l.access_level",
        built.params,
    ).all()
    total = sum(int(row[3]) for row in cube)
    if not total:
        return SearchResult(ids=[], total=0)
    per_page = max(1, min(query.per_page, PER_PAGE_MAX))
    offset = (max(query.page, 1) - 1) * per_page
    order_sql = _order_sql(query, tokens, built, rank_sql)
    # One ranking serves the page and the facet scan: fetch ids down to whichever ends later.
    ranked = [
        int(row[0])
        for row in _sql(
            db,
            f"SELECT l.id {base_from} ORDER BY {order_sql} "
            f"LIMIT {max(FACET_SCAN_LIMIT, offset + per_page)}",
            built.params,
        ).all()
    ]
    scanned = ranked[:FACET_SCAN_LIMIT]
    facets = _single_facets(cube, query, division_ids)
    facets.update(_multi_facets(db, scanned, query))
    return SearchResult(
        ids=ranked[offset : offset + per_page],
        total=total,
        facets=facets,
        facets_sampled=total > len(scanned),
    )


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


def _order_sql(query: SearchQuery, tokens: list[str], built: _Builder, rank_sql: str) -> str:
    # NULLS LAST spelled out: SQLite and PostgreSQL put NULLs at opposite ends by default.
    if query.sort == "title":
        return "lower(l.title), l.id"
    if query.sort == "modified":
        return "l.modified_on DESC NULLS LAST, l.id DESC"
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


def _multi_facets(
    db: Session, listing_ids: Sequence[int], query: SearchQuery
) -> dict[str, list[FacetValue]]:
    """Theme, keyword, format and licence: the FACET_LIMIT commonest values among these listings."""
    facets: dict[str, list[FacetValue]] = {name: [] for name in MULTI_FACETS}
    if not listing_ids:
        return facets
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
    selected = query.filters()
    for facet, value, count in rows:
        facets[facet].append(FacetValue(value, value, int(count), value in selected[facet]))
    return facets


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
