"""Cross-division duplicate purchases: product extraction, pair scoring, scans and need checks.

A cross-division duplicate is two purchases by different divisions of the same commercial offering
(same vendor family, counting former names, subsidiaries and the parent, and the same product),
not ordered under one shared parent vehicle (same non-empty parent award PIID), whose periods of
performance overlap by `MIN_OVERLAP_DAYS` or more. The same offering bought by two or more
divisions one after another (or overlapping less) is a consolidation candidate instead.

Pure: records in, frozen dataclasses out; no database, no clock. Money is integer cents and
periods are inclusive dates, as in `procurement.costs`.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import pairwise

from rapidfuzz import process
from rapidfuzz.distance import Indel

from marketplace.hhs import DIVISIONS
from procurement.costs import annualised_cents, overlap_days
from procurement.vendor_names import (
    Similarity,
    TokenWeights,
    fold_ascii,
    name_tokens,
    vendor_name_variants,
    weighted_similarity,
)

DEFAULT_THRESHOLD = 0.5
MIN_OVERLAP_DAYS = 30
# Blocking (`_candidate_pairs`): a vendor family of at most BLOCK_CAP purchases is compared whole;
# a block above BLOCK_CAP compares each member with its WINDOW nearest neighbours by start date.
BLOCK_CAP = 120
WINDOW = 40
# A second-rarest vendor-name word is a block key only when at most this many names hold it
# (or 0.5 % of the names, whichever is larger): "GROUP" or "HEALTH" would make giant blocks.
RARE_NAME_DF = 50
# Below this vendor-name similarity two records are treated as different vendors.
MIN_VENDOR_SIMILARITY = 0.6
# Product similarity assumed when one description names no product (see `_vague_product`).
INFERRED_SINGLE_PRODUCT = 0.8
INFERRED_BOTH_VAGUE_SAME_PSC = 0.6
INFERRED_AMBIGUOUS = 0.3
# Weight of containment against cosine in `product_similarity` (measured on the dev set).
CONTAINMENT_SHARE = 0.5
# Ambiguity check (`_ambiguous_with`): a text is inside another when that one covers this share
# of its weight; two texts are different products when neither covers SAME_PART of the other.
INSIDE = 0.8
SAME_PART = 0.5
# Distinct product texts of one vendor family considered when checking ambiguity.
FAMILY_PRODUCTS_CAP = 100

# --- product extraction vocabulary -------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


_ADMIN_WORDS = frozenset(
    _words("""SUBSCRIPTION SUBSCRIBE SUBSCRIBED SUBSCR SUBSCRIP SUBS LICENSE LICENCE LICENSING
    LICENSED LICS LIC LICENSURE RENEWAL RENEW RENEWED RENEWING ANNUAL ANNUALLY YEAR YR YEARLY MONTH MONTHLY
    QUARTERLY OPTION EXERCISE EXERCISED EXERCISING BASE PERIOD PURCHASE PURCHASED PURCHASING
    PROCUREMENT PROCURE ORDER CONTRACT AWARD MODIFICATION MOD NEW FUNDING FUND FUNDS INCREMENTAL
    CONTINUATION CONTINUED EXTENSION EXTEND SEAT SEATS POP PERFORMANCE TERM MAINTENANCE
    IGF OT CL CT FY FISCAL NTE""")
)
_LICENCE_KINDS = frozenset({"ENTERPRISE", "SITE", "PERPETUAL", "TERM", "NAMED", "CONCURRENT"})
_LICENCE_WORDS = frozenset({"LICENSE", "LICENCE", "LICENSING", "LICS", "LIC", "AGREEMENT"})
_STOPWORDS = frozenset(
    _words("""A AN AND THE OF TO FOR IN ON WITH BY AT PER VIA FROM OR AS INTO ITS""")
)
_MONTHS = frozenset(
    _words("""JANUARY FEBRUARY MARCH APRIL JUNE JULY AUGUST SEPTEMBER OCTOBER NOVEMBER DECEMBER
    JAN FEB MAR APR JUN JUL AUG SEP SEPT OCT NOV DEC""")
)
_ORDINALS = frozenset(
    _words("ONE TWO THREE FOUR FIVE SIX SEVEN EIGHT NINE TEN I II III IV V VI VII VIII IX X")
)
_NOISE = _ADMIN_WORDS | _STOPWORDS | _MONTHS
# Words naming the buyer, not the product: HHS division codes, aliases and name words, plus the
# words of office names. A trailing "FOR <buyer…>" clause is dropped, and division codes anywhere.
_DIVISION_CODES = frozenset(
    {seed.code.replace("-", "") for seed in DIVISIONS}
    | {alias.upper() for seed in DIVISIONS for alias in seed.aliases if " " not in alias}
    | {"HHS", "DHHS", "NLM", "NCI", "NIAID", "NHLBI", "NIMH", "NIDA", "NCHS", "OPDIV", "STAFFDIV"}
)
_OFFICE_WORDS = frozenset(
    _words("""OFFICE OFFICES DIVISION BRANCH CENTER CENTERS HQ HEADQUARTERS AGENCY DEPARTMENT BUREAU
    INSTITUTE INSTITUTES ACQUISITION ACQ GRANTS CONTRACTS MGMT SVCS PROGRAM STAFF""")
)
_BUYER_WORDS = (
    _DIVISION_CODES
    | _OFFICE_WORDS
    | {w for seed in DIVISIONS for w in re.findall(r"[A-Z]+", fold_ascii(seed.name))}
)
_BUYER_WORDS = _BUYER_WORDS - _STOPWORDS

_PHRASES = (
    re.compile(r"IGF\s*::\s*\w+\s*::\s*IGF"),
    re.compile(r"\b[A-Z]{1,3}\s*::\s*"),
    re.compile(r"\b(?:19|20)\d{2}\b"),
    re.compile(r"\bFY\s*'?\d{1,4}\b"),
    re.compile(r"\b\d{1,2}[/-]\d{1,2}[/-]\d{2,4}\b"),
    re.compile(
        r"\b\d[\d,]*\s*(?:SEATS?|USERS?|LICEN[CS]ES?|ACCOUNTS?|SUBSCRIPTIONS?|NAMED|CONCURRENT|"
        r"COPIES|UNITS?|EACH|EA|LOGINS?)\b"
    ),
    re.compile(
        r"\bOPTION\s+(?:YEAR|YR|PERIOD|PD)\s*(?:NO\.?\s*)?(?:\d+|[IVX]+|ONE|TWO|THREE|FOUR|FIVE)?\b"
    ),
)
_TOKEN = re.compile(r"[A-Z0-9]+")


@dataclass(frozen=True)
class ProductText:
    """What a purchase description says about the product.

    Attributes:
        tokens: product words in order, upper case, plural "S" removed, noise and buyer dropped.
        text: the same words joined by spaces, for explanations ("" when vague).
        open_end: True when the last word ends the description and so may be cut short.
    """

    tokens: tuple[str, ...]
    text: str
    open_end: bool = False

    @property
    def vague(self) -> bool:
        """True when the description names no product ("EXERCISE OPTION YEAR 3", "IGF::OT::IGF")."""
        return not self.tokens


@lru_cache(maxsize=1 << 18)
def extract_product(description: str | None, vendor_names: tuple[str, ...] = ()) -> ProductText:
    """Product words of a purchase description, without administrative and buyer noise.

    Drops "IGF::OT::IGF"-style codes, option/base years, fiscal years and dates, seat counts,
    subscription/licence/renewal words (also misspelt or cut short: "SUBSCRIPTIIN", "SUBSC"),
    licence kinds ("ENTERPRISE LICENSE"), months, joining words, HHS division codes, a trailing
    "FOR <buyer>" clause ("… FOR CENTERS FOR MEDICARE", "… FOR NAT") and the vendor's own name
    words, also as a stem or a start (unless nothing else is left: then the vendor name is the
    product). `build_context` further corrects rare misspellings and cut-short last words against
    the words of all records scanned.

    Args:
        description: the award description or a product name an officer gave.
        vendor_names: normalised vendor name variants whose words are not product words.

    Returns:
        The product words; `vague` is True when nothing is left.
    """
    if not description:
        return ProductText((), "")
    text = fold_ascii(description)
    for phrase in _PHRASES:
        text = phrase.sub(" ", text)
    text = text.replace("'", "")
    raw = _TOKEN.findall(text)
    raw = _drop_buyer_clause(raw)
    kept: list[str] = []
    last = len(raw) - 1
    open_end = False
    for i, token in enumerate(raw):
        if _is_noise(token, truncated=i == last):
            continue
        if token in _LICENCE_KINDS and i < last and _is_licence_word(raw[i + 1]):
            continue
        if token in _DIVISION_CODES or (len(token) == 1 and not token.isdigit()):
            continue
        if token in _ORDINALS and kept == []:
            continue
        kept.append(_stem(token))
        open_end = i == last
    vendor_words = _vendor_words(vendor_names)
    product = [t for t in kept if not _is_vendor_word(t, vendor_words)] or kept
    open_end = open_end and product[-1] == kept[-1] if product else False
    return ProductText(tuple(product), " ".join(product), open_end)


@lru_cache(maxsize=1 << 12)
def _vendor_words(vendor_names: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """Vendor name words and their stems (a set), and the words sorted (for prefix look-ups)."""
    words = {w for name in vendor_names for w in name.split()}
    return frozenset(words | {_stem(w) for w in words}), tuple(sorted(words))


def _is_vendor_word(token: str, vendor_words: tuple[frozenset[str], tuple[str, ...]]) -> bool:
    """A word of the vendor's names, also as a stem or a start ("OPTUM" of "OPTUMINSIGHT")."""
    exact, ordered = vendor_words
    if token in exact:
        return True
    if len(token) < 5:
        return False
    i = bisect_left(ordered, token)
    return i < len(ordered) and ordered[i].startswith(token)


def _stem(token: str) -> str:
    """Plural "S" off words of five letters or more ("RESULTS" -> "RESULT"; "ARCGIS" stays)."""
    if len(token) >= 5 and token.endswith("S") and token[-2] not in "SIU":
        return token[:-1]
    return token


@lru_cache(maxsize=1 << 14)
def _is_noise(token: str, *, truncated: bool = False) -> bool:
    if token in _NOISE or (token.isdigit() and len(token) <= 2):
        return True
    stem = _stem(token)
    if stem in _NOISE:
        return True
    if len(token) >= 6:
        # Misspelt administrative words ("SUBSCRIPTIION", "LCIENSE") are still noise.
        for word in _ADMIN_WORDS:
            if len(word) >= 6 and abs(len(word) - len(token)) <= 2 and _close(token, word):
                return True
    if len(token) >= 4:
        # Cut-short administrative words ("SUBSC", "RENE") at any position: descriptions are
        # often truncated to a field width and re-joined.
        return any(len(word) >= 7 and word.startswith(token) for word in _ADMIN_WORDS)
    return truncated and len(token) >= 2 and any(w.startswith(token) for w in _ADMIN_WORDS)


def _close(a: str, b: str) -> bool:
    return Indel.normalized_similarity(a, b) >= 0.85


def _is_licence_word(token: str) -> bool:
    return token in _LICENCE_WORDS or _stem(token) in _LICENCE_WORDS or _is_noise(token)


def _drop_buyer_clause(tokens: list[str]) -> list[str]:
    """Cut "FOR <buyer …>" at the end of a description: it names who bought, not what."""
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i] != "FOR":
            continue
        clause = tokens[i + 1 :]
        if not clause:
            return tokens[:i]
        head = clause[0]
        if (
            head in _BUYER_WORDS
            or head == "FY"
            or (len(head) >= 3 and any(w.startswith(head) for w in _BUYER_WORDS))
        ):
            return tokens[:i]
        return tokens
    return tokens


# --- records and context ---------------------------------------------------------------------


@dataclass(frozen=True)
class PurchaseRecord:
    """One purchase as the matcher sees it.

    Attributes:
        key: PIID or manual reference; unique among the records scanned.
        division: division code of the buyer ("CDC").
        vendor_name: the vendor's legal name as recorded.
        vendor_uei: the vendor's Unique Entity ID, when known.
        parent_uei: the UEI of the vendor's parent company, when known.
        parent_name: the parent company's name, when known.
        dba_name: the "doing business as" name, when known.
        description: the award description.
        product: a product name an officer gave; preferred over the description when set.
        psc: product or service code.
        naics: NAICS code.
        parent_piid: PIID of the parent vehicle (IDV, BPA) the order was placed under.
        start: first day of the period of performance.
        end: last day of the current period of performance (inclusive); None when unknown.
        obligated_cents: obligated amount in cents.
        vendor_id: canonical vendor id from the register; equal ids are one vendor family.
    """

    key: str
    division: str
    vendor_name: str
    description: str
    start: date
    end: date | None = None
    obligated_cents: int = 0
    vendor_uei: str | None = None
    parent_uei: str | None = None
    parent_name: str | None = None
    dba_name: str | None = None
    product: str | None = None
    psc: str | None = None
    naics: str | None = None
    parent_piid: str | None = None
    vendor_id: int | None = None


_NO_PRODUCT = ProductText((), "")
# `update_context` rebuilds everything when more than this share of the records changed.
FULL_REBUILD_SHARE = 0.2
# Spelling correction (`_Spelling`): words seen in at most this many records may be misspellings.
RARE_SPELLING = 2


@dataclass(frozen=True)
class _Parsed:
    """A record with everything the matcher derives from it once per scan."""

    record: PurchaseRecord
    names: tuple[str, ...]
    name_token_sets: tuple[tuple[str, ...], ...]
    product: ProductText
    end: date
    end_assumed: bool
    annualised: int
    uei: str
    parent_uei: str
    parent_piid: str
    psc: str


@dataclass(frozen=True)
class _Spelling:
    """Document frequencies of words, indexed for `_correction`, and the corrections they give.

    Kept in the context so `update_context` can apply a change by difference: only words near a
    word whose frequency changed (same first two or last three letters, length within two) can
    get another correction. Never mutated once built (updates copy what they change).

    Attributes:
        frequency: word -> number of documents holding it (no zero entries).
        frequent: bucket -> words of four letters or more in two documents or more (the
            correction targets); buckets are ("<" + first two letters, length) and
            (">" + last three letters, length).
        rare: the same buckets for words of five letters or more in at most RARE_SPELLING
            documents (the words that may be corrected).
        corrections: rare word -> the more frequent word it misspells.
    """

    frequency: dict[str, int]
    frequent: dict[tuple[str, int], frozenset[str]]
    rare: dict[tuple[str, int], frozenset[str]]
    corrections: dict[str, str]


@dataclass(frozen=True)
class _BuildState:
    """What `build_context` computed on the way, kept so `update_context` can reuse it.

    Attributes:
        links: family link ("u:<UEI>", "n:<name variant>", "v:<vendor id>") -> key of the first
            record (in record order) holding it.
        raw: key -> product extracted without the family's vendor words, before corrections.
        substituted: key -> `raw` with the family's compound abbreviations spelt out.
        products: spelling state over the raw product words.
        names: spelling state over the vendor-name words (its frequency is the name weights').
        splits: joined word -> {initials of a two-word spelling: occurrences} (see `_compounds`).
    """

    links: dict[str, str]
    raw: dict[str, ProductText]
    substituted: dict[str, ProductText]
    products: _Spelling
    names: _Spelling
    splits: dict[str, dict[str, int]]


@dataclass(frozen=True)
class MatchContext:
    """What a scan knows about all its records: parsed records, token weights and vendor families.

    Build it once with `build_context(records)` (or `update_context` from the previous one) and
    pass it to `score_pair`; `find_duplicates` builds its own. Weights are inverse document
    frequencies over these records, so a word common in this population ("HEALTH" in names,
    "SOFTWARE" in descriptions) counts for little.

    Attributes:
        parsed: key -> parsed record, in record order.
        name_weights: IDF of vendor-name words.
        product_weights: IDF of product words.
        family_of: key -> vendor family id: the position (in record order) of the family's
            first record (records linked by vendor id, UEI, parent UEI or an identical
            normalised name, former name, d/b/a or parent name).
        family_members: family id -> keys, sorted.
        family_product_weights: family id -> IDF of product words within the family (families of
            three or more records; filled on first use, None for smaller families), so a word every product of a vendor shares ("ARCGIS") does not
            make two different products of that vendor look alike.
        name_corrections: rare vendor-name word -> the frequent word it misspells (block keys).
    """

    parsed: dict[str, _Parsed]
    name_weights: TokenWeights
    product_weights: TokenWeights
    family_of: dict[str, int]
    family_members: dict[int, tuple[str, ...]]
    family_product_weights: dict[int, TokenWeights | None]
    name_corrections: dict[str, str] = field(default_factory=dict)
    # What the build computed on the way, for `update_context` (None: rebuild from scratch).
    _state: _BuildState | None = field(default=None, repr=False, compare=False)
    # Memos filled lazily by scoring (pure functions of the fields above).
    _family_products: dict[int, int] = field(default_factory=dict, repr=False, compare=False)
    _family_texts: dict[int, tuple[tuple[str, ...], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _similarities: dict[tuple[int | None, tuple[str, ...], tuple[str, ...]], Similarity] = field(
        default_factory=dict, repr=False, compare=False
    )
    _weights: dict[int | None, Callable[[str], float]] = field(
        default_factory=dict, repr=False, compare=False
    )
    _name_similarities: dict[tuple[tuple[str, ...], tuple[str, ...]], tuple[float, str, str]] = (
        field(default_factory=dict, repr=False, compare=False)
    )
    # Vendor-name word or initials -> keys of the records whose names hold it (`_name_index`;
    # empty until first used, then kept up to date by `update_context`).
    _names_index: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)


def _parse(record: PurchaseRecord) -> _Parsed:
    names: list[str] = []
    for raw in (record.vendor_name, record.dba_name, record.parent_name):
        for variant in vendor_name_variants(raw):
            if variant not in names:
                names.append(variant)
    if record.end is None:
        # Unknown end: assume the usual one-year term so overlap and cost stay defined.
        end, assumed = record.start + timedelta(days=364), True
    else:
        end, assumed = record.end, False
    return _Parsed(
        record=record,
        names=tuple(names),
        name_token_sets=tuple(name_tokens(n) for n in names),
        product=_NO_PRODUCT,  # set once families and corrections are known
        end=end,
        end_assumed=assumed,
        annualised=max(annualised_cents(record.obligated_cents, record.start, end), 0),
        uei=(record.vendor_uei or "").strip().upper(),
        parent_uei=(record.parent_uei or "").strip().upper(),
        parent_piid=(record.parent_piid or "").strip().upper(),
        psc=(record.psc or "").strip().upper(),
    )


def _with_product(p: _Parsed, product: ProductText) -> _Parsed:
    """A copy of p with another product (the constructor: `dataclasses.replace` is 5x slower)."""
    return _Parsed(
        p.record,
        p.names,
        p.name_token_sets,
        product,
        p.end,
        p.end_assumed,
        p.annualised,
        p.uei,
        p.parent_uei,
        p.parent_piid,
        p.psc,
    )


def _set_product(p: _Parsed, product: ProductText) -> None:
    """Set the product of a `_Parsed` this build just created and nobody else holds yet."""
    object.__setattr__(p, "product", product)


def _name_words(p: _Parsed) -> set[str]:
    return {t for tokens in p.name_token_sets for t in tokens}


def build_context(records: Sequence[PurchaseRecord]) -> MatchContext:
    """Parse records, count token frequencies and group vendor families.

    Args:
        records: every purchase the scan may compare (keys must be unique).

    Returns:
        The context `score_pair` needs.

    Raises:
        ValueError: when two records share a key.
    """
    parsed: dict[str, _Parsed] = {}
    for record in records:
        if record.key in parsed:
            raise ValueError(f"duplicate purchase key {record.key!r}")
        parsed[record.key] = _parse(record)
    name_frequency: Counter[str] = Counter()
    for p in parsed.values():
        name_frequency.update(_name_words(p))
    names = _spelling(name_frequency)
    links: dict[str, str] = {}
    family_of = _link_families(list(parsed.items()), links)
    members = _members(family_of)
    raw: dict[str, ProductText] = {}
    for keys in members.values():
        raw.update(_extracted(keys, parsed))
    product_frequency: Counter[str] = Counter()
    splits: dict[str, dict[str, int]] = {}
    for product in raw.values():
        product_frequency.update(set(product.tokens))
        for joined, initials in _adjacent_joins(product.tokens):
            counts = splits.setdefault(joined, {})
            counts[initials] = counts.get(initials, 0) + 1
    products = _spelling(product_frequency)
    substituted: dict[str, ProductText] = {}
    for keys in members.values():
        substituted.update(_substituted(keys, raw, products.frequency, splits))
    finish = _Finisher(products)
    product_frequency_final: Counter[str] = Counter()
    for key, p in parsed.items():
        product = finish(substituted[key])
        _set_product(p, product)
        product_frequency_final.update(set(product.tokens))
    count = len(parsed)
    return MatchContext(
        parsed,
        TokenWeights(count, names.frequency),
        TokenWeights(count, dict(product_frequency_final)),
        family_of,
        members,
        {},  # family product weights: filled on first use
        names.corrections,
        _state=_BuildState(links, raw, substituted, products, names, splits),
    )


def update_context(
    previous: MatchContext,
    added_or_changed: Sequence[PurchaseRecord],
    removed_keys: Collection[str] = (),
) -> MatchContext:
    """The context of a changed register, reusing the previous context's work.

    The result equals `build_context(records)` field by field, where records are the previous
    context's records in their order without `removed_keys`, each record of `added_or_changed`
    whose key is still there replacing it in place, and the others appended in their order (a key
    both removed and given is appended). Only the records that changed are parsed again; word
    frequencies are updated by difference; vendor families are regrouped only where a changed
    record was or now links; products are re-extracted for those families, and corrected again
    only where a correction, an abbreviation or a completion they depend on changed. When more
    than FULL_REBUILD_SHARE of the records change (or the previous context has no build state),
    everything is rebuilt. The previous context is not modified and stays usable.

    Args:
        previous: the context of the register before the change.
        added_or_changed: new records, and new versions of records (by key).
        removed_keys: keys of records gone (unknown keys are ignored).

    Returns:
        The context of the changed register.

    Raises:
        ValueError: when two given records share a key.
    """
    incoming: dict[str, PurchaseRecord] = {}
    for record in added_or_changed:
        if record.key in incoming:
            raise ValueError(f"duplicate purchase key {record.key!r}")
        incoming[record.key] = record
    old = previous.parsed
    removed = {k for k in removed_keys if k in old}
    # A record given unchanged changes nothing.
    incoming = {
        k: r for k, r in incoming.items() if k in removed or k not in old or old[k].record != r
    }
    state = previous._state
    if not incoming and not removed:
        return previous
    if state is None or len(incoming) + len(removed) > FULL_REBUILD_SHARE * max(len(old), 1):
        records = [incoming.pop(k, p.record) for k, p in old.items() if k not in removed]
        return build_context([*records, *incoming.values()])
    return _Update(previous, state, incoming, removed).context()


class _Update:
    """One `update_context` run: the steps of `build_context`, applied to what changed."""

    def __init__(
        self,
        previous: MatchContext,
        state: _BuildState,
        incoming: dict[str, PurchaseRecord],
        removed: set[str],
    ) -> None:
        self.previous, self.state, self.incoming, self.removed = previous, state, incoming, removed
        old = previous.parsed
        # Keys whose previous version goes away (removed, or replaced).
        self.replaced = removed | (incoming.keys() & old.keys())
        parsed = dict(old)
        for key in removed:
            del parsed[key]
        for key, record in incoming.items():
            parsed[key] = _parse(record)
        self.parsed = parsed

    def context(self) -> MatchContext:
        names = self._names()
        family_of, members, links, regrouped = self._families()
        raw, products, splits, changed_words, changed_corrections, changed_compounds = (
            self._raw_products(members, regrouped)
        )
        substituted = dict(self.state.substituted)
        for key in self.removed:
            del substituted[key]
        resubstitute = set(regrouped)
        if changed_compounds:
            resubstitute.update(
                family_of[k]
                for k, product in raw.items()
                if not changed_compounds.isdisjoint(product.tokens)
            )
        rework: set[str] = set(self.incoming)
        for family in resubstitute:
            keys = members[family]
            substituted.update(_substituted(keys, raw, products.frequency, splits))
            rework.update(keys)
        product_frequency = Counter(self.previous.product_weights.document_frequency)
        for key in self.replaced:
            product_frequency.subtract(set(self.previous.parsed[key].product.tokens))
        finish = _Finisher(products)
        # A last word seen once may be completed by a word that starts with it (`_Finisher`).
        prefixes = {w[:i] for w in changed_words for i in range(3, len(w) + 1)}
        corrections = products.corrections
        frequency, old_frequency = products.frequency, self.state.products.frequency
        parsed = self.parsed
        for key, sub in substituted.items():
            if key not in rework:
                tokens = sub.tokens
                if not changed_corrections.isdisjoint(tokens):
                    pass
                elif not sub.open_end or not tokens:
                    continue
                else:
                    last = tokens[-1]
                    once = frequency.get(last, 0) == 1
                    if once == (old_frequency.get(last, 0) == 1) and not (
                        once and corrections.get(last, last) in prefixes
                    ):
                        continue
            p = parsed[key]
            product = finish(sub)
            if key in self.incoming:
                _set_product(p, product)  # parsed by this update: nobody else holds it
            elif product != p.product:
                product_frequency.subtract(set(p.product.tokens))
                parsed[key] = _with_product(p, product)
            else:
                continue
            product_frequency.update(set(product.tokens))
        count = len(parsed)
        return MatchContext(
            parsed,
            TokenWeights(count, names.frequency),
            TokenWeights(count, {t: n for t, n in product_frequency.items() if n > 0}),
            family_of,
            members,
            {},
            names.corrections,
            _state=_BuildState(links, raw, substituted, products, names, splits),
            _names_index=_name_index_updated(
                self.previous, parsed, self.replaced, self.incoming.keys()
            ),
        )

    def _names(self) -> _Spelling:
        delta: Counter[str] = Counter()
        for key in self.replaced:
            delta.subtract(_name_words(self.previous.parsed[key]))
        for key in self.incoming:
            delta.update(_name_words(self.parsed[key]))
        return _spelling_updated(self.state.names, delta)[0]

    def _families(
        self,
    ) -> tuple[dict[str, int], dict[int, tuple[str, ...]], dict[str, str], dict[int, list[str]]]:
        """Regroup the families a changed record was in or now links to; renumber the rest."""
        previous, parsed = self.previous, self.parsed
        old_family = previous.family_of
        dirty = {old_family[k] for k in self.replaced}
        for key in self.incoming:
            for link in _links(parsed[key]):
                owner = self.state.links.get(link)
                if owner is not None:
                    dirty.add(old_family[owner])
        old_keys = [k for f in dirty for k in previous.family_members[f]]
        links = dict(self.state.links)
        for key in old_keys:
            for link in _links(previous.parsed[key]):
                links.pop(link, None)
        position = {k: i for i, k in enumerate(parsed)}
        regroup = {k for k in old_keys if k not in self.removed} | self.incoming.keys()
        items = sorted(((k, parsed[k]) for k in regroup), key=lambda item: position[item[0]])
        regrouped_of = _link_families(items, links, position)
        family_of = dict(old_family)
        for key in self.removed:
            del family_of[key]
        members = dict(previous.family_members)
        for family in dirty:
            del members[family]
        if self.removed:
            # Positions moved: a family's id is the position of its first record.
            old_order = list(previous.parsed)
            renumber = {f: position[old_order[f]] for f in members}
            family_of = {k: renumber.get(f, f) for k, f in family_of.items()}
            members = {renumber[f]: keys for f, keys in members.items()}
        family_of.update(regrouped_of)
        regrouped = _members(regrouped_of)
        members.update(regrouped)
        return family_of, members, links, {f: list(keys) for f, keys in regrouped.items()}

    def _raw_products(
        self, members: dict[int, tuple[str, ...]], regrouped: dict[int, list[str]]
    ) -> tuple[
        dict[str, ProductText],
        _Spelling,
        dict[str, dict[str, int]],
        set[str],
        set[str],
        set[str],
    ]:
        """Re-extract the regrouped families' products; update word frequencies and joins."""
        state = self.state
        raw = dict(state.raw)
        before: dict[str, ProductText] = {}  # key -> raw product gone (removed or replaced)
        after: dict[str, ProductText] = {}  # key -> raw product new (added or replacing)
        for key in self.removed:
            before[key] = raw.pop(key)
        for family in regrouped:
            for key, product in _extracted(members[family], self.parsed).items():
                old = raw.get(key)
                if old != product:
                    if old is not None:
                        before[key] = old
                    after[key] = raw[key] = product
        delta: Counter[str] = Counter()
        join_delta: dict[tuple[str, str], int] = defaultdict(int)
        for sign, products_ in ((-1, before), (1, after)):
            for product in products_.values():
                for token in set(product.tokens):
                    delta[token] += sign
                for join in _adjacent_joins(product.tokens):
                    join_delta[join] += sign
        products, changed_words, changed_corrections = _spelling_updated(state.products, delta)
        splits = dict(state.splits)
        for (joined, initials), change in join_delta.items():
            if not change:
                continue
            counts = dict(splits.get(joined, {}))
            counts[initials] = counts.get(initials, 0) + change
            if not counts[initials]:
                del counts[initials]
            if counts:
                splits[joined] = counts
            else:
                splits.pop(joined, None)
        candidates = {joined for joined, _ in join_delta} | changed_words
        changed_compounds = {
            word
            for word in candidates
            if _compound(word, state.products.frequency, state.splits)
            != _compound(word, products.frequency, splits)
        }
        return raw, products, splits, changed_words, changed_corrections, changed_compounds


def _links(p: _Parsed) -> list[str]:
    """What links a record to its vendor family: UEIs, name variants, the register's vendor."""
    keys = [f"u:{u}" for u in (p.uei, p.parent_uei) if u]
    keys += [f"n:{n}" for n in p.names]
    if p.record.vendor_id is not None:
        keys.append(f"v:{p.record.vendor_id}")
    return keys


def _link_families(
    items: list[tuple[str, _Parsed]],
    links: dict[str, str],
    position: Mapping[str, int] | None = None,
) -> dict[str, int]:
    """Union records that share a vendor id, UEI (own or parent) or an exact name variant.

    Args:
        items: (key, parsed) in record order; no other record holds a link of theirs.
        links: link -> first key holding it; extended with these records' links.
        position: key -> position in record order (default: position in items).

    Returns:
        key -> family id: the position of the family's first record.
    """
    index = {key: i for i, (key, _) in enumerate(items)}
    parent = list(range(len(items)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (key, p) in enumerate(items):
        for link in _links(p):
            owner = links.setdefault(link, key)
            if owner != key:
                a, b = find(index[owner]), find(i)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    if position is None:
        return {key: find(i) for i, (key, _) in enumerate(items)}
    return {key: position[items[find(i)][0]] for i, (key, _) in enumerate(items)}


def _members(family_of: Mapping[str, int]) -> dict[int, tuple[str, ...]]:
    members: dict[int, list[str]] = defaultdict(list)
    for key, family in family_of.items():
        members[family].append(key)
    return {f: tuple(sorted(keys)) for f, keys in members.items()}


def _extracted(keys: Iterable[str], parsed: Mapping[str, _Parsed]) -> dict[str, ProductText]:
    """Products of one family's records, without any family member's vendor words."""
    keys = list(keys)
    names = tuple(sorted({n for k in keys for n in parsed[k].names}))
    out = {}
    for k in keys:
        record = parsed[k].record
        out[k] = extract_product(record.product or record.description, names)
    return out


def _adjacent_joins(tokens: Sequence[str]) -> list[tuple[str, str]]:
    """(joined word, initials) of each two adjacent words of three letters or more."""
    return [
        (first + second, first[0] + second[0])
        for first, second in pairwise(tokens)
        if len(first) >= 3 and len(second) >= 3
    ]


def _compound(
    word: str, frequency: Mapping[str, int], splits: Mapping[str, Mapping[str, int]]
) -> str | None:
    """Initials of a word also written as two words ("SCIENCEDIRECT" -> "SD"), else None.

    Both spellings must occur among the products; of several two-word spellings, the
    alphabetically first initials count.
    """
    counts = splits.get(word)
    if not counts or not frequency.get(word):
        return None
    return min(counts)


def _substituted(
    keys: Iterable[str],
    raw: Mapping[str, ProductText],
    frequency: Mapping[str, int],
    splits: Mapping[str, Mapping[str, int]],
) -> dict[str, ProductText]:
    """One family's products with an abbreviation of a joined name its texts spell out ("SD"
    when "SCIENCE DIRECT" and "SCIENCEDIRECT" both occur) replaced by that name."""
    keys = list(keys)
    short: dict[str, str] = {}
    for word in {t for k in keys for t in raw[k].tokens}:
        initials = _compound(word, frequency, splits)
        if initials is not None and (initials not in short or word < short[initials]):
            short[initials] = word
    out = {}
    for k in keys:
        product = raw[k]
        if short and not short.keys().isdisjoint(product.tokens):
            tokens = tuple(short.get(t, t) for t in product.tokens)
            product = ProductText(tokens, " ".join(tokens), product.open_end)
        out[k] = product
    return out


class _Finisher:
    """Spell-corrects a product (see `_corrected_products`); the vocabulary is sorted once, on
    the first cut-short last word."""

    def __init__(self, spelling: _Spelling) -> None:
        self.frequency = spelling.frequency
        self.corrections = spelling.corrections
        self.vocabulary: list[str] | None = None

    def __call__(self, product: ProductText) -> ProductText:
        """Products corrected against the words of all records.

        A word of five letters or more seen in at most two records that is 85 % alike a more
        frequent word of four letters or more becomes that word ("CLIINFORMATIC" ->
        "CLINFORMATIC", "MARTT" -> "MART", "WAREHOSUE" -> "WAREHOUSE"). A last word that ends the
        description, is seen once and starts a more frequent word becomes that word ("PERSPECTI"
        -> "PERSPECTIVE"); if it has three letters or fewer and starts no word, it is a cut-off
        fragment and is dropped.
        """
        corrections = self.corrections
        tokens = [corrections.get(t, t) for t in product.tokens]
        if product.open_end and tokens and self.frequency.get(product.tokens[-1], 0) == 1:
            if self.vocabulary is None:
                self.vocabulary = sorted(self.frequency)
            completed = _completion(tokens[-1], self.vocabulary, self.frequency)
            if completed:
                tokens[-1] = completed
            elif len(tokens[-1]) <= 3 and len(tokens) > 1:
                tokens.pop()
        return ProductText(tuple(tokens), " ".join(tokens), product.open_end)


def _buckets(token: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """A word's spelling buckets: a typo keeps one end intact (first two or last three letters)."""
    return ("<" + token[:2], len(token)), (">" + token[-3:], len(token))


def _spelling(frequency: Mapping[str, int], rare: int = RARE_SPELLING) -> _Spelling:
    """Spelling state of a vocabulary: words seen in at most `rare` documents -> the more
    frequent word they misspell."""
    frequent: dict[tuple[str, int], set[str]] = defaultdict(set)
    rare_words: dict[tuple[str, int], set[str]] = defaultdict(set)
    for token, count in frequency.items():
        if len(token) >= 4 and count >= 2:
            for bucket in _buckets(token):
                frequent[bucket].add(token)
        if len(token) >= 5 and count <= rare:
            for bucket in _buckets(token):
                rare_words[bucket].add(token)
    spelling = _Spelling(
        dict(frequency),
        {b: frozenset(words) for b, words in frequent.items()},
        {b: frozenset(words) for b, words in rare_words.items()},
        {},
    )
    for token, count in spelling.frequency.items():
        if count <= rare and len(token) >= 5:
            corrected = _correction(token, count, spelling)
            if corrected is not None:
                spelling.corrections[token] = corrected
    return spelling


def _spelling_corrections(frequency: Counter[str], rare: int = RARE_SPELLING) -> dict[str, str]:
    """Words seen in at most `rare` documents -> the more frequent word they misspell."""
    return _spelling(frequency, rare).corrections


def _correction(token: str, count: int, spelling: _Spelling) -> str | None:
    """The most frequent word (then the most alike, then the greatest) of four letters or more,
    in more documents than `token`, 85 % alike it and sharing its first two or last three
    letters, with a length within two of it; None when there is none."""
    frequency = spelling.frequency
    best = None
    for end in ("<" + token[:2], ">" + token[-3:]):
        for size in range(len(token) - 2, len(token) + 3):
            bucket = spelling.frequent.get((end, size))
            if not bucket:
                continue
            for other, similarity, _ in process.extract(
                token,
                bucket,
                scorer=Indel.normalized_similarity,
                score_cutoff=0.85,
                limit=None,
            ):
                rank = (frequency[other], similarity, other)
                if frequency[other] > count and (best is None or rank > best):
                    best = rank
    return best[2] if best is not None else None


def _spelling_updated(
    spelling: _Spelling, delta: Mapping[str, int], rare: int = RARE_SPELLING
) -> tuple[_Spelling, set[str], set[str]]:
    """Apply document-frequency changes to a spelling state (the input is not modified).

    Returns:
        The new state, the words whose frequency changed, and the words whose correction
        changed (gained, lost or another).
    """
    frequency = dict(spelling.frequency)
    frequent = dict(spelling.frequent)
    rare_words = dict(spelling.rare)

    def move(index: dict[tuple[str, int], frozenset[str]], token: str, add: bool) -> None:
        for bucket in _buckets(token):
            words = index.get(bucket, frozenset())
            words = words | {token} if add else words - {token}
            if words:
                index[bucket] = words
            else:
                index.pop(bucket, None)

    changed: set[str] = set()
    near: set[str] = set()  # changed words that are (or were) correction targets
    for token, change in delta.items():
        if not change:
            continue
        before = frequency.get(token, 0)
        after = before + change
        changed.add(token)
        if after:
            frequency[token] = after
        else:
            del frequency[token]
        if len(token) >= 4 and (before >= 2) != (after >= 2):
            move(frequent, token, after >= 2)
        if len(token) >= 5 and (0 < before <= rare) != (0 < after <= rare):
            move(rare_words, token, 0 < after <= rare)
        if len(token) >= 4 and (before >= 2 or after >= 2):
            near.add(token)
    updated = _Spelling(frequency, frequent, rare_words, dict(spelling.corrections))
    corrections = updated.corrections
    affected = {t for t in changed if len(t) >= 5 and 0 < frequency.get(t, 0) <= rare}
    for token in near:
        # Only a rare word 85 % alike a changed word ever had it, or now has it, as a candidate.
        for end in ("<" + token[:2], ">" + token[-3:]):
            for size in range(len(token) - 2, len(token) + 3):
                bucket = rare_words.get((end, size))
                if bucket:
                    affected.update(
                        other
                        for other, _, _ in process.extract(
                            token,
                            bucket,
                            scorer=Indel.normalized_similarity,
                            score_cutoff=0.85,
                            limit=None,
                        )
                    )
    changed_corrections: set[str] = set()
    for token in changed:
        if token in corrections and token not in affected:
            del corrections[token]  # no longer rare, or gone
            changed_corrections.add(token)
    for token in affected:
        corrected = _correction(token, frequency[token], updated)
        if corrected != corrections.get(token):
            if corrected is None:
                del corrections[token]
            else:
                corrections[token] = corrected
            changed_corrections.add(token)
    return updated, changed, changed_corrections


def _completion(fragment: str, vocabulary: list[str], frequency: Mapping[str, int]) -> str | None:
    """The most frequent word (two records or more) that starts with fragment, if any."""
    if len(fragment) < 3:
        return None
    start = bisect_left(vocabulary, fragment)
    best: tuple[int, str] | None = None
    for word in vocabulary[start:]:
        if not word.startswith(fragment):
            break
        if word != fragment and frequency[word] >= 2:
            rank = (frequency[word], word)
            if best is None or rank > best:
                best = rank
    return best[1] if best else None


# --- pair scoring ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PairScore:
    """How alike two purchases are, and why.

    Attributes:
        key_a: key of the first record (the smaller key).
        key_b: key of the second record.
        score: duplicate confidence in [0, 1]: `offering` when the pair may be a duplicate
            (different divisions, no shared vehicle, overlap >= MIN_OVERLAP_DAYS), else 0.
        offering: confidence in [0, 1] that both buy the same commercial offering
            (vendor × product, whatever the dates and divisions).
        kind: "duplicate", "consolidation" (same offering, overlap below the minimum),
            "same division", "shared vehicle" or "different offering" (offering below threshold).
        overlap_days: days the periods of performance share (inclusive dates).
        reasons: plain-language findings, strongest first.
        features: named numbers behind the score (vendor, product, overlap_days, …).
    """

    key_a: str
    key_b: str
    score: float
    offering: float
    kind: str
    overlap_days: int
    reasons: tuple[str, ...]
    features: Mapping[str, float]


def score_pair(
    a: PurchaseRecord | str,
    b: PurchaseRecord | str,
    context: MatchContext,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> PairScore:
    """Score two purchases of the context as a cross-division duplicate, with reasons.

    Args:
        a: a record (or its key) present in the context.
        b: another record (or key) present in the context.
        context: from `build_context` over the records being scanned.
        threshold: offering confidence at or above which the pair counts as the same offering.

    Returns:
        The score, its kind and a readable breakdown; key_a < key_b.
    """
    pa = context.parsed[a if isinstance(a, str) else a.key]
    pb = context.parsed[b if isinstance(b, str) else b.key]
    if pb.record.key < pa.record.key:
        pa, pb = pb, pa
    reasons: list[str] = []
    features: dict[str, float] = {}
    vendor = _vendor_strength(pa, pb, context, reasons)
    features["vendor"] = round(vendor, 4)
    product = 0.0
    if vendor >= MIN_VENDOR_SIMILARITY:
        product = _product_strength(pa, pb, context, reasons, threshold)
    features["product"] = round(product, 4)
    offering = vendor * product
    if pa.psc and pb.psc and pa.psc != pb.psc and offering > 0:
        # Same offering filed under different PSCs happens, but it is evidence against.
        offering *= 0.9
        reasons.append(f"different product/service codes {pa.psc} and {pb.psc}")
    elif pa.psc and pa.psc == pb.psc:
        reasons.append(f"same product/service code {pa.psc}")
    features["offering"] = round(offering, 4)
    days = overlap_days(pa.record.start, pa.end, pb.record.start, pb.end)
    features["overlap_days"] = float(days)
    reasons.append(_overlap_reason(pa, pb, days))
    same_vehicle = pa.parent_piid and pa.parent_piid == pb.parent_piid
    if offering < threshold:
        kind = "different offering"
    elif pa.record.division == pb.record.division:
        kind = "same division"
        reasons.append(f"both bought by {pa.record.division}: a renewal, not a duplicate")
    elif same_vehicle:
        kind = "shared vehicle"
        reasons.append(f"ordered under the same vehicle {pa.parent_piid}: not a duplicate")
    elif days < MIN_OVERLAP_DAYS:
        kind = "consolidation"
        reasons.append(f"overlap under {MIN_OVERLAP_DAYS} days: a consolidation candidate")
    else:
        kind = "duplicate"
    score = offering if kind == "duplicate" else 0.0
    return PairScore(
        pa.record.key,
        pb.record.key,
        round(score, 4),
        round(offering, 4),
        kind,
        days,
        tuple(reasons),
        features,
    )


def _overlap_reason(pa: _Parsed, pb: _Parsed, days: int) -> str:
    assumed = [p.record.key for p in (pa, pb) if p.end_assumed]
    note = f" (end date of {', '.join(assumed)} unknown: one year assumed)" if assumed else ""
    return f"{days} days overlap{note}" if days else f"periods do not overlap{note}"


def _vendor_strength(pa: _Parsed, pb: _Parsed, context: MatchContext, reasons: list[str]) -> float:
    ra, rb = pa.record, pb.record
    if ra.vendor_id is not None and ra.vendor_id == rb.vendor_id:
        reasons.append(f"same vendor in the register (id {ra.vendor_id})")
        return 1.0
    if pa.uei and pa.uei == pb.uei:
        reasons.append(f"same UEI {pa.uei}")
        return 1.0
    if pa.parent_uei and pa.parent_uei == pb.parent_uei:
        reasons.append(f"same parent company (UEI {pa.parent_uei})")
        return 1.0
    for child, parent in ((pa, pb), (pb, pa)):
        if child.parent_uei and child.parent_uei == parent.uei:
            reasons.append(
                f"{parent.record.key}'s vendor is the parent company of {child.record.key}'s"
            )
            return 1.0
    common = [n for n in pa.names if n in pb.names]
    if common:
        reasons.append(f"same vendor name or alias '{common[0]}'")
        return 0.97
    score, name_a, name_b = _name_similarity(pa, pb, context)
    if score <= 0:
        reasons.append("vendors differ")
        return 0.0
    reason = f"vendor names {score:.0%} alike: '{name_a}' ~ '{name_b}'"
    if pa.uei and pb.uei and pa.parent_uei != pb.parent_uei:
        # Two registered entities with different parents: a similar name is weaker evidence.
        score *= 0.8
        reason += " (but different UEIs and parents)"
    reasons.append(reason.replace("%", " %"))
    return score


def _name_similarity(pa: _Parsed, pb: _Parsed, context: MatchContext) -> tuple[float, str, str]:
    """Best soft TF-IDF cosine over the two records' name variants, with the names behind it."""
    key = (pa.names, pb.names)
    cached = context._name_similarities.get(key)
    if cached is None:
        cached = (0.0, "", "")
        weight = context.name_weights.weight
        for name_a, tokens_a in zip(pa.names, pa.name_token_sets, strict=True):
            for name_b, tokens_b in zip(pb.names, pb.name_token_sets, strict=True):
                score = weighted_similarity(tokens_a, tokens_b, weight).score
                if score > cached[0]:
                    cached = (score, name_a, name_b)
        context._name_similarities[key] = cached
    return cached


def _family_weights(context: MatchContext, family: int) -> TokenWeights | None:
    if family not in context.family_product_weights:
        keys = context.family_members[family]
        context.family_product_weights[family] = (
            TokenWeights.from_documents(context.parsed[k].product.tokens for k in keys)
            if len(keys) >= 3
            else None
        )
    return context.family_product_weights[family]


def _product_weight(context: MatchContext, family: int | None) -> Callable[[str], float]:
    """Global IDF, times the IDF within the vendor family when both records share one."""
    base = context.product_weights.weight
    family_weights = None if family is None else _family_weights(context, family)
    if family_weights is None:
        return base
    inner = family_weights.weight
    combined: dict[str, float] = {}

    def weight(token: str) -> float:
        value = combined.get(token)
        if value is None:
            value = combined[token] = base(token) * inner(token)
        return value

    return weight


def product_similarity(
    left: Sequence[str], right: Sequence[str], weight: Callable[[str], float]
) -> tuple[float, Similarity]:
    """Product similarity: the mean of soft TF-IDF cosine and containment.

    Containment lets a bare product name match a description that adds what the product is
    ("HOSPITALVIEW" ~ "PROVIDER INTELLIGENCE PLATFORM HOSPITALVIEW"); the cosine keeps a short,
    generic text from matching everything it is part of.

    Args:
        left: product tokens of one purchase.
        right: product tokens of the other.
        weight: token weight (IDF).

    Returns:
        The similarity in [0, 1] and the detail behind it.
    """
    detail = weighted_similarity(left, right, weight)
    return _blend(detail), detail


def _blend(detail: Similarity) -> float:
    return CONTAINMENT_SHARE * detail.containment + (1 - CONTAINMENT_SHARE) * detail.score


def _product_strength(
    pa: _Parsed, pb: _Parsed, context: MatchContext, reasons: list[str], threshold: float
) -> float:
    if pa.product.vague or pb.product.vague:
        return _vague_product(pa, pb, context, reasons)
    family = context.family_of[pa.record.key]
    shared = family if family == context.family_of[pb.record.key] else None
    detail = _similarity(context, shared, pa.product.tokens, pb.product.tokens)
    score = _blend(detail)
    reasons.append(
        f"product names {score:.0%} alike: "
        f"'{pa.product.text}' ~ '{pb.product.text}'{_describe_matches(detail)}".replace("%", " %")
    )
    if score >= threshold and shared is not None:
        other = _ambiguous_with(pa, pb, context, shared)
        if other is not None:
            reasons.append(
                f"but '{other[0]}' equally fits '{other[1]}', a different product of this "
                "vendor family: which one is unknown"
            )
            return min(score, INFERRED_AMBIGUOUS)
    return score


def _ambiguous_with(
    pa: _Parsed,
    pb: _Parsed,
    context: MatchContext,
    family: int,
) -> tuple[str, str] | None:
    """A product text of the family that holds the shorter text too but is not the longer one.

    "ARCGIS" sits inside "ARCGIS ENTERPRISE", but as much inside "ARCGIS ONLINE", which shares
    little with "ARCGIS ENTERPRISE": the match does not say which product was bought. Applies only
    when the shorter text (smaller weight norm) sits inside the longer one.
    """

    weight = _weight(context, family)

    def norm(p: _Parsed) -> float:
        return sum(weight(t) ** 2 for t in p.product.tokens)

    short, long = (pa, pb) if norm(pa) <= norm(pb) else (pb, pa)
    if (
        _similarity(context, family, short.product.tokens, long.product.tokens).left_covered
        < INSIDE
    ):
        return None
    for tokens in _family_products(context, family):
        if tokens in (short.product.tokens, long.product.tokens):
            continue
        if _similarity(context, family, short.product.tokens, tokens).left_covered < INSIDE:
            continue
        versus_long = _similarity(context, family, long.product.tokens, tokens)
        if max(versus_long.left_covered, versus_long.right_covered) < SAME_PART:
            return short.product.text, " ".join(tokens)
    return None


def _similarity(
    context: MatchContext, family: int | None, left: tuple[str, ...], right: tuple[str, ...]
) -> Similarity:
    """Product similarity memo: renewals repeat the same texts, so most pairs are seen before."""
    key = (family, left, right)
    cached = context._similarities.get(key)
    if cached is None:
        cached = weighted_similarity(left, right, _weight(context, family))
        context._similarities[key] = cached
    return cached


def _weight(context: MatchContext, family: int | None) -> Callable[[str], float]:
    weight = context._weights.get(family)
    if weight is None:
        weight = context._weights[family] = _product_weight(context, family)
    return weight


def _family_products(context: MatchContext, family: int) -> tuple[tuple[str, ...], ...]:
    """Distinct product texts of a family, most frequent first, at most FAMILY_PRODUCTS_CAP."""
    cached = context._family_texts.get(family)
    if cached is None:
        counts = Counter(
            context.parsed[k].product.tokens
            for k in context.family_members[family]
            if not context.parsed[k].product.vague
        )
        ranked = sorted(counts, key=lambda t: (-counts[t], t))[:FAMILY_PRODUCTS_CAP]
        cached = tuple(ranked)
        context._family_texts[family] = cached
    return cached


def _describe_matches(similarity: Similarity) -> str:
    notes = [
        f"{m.left} = {m.right}" if m.how == "acronym" else f"{m.left} ~ {m.right}"
        for m in similarity.matches
        if m.how in ("acronym", "joined", "typo", "prefix")
    ]
    return f" ({'; '.join(notes)})" if notes else ""


def _vague_product(pa: _Parsed, pb: _Parsed, context: MatchContext, reasons: list[str]) -> float:
    """Product similarity when a description names no product: inferred from the vendor family.

    When the other purchases of the vendor family all buy one product, the vague purchase is
    assumed to buy it too (INFERRED_SINGLE_PRODUCT). When both are vague and nothing else is known,
    the same PSC gives INFERRED_BOTH_VAGUE_SAME_PSC. A family with several products leaves the
    vague purchase ambiguous (INFERRED_AMBIGUOUS: below the default threshold on purpose).
    """
    vague = [p for p in (pa, pb) if p.product.vague]
    quoted = "; ".join(f"'{p.record.description.strip()}'" for p in vague)
    families = {context.family_of[p.record.key] for p in (pa, pb)}
    products = max(_family_product_count(context, f) for f in families)
    if products == 1:
        reasons.append(
            f"no product named in {quoted}: the vendor family's other purchases are all one "
            "product, assumed the same (lower confidence)"
        )
        return INFERRED_SINGLE_PRODUCT
    if products == 0 and pa.psc and pa.psc == pb.psc:
        reasons.append(f"no product named in {quoted}: fell back on vendor and PSC {pa.psc}")
        return INFERRED_BOTH_VAGUE_SAME_PSC
    reasons.append(
        f"no product named in {quoted}: the vendor family sells {products} different products "
        "here, so which one is unknown"
    )
    return INFERRED_AMBIGUOUS


def _family_product_count(context: MatchContext, family: int) -> int:
    """Distinct products (greedy clusters of alike product texts) among a family's purchases."""
    cached = context._family_products.get(family)
    if cached is not None:
        return cached
    representatives: list[tuple[str, ...]] = []
    for tokens in _family_products(context, family):
        if not any(
            _blend(_similarity(context, family, rep, tokens)) >= DEFAULT_THRESHOLD
            for rep in representatives
        ):
            representatives.append(tokens)
    context._family_products[family] = len(representatives)
    return len(representatives)


# --- scans -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicatePair:
    """A reported cross-division duplicate.

    Attributes:
        key_a: the smaller key.
        key_b: the larger key.
        division_a: division of key_a.
        division_b: division of key_b.
        score: duplicate confidence in [0, 1].
        overlap_days: days both periods of performance cover.
        estimated_avoidable_cents: min(annualised_a, annualised_b) × overlap_days ÷ 365, rounded
            down, never negative (annualised with `costs.annualised_cents`).
        reasons: readable findings.
        features: named numbers behind the score.
        confirmed: True when an officer confirmed the pair.
    """

    key_a: str
    key_b: str
    division_a: str
    division_b: str
    score: float
    overlap_days: int
    estimated_avoidable_cents: int
    reasons: tuple[str, ...]
    features: Mapping[str, float]
    confirmed: bool = False


@dataclass(frozen=True)
class DuplicateCluster:
    """Purchases linked by reported pairs (a connected component).

    Attributes:
        id: "dup-" + the smallest member key: stable while that member stays in the cluster.
        keys: member keys, sorted.
        divisions: divisions of the members, sorted, unique.
        total_cents: sum of the members' obligated amounts.
        estimated_avoidable_cents: on each day that members of two or more divisions cover,
            the daily annualised cost (annualised ÷ 365) of every covering member except the most
            expensive one; summed over days and rounded down. Each day counts once, so a member
            in several pairs is never counted twice; for two members it equals the pair figure.
    """

    id: str
    keys: tuple[str, ...]
    divisions: tuple[str, ...]
    total_cents: int
    estimated_avoidable_cents: int


@dataclass(frozen=True)
class ConsolidationCandidate:
    """The same offering bought by two or more divisions one after another (or overlapping less
    than MIN_OVERLAP_DAYS): one shared contract could serve them.

    Attributes:
        id: "con-" + the smallest member key.
        keys: member keys, sorted.
        divisions: divisions, sorted, unique.
        vendor: the most frequent normalised vendor name among members.
        product: the most frequent product text among members.
        total_cents: sum of the members' obligated amounts.
        first_start: earliest start.
        last_end: latest (known or assumed) end.
    """

    id: str
    keys: tuple[str, ...]
    divisions: tuple[str, ...]
    vendor: str
    product: str
    total_cents: int
    first_start: date
    last_end: date


@dataclass(frozen=True)
class ScanResult:
    """Everything one scan found.

    Attributes:
        pairs: duplicate pairs, by descending score then keys.
        clusters: connected components of `pairs`, largest avoidable spend first.
        consolidation: consolidation candidates, largest total first.
        compared: number of record pairs scored (a measure of the blocking's work).
    """

    pairs: list[DuplicatePair]
    clusters: list[DuplicateCluster]
    consolidation: list[ConsolidationCandidate]
    compared: int


def find_duplicates(
    records: Sequence[PurchaseRecord],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    only_keys: Iterable[str] | None = None,
    dismissed: Iterable[frozenset[str]] = frozenset(),
    confirmed: Iterable[frozenset[str]] = frozenset(),
    context: MatchContext | None = None,
) -> ScanResult:
    """Scan purchases for cross-division duplicates and consolidation candidates.

    Candidate pairs come from blocks: a vendor key (family, a rare vendor-name word, initials)
    combined with a product key (a rare product word, initials); a block larger than BLOCK_CAP
    compares each member with its WINDOW nearest neighbours by start date only, so the work grows
    about linearly with the number of purchases.

    Args:
        records: all purchases (keys unique). Token weights come from all of them.
        threshold: lowest score reported as a duplicate (and lowest offering confidence for a
            consolidation candidate).
        only_keys: when given, only pairs with at least one key in it (an incremental scan after
            an import); the result equals the full scan restricted to those pairs.
        dismissed: pairs (frozenset of two keys) an officer dismissed: never reported; this wins
            over `confirmed`.
        confirmed: pairs an officer confirmed: always reported with their computed score and the
            reason "confirmed by an officer".
        context: a prebuilt `build_context(records)` to reuse; built when None.

    Returns:
        Pairs, clusters and consolidation candidates.
    """
    context = context or build_context(records)
    focus = None if only_keys is None else {k for k in only_keys if k in context.parsed}
    dismissed_set = {frozenset(p) for p in dismissed}
    confirmed_set = {frozenset(p) for p in confirmed} - dismissed_set
    pairs: list[DuplicatePair] = []
    sequential: list[tuple[str, str]] = []
    compared = 0
    for i, j in _candidate_pairs(context, focus):
        pa, pb = context.parsed[i], context.parsed[j]
        if pa.record.division == pb.record.division:
            continue
        pair_key = frozenset((i, j))
        if pair_key in dismissed_set or pair_key in confirmed_set:
            continue
        compared += 1
        result = score_pair(i, j, context, threshold=threshold)
        if result.kind == "duplicate" and result.score >= threshold:
            pairs.append(_duplicate_pair(result, context, confirmed=False))
        elif result.kind == "consolidation":
            sequential.append((result.key_a, result.key_b))
    for pair_key in sorted(confirmed_set, key=sorted):
        if len(pair_key) != 2 or not pair_key <= context.parsed.keys():
            continue
        if focus is not None and not pair_key & focus:
            continue
        key_a, key_b = sorted(pair_key)
        result = score_pair(key_a, key_b, context, threshold=threshold)
        pairs.append(_duplicate_pair(result, context, confirmed=True))
    pairs.sort(key=lambda p: (-p.score, p.key_a, p.key_b))
    return ScanResult(
        pairs=pairs,
        clusters=_clusters(pairs, context),
        consolidation=_consolidation(sequential, context),
        compared=compared,
    )


def _duplicate_pair(result: PairScore, context: MatchContext, *, confirmed: bool) -> DuplicatePair:
    pa, pb = context.parsed[result.key_a], context.parsed[result.key_b]
    reasons = result.reasons
    if confirmed:
        reasons = ("confirmed by an officer", *reasons)
    return DuplicatePair(
        key_a=result.key_a,
        key_b=result.key_b,
        division_a=pa.record.division,
        division_b=pb.record.division,
        score=result.score if result.kind == "duplicate" else result.offering,
        overlap_days=result.overlap_days,
        estimated_avoidable_cents=pair_avoidable_cents(
            pa.annualised, pb.annualised, result.overlap_days
        ),
        reasons=reasons,
        features=result.features,
        confirmed=confirmed,
    )


def pair_avoidable_cents(annualised_a: int, annualised_b: int, days: int) -> int:
    """Overlapping share of the cheaper purchase: min(annualised) × days ÷ 365, rounded down.

    Args:
        annualised_a: annualised cost of one purchase, cents (negative counts as 0).
        annualised_b: annualised cost of the other, cents.
        days: overlap in days (inclusive dates).

    Returns:
        Cents, never negative.
    """
    cheaper = max(min(annualised_a, annualised_b), 0)
    return cheaper * max(days, 0) // 365


def _components(edges: Iterable[tuple[str, str]]) -> list[tuple[str, ...]]:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[str, list[str]] = defaultdict(list)
    for x in parent:
        groups[find(x)].append(x)
    return sorted(tuple(sorted(g)) for g in groups.values())


def _clusters(pairs: list[DuplicatePair], context: MatchContext) -> list[DuplicateCluster]:
    clusters = []
    for keys in _components((p.key_a, p.key_b) for p in pairs):
        members = [context.parsed[k] for k in keys]
        clusters.append(
            DuplicateCluster(
                id=f"dup-{keys[0]}",
                keys=keys,
                divisions=tuple(sorted({m.record.division for m in members})),
                total_cents=sum(m.record.obligated_cents for m in members),
                estimated_avoidable_cents=cluster_avoidable_cents(
                    [(m.record.division, m.record.start, m.end, m.annualised) for m in members]
                ),
            )
        )
    clusters.sort(key=lambda c: (-c.estimated_avoidable_cents, c.id))
    return clusters


def cluster_avoidable_cents(members: Sequence[tuple[str, date, date, int]]) -> int:
    """Avoidable spend of a cluster; see `DuplicateCluster.estimated_avoidable_cents`.

    Args:
        members: (division, start, end inclusive, annualised cents) per member.

    Returns:
        Cents, never negative.
    """
    bounds = sorted({m[1] for m in members} | {m[2] + timedelta(days=1) for m in members})
    total = 0
    for seg_start, seg_next in pairwise(bounds):
        covering = [m for m in members if m[1] <= seg_start and m[2] >= seg_start]
        if len({m[0] for m in covering}) < 2:
            continue
        rates = sorted(max(m[3], 0) for m in covering)
        total += sum(rates[:-1]) * (seg_next - seg_start).days
    return total // 365


def _consolidation(
    edges: list[tuple[str, str]], context: MatchContext
) -> list[ConsolidationCandidate]:
    out = []
    for keys in _components(edges):
        members = [context.parsed[k] for k in keys]
        vendors = Counter(m.names[0] if m.names else "" for m in members)
        products = Counter(m.product.text for m in members if m.product.text)
        out.append(
            ConsolidationCandidate(
                id=f"con-{keys[0]}",
                keys=keys,
                divisions=tuple(sorted({m.record.division for m in members})),
                vendor=min(vendors, key=lambda v: (-vendors[v], v)),
                product=min(products, key=lambda p: (-products[p], p)) if products else "",
                total_cents=sum(m.record.obligated_cents for m in members),
                first_start=min(m.record.start for m in members),
                last_end=max(m.end for m in members),
            )
        )
    out.sort(key=lambda c: (-c.total_cents, c.id))
    return out


# --- blocking ----------------------------------------------------------------------------------


def _vendor_keys(p: _Parsed, context: MatchContext) -> list[str]:
    """Vendor-side block keys: the family, the rarest word of each name variant (spell-corrected,
    so "ANALYTCS" meets "ANALYTICS"), a second word when it is rare too, and the initials of names
    of three words or more when a vendor goes by them ("ESRI")."""
    keys = [f"f:{context.family_of[p.record.key]}"]
    weights = context.name_weights
    rare_df = max(RARE_NAME_DF, context.name_weights.document_count // 200)
    for tokens in p.name_token_sets:
        ranked = sorted(tokens, key=lambda t: (-weights.weight(t), t))
        for position, token in enumerate(ranked[:2]):
            if len(token) < 3 or (position and weights.document_frequency.get(token, 0) > rare_df):
                continue
            keys.append(f"n:{context.name_corrections.get(token, token)}")
        initials = "".join(t[0] for t in tokens)
        if len(tokens) >= 3 and initials in weights.document_frequency:
            # Only when some vendor is called by these initials ("ESRI"): meets its "n:" key.
            keys.append(f"n:{initials}")
    return sorted(set(keys))


def _product_keys(p: _Parsed, context: MatchContext) -> list[str]:
    """Product-side block keys: first four letters of the first word and of the five rarest words,
    and the initials of every run of three or four words (so "CDM" meets "CLINFORMATICS DATA
    MART")."""
    tokens = p.product.tokens
    weight = context.product_weights.weight
    rare = sorted(set(tokens), key=lambda t: (-weight(t), t))[:5]
    keys = {t[:4] for t in (*rare, *tokens[:1]) if len(t) >= 2}
    for size in (3, 4):
        keys.update(
            "".join(t[0] for t in tokens[i : i + size]) for i in range(len(tokens) - size + 1)
        )
    return sorted(keys)


def _rarest_product_keys(p: _Parsed, context: MatchContext) -> list[str]:
    """First four letters of the two rarest product words: the narrow keys paired with
    vendor-name keys, which (unlike a family) may hold many unrelated vendors."""
    weight = context.product_weights.weight
    rare = sorted(set(p.product.tokens), key=lambda t: (-weight(t), t))[:2]
    return sorted({t[:4] for t in rare if len(t) >= 2})


def _candidate_pairs(context: MatchContext, focus: set[str] | None) -> Iterable[tuple[str, str]]:
    """Distinct (smaller key, larger key) pairs that share a block; see `find_duplicates`.

    A vendor family of at most BLOCK_CAP purchases is one block. A larger family, and every
    vendor-name key, is split by product keys: any product key for a family, only the two rarest
    product words for a name key (it may hold many unrelated vendors). In a split family, a
    purchase whose description names no product goes to the family's "*" block, where only pairs
    with at least one such purchase count.
    A block of more than BLOCK_CAP members is not compared all-to-all: each member meets its
    WINDOW nearest neighbours by start date. The rule only looks at the block, so an incremental
    scan (focus) yields exactly the full scan's pairs that touch the focus.
    """
    # Renewals repeat names and texts: compute keys once per distinct value.
    vendor_keys: dict[tuple[int, tuple[str, ...]], list[str]] = {}
    product_keys: dict[tuple[bool, tuple[str, ...]], list[str]] = {}

    def keys_of(p: _Parsed) -> list[str]:
        memo = (context.family_of[p.record.key], p.names)
        keys = vendor_keys.get(memo)
        if keys is None:
            keys = vendor_keys[memo] = _vendor_keys(p, context)
        return keys

    vendor_blocks: dict[str, list[_Parsed]] = defaultdict(list)
    if focus is None:
        for p in context.parsed.values():
            for key in keys_of(p):
                vendor_blocks[key].append(p)
    else:
        vendor_blocks = _focus_vendor_blocks(context, focus, keys_of)
    blocks: dict[tuple[str, str], list[_Parsed]] = defaultdict(list)
    for vendor_key, members in vendor_blocks.items():
        if len(members) < 2:
            continue
        if focus is not None and not any(m.record.key in focus for m in members):
            continue  # no block under this key can hold a focus purchase
        family = vendor_key.startswith("f:")
        if family and len(members) <= BLOCK_CAP:
            # A family of ordinary size is compared whole: renewals, aliases, vague texts.
            blocks[(vendor_key, "")] = members
            continue
        with_vague = family and any(m.product.vague for m in members)
        for m in members:
            memo_key = (family, m.product.tokens)
            keys = product_keys.get(memo_key)
            if keys is None:
                keys = _product_keys(m, context) if family else _rarest_product_keys(m, context)
                product_keys[memo_key] = keys
            for product_key in keys:
                blocks[(vendor_key, product_key)].append(m)
            if with_vague:
                blocks[(vendor_key, "*")].append(m)
    seen: set[tuple[str, str]] = set()
    for block_key in sorted(blocks):
        members = blocks[block_key]
        if len(members) < 2:
            continue
        if focus is not None and not any(m.record.key in focus for m in members):
            continue
        ordered = sorted(members, key=lambda m: (m.record.start, m.record.key))
        vague_only = block_key[1] == "*"
        for a, b in _block_pairs(ordered, focus):
            if vague_only and not (
                context.parsed[a].product.vague or context.parsed[b].product.vague
            ):
                continue
            pair = (a, b) if a < b else (b, a)
            if pair not in seen:
                seen.add(pair)
                yield pair


def _focus_vendor_blocks(
    context: MatchContext, focus: set[str], keys_of: Callable[[_Parsed], list[str]]
) -> dict[str, list[_Parsed]]:
    """The vendor blocks a focus record is in, each with all its members (in record order, as the
    full scan gathers them), without computing every record's vendor keys: a family block is
    the family; a name block "n:X" can only hold records whose names hold X, or a rare word
    corrected to X, or initials X (`_name_index`)."""
    wanted = {key for k in focus for key in keys_of(context.parsed[k])}
    misspelt: dict[str, list[str]] = defaultdict(list)
    for word, corrected in context.name_corrections.items():
        misspelt[corrected].append(word)
    index = _name_index(context)
    position = {k: i for i, k in enumerate(context.parsed)} if wanted else {}
    blocks: dict[str, list[_Parsed]] = {}
    for vendor_key in sorted(wanted):
        kind, _, value = vendor_key.partition(":")
        if kind == "f":
            members = context.family_members[int(value)]
        else:
            members = {k for word in (value, *misspelt[value]) for k in index.get(word, ())}
        parsed = [context.parsed[k] for k in sorted(members, key=position.__getitem__)]
        blocks[vendor_key] = [p for p in parsed if vendor_key in keys_of(p)]
    return blocks


def _name_index(context: MatchContext) -> dict[str, frozenset[str]]:
    """Vendor-name word, and initials of a name of three words or more -> keys of the records
    whose names hold it (built on first use, kept with the context)."""
    index = context._names_index
    if not index and context.parsed:
        gathered: dict[str, set[str]] = defaultdict(set)
        for key, p in context.parsed.items():
            for word in _index_words(p):
                gathered[word].add(key)
        index.update((word, frozenset(keys)) for word, keys in gathered.items())
    return index


def _index_words(p: _Parsed) -> set[str]:
    """What `_name_index` files a record under: its name words and long names' initials."""
    words = {t for tokens in p.name_token_sets for t in tokens}
    words.update("".join(t[0] for t in tokens) for tokens in p.name_token_sets if len(tokens) >= 3)
    return words


def _name_index_updated(
    previous: MatchContext,
    parsed: Mapping[str, _Parsed],
    replaced: Collection[str],
    incoming: Collection[str],
) -> dict[str, frozenset[str]]:
    """The previous context's name index with replaced records' words taken out and incoming
    records' words put in (empty when the previous one was never built: built on first use)."""
    if not previous._names_index:
        return {}
    out: dict[str, set[str]] = defaultdict(set)
    into: dict[str, set[str]] = defaultdict(set)
    for key in replaced:
        for word in _index_words(previous.parsed[key]):
            out[word].add(key)
    for key in incoming:
        for word in _index_words(parsed[key]):
            into[word].add(key)
    index = dict(previous._names_index)
    for word in out.keys() | into.keys():
        keys = index.get(word, frozenset()).difference(out.get(word, ())).union(into.get(word, ()))
        if keys:
            index[word] = keys
        else:
            index.pop(word, None)
    return index


def _block_pairs(ordered: list[_Parsed], focus: set[str] | None) -> Iterable[tuple[str, str]]:
    keys = [m.record.key for m in ordered]
    reach = len(keys) if len(keys) <= BLOCK_CAP else WINDOW
    for i, a in enumerate(keys):
        if focus is None:
            for b in keys[i + 1 : i + 1 + reach]:
                yield a, b
        elif a in focus:
            for b in keys[max(i - reach, 0) : i + 1 + reach]:
                if b != a:
                    yield a, b


# --- check before you buy ----------------------------------------------------------------------


@dataclass(frozen=True)
class NeedQuery:
    """A planned purchase to check against existing ones.

    Attributes:
        vendor_name: the vendor the buyer has in mind ("" when unknown).
        text: what is needed, in the buyer's words ("Web of Science subscription").
        division: the buyer's division, when known.
        amount_cents: the planned amount, when known.
        start: planned first day, when known.
        end: planned last day (inclusive), when known.
    """

    vendor_name: str
    text: str
    division: str | None = None
    amount_cents: int | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True)
class NeedMatch:
    """An existing purchase that may already cover a need.

    Attributes:
        key: the purchase key.
        division: who bought it.
        score: in [0, 1]: 0.35 × vendor similarity + 0.65 × product similarity (product only when
            the query names no vendor).
        vendor_similarity: in [0, 1]: mean of the names' soft TF-IDF cosine and the share of the
            query's name words found (0 when the query names no vendor).
        product_similarity: in [0, 1]: mean of soft TF-IDF cosine and the share of the need's
            product words found.
        overlap_days: days the purchase covers of the planned period, None when no period given.
        reasons: readable findings.
    """

    key: str
    division: str
    score: float
    vendor_similarity: float
    product_similarity: float
    overlap_days: int | None
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SearchTokens:
    """Normalised words a database can pre-filter candidate purchases with (upper case).

    Attributes:
        vendor_tokens: words of the vendor name variants (legal forms and joining words dropped).
        product_tokens: product words (noise dropped, plural "S" removed: a prefix of the
            stored word, so match with LIKE 'TOKEN%' or on word starts).
    """

    vendor_tokens: tuple[str, ...]
    product_tokens: tuple[str, ...]


def search_tokens(vendor_name: str, text: str) -> SearchTokens:
    """Words to pre-filter candidates for `rank_need` (deterministic, order of first appearance).

    Args:
        vendor_name: vendor name as the buyer typed it.
        text: the need in free text.

    Returns:
        Vendor and product words.
    """
    names = vendor_name_variants(vendor_name)
    vendor = tuple(dict.fromkeys(t for n in names for t in name_tokens(n)))
    product = tuple(dict.fromkeys(extract_product(text, names).tokens))
    return SearchTokens(vendor, product)


def rank_need(
    need: NeedQuery,
    records: Sequence[PurchaseRecord],
    *,
    limit: int = 20,
    context: MatchContext | None = None,
) -> list[NeedMatch]:
    """Rank existing purchases by how well they cover a planned one ("check before you buy").

    Args:
        need: the planned purchase.
        records: candidate purchases (the caller may pre-filter them with `search_tokens`).
        limit: most matches returned.
        context: a prebuilt `build_context(records)` to reuse; built when None.

    Returns:
        Matches with a score above zero, best first (ties by key).
    """
    if not records:
        return []
    context = context or build_context(records)
    need_names = vendor_name_variants(need.vendor_name)
    need_name_tokens = [name_tokens(n) for n in need_names]
    need_product = extract_product(need.text, need_names)
    name_weight = context.name_weights.weight
    product_weight = context.product_weights.weight
    # Score every candidate, then explain only the ones returned: the reasons' wording costs
    # more than the scores.
    scored: list[tuple[float, int, str, _Parsed, float, str, float, Similarity | None]] = []
    for p in context.parsed.values():
        vendor = 0.0
        best_name = ""
        for tokens in need_name_tokens:
            for name, other in zip(p.names, p.name_token_sets, strict=True):
                # A buyer types part of a name ("Clarivate"): count how much of it is found.
                detail = weighted_similarity(tokens, other, name_weight)
                similarity = (detail.score + detail.left_covered) / 2
                if similarity > vendor:
                    vendor = similarity
                    best_name = name
        product = 0.0
        product_detail = None
        if need_product.tokens and not p.product.vague:
            product_detail = weighted_similarity(
                need_product.tokens, p.product.tokens, product_weight
            )
            product = (product_detail.score + product_detail.left_covered) / 2
        score = 0.35 * vendor + 0.65 * product if need_name_tokens else product
        if score <= 0:
            continue
        days = None
        if need.start is not None:
            need_end = need.end or need.start + timedelta(days=364)
            days = overlap_days(need.start, need_end, p.record.start, p.end)
        scored.append(
            (
                round(score, 4),
                days or 0,
                p.record.key,
                p,
                vendor,
                best_name,
                product,
                product_detail,
            )
        )
    scored.sort(key=lambda item: (-item[0], -item[1], item[2]))
    matches: list[NeedMatch] = []
    for score, _, _, p, vendor, best_name, product, product_detail in scored[:limit]:
        reasons: list[str] = []
        if vendor > 0:
            reasons.append(f"vendor names {vendor:.0%} alike: '{best_name}'".replace("%", " %"))
        if product > 0 and product_detail is not None:
            reasons.append(
                f"product names {product:.0%} alike: '{need_product.text}' ~ "
                f"'{p.product.text}'{_describe_matches(product_detail)}".replace("%", " %")
            )
        elif p.product.vague:
            reasons.append("its description names no product")
        days = None
        if need.start is not None:
            need_end = need.end or need.start + timedelta(days=364)
            days = overlap_days(need.start, need_end, p.record.start, p.end)
            reasons.append(
                f"active {days} days of the planned period" if days else "not active then"
            )
        if need.division and need.division == p.record.division:
            reasons.append(f"already bought by your division ({need.division})")
        elif need.division:
            reasons.append(f"bought by {p.record.division}: ask to share or reuse")
        matches.append(
            NeedMatch(
                key=p.record.key,
                division=p.record.division,
                score=score,
                vendor_similarity=round(vendor, 4),
                product_similarity=round(product, 4),
                overlap_days=days,
                reasons=tuple(reasons),
            )
        )
    return matches
