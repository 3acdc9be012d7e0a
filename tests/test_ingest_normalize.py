"""Ingest and normalize end to end on hand-made raw files: every line accounted for."""

from __future__ import annotations

import argparse
import gzip
import json
import random

import pytest
from pyspark.sql import functions as F

from jobs import ingest, normalize
from jobs.errors import StorageError
from tests.raw_files import line, native_record, write_lines

NO_ARGS = argparse.Namespace(run_id=None)

# One line per kind of malformed input, with the reason it must get.
MALFORMED = [
    (b"", "empty_line"),
    (b"   \t ", "blank_line"),
    (b'{"format": "trajlake.v1", "trajectory_id": "t-bad-utf8", "input": "caf\xe9"}', "invalid_utf8"),
    (b'{"format": "trajlake.v1", "trajectory_id": "t-nul", "input": "a\x00b"}', "nul_byte"),
    (b'{"format": "trajlake.v1", "trajectory_id": "t-trunc", "input": "cut her', "truncated_json"),
    (b"this is not json at all", "not_json"),
    (b'{"a": 1} trailing', "not_json"),
    (b'[{"format": "trajlake.v1"}]', "not_an_object"),
    (b"42", "not_an_object"),
    (b'"just a string"', "not_an_object"),
    (b'{"format": "trajlake.v1", "input": "x" , "pad": "' + b"y" * 3000 + b'"}', "record_too_large"),
    (b'{"format": "trajlake.v1", "deep": ' + b"[" * 1000 + b"]" * 1000 + b"}", "too_deep"),
    (b'{"some": "other log", "id": 7}', "unknown_format"),
    (line(native_record(None)), "missing_trajectory_id"),
    (line(native_record("")), "missing_trajectory_id"),
    (line(native_record("t-wrong", steps="not a list")), "wrong_type"),
    (line(native_record("t-kind", steps=[{"index": 0, "kind": "dance", "content": "x"}])), "invalid_step_kind"),
]


@pytest.fixture
def small_limit(fresh_settings):
    return fresh_settings.with_overrides({"ingest.max_record_bytes": 2048})


def _raw(settings):
    from pathlib import Path

    return Path(settings["storage.raw"])


def test_every_malformed_kind_lands_in_quarantine_with_its_reason(spark, lake, small_limit):
    raw = _raw(small_limit)
    good = [line(native_record(f"t-{i}")) for i in range(3)]
    write_lines(raw / "logs" / "native" / "dt=2026-11-01" / "part-0.jsonl", good[:1] + [m for m, _ in MALFORMED] + good[1:])
    write_lines(raw / "feedback" / "dt=2026-11-01" / "part-0.jsonl", [b'{"event_id": "e1", "trajectory_id": "t-0", "kind": "thumbs", "value": true, "source": "human"}'])
    write_lines(raw / "consent" / "part-0.jsonl", [b'{"user_id": "u-1", "status": "granted", "updated_at": "2026-11-01T00:00:00Z"}'])

    result = ingest.run(spark, small_limit, NO_ARGS)
    norm = normalize.run(spark, small_limit, argparse.Namespace())

    lake.register()
    reasons = {
        (r.source_line, r.reason)
        for r in lake.read("bronze.quarantine").select("source_line", "reason").collect()
    }
    expected = {(i + 2, reason) for i, (_, reason) in enumerate(MALFORMED)}
    assert reasons == expected
    assert len({reason for _, reason in MALFORMED}) >= 12 and len(MALFORMED) >= 15
    lines_in_file = 3 + len(MALFORMED)
    assert result.rows_in == lines_in_file + 2  # + feedback + consent
    logged = {r.source_uri.rsplit("/", 1)[-1]: r for r in lake.read("bronze.ingest_log").collect()}
    assert all(r.lines_read == r.bronze_rows + r.quarantine_rows for r in logged.values())
    assert lake.read("bronze.feedback").count() == 1 and lake.read("bronze.consent").count() == 1
    assert sorted(r.trajectory_id for r in lake.read("silver.trajectories").collect()) == ["t-0", "t-1", "t-2"]
    assert norm.rows_out == 3
    bad_utf8 = lake.read("bronze.quarantine").where(F.col("reason") == "invalid_utf8").head()
    assert bad_utf8.raw_encoding == "base64" and b"caf\xe9" in __import__("base64").b64decode(bad_utf8.raw)


def test_truncated_gzip_is_recorded_and_other_files_go_on(spark, lake, fresh_settings):
    raw = _raw(fresh_settings)
    # Incompressible inputs, so the first half of the stream holds whole lines.
    lines = [line(native_record(f"g-{i}", input=random.Random(i).randbytes(300).hex())) for i in range(50)]
    whole = gzip.compress(b"".join(item + b"\n" for item in lines))
    (raw / "logs" / "a").mkdir(parents=True)
    (raw / "logs" / "a" / "cut.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    write_lines(raw / "logs" / "b" / "ok.jsonl.gz", [line(native_record("ok-1")), line(native_record("ok-2"))], gz=True)

    ingest.run(spark, fresh_settings, NO_ARGS)

    file_rows = lake.read("bronze.quarantine").where(F.col("source_line").isNull()).collect()
    assert [r.reason for r in file_rows] == ["unreadable_file"]
    assert "truncated gzip" in file_rows[0].detail and file_rows[0].source_uri.endswith("cut.jsonl.gz")
    log = {r.source_uri.rsplit("/", 1)[-1]: r for r in lake.read("bronze.ingest_log").collect()}
    assert log["cut.jsonl.gz"].status == "unreadable" and log["ok.jsonl.gz"].status == "ingested"
    assert log["ok.jsonl.gz"].bronze_rows == 2
    salvaged = lake.read("bronze.trajectories").where(F.col("source_uri").endswith("cut.jsonl.gz")).count()
    assert 0 < salvaged < 50  # complete lines before the cut are kept


def test_rerun_adds_nothing_and_new_files_are_picked_up_alone(spark, lake, fresh_settings):
    raw = _raw(fresh_settings)
    write_lines(raw / "logs" / "dt=1" / "p0.jsonl", [line(native_record(f"r-{i}")) for i in range(4)])
    first = ingest.run(spark, fresh_settings, NO_ARGS)
    normalize.run(spark, fresh_settings, argparse.Namespace())
    again = ingest.run(spark, fresh_settings, NO_ARGS)
    assert (first.rows_out, again.rows_out) == (4, 0)
    assert normalize.run(spark, fresh_settings, argparse.Namespace()).rows_out == 0

    write_lines(raw / "logs" / "dt=2" / "p0.jsonl", [line(native_record("r-9")), line(native_record("r-0"))])
    third = ingest.run(spark, fresh_settings, NO_ARGS)
    second_norm = normalize.run(spark, fresh_settings, argparse.Namespace())
    assert third.detail["files"] == 1 and third.rows_out == 2
    assert lake.read("bronze.trajectories").count() == 6
    assert second_norm.rows_out == 1  # r-0 was already there
    dup = lake.read("silver.duplicates").collect()
    assert [(d.trajectory_id, d.reason, d.same_content) for d in dup] == [("r-0", "already_in_silver", True)]


def test_crashed_run_is_redone_without_duplicates(spark, lake, fresh_settings):
    raw = _raw(fresh_settings)
    write_lines(raw / "logs" / "p0.jsonl", [line(native_record(f"c-{i}")) for i in range(3)])
    ingest.run(spark, fresh_settings, NO_ARGS)
    # A crash after the bronze write but before the ingest log: drop the log entry.
    lake.delta("bronze.ingest_log").delete(F.lit(True))
    ingest.run(spark, fresh_settings, NO_ARGS)
    assert lake.read("bronze.trajectories").count() == 3
    assert lake.read("bronze.trajectories").select("ingest_run_id").distinct().count() == 1


def test_normalize_waits_for_an_ingest_run_to_finish(spark, lake, fresh_settings):
    """Bronze rows of a run without its ingest log entry (still writing, or crashed) are not
    normalized: the next ingest removes and redoes them, under another run id."""
    raw = _raw(fresh_settings)
    write_lines(raw / "logs" / "p0.jsonl", [line(native_record(f"w-{i}")) for i in range(3)])
    ingest.run(spark, fresh_settings, NO_ARGS)
    lake.delta("bronze.ingest_log").delete(F.lit(True))  # as if ingest had not logged yet
    assert normalize.run(spark, fresh_settings, argparse.Namespace()).rows_out == 0
    ingest.run(spark, fresh_settings, NO_ARGS)
    redone = normalize.run(spark, fresh_settings, argparse.Namespace())
    assert (redone.rows_in, redone.rows_out, redone.detail["duplicates"]) == (3, 3, 0)
    runs = {r[0] for r in lake.read("silver.trajectories").select("ingest_run_id").distinct().collect()}
    assert runs == {r[0] for r in lake.read("bronze.trajectories").select("ingest_run_id").distinct().collect()}


def test_duplicate_ids_in_one_batch_keep_the_first_ingested(spark, lake, fresh_settings):
    raw = _raw(fresh_settings)
    write_lines(raw / "logs" / "a.jsonl", [line(native_record("d-1")), line(native_record("d-1", input="edited"))])
    ingest.run(spark, fresh_settings, NO_ARGS)
    normalize.run(spark, fresh_settings, argparse.Namespace())
    kept = lake.read("silver.trajectories").collect()
    assert [(k.trajectory_id, k.input, k.source_line) for k in kept] == [("d-1", "Where is my refund?", 1)]
    dup = lake.read("silver.duplicates").head()
    assert (dup.reason, dup.source_line, dup.same_content) == ("duplicate_in_batch", 2, False)


def test_canonical_row_is_complete(spark, lake, fresh_settings):
    raw = _raw(fresh_settings)
    write_lines(raw / "logs" / "a.jsonl", [line(native_record("full")), line(native_record("bare", system_prompt=None, context_docs=[], steps=[], final_output=None))])
    ingest.run(spark, fresh_settings, NO_ARGS)
    normalize.run(spark, fresh_settings, argparse.Namespace())
    rows = {r.trajectory_id: r for r in lake.read("silver.trajectories").collect()}
    assert rows["full"].completeness == ["input", "system_prompt", "context", "steps", "tool_results", "reasoning", "output", "model_version", "latency"]
    assert rows["bare"].completeness == ["input", "model_version", "latency"]
    full = rows["full"]
    assert full.steps[1].tool.name == "lookup_order" and json.loads(full.steps[1].tool.result)["status"] == "refunded"
    assert full.source_format == "native" and full.source_line == 1 and len(full.content_hash) == 64
    assert str(full.metadata.started_at) == "2026-11-01 12:00:00"


def test_missing_raw_root_is_a_clear_error(spark, fresh_settings):
    with pytest.raises(StorageError, match="raw storage root does not exist"):
        ingest.run(spark, fresh_settings.with_overrides({"storage.raw": "/definitely/not/here"}), NO_ARGS)
