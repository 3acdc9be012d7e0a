"""Trajectory assembly in Python workers (trace formats, openai_chat): each group's records in,
candidate rows out, as Arrow.

Assembling a trace from Spark column expressions costs tens of thousands of py4j calls to plan
and runs its many higher-order functions interpreted; the same rules in plain Python over
json.loads values are cheaper. An adapter keys its records in Spark (cheap, and normalize needs
the keys anyway), then hands each key's records to a Python function that returns CANDIDATE
rows as dicts (timestamps as epoch microseconds, maps as (key, value) pairs).

A key's records are brought together by repartitioning on the key and sorting within
partitions; mapInArrow then cuts each partition where the key changes: one Python call per
partition. (groupBy(key).applyInArrow, one call per group, took 1.5-2.3x the CPU on the 10k
benchmark lake's LangSmith records.)

Records the adapter rejects in Spark (wrong types, no key) travel the same way, their reason in
REJECT_REASON, and come back as reject candidates without being assembled: the record is parsed
once for its key and its reject. (A second, filtered branch over the same records parsed them all
again: a fifth of the trace adapters' CPU on the 10k benchmark lake.)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import cache

import pyarrow as pa
from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.pandas.types import to_arrow_schema

from transforms.adapters import trace_rules as tr
from transforms.adapters.base import (
    ASSEMBLY_FAILED,
    CANDIDATE,
    INGEST_RUN_ID,
    INGESTED_AT,
    NO_CONTENT,
    RECORDS_KEY,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_URI,
    record_key,
    reject_when,
)
from transforms.surrogates import without_lone_surrogates

# Candidate rows per Arrow batch handed back to Spark.
OUTPUT_BATCH_ROWS = 512
# Longest error text kept in an assembly_failed reject's detail.
FAILURE_DETAIL_CHARS = 500

AssembleGroup = Callable[[list[dict]], list[dict]]
Owns = Callable[[dict], bool]


def _always(row: dict) -> bool:
    return True


@cache
def candidate_arrow_schema() -> pa.Schema:
    """CANDIDATE as Arrow, built once per worker from the Spark schema."""
    return to_arrow_schema(CANDIDATE)


def _rows(batch: pa.RecordBatch | pa.Table) -> list[dict]:
    """The rows of a batch as dicts, timestamps as epoch microseconds."""
    columns = {}
    for name in batch.schema.names:
        column = batch.column(name)
        if pa.types.is_timestamp(column.type):
            column = column.cast(pa.int64())
        columns[name] = column.to_pylist()
    names = list(columns)
    return [dict(zip(names, values)) for values in zip(*columns.values())]


def _batch(candidates: list[dict]) -> pa.RecordBatch:
    try:
        return pa.RecordBatch.from_pylist(candidates, schema=candidate_arrow_schema())
    except UnicodeEncodeError:  # a lone surrogate (see transforms.surrogates): checked only then
        return pa.RecordBatch.from_pylist(without_lone_surrogates(candidates), schema=candidate_arrow_schema())


def assemble(keyed: DataFrame, key: str, columns: list[str], assemble_group: AssembleGroup, source_format: str, owns: Owns = _always) -> DataFrame:
    """CANDIDATE rows from assemble_group(rows of one key), for every key of `keyed`.

    `columns` are the columns handed to Python (timestamps arrive as epoch microseconds); `key`
    and the lineage columns must be among them. REJECT_REASON and REJECT_DETAIL go along whenever
    `keyed` has them (see key_and_rejects): a record with a reason becomes that reject. A group
    whose assembly raises gives an `assembly_failed` reject (with the error) for each record it
    counts (`owns`: a record held by several groups is counted by one), so a shape nobody
    foresaw costs its trace, not the job, and its records reach quarantine.
    """
    rejects = [c for c in (REJECT_REASON, REJECT_DETAIL) if c in keyed.columns and c not in columns]
    chosen = keyed.select(*columns, *rejects)
    assemble_partition = _per_partition(key, assemble_group, source_format, owns)
    return chosen.repartition(key).sortWithinPartitions(key).mapInArrow(assemble_partition, CANDIDATE)


def key_and_rejects(key: Column, name: str, *rules: tuple[Column, str, Column | str | None]) -> list[Column]:
    """For a keyed select: the group key as `name`, and REJECT_REASON / REJECT_DETAIL from
    `rules` (base.reject_when). A record a rule rejects gets a key of its own (record_key), so
    it travels alone and comes back as that reject; the rules alone decide which."""
    reason, detail = reject_when(*rules)
    return [F.when(reason.isNotNull(), record_key()).otherwise(key).alias(name), reason, detail]


def seen(row: dict) -> tuple:
    """Where a record stands in ingestion order (later is greater): the latest export of a run,
    span or observation wins."""
    return (row[INGESTED_AT], row[SOURCE_URI], row[SOURCE_LINE])


def _lineage(row: dict, source_format: str) -> dict:
    return {
        SOURCE_FORMAT: source_format,
        SOURCE_URI: row[SOURCE_URI],
        SOURCE_LINE: row[SOURCE_LINE],
        INGEST_RUN_ID: row[INGEST_RUN_ID],
        INGESTED_AT: row[INGESTED_AT],
    }


def finished(content: dict, source_format: str, rows: list[dict]) -> dict:
    """A trace's candidate: its content fields, the lineage of its earliest-ingested record, and a
    `no_content` reject when it has neither input, steps nor output."""
    first = min(rows, key=lambda r: (*seen(r), r[INGEST_RUN_ID]))
    empty = tr.no_content(content["input"], content["steps"], content["final_output"])
    return {
        **content,
        **_lineage(first, source_format),
        REJECT_REASON: NO_CONTENT if empty else None,
        REJECT_DETAIL: tr.NO_CONTENT_DETAIL if empty else None,
    }


def rejected(row: dict, key: str, source_format: str, reason: str, detail: str | None, records: int = 1) -> dict:
    """A reject candidate for a record: no content, the record's lineage, and how many bronze
    records it accounts for; its trajectory_id (never null in CANDIDATE) is the record's key."""
    content = {field.name: None for field in CANDIDATE.fields}
    content["trajectory_id"] = str(row[key])
    content["metadata"] = {"extra": [(RECORDS_KEY, str(records))]}
    return {**content, **_lineage(row, source_format), REJECT_REASON: reason, REJECT_DETAIL: detail}


def _assembled(group: list[dict], key: str, assemble_group: AssembleGroup, source_format: str, owns: Owns) -> list[dict]:
    try:
        return assemble_group(group)
    except Exception as error:  # any error: reported per record, the other traces go on
        detail = f"{type(error).__name__}: {error}"[:FAILURE_DETAIL_CHARS]
        return [rejected(row, key, source_format, ASSEMBLY_FAILED, detail) for row in group if owns(row)]


def _per_partition(key: str, assemble_group: AssembleGroup, source_format: str, owns: Owns):
    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        out: list[dict] = []
        group: list[dict] = []
        for batch in batches:
            for row in _rows(batch):
                if row.get(REJECT_REASON) is not None:  # rejected in Spark: its key is its own
                    out.append(rejected(row, key, source_format, row[REJECT_REASON], row[REJECT_DETAIL]))
                    continue
                if group and row[key] != group[0][key]:
                    out += _assembled(group, key, assemble_group, source_format, owns)
                    group = []
                group.append(row)
            if len(out) >= OUTPUT_BATCH_ROWS:
                yield _batch(out)
                out = []
        if group:
            out += _assembled(group, key, assemble_group, source_format, owns)
        if out:
            yield _batch(out)

    return run
