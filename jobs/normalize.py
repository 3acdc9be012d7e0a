"""Normalize bronze trajectory records of every source format into silver.trajectories.

Each record is detected as one format and mapped by its adapter into the canonical schema.
Records no adapter accepts, or that fail the schema, go to quarantine with their reason; a
trajectory id seen twice keeps one row (the first ingested) and records the others in
silver.duplicates. Only ingest runs that finished (in bronze.ingest_log) and are not yet in
silver.normalize_log are read, so reruns add nothing, and a run ingest is still writing, or
crashed in, waits; rows of a normalize that crashed before logging are removed and redone.

Late records: a trace whose records arrive over several ingest runs is assembled again, from
all of them, when a later run brings more (see `earlier_records`); the re-assembled trajectory
replaces the silver row when its content changed (`extended`) and is not a duplicate. A batch
that alone re-exports the whole trace is still an `already_in_silver` duplicate.
"""

from __future__ import annotations

import argparse
import functools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.adapter_plans import AdapterPlans
from jobs.errors import AccountingError
from jobs.ingest import TRAJECTORIES, finished_runs
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from jobs.spark_session import CACHE_LEVEL
from schemas.bronze import QUARANTINE, RAW_RECORD
from schemas.trajectory import DUPLICATE_ID, LINEAGE_FIELDS, NORMALIZE_LOG, STEP_KINDS, TRACE_KEYS, TRAJECTORY
from transforms.adapters.base import INGEST_RUN_ID, RECORDS_KEY, REJECT_DETAIL, REJECT_REASON, SOURCE_FORMAT, Adapter
from transforms.adapters.registry import adapters
from transforms.completeness import with_completeness
from transforms.format_detection import detect_format, to_candidates
from transforms.regrouping import FORMAT_KEY, RECORD_ID, grouping, key_index, record_keys, records_with, widen
from transforms.trajectory_identity import CONTENT_HASH, ID_RANK, KEPT_HASH, rank_by_trajectory_id, with_content_hash

NAME = "normalize"
UNKNOWN_FORMAT = "unknown_format"
INVALID_STEP_KIND = "invalid_step_kind"
DUPLICATE_IN_BATCH = "duplicate_in_batch"
ALREADY_IN_SILVER = "already_in_silver"
TRACE_KEYS_TABLE = "silver.trace_keys"

# What the batch does with each accepted candidate (ACTION column of merge_actions).
ACTION = "_action"
INSERT = "insert"
EXTEND = "extend"  # a re-assembled trace whose content grew: replaces the silver row
UNCHANGED = "unchanged"  # a re-assembled trace silver already holds as it is
REASSEMBLED = "_reassembled"
SILVER_HASH = "_silver_hash"
DELETE = "_delete"


def done_runs(lake: Lake) -> set[str]:
    return {r[0] for r in lake.read_or_empty("silver.normalize_log", NORMALIZE_LOG).select("ingest_run_id").collect()}


def ensure_trace_keys(lake: Lake, all_adapters: list[Adapter], done: list[str]) -> bool:
    """Create silver.trace_keys (True when this call did); a lake normalized before it existed
    gets it built from the runs already normalized (`done`: one read of their bronze, once, in a
    single commit)."""
    if lake.exists(TRACE_KEYS_TABLE):
        return False
    if not done:
        return lake.ensure(TRACE_KEYS_TABLE, TRACE_KEYS)
    earlier = detect_format(lake.read("bronze.trajectories").where(F.col(INGEST_RUN_ID).isin(done)), all_adapters)
    lake.append(key_index(record_keys(earlier, all_adapters)), TRACE_KEYS_TABLE)
    return False


def discard_unfinished(lake: Lake, runs: list[str], created: set[str]) -> None:
    """Remove what a crashed earlier attempt at these runs wrote, so they are redone once.

    Tables this run `created` are skipped: they hold nothing, and probing one costs about a
    second (Delta computes its state first).
    """
    if not runs:
        return
    in_runs = F.col("ingest_run_id").isin(runs)
    written = {
        name: condition
        for name, condition in [
            ("silver.trajectories", in_runs),
            ("silver.duplicates", in_runs),
            ("bronze.quarantine", in_runs & (F.col("stage") == NAME)),
            (TRACE_KEYS_TABLE, in_runs),
        ]
        if name not in created and lake.exists(name)
    }
    # One query looks in every table (a job per table costs about a second each, every run).
    probes = [lake.read(name).where(condition).select(F.lit(name).alias("table")).limit(1) for name, condition in written.items()]
    if not probes:
        return
    for (name,) in functools.reduce(DataFrame.unionByName, probes).collect():
        lake.delta(name).delete(written[name])


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
    """Rejected candidates with the raw record of their (first) line.

    The few rejected lines pick their raw text out of the batch through a broadcast semi-join:
    a plain join would shuffle every record of the batch to find them.
    """
    line = ["source_uri", "source_line"]
    raw = (
        bronze.join(F.broadcast(rejected.select(*line).distinct()), line, "left_semi")
        .select(*line, F.col("record").alias("raw"))
    )
    return rejected.join(raw, line, "left").select(
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


def earlier_records(lake: Lake, runs: list[str], tagged: DataFrame, batch_keys: DataFrame, all_adapters: list[Adapter]) -> DataFrame | None:
    """The tagged records to assemble again, this batch's and earlier runs', because a trace
    they belong to has records in both; None when the batch continues no earlier trace.

    Why an index: bronze grows without bound and holds the raw text, while silver.trace_keys
    (format, trace key, run; written by every batch) is three short columns per trace and run.
    A batch that continues no earlier trace costs one small join; one that does reads only the
    runs involved (whole runs: Delta skips the other runs' files), never the bronze history.
    The key set is then closed over the records found (an OTLP request can carry several traces,
    each of which must be whole too); it usually takes one round.
    """
    index = lake.read(TRACE_KEYS_TABLE).where(~F.col(INGEST_RUN_ID).isin(runs))
    wanted = batch_keys.select(*FORMAT_KEY).distinct().join(index, FORMAT_KEY, "left_semi").localCheckpoint()
    if wanted.isEmpty():
        return None
    read: list[str] = []
    pool, keys = tagged, batch_keys
    while True:
        involved = {r[0] for r in index.join(wanted, FORMAT_KEY, "left_semi").select(INGEST_RUN_ID).distinct().collect()}
        if involved - set(read):
            read = sorted(involved | set(read))
            earlier = detect_format(lake.read("bronze.trajectories").where(F.col(INGEST_RUN_ID).isin(read)), all_adapters)
            pool = tagged.unionByName(earlier)
            keys = batch_keys.unionByName(record_keys(earlier, all_adapters)).localCheckpoint()
        wider = widen(keys, wanted).localCheckpoint()
        if wider.count() == wanted.count():
            break
        wanted = wider
    return pool.join(records_with(keys, wanted), [SOURCE_FORMAT, *RECORD_ID], "left_semi")


def consumed_and_rejected(candidates: DataFrame, rejected: Column) -> tuple[int, int]:
    """How many bronze records the candidates account for, and how many match `rejected` (one pass)."""
    row = candidates.select(
        F.sum(F.coalesce(F.col("metadata.extra")[RECORDS_KEY].cast("long"), F.lit(1))),
        F.count(F.when(rejected, F.lit(1))),
    ).head()
    return row[0] or 0, row[1]


def merge_actions(ranked: DataFrame) -> DataFrame:
    """ACTION of each ranked candidate: insert (new id), extend / unchanged (a trace that earlier
    runs' records were assembled into again: replaces the silver row when its content changed),
    duplicate_in_batch, already_in_silver."""
    first = F.col(ID_RANK) == 1
    in_silver = F.col(SILVER_HASH).isNotNull()
    action = (
        F.when(~first, F.lit(DUPLICATE_IN_BATCH))
        .when(~in_silver, F.lit(INSERT))
        .when(F.col(REASSEMBLED) & (F.col(CONTENT_HASH) != F.col(SILVER_HASH)), F.lit(EXTEND))
        .when(F.col(REASSEMBLED), F.lit(UNCHANGED))
        .otherwise(F.lit(ALREADY_IN_SILVER))
    )
    return ranked.withColumn(ACTION, action)


def with_renames(ranked: DataFrame, superseded: DataFrame) -> tuple[DataFrame, DataFrame]:
    """A trace's trajectory id can change as it grows: OTel's trajlake.trajectory_id attribute and
    a LangSmith root's metadata come with the root span or run, often exported last. The silver
    row the earlier records made (`superseded`: silver rows whose first record was assembled
    again) and the grown trajectory share that first record; when the grown one is inserted
    under another id it replaces that row (extend). Returns the ranked rows with those inserts
    marked extend, and the (trajectory_id) of the silver rows they replace."""
    lineage = [SOURCE_FORMAT, *RECORD_ID]
    gone = superseded.join(ranked.select("trajectory_id"), "trajectory_id", "left_anti")
    grown = ranked.where(F.col(REASSEMBLED) & (F.col(ACTION) == INSERT)).select(*lineage).distinct()
    renamed = grown.join(gone, lineage, "left_semi").withColumn("_renamed", F.lit(True))
    stale = gone.join(renamed, lineage, "left_semi").select("trajectory_id").distinct()
    marked = ranked.join(renamed, lineage, "left").withColumn(
        ACTION,
        F.when(F.coalesce(F.col("_renamed"), F.lit(False)) & F.col(REASSEMBLED) & (F.col(ACTION) == INSERT), F.lit(EXTEND))
        .otherwise(F.col(ACTION)),
    )
    return marked.drop("_renamed"), stale


def duplicate_rows(dups: DataFrame, now: datetime) -> DataFrame:
    return dups.select(
        "trajectory_id",
        F.col(ACTION).alias("reason"),
        (F.col(CONTENT_HASH) == F.coalesce(SILVER_HASH, KEPT_HASH)).alias("same_content"),
        CONTENT_HASH, SOURCE_FORMAT, "source_uri", "source_line", "ingest_run_id",
        F.lit(now).cast("timestamp").alias("recorded_at"),
    )


def merge_into_silver(lake: Lake, rows: DataFrame, stale: DataFrame | None) -> None:
    """One commit: insert new ids, replace the content (not the lineage: the first record's) of
    extended ones, delete the rows renamed trajectories replace."""
    fields = TRAJECTORY.fieldNames()
    lineage = {f.name for f in LINEAGE_FIELDS}
    source = rows.select(*fields, F.lit(False).alias(DELETE))
    if stale is not None:
        source = source.unionByName(
            stale.select(*[(F.col(f.name) if f.name == "trajectory_id" else F.lit(None).cast(f.dataType)).alias(f.name) for f in TRAJECTORY.fields], F.lit(True).alias(DELETE))
        )
    (
        lake.delta("silver.trajectories").alias("s")
        .merge(source.alias("n"), "s.trajectory_id = n.trajectory_id")
        .whenMatchedDelete(condition=f"n.{DELETE}")
        .whenMatchedUpdate(condition=f"s.{CONTENT_HASH} <> n.{CONTENT_HASH}", set={c: f"n.{c}" for c in fields if c not in lineage})
        .whenNotMatchedInsert(condition=f"NOT n.{DELETE}", values={c: f"n.{c}" for c in fields})
        .execute()
    )


def append_to_silver(lake: Lake, rows: DataFrame) -> None:
    """Write a batch that only inserts: ids silver did not hold at the version they were ranked
    against. A plain append, where a MERGE would copy its source and scan silver for matches
    (about 4 s of a 10k batch)."""
    lake.append(rows.select(*TRAJECTORY.fieldNames()), "silver.trajectories")


def reexported_whole(batch_records: DataFrame, unchanged: DataFrame, existing: DataFrame, batch_adapters: list[Adapter], now: datetime) -> DataFrame:
    """already_in_silver rows for the traces silver holds unchanged that the batch's own records
    alone assemble into (a trace exported again in full): a duplicate, as for one-record formats.
    A batch that only completed a trace (or its redo after a crash) assembles into less."""
    formats = {r[0] for r in batch_records.select(SOURCE_FORMAT).distinct().collect()}
    alone = (
        to_candidates(batch_records, [a for a in batch_adapters if a.name in formats])
        .transform(validate_steps)
        .where(F.col(REJECT_REASON).isNull())
        .transform(with_content_hash)
    )
    whole = (
        alone.join(unchanged, "trajectory_id", "left_semi")
        .join(existing, "trajectory_id")
        .where(F.col(CONTENT_HASH) == F.col(SILVER_HASH))
    )
    return duplicate_rows(whole.withColumn(ACTION, F.lit(ALREADY_IN_SILVER)).withColumn(KEPT_HASH, F.col(SILVER_HASH)), now)


def ensure_tables(lake: Lake, all_adapters: list[Adapter], done: list[str]) -> set[str]:
    """Create the tables normalize writes that are not there yet; the names of those it created.
    (`done`: the runs normalized before.)"""
    created = {
        name
        for name, schema in [
            ("silver.trajectories", TRAJECTORY), ("silver.duplicates", DUPLICATE_ID),
            ("silver.normalize_log", NORMALIZE_LOG), ("bronze.quarantine", QUARANTINE),
        ]
        if lake.ensure(name, schema)
    }
    if ensure_trace_keys(lake, all_adapters, done):
        created.add(TRACE_KEYS_TABLE)
    return created


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    lake = Lake(spark, settings)
    lake.ensure("bronze.trajectories", RAW_RECORD)
    done = sorted(done_runs(lake))
    # Only runs ingest finished: one still writing, or one that crashed and will be redone, is
    # left for later (the ingest log is its commit mark).
    runs = sorted(finished_runs(lake, TRAJECTORIES) - set(done))
    all_adapters = adapters(settings["normalize.mappings"])
    if not runs:
        ensure_tables(lake, all_adapters, done)
        return StageResult(0, 0, {"new_runs": 0})
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    in_batch = F.col(INGEST_RUN_ID).isin(runs)
    bronze = lake.read("bronze.trajectories").where(in_batch)
    tagged = detect_format(bronze, all_adapters).persist(CACHE_LEVEL)
    cached: list[DataFrame] = [tagged]
    # Driver work (Delta commits and log reads, query plans) runs beside cluster work: the batch is
    # tagged and cached while the tables are prepared, and the small tables are written while
    # silver is. Spark runs jobs of several threads at once.
    background = ThreadPoolExecutor(max_workers=2, thread_name_prefix="normalize")
    plans = AdapterPlans(tagged, all_adapters)
    try:
        tagging = background.submit(lambda: dict(tagged.groupBy(SOURCE_FORMAT).count().collect()))
        created = ensure_tables(lake, all_adapters, done)
        discard_unfinished(lake, runs, created)
        records_by_format = tagging.result()
        records_in, n_unknown = sum(records_by_format.values()), records_by_format.get(None, 0)
        # Only the formats present in this batch: each adapter's plan costs seconds to build.
        present = set(records_by_format)
        plans.only(present)
        log.info("normalize: %s records of runs %s; formats %s", f"{records_in:,}", ", ".join(runs), ", ".join(sorted(p or "unknown" for p in present)))
        batch_adapters = [a for a in all_adapters if a.name in present]
        unknown = tagged.where(F.col(SOURCE_FORMAT).isNull()).select(
            "source_uri", "source_line", "ingest_run_id",
            F.lit(UNKNOWN_FORMAT).alias(REJECT_REASON),
            F.lit("no adapter recognises this record").alias(REJECT_DETAIL),
        )
        grouped = grouping(batch_adapters)
        batch_keys = record_keys(tagged, grouped).localCheckpoint() if grouped else None
        # A trace-key index made by this run is empty: no earlier run's records to look for (the
        # join and checkpoint that find none cost seconds in a lake's first normalize).
        continues = grouped and TRACE_KEYS_TABLE not in created
        regroup = earlier_records(lake, runs, tagged, batch_keys, all_adapters) if continues else None
        # Earlier runs' records of the traces this batch continues are mapped with it, in the same
        # adapter pass (the groups are closed over keys, so no trace is split between them).
        earlier = None
        if regroup is not None:
            regroup = regroup.persist(CACHE_LEVEL)
            cached.append(regroup)
            earlier = regroup.where(~in_batch)
        # The plans built in the background are over this batch alone; with earlier records
        # joining, the adapters are planned again over both.
        mapped = plans.candidates(batch_adapters) if earlier is None else to_candidates(tagged.unionByName(earlier), batch_adapters)
        candidates = (
            mapped
            # The union has a partition per partition of each adapter's branches (dozens of small
            # ones); every later pass over the cached candidates would pay a task for each.
            .coalesce(spark.sparkContext.defaultParallelism)
            .transform(validate_steps)
            .withColumn(REASSEMBLED, ~in_batch)  # its first record is an earlier run's
            .persist(CACHE_LEVEL)
        )
        cached.append(candidates)
        # A reject whose (first) record is an earlier run's was quarantined by that run.
        batch_reject = F.col(REJECT_REASON).isNotNull() & in_batch
        n_consumed, n_batch_rejected = consumed_and_rejected(candidates, batch_reject)
        n_earlier = 0 if earlier is None else earlier.count()
        if n_consumed + n_unknown != records_in + n_earlier:
            raise AccountingError(
                f"normalize accounting failed: {records_in:,} bronze records in (and {n_earlier:,} of earlier "
                f"runs assembled with them), but adapters accounted for {n_consumed:,} and {n_unknown:,} were unrecognised"
            )
        rejected = candidates.where(batch_reject)
        # The normalize log, written last, waits for these.
        writing = [
            background.submit(
                lake.append,
                quarantine_rows(rejected.select("source_uri", "source_line", "ingest_run_id", REJECT_REASON, REJECT_DETAIL).unionByName(unknown), tagged, now),
                "bronze.quarantine",
            )
        ]
        if grouped:
            writing.append(background.submit(lake.append, key_index(batch_keys), TRACE_KEYS_TABLE))
        accepted = (
            candidates.where(F.col(REJECT_REASON).isNull())
            .drop(REJECT_REASON, REJECT_DETAIL)
            .transform(with_completeness)
            .transform(with_content_hash)
            .transform(rank_by_trajectory_id)
        )
        # Pinned to the version before this batch's merge, so later reads see the same answer.
        silver = lake.read("silver.trajectories", version=lake.version("silver.trajectories"))
        existing = silver.select("trajectory_id", F.col(CONTENT_HASH).alias(SILVER_HASH))
        ranked = accepted.join(existing, "trajectory_id", "left").transform(merge_actions)
        stale = None
        if regroup is not None:
            superseded = silver.join(regroup.select(SOURCE_FORMAT, *RECORD_ID), [SOURCE_FORMAT, *RECORD_ID], "left_semi")
            ranked, stale = with_renames(ranked, superseded.select("trajectory_id", SOURCE_FORMAT, *RECORD_ID))
        ranked = ranked.persist(CACHE_LEVEL)
        cached.append(ranked)
        by_action = ranked.groupBy(ACTION, SOURCE_FORMAT).count().collect()
        counts: Counter[str] = Counter()
        for action, _, n in by_action:
            counts[action] += n
        written = ranked.where(F.col(ACTION).isin(INSERT, EXTEND))
        if stale is None:  # no earlier records joined: nothing to extend or replace
            append_to_silver(lake, written)
        else:
            merge_into_silver(lake, written, stale)
        # Duplicates keep this batch's lineage, so a crashed batch's ones are found and redone.
        duplicates = duplicate_rows(ranked.where(F.col(ACTION).isin(DUPLICATE_IN_BATCH, ALREADY_IN_SILVER) & in_batch), now)
        if counts.get(UNCHANGED):
            unchanged = ranked.where(F.col(ACTION) == UNCHANGED).select("trajectory_id")
            duplicates = duplicates.unionByName(reexported_whole(regroup.where(in_batch), unchanged, existing, batch_adapters, now))
        lake.append(duplicates, "silver.duplicates")
        for write in writing:
            write.result()
        n_fresh, n_extended = counts.get(INSERT, 0), counts.get(EXTEND, 0)
        n_dup = lake.read("silver.duplicates").where(in_batch).count()
        n_rejected = n_batch_rejected + n_unknown
        by_format = {r[1]: r[2] for r in by_action if r[0] == INSERT}
    finally:
        background.shutdown(wait=True)  # after an error: its jobs still read the cached frames
        plans.close()
        for frame in reversed(cached):
            frame.unpersist()
    log_rows = [(run_id, records_in, n_fresh, n_dup, n_rejected, now) for run_id in runs]
    lake.append(spark.createDataFrame(log_rows, NORMALIZE_LOG), "silver.normalize_log")
    formats = ",".join(f"{k}:{v}" for k, v in sorted(by_format.items()))
    return StageResult(
        records_in, n_fresh,
        {"duplicates": n_dup, "extended": n_extended, "quarantined": n_rejected, "formats": formats or "-"},
    )


if __name__ == "__main__":
    main_for(__name__)
