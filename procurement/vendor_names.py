"""Vendor name normalisation, name variants and rare-token-weighted name similarity.

The procurement register keys vendors and aliases on `normalise_vendor_name`, and the duplicate
matcher compares names with `TokenWeights` + `weighted_similarity`, so every rule here is
deterministic: the same input always gives the same output, whatever else was normalised before.

Normalisation, in order:
1. Unicode is folded to ASCII (accents dropped) and upper-cased.
2. Parenthesised or bracketed parts are cut out ("(US)", "(FORMERLY ACME)"); they become variants.
3. The name is split at "d/b/a", "dba", "doing business as", "t/a", "trading as", "a/k/a", "aka",
   "f/k/a", "fka", "formerly (known as)"; the left side is the name, every side is a variant.
4. Dotted abbreviations are closed up ("L.L.C." -> "LLC", "U.S." -> "US"), "&" becomes "AND",
   apostrophes vanish ("MOODY'S" -> "MOODYS"), every other punctuation mark becomes a space.
5. A leading "THE" and trailing legal forms (INC, LLC, CORP, CO, LTD, LP, PLC, GMBH, BV, NV, SA,
   AG, PC, PLLC, …) and trailing country qualifiers (US, USA, UK) are removed, repeatedly, but
   never the last remaining word.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType

from rapidfuzz.distance import Indel

LEGAL_FORMS: frozenset[str] = frozenset(
    {
        "INC", "INCORPORATED", "LLC", "LC", "PLLC", "CORP", "CORPORATION", "CO", "COMPANY",
        "LTD", "LIMITED", "LP", "LLP", "LLLP", "PLC", "GMBH", "BV", "NV", "SA", "AG", "PC", "PA",
        "SARL", "SRL", "SPA", "AB", "OY", "KG", "PTY", "PTE", "ULC", "INCORPORATION", "NA",
    }
)  # fmt: skip
COUNTRY_QUALIFIERS: frozenset[str] = frozenset({"US", "USA", "UK"})
# Words that join or qualify rather than name: ignored when comparing token sets.
NAME_STOPWORDS: frozenset[str] = frozenset({"THE", "AND", "OF", "FOR", "A", "AN", "AT", "IN"})

_ALIAS_MARKER = re.compile(
    r"\b(?:D\s*/\s*B\s*/\s*A|D\s*\.\s*B\s*\.\s*A\.?|DBA|DOING\s+BUSINESS\s+AS|T\s*/\s*A|"
    r"TRADING\s+AS|A\s*/\s*K\s*/\s*A|AKA|ALSO\s+KNOWN\s+AS|F\s*/\s*K\s*/\s*A|FKA|"
    r"FORMERLY\s+KNOWN\s+AS|FORMERLY|NOW\s+KNOWN\s+AS|SUCCESSOR\s+TO)\b\.?:?"
)
_PARENTHETICAL = re.compile(r"[(\[]([^()\[\]]*)[)\]]?")
_DOTTED_ABBREVIATION = re.compile(r"\b(?:[A-Z]\s?\.\s?){2,}")
_NOT_WORD = re.compile(r"[^A-Z0-9 ]+")


def fold_ascii(text: str) -> str:
    """Upper-cased ASCII form of text: accents dropped, other non-ASCII characters removed."""
    decomposed = unicodedata.normalize("NFKD", text)
    return decomposed.encode("ascii", "ignore").decode("ascii").upper()


def normalise_vendor_name(name: str | None) -> str:
    """The canonical form of a vendor name, used as a register key and for comparison.

    Args:
        name: a vendor name as written on an award ("Clarivate Analytics (US), L.L.C.").

    Returns:
        Upper-case words separated by single spaces, without parenthesised parts, the d/b/a or
        former-name side, a leading "THE", legal forms or country qualifiers
        ("CLARIVATE ANALYTICS"); "" when nothing is left.
    """
    if not name:
        return ""
    folded = fold_ascii(name)
    without_brackets = _PARENTHETICAL.sub(" ", folded)
    sides = [side for side in _ALIAS_MARKER.split(without_brackets) if _clean(side)]
    return _clean(sides[0]) if sides else ""


@lru_cache(maxsize=1 << 16)
def vendor_name_variants(name: str | None) -> tuple[str, ...]:
    """The normalised name followed by its alias variants, without duplicates or blanks.

    Variants are the d/b/a, a/k/a and former-name sides ("ACME D/B/A ROADRUNNER" gives
    ("ACME", "ROADRUNNER")) and parenthesised names ("IQVIA (FORMERLY QUINTILESIMS)" gives
    ("IQVIA", "QUINTILESIMS")). Parentheses holding only a legal form or a country ("(US)") add
    nothing. Order: the normalised name first, then variants in the order they appear.

    Args:
        name: a vendor name as written on an award.

    Returns:
        A tuple of normalised names; empty when the name is blank.
    """
    if not name:
        return ()
    folded = fold_ascii(name)
    variants: list[str] = [normalise_vendor_name(name)]
    outside = _PARENTHETICAL.sub(" ", folded)
    variants.extend(_clean(side) for side in _ALIAS_MARKER.split(outside))
    for inner in _PARENTHETICAL.findall(folded):
        variants.extend(_clean(side) for side in _ALIAS_MARKER.split(inner))
    unique: list[str] = []
    for variant in variants:
        if variant and variant not in unique and not _only_qualifiers(variant):
            unique.append(variant)
    return tuple(unique)


def name_tokens(normalised: str) -> tuple[str, ...]:
    """Words of a normalised name that carry meaning (joining words such as AND, OF dropped)."""
    return tuple(word for word in normalised.split() if word not in NAME_STOPWORDS)


def _clean(text: str) -> str:
    """Punctuation, "&", leading THE and trailing legal forms handled; see the module docstring."""
    text = _DOTTED_ABBREVIATION.sub(lambda m: re.sub(r"[\s.]", "", m.group(0)) + " ", text)
    text = text.replace("&", " AND ").replace("'", "").replace("`", "")
    words = _NOT_WORD.sub(" ", text).split()
    if len(words) > 1 and words[0] == "THE":
        words = words[1:]
    while len(words) > 1 and (
        words[-1] in LEGAL_FORMS or words[-1] in COUNTRY_QUALIFIERS or words[-1] == "AND"
    ):
        words.pop()
    return " ".join(words)


def _only_qualifiers(normalised: str) -> bool:
    return all(w in LEGAL_FORMS or w in COUNTRY_QUALIFIERS for w in normalised.split())


@dataclass(frozen=True)
class TokenWeights:
    """Inverse document frequency of tokens over the documents being compared.

    A token found in every document ("HEALTH", "SOLUTIONS" among vendor names) weighs little; a
    token found once ("CLARIVATE") weighs most. Weights are computed from the records in the
    scan, never from a fixed list, so they adapt to whatever population is being compared.

    Attributes:
        document_count: number of documents the frequencies were counted over.
        document_frequency: token -> number of documents containing it.
    """

    document_count: int
    document_frequency: dict[str, int]
    _idf: dict[str, float] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_documents(cls, documents: Iterable[Iterable[str]]) -> TokenWeights:
        """Count each token once per document."""
        frequency: Counter[str] = Counter()
        count = 0
        for document in documents:
            count += 1
            frequency.update(set(document))
        return cls(count, dict(frequency))

    def weight(self, token: str) -> float:
        """Smoothed IDF, 1 + ln((N + 1) / (df + 1)); an unseen token weighs the most."""
        idf = self._idf.get(token)
        if idf is None:
            df = self.document_frequency.get(token, 0)
            idf = 1.0 + math.log((self.document_count + 1) / (df + 1))
            self._idf[token] = idf
        return idf


@dataclass(frozen=True)
class TokenMatch:
    """One aligned token pair of a similarity computation (for explanations).

    Attributes:
        left: token (or acronym) from the first side.
        right: token from the second side (several words when an acronym was expanded).
        similarity: 1.0 exact; below 1.0 for typos, truncations and joined words.
        how: "exact", "typo", "prefix", "acronym" or "joined".
    """

    left: str
    right: str
    similarity: float
    how: str


@dataclass(frozen=True)
class Similarity:
    """Result of `weighted_similarity`.

    Attributes:
        score: soft TF-IDF cosine in [0, 1]: both texts must be alike as a whole.
        containment: soft weighted overlap coefficient in [0, 1]: how much of the lighter text
            (smaller weight norm) the other covers; 1 when one text is inside the other.
        left_covered: share of the first text's squared weight the second covers, in [0, 1].
        right_covered: share of the second text's squared weight the first covers, in [0, 1].
        matches: the aligned token pairs behind the numbers.
    """

    score: float
    containment: float
    left_covered: float = 0.0
    right_covered: float = 0.0
    matches: tuple[TokenMatch, ...] = ()


def weighted_similarity(
    left: Sequence[str],
    right: Sequence[str],
    weight: Callable[[str], float],
    *,
    typo_threshold: float = 0.85,
) -> Similarity:
    """Soft TF-IDF cosine of two token sequences (Cohen, Ravikumar & Fienberg, 2003).

    Tokens are aligned one-to-one, best pairs first: equal tokens score 1; tokens of five letters
    or more score their Indel similarity when at least `typo_threshold` ("ANALTICS" ~ "ANALYTICS");
    a token of four letters or more that starts the other scores 0.9 (truncation or abbreviation:
    "HOSPITA" ~ "HOSPITALVIEW", "STAT" ~ "STATISTICAL"). Before aligning, an acronym of three to six
    letters is matched to a run of words with those initials ("ESRI" ~ "ENVIRONMENTAL SYSTEMS
    RESEARCH INSTITUTE", "CDM" ~ "CLINFORMATICS DATA MART") and two adjacent words are joined when
    the join equals a word of the other side ("SCIENCE DIRECT" ~ "SCIENCEDIRECT"). The score is the sum over aligned pairs of
    w(a)·w(b)·similarity divided by the product of the two vectors' norms, in [0, 1]; the
    containment divides the same sum by the smaller squared norm instead.

    Args:
        left: tokens of the first text, in order (order matters for acronyms and joins).
        right: tokens of the second text.
        weight: token -> weight (e.g. `TokenWeights.weight`).
        typo_threshold: lowest Indel similarity accepted as a typo.

    Returns:
        The cosine, the containment and the aligned token pairs.
    """
    left_units, right_units, expansions, pairs = _alignment(
        tuple(left), tuple(right), typo_threshold
    )
    if not left_units or not right_units:
        return Similarity(0.0, 0.0)
    candidates = [
        (weight(left_units[i]) * weight(right_units[j]) * similarity, i, j, similarity, how)
        for i, j, similarity, how in pairs
    ]
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    used_left: set[int] = set()
    used_right: set[int] = set()
    total = 0.0
    matches: list[TokenMatch] = []
    for gain, i, j, similarity, how in candidates:
        if i in used_left or j in used_right:
            continue
        used_left.add(i)
        used_right.add(j)
        total += gain
        a, b = left_units[i], right_units[j]
        if a == b and a in expansions:
            b, how = expansions[a]
        matches.append(TokenMatch(a, b, similarity, how))
    left_norm = sum(weight(t) ** 2 for t in left_units)
    right_norm = sum(weight(t) ** 2 for t in right_units)
    if not left_norm or not right_norm:
        return Similarity(0.0, 0.0, matches=tuple(matches))
    return Similarity(
        score=min(total / math.sqrt(left_norm * right_norm), 1.0),
        containment=min(total / min(left_norm, right_norm), 1.0),
        left_covered=min(total / left_norm, 1.0),
        right_covered=min(total / right_norm, 1.0),
        matches=tuple(matches),
    )


@lru_cache(maxsize=1 << 14)
def _alignment(
    left: tuple[str, ...], right: tuple[str, ...], typo_threshold: float
) -> tuple[
    tuple[str, ...],
    tuple[str, ...],
    Mapping[str, tuple[str, str]],
    tuple[tuple[int, int, float, str], ...],
]:
    """The units of both sides (acronyms and joins merged), their expansions, and every pair of
    units that are alike at all: (left index, right index, similarity, how).

    Depends on the tokens only, not on their weights, so it is kept: the same vendor names and
    descriptions meet again and again (every check before you buy, every candidate pair).
    """
    left_units, right_units, expansions = _merge_acronyms_and_joins(left, right)
    pairs = []
    for i, a in enumerate(left_units):
        for j, b in enumerate(right_units):
            similarity, how = _token_similarity(a, b, typo_threshold)
            if similarity > 0.0:
                pairs.append((i, j, similarity, how))
    return left_units, right_units, MappingProxyType(expansions), tuple(pairs)


@lru_cache(maxsize=1 << 18)
def _token_similarity(a: str, b: str, typo_threshold: float) -> tuple[float, str]:
    if a == b:
        return 1.0, "exact"
    if min(len(a), len(b)) >= 4 and (b.startswith(a) or a.startswith(b)):
        return 0.9, "prefix"
    if len(a) >= 5 and len(b) >= 5:
        ratio = Indel.normalized_similarity(a, b)
        if ratio >= typo_threshold:
            return ratio, "typo"
    return 0.0, ""


def _merge_acronyms_and_joins(
    left: tuple[str, ...], right: tuple[str, ...]
) -> tuple[tuple[str, ...], tuple[str, ...], dict[str, tuple[str, str]]]:
    """Rewrite runs matching an acronym (or a joined word) on the other side into that token."""
    expansions: dict[str, tuple[str, str]] = {}
    left = _rewrite(left, set(right), expansions)
    right = _rewrite(right, set(left), expansions)
    return left, right, expansions


def _rewrite(
    tokens: tuple[str, ...], other: set[str], expansions: dict[str, tuple[str, str]]
) -> tuple[str, ...]:
    if len(tokens) < 2:
        return tokens
    acronyms = {t for t in other if 3 <= len(t) <= 6 and t.isalpha() and t not in tokens}
    out: list[str] = []
    i = 0
    while i < len(tokens):
        replaced = False
        for acronym in acronyms:
            run = tokens[i : i + len(acronym)]
            if len(run) == len(acronym) and "".join(w[0] for w in run) == acronym:
                expansions[acronym] = (" ".join(run), "acronym")
                out.append(acronym)
                i += len(acronym)
                replaced = True
                break
        if replaced:
            continue
        if i + 1 < len(tokens) and tokens[i] not in other and tokens[i + 1] not in other:
            joined = tokens[i] + tokens[i + 1]
            match = _closest_join(joined, other)
            if match:
                expansions.setdefault(match, (f"{tokens[i]} {tokens[i + 1]}", "joined"))
                out.append(match)
                i += 2
                continue
        out.append(tokens[i])
        i += 1
    return tuple(out)


def _closest_join(joined: str, other: set[str]) -> str | None:
    for candidate in sorted(other):
        if abs(len(candidate) - len(joined)) <= 2 and (
            Indel.normalized_similarity(candidate, joined) >= 0.9
        ):
            return candidate
    return None
