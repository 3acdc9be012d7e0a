"""Ingest raw trajectory, feedback and consent logs into bronze, losing nothing.

Every line of every new file lands in its bronze table or in `bronze.quarantine` with a reason;
per file, lines read = bronze rows + quarantine rows, checked after the write (a mismatch fails
the run). Files already in `bronze.ingest_log` are skipped, so reruns add nothing; rows written
by a run that never reached its log entry (a crash) are removed before the next run redoes it.
"""

from __future__ import annotations

import argparse
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.errors import AccountingError
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from jobs.spark_session import CACHE_LEVEL
from schemas.bronze import INGEST_LOG, QUARANTINE, RAW_RECORD
from transforms.raw_lines import ROW_FILE, ROW_LINE, split_lines

NAME = "ingest"
TRAJECTORIES, FEEDBACK, CONSENT = LOG_KINDS = ("trajectories", "feedback", "consent")
FILE_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz", ".ndjson", ".ndjson.gz")
STATUS_INGESTED = "ingested"
STATUS_UNREADABLE = "unreadable"


@dataclass(frozen=True)
class RawFile:
    uri: str
    log_kind: str
    size: int
    modified_at: datetime


def bronze_table(log_kind: str) -> str:
    return f"bronze.{log_kind}"


def list_raw_files(lake: Lake, folder: str, log_kind: str) -> list[RawFile]:
    """Every log file below folder (recursively), skipping `_` and `.` entries as Hadoop does."""
    if not lake.path_exists(folder):
        return []
    fs, root = lake.filesystem(folder)
    found = []
    iterator = fs.listFiles(root, True)
    while iterator.hasNext():
        status = iterator.next()
        path = status.getPath()
        relative = path.toUri().getPath()[len(root.toUri().getPath()):]
        if any(part.startswith(("_", ".")) for part in relative.split("/") if part):
            continue
        if not path.getName().endswith(FILE_SUFFIXES):
            continue
        modified = datetime.fromtimestamp(status.getModificationTime() / 1000, tz=timezone.utc)
        found.append(RawFile(path.toString(), log_kind, int(status.getLen()), modified))
    return sorted(found, key=lambda f: f.uri)


def pending_files(lake: Lake, settings: Settings) -> list[RawFile]:
    raw_root = lake.require_raw_root()
    done = {r.source_uri for r in lake.read_or_empty("bronze.ingest_log", INGEST_LOG).select("source_uri").collect()}
    pending = []
    for log_kind in LOG_KINDS:
        folder = f"{raw_root}/{str(settings[f'ingest.sources.{log_kind}']).strip('/')}"
        pending.extend(f for f in list_raw_files(lake, folder, log_kind) if f.uri not in done)
    return pending


def finished_runs(lake: Lake, log_kind: str) -> set[str]:
    """Ingest runs that wrote `log_kind` rows and finished: the runs a later stage may read.

    The ingest log is written last, so it is the commit mark: a run still writing, or one that
    crashed (its rows are removed and redone by the next ingest), is not among them. It is a
    row per file, where bronze holds every record.
    """
    logged = lake.read_or_empty("bronze.ingest_log", INGEST_LOG)
    return {r[0] for r in logged.where((F.col("log_kind") == log_kind) & (F.col("bronze_rows") > 0)).select("ingest_run_id").distinct().collect()}


def discard_unfinished_runs(lake: Lake) -> int:
    """Remove rows of runs that crashed before logging their files, so a rerun adds them once."""
    finished = [r.ingest_run_id for r in lake.read_or_empty("bronze.ingest_log", INGEST_LOG).select("ingest_run_id").distinct().collect()]
    unfinished = ~F.col("ingest_run_id").isin(finished) if finished else F.lit(True)
    removed = 0
    for name in [bronze_table(k) for k in LOG_KINDS] + ["bronze.quarantine"]:
        if not lake.exists(name):
            continue
        condition = unfinished & (F.col("stage") == NAME) if name == "bronze.quarantine" else unfinished
        stale = lake.read(name).where(condition).count()
        if stale:
            lake.delta(name).delete(condition)
            removed += stale
    return removed


def quarantine_rows(lines: DataFrame, kinds: DataFrame, run_id: str, now: datetime) -> DataFrame:
    return (
        lines.where(F.col("reason").isNotNull())
        .join(kinds, "source_uri")
        .select(
            F.lit(NAME).alias("stage"),
            "log_kind",
            "source_uri",
            "source_line",
            "reason",
            "detail",
            "raw",
            F.coalesce("raw_encoding", F.lit("none")).alias("raw_encoding"),
            F.lit(run_id).alias("ingest_run_id"),
            F.lit(now).cast("timestamp").alias("quarantined_at"),
        )
    )


def bronze_rows(lines: DataFrame, run_id: str, now: datetime) -> DataFrame:
    return lines.where((F.col("row_type") == ROW_LINE) & F.col("reason").isNull()).select(
        "record",
        "record_bytes",
        "source_uri",
        "source_line",
        F.lit(run_id).alias("ingest_run_id"),
        F.lit(now).cast("timestamp").alias("ingested_at"),
    )


def check_accounting(lake: Lake, files: list[RawFile], lines: DataFrame, run_id: str) -> list:
    """Per file: lines read (from the split) vs rows now in bronze + quarantine for this run."""
    read = lines.where(F.col("row_type") == ROW_FILE).select(
        "source_uri", "lines_read", F.col("reason").alias("file_fault")
    )
    written = None
    for log_kind in LOG_KINDS:
        name = bronze_table(log_kind)
        part = lake.read(name).where(F.col("ingest_run_id") == run_id).select("source_uri", F.lit(1).alias("b"), F.lit(0).alias("q"))
        written = part if written is None else written.unionByName(part)
    quarantined = (
        lake.read("bronze.quarantine")
        .where((F.col("ingest_run_id") == run_id) & (F.col("stage") == NAME) & F.col("source_line").isNotNull())
        .select("source_uri", F.lit(0).alias("b"), F.lit(1).alias("q"))
    )
    counts = written.unionByName(quarantined).groupBy("source_uri").agg(
        F.sum("b").alias("bronze_rows"), F.sum("q").alias("quarantine_rows")
    )
    per_file = (
        read.join(counts, "source_uri", "left")
        .select(
            "source_uri",
            "lines_read",
            "file_fault",
            F.coalesce("bronze_rows", F.lit(0)).cast("long").alias("bronze_rows"),
            F.coalesce("quarantine_rows", F.lit(0)).cast("long").alias("quarantine_rows"),
        )
        .collect()
    )
    seen = {r.source_uri for r in per_file}
    missing = [f.uri for f in files if f.uri not in seen]
    bad = [r for r in per_file if r.lines_read != r.bronze_rows + r.quarantine_rows]
    if missing or bad:
        first = bad[0] if bad else None
        raise AccountingError(
            f"ingest accounting failed for run {run_id}: "
            + (f"{len(missing)} file(s) not read (e.g. {missing[0]}); " if missing else "")
            + (
                f"{len(bad)} file(s) with lines read != bronze + quarantine "
                f"(e.g. {first.source_uri}: {first.lines_read} != {first.bronze_rows} + {first.quarantine_rows})"
                if first else ""
            )
        )
    return per_file


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    lake = Lake(spark, settings)
    removed = discard_unfinished_runs(lake)
    if removed:
        log.info(f"[ingest] removed {removed:,} rows of an unfinished earlier run; redoing its files")
    files = pending_files(lake, settings)
    for name, schema in [(bronze_table(k), RAW_RECORD) for k in LOG_KINDS] + [
        ("bronze.quarantine", QUARANTINE), ("bronze.ingest_log", INGEST_LOG)
    ]:
        lake.ensure(name, schema)
    if not files:
        return StageResult(0, 0, {"new_files": 0})
    run_id = args.run_id or f"ingest-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    log.info(f"[ingest] {len(files):,} new file(s), {sum(f.size for f in files):,} bytes, run {run_id}")

    kinds = spark.createDataFrame([(f.uri, f.log_kind) for f in files], "source_uri STRING, log_kind STRING")
    contents = spark.read.format("binaryFile").load([f.uri for f in files])
    lines = split_lines(contents, int(settings["ingest.max_record_bytes"])).persist(CACHE_LEVEL)
    try:
        clean = bronze_rows(lines, run_id, now).join(F.broadcast(kinds), "source_uri")
        for log_kind in LOG_KINDS:
            lake.append(
                clean.where(F.col("log_kind") == log_kind).select(*RAW_RECORD.fieldNames()),
                bronze_table(log_kind),
            )
        lake.append(quarantine_rows(lines, F.broadcast(kinds), run_id, now), "bronze.quarantine")
        per_file = check_accounting(lake, files, lines, run_id)
    finally:
        lines.unpersist()

    by_uri = {f.uri: f for f in files}
    finished = datetime.now(timezone.utc).replace(tzinfo=None)
    log_rows = [
        (
            r.source_uri, by_uri[r.source_uri].log_kind, by_uri[r.source_uri].size,
            by_uri[r.source_uri].modified_at.replace(tzinfo=None), r.lines_read, r.bronze_rows,
            r.quarantine_rows, STATUS_UNREADABLE if r.file_fault else STATUS_INGESTED, run_id, finished,
        )
        for r in per_file
    ]
    lake.append(spark.createDataFrame(log_rows, INGEST_LOG), "bronze.ingest_log")
    lines_read = sum(r.lines_read for r in per_file)
    bronze = sum(r.bronze_rows for r in per_file)
    quarantined = sum(r.quarantine_rows for r in per_file)
    unreadable = sum(1 for r in per_file if r.file_fault)
    return StageResult(
        lines_read, bronze,
        {"files": len(files), "quarantined": quarantined, "unreadable_files": unreadable, "run": run_id},
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run-id", default=None, help="name this run (default: time + random suffix)")


if __name__ == "__main__":
    main_for(__name__)
