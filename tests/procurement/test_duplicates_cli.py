"""`marketplace duplicates scan|check` over the register, scored on the labelled dev set."""

from __future__ import annotations

import json
import os
import subprocess
import sys

CLI = [sys.executable, "-m", "marketplace"]


def _kept_pairs(database_url):
    """Kept scan pairs as sorted PIID pairs, read straight from the database."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as connection:
        piid = dict(connection.execute(text("SELECT award_key, piid FROM purchase")).all())
        rows = connection.execute(text("SELECT key_a, key_b FROM duplicate_scan_pair")).all()
    engine.dispose()
    return {tuple(sorted((piid[a], piid[b]))) for a, b in rows}


def run(args, database_url, tmp_path):
    env = {**os.environ, "DATABASE_URL": database_url, "MARKETPLACE_VAR_DIR": str(tmp_path)}
    result = subprocess.run([*CLI, *args], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-800:]
    return json.loads(result.stdout)


def test_scan_finds_the_dev_set_duplicates_with_reasons(shared_data, database_url, tmp_path):
    folder = shared_data / "eval" / "duplicates-dev"
    imported = run(
        ["purchases", "import", str(folder / "purchases.csv"), "--json"], database_url, tmp_path
    )
    assert set(imported) == {"format", "created", "updated", "unchanged", "skipped", "rejected"}
    after_import = _kept_pairs(database_url)  # the import rescanned inline and kept the results
    document = run(["duplicates", "scan", "--json"], database_url, tmp_path)
    assert set(document) >= {"pairs", "clusters"}
    by_piid = {tuple(sorted((p["piid_a"], p["piid_b"]))) for p in document["pairs"]}
    assert after_import == by_piid == _kept_pairs(database_url)
    truth = json.loads((folder / "truth.json").read_text())
    ignore = set(truth.get("ignore", []))
    gold = {tuple(sorted(pair)) for pair in truth["pairs"]}
    found = {tuple(sorted((p["piid_a"], p["piid_b"]))) for p in document["pairs"]}
    found = {pair for pair in found if not set(pair) & ignore}
    precision = len(found & gold) / len(found)
    recall = len(found & gold) / len(gold)
    # Floors reached on this set (1.000 and 0.970 when written); the issue asks for 0.95 each.
    assert precision >= 0.95 and recall >= 0.95, (precision, recall)
    pair = document["pairs"][0]
    assert pair["division_a"] != pair["division_b"]
    assert pair["overlap_days"] >= 30 and pair["estimated_avoidable_cents"] >= 0
    assert pair["reasons"] and 0 <= pair["score"] <= 1
    assert len(found) == len({tuple(sorted((p["piid_a"], p["piid_b"]))) for p in document["pairs"]})
    cluster = document["clusters"][0]
    assert len(cluster["piids"]) >= 2 and len(set(cluster["divisions"])) >= 2
    assert cluster["total_cents"] > 0


def test_check_before_you_buy_ranks_existing_purchases_first(shared_data, database_url, tmp_path):
    folder = shared_data / "eval" / "duplicates-dev"
    run(["purchases", "import", str(folder / "purchases.csv"), "--json"], database_url, tmp_path)
    matches = run(
        [
            "duplicates",
            "check",
            "--vendor",
            "IQVIA",
            "--text",
            "claims data subscription",
            "--division",
            "CDC",
            "--json",
        ],
        database_url,
        tmp_path,
    )["matches"]
    assert matches, "nothing found for a vendor the register holds"
    best = matches[0]
    assert best["kind"] == "purchase" and best["piid"].startswith("75")
    assert any("IQVIA" in reason for reason in best["reasons"])
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    nothing = run(
        [
            "duplicates",
            "check",
            "--vendor",
            "Zyxwv Unknown LLC",
            "--text",
            "qwerty plorp",
            "--json",
        ],
        database_url,
        tmp_path,
    )["matches"]
    assert all(m["score"] < 0.3 for m in nothing)


def test_check_scores_only_candidates_yet_finds_what_a_full_ranking_finds(shared_data, db):
    """check_need pre-filters through the word index and vendor families; best match unchanged."""
    from procurement.duplicates import check_need, load_purchases
    from procurement.matching import NeedQuery, rank_need
    from procurement.services.imports import ImportOptions, import_awards
    from tests.support import see_latest

    path = shared_data / "eval" / "duplicates-dev" / "purchases.csv"
    import_awards(db, "cli: test", path, ImportOptions(filename=path.name))
    see_latest(db)
    loaded = load_purchases(db)
    needs = [
        NeedQuery("IQVIA", "claims data subscription", division="CDC"),
        NeedQuery("Clarivate", "Web of Science"),
        NeedQuery("", "web of science"),
        NeedQuery("Elsevier", "scopus", division="NIH"),
        NeedQuery("Environmental Systems Research Institute", "ArcGIS Enterprise"),
    ]
    for need in needs:
        full = rank_need(need, loaded.records, limit=20)
        checked = [m for m in check_need(db, need) if m["kind"] == "purchase"]
        assert checked, need
        assert checked[0]["id"] == loaded.ids[full[0].key], need
        assert checked[0]["reasons"][0] == full[0].reasons[0], need
        assert {"kind", "id", "piid", "score", "reasons"} <= set(checked[0])
    odd = check_need(db, NeedQuery('"*', "' OR -- NEAR( *"))
    assert all(m["kind"] != "purchase" for m in odd)
