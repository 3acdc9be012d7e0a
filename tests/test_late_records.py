"""A trace exported over two files that land in different ingest runs ends as one silver
trajectory, the same as when both files arrive together (jobs.normalize, transforms.regrouping)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from pyspark.sql import functions as F

from benchmarks.synthetic.formats import langfuse, langsmith, otel_genai
from jobs import ingest, normalize
from jobs.lake import Lake
from tests.raw_files import write_lines
from tests.trace_roundtrip import sample_trajectory
from transforms.adapters.registry import BUILT_IN
from transforms.regrouping import grouping, record_keys

# Renderer, and where it puts the line exporters flush last (the root span / trace line / root
# run, written when the run ends): that line, which sets the trajectory id of OTel and LangSmith
# traces, arrives in the second file.
FORMATS = {
    "otel_genai": (otel_genai.render, -1),
    "langfuse": (langfuse.render_flat, 0),
    "langsmith": (langsmith.render_flat, 0),
}
LINEAGE_RUN = ("ingest_run_id", "ingested_at", "source_uri")


# A raw line of each grouping format -> the keys its adapter groups it by (none: a trajectory alone).
GROUP_KEYS = [
    ("otel_genai", {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": " ABC "}, {"traceId": "def"}, {"traceId": "abc"}, {}]}]}]}, ["abc", "def"]),
    ("langfuse", {"id": "o1", "traceId": "t1", "type": "generation", "startTime": "2026-11-01T12:00:00Z"}, ["t1"]),
    ("langfuse", {"id": "t1", "timestamp": "2026-11-01T12:00:00Z", "observations": ["o1"]}, ["t1"]),
    ("langfuse", {"id": "t2", "timestamp": "2026-11-01T12:00:00Z", "observations": [{"id": "o2"}]}, []),
    ("langsmith", {"id": "r2", "run_type": "llm", "parent_run_id": "r1", "dotted_order": "20261101T120000000000Zr1.20261101T120001000000Zr2"}, ["r1"]),
    ("langsmith", {"id": "r1", "run_type": "chain", "child_runs": [{"id": "r2", "run_type": "llm"}]}, []),
    ("openai_chat", {"request": {"messages": [], "metadata": {"trajectory_id": "t9"}}, "response": {"id": "chatcmpl-1"}}, ["t9"]),
    ("openai_chat", {"messages": [{"role": "user", "content": "hi"}]}, []),
]


def test_group_keys_are_the_keys_adapters_group_by(spark):
    assert {a.name for a in grouping(BUILT_IN)} == {fmt for fmt, _, _ in GROUP_KEYS}
    frame = spark.createDataFrame(
        [(fmt, json.dumps(line), "run", "file", i) for i, (fmt, line, _) in enumerate(GROUP_KEYS)],
        "source_format string, record string, ingest_run_id string, source_uri string, source_line long",
    )
    keys = record_keys(frame, BUILT_IN).groupBy("source_line").agg(F.sort_array(F.collect_list("group_key")).alias("keys"))
    got = dict(keys.collect())
    assert [got.get(i, []) for i in range(len(GROUP_KEYS))] == [sorted(expected) for _, _, expected in GROUP_KEYS]


def _two_files(lines: list[dict], root_at: int) -> tuple[list[dict], list[dict]]:
    rest = list(lines)
    root = rest.pop(root_at)
    half = (len(rest) + 1) // 2
    return rest[:half], rest[half:] + [root]


def _land(spark, settings, name: str, lines: list[dict], run_id: str) -> None:
    write_lines(Path(settings["storage.raw"]) / "logs" / name, [json.dumps(x).encode() for x in lines])
    ingest.run(spark, settings, argparse.Namespace(run_id=run_id))


def _normalize(spark, settings):
    return normalize.run(spark, settings, argparse.Namespace())


def _silver(lake: Lake) -> list[dict]:
    rows = [r.asDict(recursive=True) for r in lake.read("silver.trajectories").collect()]
    for row in rows:
        row["source_file"] = row["source_uri"].rsplit("/", 1)[-1]
        for key in LINEAGE_RUN:
            row.pop(key)
    return rows


def _lake(spark, base_settings, root: Path):
    settings = base_settings.with_overrides(
        {"storage.raw": str(root / "raw"), "storage.operational": str(root / "op"), "storage.curated": str(root / "cur")}
    )
    return settings, Lake(spark, settings)


def _split_lake(spark, base_settings, root: Path, fmt: str):
    """A lake where the trace's first file was ingested and normalized, then its second: the
    settings, the lake, the trace's lines and the second normalize's result."""
    render, root_at = FORMATS[fmt]
    lines = render(sample_trajectory(f"late-{fmt}"))
    first, second = _two_files(lines, root_at)
    settings, lake = _lake(spark, base_settings, root)
    _land(spark, settings, "a.jsonl", first, "run-1")
    assert _normalize(spark, settings).rows_out == 1  # a partial trajectory, for now
    _land(spark, settings, "b.jsonl", second, "run-2")
    return settings, lake, lines, _normalize(spark, settings)


@pytest.mark.parametrize("fmt", FORMATS)
def test_trace_split_over_two_runs_is_one_trajectory(spark, base_settings, tmp_path, fmt):
    together, together_lake = _lake(spark, base_settings, tmp_path / "together")
    render, root_at = FORMATS[fmt]
    first, second = _two_files(render(sample_trajectory(f"late-{fmt}")), root_at)
    write_lines(Path(together["storage.raw"]) / "logs" / "a.jsonl", [json.dumps(x).encode() for x in first])
    _land(spark, together, "b.jsonl", second, "run-1")
    _normalize(spark, together)
    [expected] = _silver(together_lake)

    _, lake, _, result = _split_lake(spark, base_settings, tmp_path / "split", fmt)
    assert (result.rows_out, result.detail["extended"], result.detail["duplicates"]) == (0, 1, 0)
    assert _silver(lake) == [expected]
    assert expected["trajectory_id"] == f"late-{fmt}" and (expected["source_file"], expected["source_line"]) == ("a.jsonl", 1)
    assert lake.read("silver.duplicates").count() == 0 and lake.read("bronze.quarantine").count() == 0
    keys = lake.read("silver.trace_keys").collect()
    assert sorted((k.source_format, k.ingest_run_id) for k in keys) == [(fmt, "run-1"), (fmt, "run-2")]


def test_rerun_crash_redo_and_a_whole_reexport(spark, base_settings, tmp_path):
    settings, lake, lines, _ = _split_lake(spark, base_settings, tmp_path, "otel_genai")
    merged, keys = _silver(lake), sorted(lake.read("silver.trace_keys").collect())
    assert _normalize(spark, settings).detail == {"new_runs": 0}

    # A crash after the writes, before the normalize log: the run is redone to the same state.
    lake.delta("silver.normalize_log").delete(F.col("ingest_run_id") == "run-2")
    redo = _normalize(spark, settings)
    assert (redo.rows_out, redo.detail["duplicates"]) == (0, 0)
    assert _silver(lake) == merged and sorted(lake.read("silver.trace_keys").collect()) == keys

    # The whole trace exported again is a duplicate, as before: the batch alone gives silver's row.
    _land(spark, settings, "c.jsonl", lines, "run-3")
    again = _normalize(spark, settings)
    assert (again.rows_out, again.detail["extended"]) == (0, 0)
    dups = [(d.trajectory_id, d.reason, d.same_content, d.ingest_run_id) for d in lake.read("silver.duplicates").collect()]
    assert dups == [("late-otel_genai", "already_in_silver", True, "run-3")]
    assert _silver(lake) == merged
