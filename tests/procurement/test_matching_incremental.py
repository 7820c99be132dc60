"""Tests for `update_context`: the context of a changed register equals a full build, field by field,
and scans over it give the same pairs, scores and reasons."""

from __future__ import annotations

import random
from dataclasses import fields, replace
from datetime import date, timedelta

import pytest

from procurement import matching
from procurement.matching import (
    MatchContext,
    NeedQuery,
    PurchaseRecord,
    build_context,
    find_duplicates,
    rank_need,
    update_context,
)

DIVISIONS = ("CDC", "NIH", "FDA", "CMS", "HRSA")
# Small pools so families merge and split, words repeat, and rare misspellings have targets.
VENDORS = (
    "CLARIVATE ANALYTICS LLC", "CLARIVATE ANALYTCS", "ELSEVIER INC", "ELSEVIER B.V.",
    "IQVIA INC (FORMERLY QUINTILESIMS)", "QUINTILESIMS", "ESRI", "ENVIRONMENTAL SYSTEMS RESEARCH",
    "OPTUM INC", "OPTUMINSIGHT INC", "GARTNER INC", "GARTNR INC", "NORTHSTAR HEALTH LLC",
    "BLUE RIVER D/B/A RIVERDATA", "RIVERDATA LLC", "SAS INSTITUTE INC",
)  # fmt: skip
PRODUCT_WORDS = (
    "WEB", "SCIENCE", "SCIENCEDIRECT", "DIRECT", "SD", "SCOPUS", "ARCGIS", "ONLINE", "ENTERPRISE",
    "CLINFORMATICS", "CLIINFORMATICS", "DATA", "MART", "MARTT", "CDM", "WAREHOUSE", "WAREHOSUE",
    "PERSPECTIVE", "PERSPECTI", "PER", "HOSPITALVIEW", "HOSPITA", "STATISTICAL", "STAT",
    "ANALYTICS", "PLATFORM", "JOURNAL", "JOURNALS", "CITATION", "DATABASE", "DATABSE", "SURVEY",
)  # fmt: skip
NOISE = ("SUBSCRIPTION", "ANNUAL LICENSE RENEWAL", "OPTION YEAR 2", "FOR CDC", "FY24", "")
UEIS = (*(f"U{i}" for i in range(1, 25)), None, None, None, None)
# Vendors of their own (one name each), so a register has many families to merge and split.
OTHER_VENDORS = tuple(f"{a}{b} {c}" for a in "KLMN" for b in "AEIO" for c in ("HEALTH", "DATA"))


def _description(rng: random.Random) -> str:
    words = [rng.choice(PRODUCT_WORDS) for _ in range(rng.randint(0, 4))]
    if rng.random() < 0.2:
        words += ["SCIENCE", "DIRECT"]
    text = " ".join([rng.choice(NOISE), *words]) if rng.random() < 0.5 else " ".join(words)
    if rng.random() < 0.2:
        text = text[: rng.randint(3, max(len(text), 3))]  # cut short to a field width
    return text or "EXERCISE OPTION YEAR 3"


def _record(rng: random.Random, key: str) -> PurchaseRecord:
    start = date(2022, 1, 1) + timedelta(days=rng.randrange(700))
    return PurchaseRecord(
        key=key,
        division=rng.choice(DIVISIONS),
        vendor_name=rng.choice(VENDORS if rng.random() < 0.4 else OTHER_VENDORS),
        description=_description(rng),
        start=start,
        end=None if rng.random() < 0.1 else start + timedelta(days=rng.choice((180, 364, 729))),
        obligated_cents=rng.randrange(1_000_000, 50_000_000),
        vendor_uei=rng.choice(UEIS),
        parent_uei=rng.choice(UEIS) if rng.random() < 0.3 else None,
        parent_name=rng.choice((None, None, "RELX PLC", "UNITEDHEALTH GROUP")),
        product=rng.choice(PRODUCT_WORDS) if rng.random() < 0.05 else None,
        psc=rng.choice(("7A21", "DA01", None)),
        parent_piid=rng.choice((None, None, None, "75P001")),
        vendor_id=rng.choice((None, None, None, None, 1, 2, 3)),
    )


def _changed(rng: random.Random, record: PurchaseRecord) -> PurchaseRecord:
    """Another version of a record: a vendor rename (merging or splitting families), another
    description or product (other corrections), another UEI or vendor id, other dates."""
    what = rng.randrange(5)
    if what == 0:
        return replace(record, vendor_name=rng.choice((*VENDORS, *OTHER_VENDORS)))
    if what == 1:
        return replace(record, description=_description(rng))
    if what == 2:
        return replace(record, vendor_uei=rng.choice(UEIS), vendor_id=rng.choice((None, 1, 4)))
    if what == 3:
        return replace(record, product=rng.choice((None, *PRODUCT_WORDS)))
    return replace(record, start=record.start + timedelta(days=40), division=rng.choice(DIVISIONS))


def _apply(
    records: list[PurchaseRecord], given: list[PurchaseRecord], removed: set[str]
) -> list[PurchaseRecord]:
    """The register `update_context` documents: removed dropped, changed in place, new appended."""
    by_key = {r.key: r for r in given}
    kept = [by_key.pop(r.key, r) for r in records if r.key not in removed]
    return [*kept, *(r for r in given if r.key in by_key)]


def _assert_same(updated: MatchContext, built: MatchContext) -> None:
    for f in fields(MatchContext):
        if f.compare and f.name != "family_product_weights":  # a memo, filled on first use
            assert getattr(updated, f.name) == getattr(built, f.name), f.name
    assert list(updated.parsed) == list(built.parsed)
    assert updated._state is not None and built._state is not None
    for f in fields(built._state):
        assert getattr(updated._state, f.name) == getattr(built._state, f.name), f.name


def _scan(context: MatchContext) -> list[tuple[object, ...]]:
    result = find_duplicates([], context=context)
    return [
        (p.key_a, p.key_b, p.score, p.overlap_days, p.reasons, dict(p.features))
        for p in result.pairs
    ] + [(c.id, c.keys, c.vendor, c.product) for c in result.consolidation]


@pytest.mark.parametrize("seed", range(30))
def test_update_equals_full_build(seed: int) -> None:
    rng = random.Random(seed)
    records = [_record(rng, f"K{i:04d}") for i in range(rng.randint(5, 90))]
    context = build_context(records)
    serial = len(records)
    for _ in range(4):  # each step updates the previous update
        keys = [r.key for r in records]
        removed = set(rng.sample(keys, rng.randint(0, min(3, len(keys) // 4))))
        changed = [
            _changed(rng, r) for r in rng.sample(records, rng.randint(0, min(4, len(records) // 5)))
        ]
        added = []
        for _ in range(rng.randint(0, 4)):
            serial += 1
            added.append(_record(rng, f"K{serial:04d}"))
        if removed and rng.random() < 0.3:
            back = rng.choice(sorted(removed))  # removed and given again: appended
            added.append(_record(rng, back))
        given = [*changed, *added]
        rng.shuffle(given)
        records = _apply(records, given, removed)
        before_scan = _scan(context)
        updated = update_context(context, given, removed)
        built = build_context(records)
        _assert_same(updated, built)
        assert _scan(updated) == _scan(built)
        assert _scan(context) == before_scan  # the previous context is left as it was
        context = updated


def test_update_reaches_every_path() -> None:
    """Over the random registers above, the incremental path (not the fallback) really ran and
    merged families, changed corrections and compounds; otherwise the test proves little."""
    seen = {"regroup": 0, "correction": 0, "compound": 0}
    original = matching._Update.context

    def spy(self: matching._Update) -> MatchContext:
        out = original(self)
        if len(out.family_members) != len(self.previous.family_members):
            seen["regroup"] += 1
        if out.name_corrections != self.previous.name_corrections or (
            out._state.products.corrections != self.state.products.corrections  # type: ignore[union-attr]
        ):
            seen["correction"] += 1
        if out._state.splits != self.state.splits:  # type: ignore[union-attr]
            seen["compound"] += 1
        return out

    matching._Update.context = spy  # type: ignore[method-assign]
    try:
        for seed in range(8):
            test_update_equals_full_build(seed)
    finally:
        matching._Update.context = original  # type: ignore[method-assign]
    assert all(seen.values()), seen


@pytest.mark.parametrize(
    ("given", "removed"),
    [
        # A new vendor spelling links two families through a shared UEI: they merge.
        (
            [
                PurchaseRecord(
                    "N1", "CMS", "GARTNER INC", "MAGIC QUADRANT", date(2023, 1, 1), vendor_uei="U1"
                )
            ],
            set(),
        ),
        # The only record linking two families goes: they split.
        ([], {"B2"}),
        # A product that was a rare misspelling becomes frequent: corrections move.
        (
            [
                PurchaseRecord(f"W{i}", "FDA", "ELSEVIER", "SCOPUSS", date(2023, 3, 1))
                for i in range(3)
            ],
            set(),
        ),
        # "SCIENCE DIRECT" appears: "SD" of that family becomes "SCIENCEDIRECT".
        ([PurchaseRecord("J1", "NIH", "ELSEVIER", "SCIENCE DIRECT", date(2023, 3, 1))], set()),
        # A vendor renamed in the register (same key, new name): families regroup.
        ([PurchaseRecord("B1", "CDC", "CLARIVATE", "WEB OF SCIENCE", date(2023, 1, 1))], set()),
    ],
)
def test_update_table(given: list[PurchaseRecord], removed: set[str]) -> None:
    records = [
        PurchaseRecord("A1", "CDC", "ELSEVIER", "SCIENCEDIRECT SUBSCRIPTION", date(2023, 1, 1)),
        PurchaseRecord("A2", "NIH", "ELSEVIER", "SD", date(2023, 2, 1), end=date(2024, 1, 31)),
        PurchaseRecord("A3", "FDA", "ELSEVIER", "SCOPUS", date(2023, 1, 1)),
        PurchaseRecord("A4", "CMS", "ELSEVIER", "SCOPUS", date(2023, 1, 1)),
        PurchaseRecord("B1", "CDC", "GARTNER", "RESEARCH SEATS", date(2023, 1, 1), vendor_uei="U1"),
        PurchaseRecord("B2", "NIH", "GARTNER", "RESEARCH", date(2023, 1, 1), vendor_uei="U2"),
        PurchaseRecord("B3", "NIH", "GARTNR", "RESEARCH", date(2023, 1, 1), vendor_uei="U2"),
        PurchaseRecord("C1", "CDC", "CLARIVATE ANALYTICS", "WEB OF SCIENCE", date(2023, 1, 1)),
        PurchaseRecord("C2", "FDA", "CLARIVATE ANALYTICS", "WEB OF SCIENCE", date(2023, 1, 1)),
    ]
    updated = update_context(build_context(records), given, removed)
    built = build_context(_apply(records, given, removed))
    _assert_same(updated, built)
    assert _scan(updated) == _scan(built)
    need = NeedQuery("Elsevier", "ScienceDirect", division="CDC")
    assert rank_need(need, [], context=updated) == rank_need(need, [], context=built)


def test_large_change_rebuilds_and_unchanged_is_free() -> None:
    rng = random.Random(5)
    records = [_record(rng, f"K{i:03d}") for i in range(50)]
    context = build_context(records)
    assert update_context(context, records[:10], ()) is context  # given unchanged: nothing to do
    given = [_changed(rng, r) for r in records[:20]]  # 40 %: rebuilt from scratch
    _assert_same(update_context(context, given, ()), build_context(_apply(records, given, set())))
    with pytest.raises(ValueError, match="duplicate purchase key"):
        update_context(context, [records[0], records[0]], ())


@pytest.mark.parametrize("cap", [matching.BLOCK_CAP, 6], ids=["blocks", "small-blocks"])
@pytest.mark.parametrize("seed", range(8))
def test_focused_candidates_are_the_full_candidates_that_touch_the_focus(
    seed: int, cap: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An incremental scan gathers only the vendor blocks of its focus (through the name index):
    it must still pair exactly what the full scan pairs with a focus record, also on a context
    updated from a previous one. Small blocks split families and window large blocks."""
    monkeypatch.setattr(matching, "BLOCK_CAP", cap)
    monkeypatch.setattr(matching, "WINDOW", min(matching.WINDOW, cap // 2))
    rng = random.Random(seed)
    # At least 40 records: 6 changes stay under FULL_REBUILD_SHARE, so the update runs.
    records = [_record(rng, f"K{i:04d}") for i in range(rng.randint(40, 160))]
    # A vendor called by the initials of another's name ("n:ESR" blocks both).
    records += [
        replace(
            _record(rng, f"E{i}"),
            vendor_name=name,
            description="HOSPITALVIEW PLATFORM",
            **dict.fromkeys(("vendor_uei", "parent_uei", "parent_name", "vendor_id", "product")),
        )
        for i, name in enumerate(
            (
                *("ESR", "ESR INC", "ENVIRONMENTAL SYSTEMS RESEARCH"),
                # A misspelt name word blocks with the word it is corrected to ("n:ZYLOPHANE").
                *("ZYLOPHANE HEALTH", "ZYLOPHANE HEALTH", "ZYLOPHAME DATA"),
            )
        )
    ]
    context = build_context(records)
    list(matching._candidate_pairs(context, {records[0].key}))  # builds the name index
    given = [_changed(rng, r) for r in rng.sample(records, 4)] + [_record(rng, "N0001")]
    context = update_context(context, given, {records[1].key})
    # The index the update carried over is the one a build over the new register makes.
    rebuilt = build_context(_apply(records, given, {records[1].key}))
    assert context._names_index and context._names_index == matching._name_index(rebuilt)
    everything = set(matching._candidate_pairs(context, None))
    for size in (1, 5, 30):
        focus = set(rng.sample(sorted(context.parsed), min(size, len(context.parsed))))
        focus.update(("E0", "E3"))
        expected = {pair for pair in everything if focus & set(pair)}
        assert set(matching._candidate_pairs(context, focus)) == expected
