"""chispa tests for the normalize transforms on tiny frames."""

from __future__ import annotations

import gzip
import json
import re

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from schemas.bronze import RAW_RECORD
from tests.format_fixtures import FORMATS_DIR, OVERWRITTEN, detected_candidates, every_fixture_line, fixture_lines, with_repeated_keys
from tests.raw_files import native_record
from transforms.adapters import native
from transforms.adapters.base import Adapter, TopFields
from transforms.adapters.registry import BUILT_IN
from transforms.completeness import with_completeness
from transforms.format_detection import detect_format
from transforms.raw_lines import split_lines
from transforms.trajectory_identity import ID_RANK, rank_by_trajectory_id, with_content_hash

STEP = "STRUCT<index: INT, kind: STRING, role: STRING, content: STRING, reasoning: STRING, tool: STRUCT<call_id: STRING, name: STRING, arguments: STRING, result: STRING, error: STRING>>"


def test_split_lines_numbers_lines_and_gives_reasons(spark):
    files = spark.createDataFrame(
        [("f.jsonl", b'{"a": 1}\n\n[1]\r\n{"b": 2}\n'), ("g.jsonl.gz", gzip.compress(b'{"c": 3}\n'))],
        "path STRING, content BINARY",
    )
    out = split_lines(files, 100).select("row_type", "source_uri", "source_line", "record", "reason", "lines_read")
    expected = spark.createDataFrame(
        [
            ("line", "f.jsonl", 1, '{"a": 1}', None, None),
            ("line", "f.jsonl", 2, None, "empty_line", None),
            ("line", "f.jsonl", 3, None, "not_an_object", None),
            ("line", "f.jsonl", 4, '{"b": 2}', None, None),
            ("file", "f.jsonl", None, None, None, 4),
            ("line", "g.jsonl.gz", 1, '{"c": 3}', None, None),
            ("file", "g.jsonl.gz", None, None, None, 1),
        ],
        out.schema,
    )
    assert_df_equality(out, expected, ignore_row_order=True)


def test_detect_format_takes_the_first_matching_adapter(spark):
    records = spark.createDataFrame([('{"format": "trajlake.v1"}',), ('{"x": 1}',), ('{"y": 2}',)], "record STRING")
    other = Adapter("y_format", lambda r: r["y"].isNotNull(), lambda df: df, detect_fields=("y",))
    out = detect_format(records, [native.ADAPTER, other])
    expected = spark.createDataFrame(
        [('{"format": "trajlake.v1"}', "native"), ('{"x": 1}', None), ('{"y": 2}', "y_format")],
        "record STRING, source_format STRING",
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_detect_format_parses_once_and_tags_as_each_detector_alone(spark):
    """The shared json_tuple parse gives every built-in detector what get_json_object gave it."""
    lines = [text for folder in sorted(p.name for p in FORMATS_DIR.iterdir() if p.is_dir()) for text, _, _ in fixture_lines(folder)]
    odd = ['{"format": null}', '{"format": 1}', '{"type": "span", "startTime": "x"}', '{"run_type": "llm", "id": null}',
           '{"resourceSpans": []', '[{"format": "trajlake.v1"}]', '{"request": {"messages": "no"}}', '{"messages": [], "extra": 1}']
    records = spark.createDataFrame([(t,) for t in lines + odd + [json.dumps(native_record("t-1"))]], "record STRING")
    alone = F.lit(None).cast("string")
    for adapter in reversed(BUILT_IN):
        alone = F.when(adapter.detects(TopFields(F.col("record"))), F.lit(adapter.name)).otherwise(alone)
    expected = records.withColumn("source_format", alone)
    out = detect_format(records, BUILT_IN)
    assert out.where(F.col("source_format").isNotNull()).select("source_format").distinct().count() == len(BUILT_IN)
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_a_detector_reading_a_field_it_did_not_declare_is_an_error(spark):
    records = spark.createDataFrame([('{"y": 2}',)], "record STRING")
    undeclared = Adapter("y_format", lambda r: r["y"].isNotNull(), lambda df: df)
    with pytest.raises(KeyError, match="detect_fields"):
        detect_format(records, [native.ADAPTER, undeclared])


def test_a_repeated_json_key_reads_as_its_last_value_in_every_adapter(spark):
    """Spark's defaults failed the whole batch on an OpenAI line whose metadata repeats a key
    (a map field) and quarantined trace records as wrong_type (variant fields)."""
    lines = every_fixture_line()
    repeated = [(with_repeated_keys(text), number, uri) for text, number, uri in lines]
    assert sum(text.count(OVERWRITTEN) for text, _, _ in repeated) > len(lines)
    openai_metadata = re.compile(rf'"metadata": \{{("[^"]+"): "{OVERWRITTEN}", \1:')
    assert any(openai_metadata.search(with_repeated_keys(text)) for text, _, _ in fixture_lines("openai_chat"))
    expected = detected_candidates(spark, lines, BUILT_IN)
    assert len([c for c in expected if c["reject_reason"] is None]) >= len(BUILT_IN)
    assert detected_candidates(spark, repeated, BUILT_IN) == expected


_TEXT_VALUE = re.compile(r'("(?:content|text|input|output|arguments|result|query|thinking|reasoning_content)"\s*:\s*")')


def test_a_lone_surrogate_escape_reads_as_a_question_mark_in_every_adapter(spark):
    """Half an emoji ("\\ud83d" alone) failed the whole task in the Python assembly (Arrow cannot
    encode it); Spark reads it as "?", and so does every adapter now."""
    lines = every_fixture_line()

    def inserted(text_at_start: str) -> list[tuple[str, int, str]]:
        return [(_TEXT_VALUE.sub(lambda m: m[1] + text_at_start, text), number, uri) for text, number, uri in lines]

    halves = inserted("\\ud83d")
    assert sum(text.count("\\ud83d") for text, _, _ in halves) > len(lines)
    expected = detected_candidates(spark, inserted("?"), BUILT_IN)
    assert sum(1 for c in expected if c["reject_reason"] is None and (c["input"] or "").startswith("?")) >= 4
    assert detected_candidates(spark, halves, BUILT_IN) == expected


def test_completeness_lists_captured_parts_in_order(spark):
    frame = spark.createDataFrame(
        [
            ("a", "hi", None, [("k", "kb", "doc", 0.5)], [(0, "tool", "assistant", None, None, ("c", "f", "{}", "ok", None))], "bye", "v1", 10),
            ("b", "  ", "sys", [], [(0, "reasoning", "assistant", None, "think", None)], None, None, None),
        ],
        f"trajectory_id STRING, input STRING, system_prompt STRING, "
        f"context_docs ARRAY<STRUCT<doc_id: STRING, source: STRING, content: STRING, score: DOUBLE>>, "
        f"steps ARRAY<{STEP}>, final_output STRING, version STRING, latency LONG",
    ).select(
        "trajectory_id", "input", "system_prompt", "context_docs", "steps", "final_output",
        F.struct(F.col("version").alias("version")).alias("model"),
        F.struct(F.col("latency").alias("latency_ms")).alias("metadata"),
    )
    out = with_completeness(frame).select("trajectory_id", "completeness")
    expected = spark.createDataFrame(
        [("a", ["input", "context", "steps", "tool_results", "output", "model_version", "latency"]),
         ("b", ["system_prompt", "steps", "reasoning"])],
        "trajectory_id STRING, completeness ARRAY<STRING>",
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def _content_frame(spark, rows):
    return spark.createDataFrame(
        rows,
        f"trajectory_id STRING, system_prompt STRING, input STRING, "
        f"context_docs ARRAY<STRUCT<doc_id: STRING, content: STRING>>, steps ARRAY<{STEP}>, "
        f"tools_available ARRAY<STRUCT<name: STRING>>, final_output STRING, "
        f"ingested_at TIMESTAMP, source_uri STRING, source_line LONG",
    )


def test_content_hash_ignores_ids_but_not_content(spark):
    import datetime as dt

    now = dt.datetime(2026, 11, 1)
    frame = _content_frame(spark, [
        ("x", "s", "hi", [], [], [], "out", now, "f", 1),
        ("y", "s", "hi", [], [], [], "out", now, "f", 2),
        ("z", "s", "hi!", [], [], [], "out", now, "f", 3),
    ])
    hashes = {r.trajectory_id: r.content_hash for r in with_content_hash(frame).collect()}
    assert hashes["x"] == hashes["y"] != hashes["z"]


def test_rank_keeps_the_earliest_ingested_then_file_then_line(spark):
    import datetime as dt

    early, late = dt.datetime(2026, 11, 1), dt.datetime(2026, 11, 2)
    frame = with_content_hash(_content_frame(spark, [
        ("d", "s", "late", [], [], [], "o", late, "a", 1),
        ("d", "s", "second line", [], [], [], "o", early, "b", 2),
        ("d", "s", "first line", [], [], [], "o", early, "b", 1),
        ("e", "s", "alone", [], [], [], "o", late, "a", 9),
    ]))
    out = rank_by_trajectory_id(frame).select("trajectory_id", "input", ID_RANK)
    expected = spark.createDataFrame(
        [("d", "first line", 1), ("d", "second line", 2), ("d", "late", 3), ("e", "alone", 1)],
        f"trajectory_id STRING, input STRING, {ID_RANK} INT",
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)


def test_native_adapter_rejects_with_reasons(spark):
    rows = [
        ('{"format": "trajlake.v1", "trajectory_id": "ok", "input": "hi"}', 10, "f", 1, "r", None),
        ('{"format": "trajlake.v1", "input": "no id"}', 10, "f", 2, "r", None),
        ('{"format": "trajlake.v1", "trajectory_id": "t", "steps": 5}', 10, "f", 3, "r", None),
    ]
    out = native.to_trajectories(spark.createDataFrame(rows, RAW_RECORD)).select("source_line", "trajectory_id", "reject_reason")
    expected = spark.createDataFrame(
        [(1, "ok", None), (2, None, "missing_trajectory_id"), (3, "t", "wrong_type")],
        "source_line LONG, trajectory_id STRING, reject_reason STRING",
    )
    assert_df_equality(out, expected, ignore_row_order=True, ignore_nullable=True)
