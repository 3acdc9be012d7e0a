"""python_assembly: each key's records reach one Python call, and a trace whose assembly raises
becomes quarantine-ready rejects (one per record it counts) while the other traces go on."""

from __future__ import annotations

from datetime import datetime

from chispa import assert_df_equality
from pyspark.sql import functions as F

from transforms.adapters import python_assembly
from transforms.adapters.base import (
    ASSEMBLY_FAILED,
    INGEST_RUN_ID,
    INGESTED_AT,
    RECORD,
    RECORDS_KEY,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_LINE,
    SOURCE_URI,
)

KEY = "_key"
COLUMNS = [RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, KEY]
AT = datetime(2026, 11, 1, 12, 0)


def _keyed(spark):
    rows = [
        ('{"n": 1}', "file:///logs/a.jsonl", 1, "run-1", AT, "broken"),
        ('{"n": 2}', "file:///logs/a.jsonl", 2, "run-1", AT, "broken"),
        ('{"n": 3}', "file:///logs/a.jsonl", 3, "run-1", AT, "fine"),
        ('{"n": 4}', "file:///logs/b.jsonl", 1, "run-1", AT, "fine"),
    ]
    return spark.createDataFrame(rows, f"{RECORD} string, {SOURCE_URI} string, {SOURCE_LINE} long, {INGEST_RUN_ID} string, {INGESTED_AT} timestamp, {KEY} string")


def _assembler():
    """The group function (made here, so it is shipped to the Python workers by value)."""

    def assemble(rows: list[dict]) -> list[dict]:
        if rows[0][KEY] == "broken":
            raise ValueError("a shape no rule foresaw")
        content = {"trajectory_id": rows[0][KEY], "input": f"{len(rows)} records", "steps": None, "final_output": None}
        return [python_assembly.finished(content, "test_format", rows)]

    return assemble


def _counts_line_2():
    def owns(row: dict) -> bool:
        return row[SOURCE_LINE] == 2

    return owns


def _outcome(candidates):
    return candidates.select(
        SOURCE_URI, SOURCE_LINE, "input", REJECT_REASON, REJECT_DETAIL, F.col("metadata.extra")[RECORDS_KEY].alias("records")
    ).orderBy(SOURCE_URI, SOURCE_LINE)


def test_a_trace_whose_assembly_raises_is_rejected_record_by_record(spark):
    candidates = python_assembly.assemble(_keyed(spark), KEY, COLUMNS, _assembler(), "test_format")
    failed = "ValueError: a shape no rule foresaw"
    expected = spark.createDataFrame(
        [
            ("file:///logs/a.jsonl", 1, None, ASSEMBLY_FAILED, failed, "1"),
            ("file:///logs/a.jsonl", 2, None, ASSEMBLY_FAILED, failed, "1"),
            ("file:///logs/a.jsonl", 3, "2 records", None, None, None),
        ],
        _outcome(candidates).schema,
    )
    assert_df_equality(_outcome(candidates), expected, ignore_nullable=True)
    assert {(r["source_format"], r["trajectory_id"]) for r in candidates.collect()} == {("test_format", "broken"), ("test_format", "fine")}


def test_a_failed_trace_rejects_only_the_records_it_counts(spark):
    """A record held by several traces (an OTLP request) is counted by one: only that one rejects it."""
    candidates = python_assembly.assemble(_keyed(spark), KEY, COLUMNS, _assembler(), "test_format", owns=_counts_line_2())
    rejected = [(r[SOURCE_LINE], r[REJECT_REASON]) for r in candidates.where(F.col(REJECT_REASON).isNotNull()).collect()]
    assert rejected == [(2, ASSEMBLY_FAILED)]


def test_a_record_rejected_in_spark_comes_back_as_its_reject_without_being_assembled(spark):
    """Rejects travel with the records (one parse in Spark for both); each keeps its reason and
    detail, counts its one record, and is left out of every group."""
    reasons = F.when(F.col(SOURCE_LINE) == 3, F.lit("wrong_type")).cast("string")
    keyed = (
        _keyed(spark)
        .where(F.col(KEY) == "fine")
        .withColumn(REJECT_REASON, reasons)
        .withColumn(REJECT_DETAIL, F.when(reasons.isNotNull(), F.lit("a field has the wrong type")))
    )
    candidates = python_assembly.assemble(keyed, KEY, [*COLUMNS, REJECT_REASON, REJECT_DETAIL], _assembler(), "test_format")
    expected = spark.createDataFrame(
        [
            ("file:///logs/a.jsonl", 3, None, "wrong_type", "a field has the wrong type", "1"),
            ("file:///logs/b.jsonl", 1, "1 records", None, None, None),
        ],
        _outcome(candidates).schema,
    )
    assert_df_equality(_outcome(candidates), expected, ignore_nullable=True)
