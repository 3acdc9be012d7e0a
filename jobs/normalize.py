"""Normalize bronze trajectory records of every source format into silver.trajectories.

Each record is detected as one format and mapped by its adapter into the canonical schema.
Records no adapter accepts, or that fail the schema, go to quarantine with their reason; a
trajectory id seen twice keeps one row (the first ingested) and records the others in
silver.duplicates. Only ingest runs not yet in silver.normalize_log are read, so reruns add
nothing; rows of a run that crashed before logging are removed and redone.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.errors import AccountingError
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from schemas.bronze import QUARANTINE, RAW_RECORD
from schemas.trajectory import DUPLICATE_ID, NORMALIZE_LOG, STEP_KINDS, TRAJECTORY
from transforms.adapters import adapters
from transforms.adapters.base import REJECT_DETAIL, REJECT_REASON, SOURCE_FORMAT
from transforms.completeness import with_completeness
from transforms.format_detection import detect_format, to_candidates
from transforms.trajectory_identity import ID_RANK, KEPT_HASH, rank_by_trajectory_id, with_content_hash

NAME = "normalize"
UNKNOWN_FORMAT = "unknown_format"
INVALID_STEP_KIND = "invalid_step_kind"
DUPLICATE_IN_BATCH = "duplicate_in_batch"
ALREADY_IN_SILVER = "already_in_silver"
RECORDS_KEY = "records"  # metadata.extra: how many bronze records a grouped candidate consumed


def pending_runs(lake: Lake) -> list[str]:
    done = {r[0] for r in lake.read_or_empty("silver.normalize_log", NORMALIZE_LOG).select("ingest_run_id").collect()}
    bronze_runs = {r[0] for r in lake.read("bronze.trajectories").select("ingest_run_id").distinct().collect()}
    return sorted(bronze_runs - done)


def discard_unfinished(lake: Lake, runs: list[str]) -> None:
    """Remove what a crashed earlier attempt at these runs wrote, so they are redone once."""
    if not runs:
        return
    in_runs = F.col("ingest_run_id").isin(runs)
    for name, condition in [
        ("silver.trajectories", in_runs),
        ("silver.duplicates", in_runs),
        ("bronze.quarantine", in_runs & (F.col("stage") == NAME)),
    ]:
        if lake.exists(name) and lake.read(name).where(condition).limit(1).count():
            lake.delta(name).delete(condition)


def validate_steps(candidates: DataFrame) -> DataFrame:
    """Reject candidates whose steps use a kind outside the canonical vocabulary."""
    bad_kind = F.coalesce(
        F.exists(F.coalesce(F.col("steps"), F.array()), lambda s: ~s["kind"].isin(*STEP_KINDS) | s["kind"].isNull()),
        F.lit(False),
    )
    return candidates.withColumn(
        REJECT_DETAIL, F.when(F.col(REJECT_REASON).isNull() & bad_kind, F.lit(f"step kind not in {', '.join(STEP_KINDS)}")).otherwise(F.col(REJECT_DETAIL))
    ).withColumn(
        REJECT_REASON, F.when(F.col(REJECT_REASON).isNull() & bad_kind, F.lit(INVALID_STEP_KIND)).otherwise(F.col(REJECT_REASON))
    )


def quarantine_rows(rejected: DataFrame, bronze: DataFrame, now: datetime) -> DataFrame:
    """Rejected candidates with the raw record of their (first) line."""
    raw = bronze.select("source_uri", "source_line", F.col("record").alias("raw"))
    return rejected.join(raw, ["source_uri", "source_line"], "left").select(
        F.lit(NAME).alias("stage"),
        F.lit("trajectories").alias("log_kind"),
        "source_uri",
        "source_line",
        F.col(REJECT_REASON).alias("reason"),
        F.col(REJECT_DETAIL).alias("detail"),
        "raw",
        F.lit("utf-8").alias("raw_encoding"),
        "ingest_run_id",
        F.lit(now).cast("timestamp").alias("quarantined_at"),
    )


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    lake = Lake(spark, settings)
    lake.ensure("bronze.trajectories", RAW_RECORD)
    runs = pending_runs(lake)
    for name, schema in [
        ("silver.trajectories", TRAJECTORY), ("silver.duplicates", DUPLICATE_ID),
        ("silver.normalize_log", NORMALIZE_LOG), ("bronze.quarantine", QUARANTINE),
    ]:
        lake.ensure(name, schema)
    if not runs:
        return StageResult(0, 0, {"new_runs": 0})
    discard_unfinished(lake, runs)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    bronze = lake.read("bronze.trajectories").where(F.col("ingest_run_id").isin(runs))
    all_adapters = adapters(settings["normalize.mappings"])
    tagged = detect_format(bronze, all_adapters).persist(StorageLevel.MEMORY_AND_DISK)
    try:
        records_in = tagged.count()
        # Only the formats present in this batch: each adapter's plan costs seconds to build.
        present = {r[0] for r in tagged.select(SOURCE_FORMAT).distinct().collect()}
        batch_adapters = [a for a in all_adapters if a.name in present]
        unknown = tagged.where(F.col(SOURCE_FORMAT).isNull()).select(
            "source_uri", "source_line", "ingest_run_id",
            F.lit(UNKNOWN_FORMAT).alias(REJECT_REASON),
            F.lit("no adapter recognises this record").alias(REJECT_DETAIL),
        )
        candidates = (
            to_candidates(tagged, batch_adapters)
            .transform(validate_steps)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        consumed = candidates.select(
            F.sum(F.coalesce(F.col("metadata.extra")[RECORDS_KEY].cast("long"), F.lit(1)))
        ).head()[0] or 0
        n_unknown = unknown.count()
        if consumed + n_unknown != records_in:
            raise AccountingError(
                f"normalize accounting failed: {records_in:,} bronze records in, but adapters "
                f"accounted for {consumed:,} and {n_unknown:,} were unrecognised"
            )
        rejected = candidates.where(F.col(REJECT_REASON).isNotNull())
        lake.append(
            quarantine_rows(rejected.select("source_uri", "source_line", "ingest_run_id", REJECT_REASON, REJECT_DETAIL).unionByName(unknown), tagged, now),
            "bronze.quarantine",
        )
        accepted = (
            candidates.where(F.col(REJECT_REASON).isNull())
            .drop(REJECT_REASON, REJECT_DETAIL)
            .transform(with_completeness)
            .transform(with_content_hash)
            .transform(rank_by_trajectory_id)
        )
        # Pinned to the version before this batch's merge, so later reads see the same answer.
        before = lake.version("silver.trajectories")
        existing = lake.read("silver.trajectories", version=before).select("trajectory_id", F.col("content_hash").alias("_silver_hash"))
        ranked = accepted.join(existing, "trajectory_id", "left").persist(StorageLevel.MEMORY_AND_DISK)
        fresh = ranked.where((F.col(ID_RANK) == 1) & F.col("_silver_hash").isNull())
        lake.delta("silver.trajectories").alias("s").merge(
            fresh.select(*TRAJECTORY.fieldNames()).alias("n"), "s.trajectory_id = n.trajectory_id"
        ).whenNotMatchedInsertAll().execute()
        duplicates = ranked.where((F.col(ID_RANK) > 1) | F.col("_silver_hash").isNotNull()).select(
            "trajectory_id",
            F.when(F.col("_silver_hash").isNotNull(), F.lit(ALREADY_IN_SILVER)).otherwise(F.lit(DUPLICATE_IN_BATCH)).alias("reason"),
            (F.col("content_hash") == F.coalesce("_silver_hash", KEPT_HASH)).alias("same_content"),
            "content_hash", SOURCE_FORMAT, "source_uri", "source_line", "ingest_run_id",
            F.lit(now).cast("timestamp").alias("recorded_at"),
        )
        lake.append(duplicates, "silver.duplicates")
        n_fresh = fresh.count()
        n_dup = lake.read("silver.duplicates").where(F.col("ingest_run_id").isin(runs)).count()
        n_rejected = rejected.count() + n_unknown
        by_format = {r[0]: r[1] for r in fresh.groupBy(SOURCE_FORMAT).count().collect()}
        ranked.unpersist()
        candidates.unpersist()
    finally:
        tagged.unpersist()
    log_rows = [(run_id, records_in, n_fresh, n_dup, n_rejected, now) for run_id in runs]
    lake.append(spark.createDataFrame(log_rows, NORMALIZE_LOG), "silver.normalize_log")
    formats = ",".join(f"{k}:{v}" for k, v in sorted(by_format.items()))
    return StageResult(records_in, n_fresh, {"duplicates": n_dup, "quarantined": n_rejected, "formats": formats or "-"})


if __name__ == "__main__":
    main_for(__name__)
