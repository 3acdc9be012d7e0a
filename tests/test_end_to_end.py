"""Generator -> ingest -> normalize -> redact: what the truth says is in the raw logs is in the lake,
and the seeded PII is not in the curated zone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from benchmarks.synthetic.cli import main as generate
from jobs import ingest, leakscan, normalize, redact
from jobs.lake import Lake

# Generator fault kinds -> the quarantine reason each must get.
EXPECTED_REASON = {
    "empty_line": "empty_line",
    "blank_line": "blank_line",
    "invalid_utf8": "invalid_utf8",
    "nul_byte": "nul_byte",
    "truncated_json": "truncated_json",
    "not_an_object": "not_an_object",
    "oversized": "record_too_large",
    "missing_id": "missing_trajectory_id",
    "wrong_type": "wrong_type",
}


@pytest.fixture(scope="module")
def generated_lake(spark, base_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    raw = root / "raw"
    assert generate(["--trajectories", "300", "--seed", "5", "--out", str(raw)]) == 0
    settings = base_settings.with_overrides(
        {"storage.raw": str(raw), "storage.operational": str(root / "op"), "storage.curated": str(root / "cur")}
    )
    ingested = ingest.run(spark, settings, argparse.Namespace(run_id=None))
    normalized = normalize.run(spark, settings, argparse.Namespace())
    return Lake(spark, settings), raw, ingested, normalized


def _truth(raw: Path, name: str) -> list[dict]:
    return [json.loads(line) for line in (raw / "_truth" / name).read_text().splitlines() if line.strip()]


def test_every_seeded_fault_is_quarantined_with_its_reason(generated_lake):
    lake, raw, _, _ = generated_lake
    quarantine = {
        (r.source_uri.split("/raw/", 1)[1], r.source_line): r.reason
        for r in lake.read("bronze.quarantine").select("source_uri", "source_line", "reason").collect()
    }
    faults = _truth(raw, "malformed.jsonl")
    assert faults, "the generator seeded no faults"
    for fault in faults:
        if fault["line"] is None:
            assert quarantine.get((fault["path"], None)) == "unreadable_file", fault
        elif fault["kind"] in EXPECTED_REASON:
            assert quarantine.get((fault["path"], fault["line"])) == EXPECTED_REASON[fault["kind"]], fault


def test_ingest_accounting_balances_for_every_file(generated_lake):
    lake, raw, ingested, _ = generated_lake
    log = lake.read("bronze.ingest_log").collect()
    files = [p for p in raw.rglob("*.jsonl*") if "_truth" not in p.parts]
    assert len(log) == len(files)
    assert all(r.lines_read == r.bronze_rows + r.quarantine_rows for r in log)
    assert ingested.rows_in == sum(r.lines_read for r in log)


def test_every_well_formed_trajectory_reaches_silver(generated_lake):
    lake, raw, _, normalized = generated_lake
    faulty = {f["trajectory_id"] for f in _truth(raw, "malformed.jsonl") if f.get("trajectory_id")}
    expected = {t["trajectory_id"] for t in _truth(raw, "trajectories.jsonl")} - faulty
    silver = {r.trajectory_id for r in lake.read("silver.trajectories").select("trajectory_id").collect()}
    missing = expected - silver
    # A trajectory whose only copy sat in the truncated tail of a gzip file is lost with it.
    assert len(missing) <= len(_truth(raw, "malformed.jsonl")), sorted(missing)[:5]
    assert len(silver - expected - faulty) == 0
    formats = lake.read("silver.trajectories").groupBy("source_format").count().collect()
    assert len(formats) >= 2
    assert lake.read("bronze.quarantine").where(F.col("reason") == "unknown_format").count() == 0


def test_generated_pii_stays_below_the_leak_limits_after_redaction(spark, generated_lake, tmp_path):
    """Issue 5's gate on generator data: at most 1% of structured values, 5% of names/addresses."""
    lake, raw, _, _ = generated_lake
    redacted = redact.run(spark, lake.settings, argparse.Namespace(full=False))
    assert redacted.rows_out > 0
    report = tmp_path / "leaks.json"
    scan = leakscan.run(spark, lake.settings, argparse.Namespace(truth=None, json_out=str(report), strict=False))
    by_type = {row["entity_type"]: row for row in json.loads(report.read_text())["by_type"]}
    assert {"EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "PERSON", "STREET_ADDRESS"} <= set(by_type)
    over = {t: f"{r['leaked']}/{r['seeded']}" for t, r in by_type.items() if r["leak_rate"] > r["limit"]}
    assert not over, over
    assert scan.detail["over_limit"] == "none"
