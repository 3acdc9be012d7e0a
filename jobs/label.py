"""Label trajectories from their feedback: bronze.feedback -> silver.feedback -> silver.labels.

New feedback is read by ingest run: runs that ingest finished (bronze.ingest_log) and this job
has not logged yet (silver.label_log). A run id is a logical batch name that survives Delta
compaction, VACUUM and ingest's clean-up of crashed runs, and it only exists once its files are
completely in bronze, so a half-written run is never read; Delta version ranges or change data
feed would need the feed enabled at table creation and retained history.

Each event lands once: in silver.feedback when its trajectory is known, in
silver.orphan_feedback while it is not (moved over on the run its trajectory arrives), or in
bronze.quarantine with a reason (bad record, duplicate event id). Labels of the trajectories
that got events, and of trajectories never labeled, are recomputed from all their events and
MERGEd into silver.labels; `--relabel-all` recomputes every label (after a conf change).
Inputs are read at the Delta versions they had when the run started, so retries of a step
see the same data even though the job writes to the tables it reads.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.errors import AccountingError, ConfError
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from schemas.bronze import INGEST_LOG, QUARANTINE, RAW_RECORD
from schemas.feedback import FEEDBACK, LABEL, LABEL_LOG
from schemas.trajectory import TRAJECTORY
from transforms.labels.feedback_events import (
    EVENT_ID, INGEST_RUN_ID, KNOWN_TRAJECTORY, REASON, TRAJECTORY_ID,
    mark_duplicates, parse_feedback, quarantine_rows, with_known_trajectory,
)
from transforms.labels.label_rules import OUTCOME, label_trajectories, supersede_repeats, with_unlabeled
from transforms.labels.params import LabelParams
from transforms.labels.signals import to_signals

NAME = "label"
FEEDBACK_LOG_KIND = "feedback"
OUTPUTS = (
    ("silver.feedback", FEEDBACK),
    ("silver.orphan_feedback", FEEDBACK),
    ("silver.labels", LABEL),
    ("silver.label_log", LABEL_LOG),
    ("bronze.quarantine", QUARANTINE),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--relabel-all", action="store_true",
        help="recompute every trajectory's label from its events (e.g. after changing labels.* conf)",
    )


def label_params(settings: Settings) -> LabelParams:
    try:
        return LabelParams.from_conf(settings["labels"])
    except ValueError as exc:
        raise ConfError(str(exc)) from exc


def pending_runs(lake: Lake) -> list[str]:
    """Feedback ingest runs that ingest finished and this job has not labeled yet."""
    finished = {
        r[0] for r in lake.read_or_empty("bronze.ingest_log", INGEST_LOG)
        .where(F.col("log_kind") == FEEDBACK_LOG_KIND).select(INGEST_RUN_ID).distinct().collect()
    }
    done = {r[0] for r in lake.read("silver.label_log").select(INGEST_RUN_ID).collect()}
    return sorted(finished - done)


def discard_unfinished(lake: Lake, runs: list[str]) -> None:
    """Remove what a crashed earlier attempt at these runs wrote, so they are redone once."""
    if not runs:
        return
    in_runs = F.col(INGEST_RUN_ID).isin(runs)
    for name, condition in [
        ("silver.feedback", in_runs),
        ("silver.orphan_feedback", in_runs),
        ("bronze.quarantine", in_runs & (F.col("stage") == NAME) & (F.col("log_kind") == FEEDBACK_LOG_KIND)),
    ]:
        if lake.read(name).where(condition).limit(1).count():
            lake.delta(name).delete(condition)


def merge_events(lake: Lake, routed: DataFrame) -> None:
    """Known-trajectory events into silver.feedback; orphans in, adopted orphans out of silver.orphan_feedback.

    Insert-only on event_id, so repeating the step after a crash adds nothing twice.
    """
    columns = FEEDBACK.fieldNames()
    known = routed.where(F.col(KNOWN_TRAJECTORY)).select(*columns)
    lake.delta("silver.feedback").alias("t").merge(
        known.alias("s"), f"t.{EVENT_ID} = s.{EVENT_ID}"
    ).whenNotMatchedInsertAll().execute()
    (
        lake.delta("silver.orphan_feedback").alias("t")
        .merge(routed.select(*columns, KNOWN_TRAJECTORY).alias("s"), f"t.{EVENT_ID} = s.{EVENT_ID}")
        .whenMatchedDelete(condition=f"s.{KNOWN_TRAJECTORY}")
        .whenNotMatchedInsert(condition=f"NOT s.{KNOWN_TRAJECTORY}", values={c: f"s.{c}" for c in columns})
        .execute()
    )


def check_accounting(lake: Lake, runs: list[str], records: int) -> None:
    """Every bronze record of these runs is now in silver.feedback, the orphans or quarantine."""
    in_runs = F.col(INGEST_RUN_ID).isin(runs)
    landed = (
        lake.read("silver.feedback").where(in_runs).count()
        + lake.read("silver.orphan_feedback").where(in_runs).count()
        + lake.read("bronze.quarantine").where(in_runs & (F.col("stage") == NAME)).count()
    )
    if landed != records:
        raise AccountingError(
            f"label accounting failed for runs {', '.join(runs)}: {records:,} bronze feedback records "
            f"but {landed:,} landed in silver.feedback + silver.orphan_feedback + quarantine"
        )


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    params = label_params(settings)
    lake = Lake(spark, settings)
    lake.ensure("bronze.feedback", RAW_RECORD)
    for name, schema in OUTPUTS:
        lake.ensure(name, schema)
    runs = pending_runs(lake)
    discard_unfinished(lake, runs)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    pinned = {name: lake.version(name) for name in ("silver.feedback", "silver.orphan_feedback", "silver.labels")}
    feedback = lake.read("silver.feedback", pinned["silver.feedback"])
    orphans = lake.read("silver.orphan_feedback", pinned["silver.orphan_feedback"])
    trajectory_ids = (
        lake.read("silver.trajectories", lake.version("silver.trajectories")) if lake.exists("silver.trajectories")
        else spark.createDataFrame([], TRAJECTORY)
    ).select(TRAJECTORY_ID)
    if runs:
        log.info(f"[label] {len(runs):,} new feedback ingest run(s): {', '.join(runs[:3])}{' ...' if len(runs) > 3 else ''}")

    checked = (
        lake.read("bronze.feedback").where(F.col(INGEST_RUN_ID).isin(runs))
        .transform(parse_feedback, params)
        .transform(mark_duplicates, feedback.unionByName(orphans))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    try:
        counts = {r[0]: r[1] for r in checked.groupBy(REASON).count().collect()}
        records = sum(counts.values())
        quarantined = records - counts.get(None, 0)
        lake.append(quarantine_rows(checked.where(F.col(REASON).isNotNull()), NAME, now), "bronze.quarantine")
        fresh = checked.where(F.col(REASON).isNull()).select(*FEEDBACK.fieldNames())
        routed = (
            fresh.unionByName(orphans)
            .transform(with_known_trajectory, trajectory_ids)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            route_counts = {
                (r[0], r[1]): r[2]
                for r in routed.groupBy(F.col(INGEST_RUN_ID).isin(runs) if runs else F.lit(False), KNOWN_TRAJECTORY)
                .count().collect()
            }
            merge_events(lake, routed)
            touched = routed.where(F.col(KNOWN_TRAJECTORY)).select(TRAJECTORY_ID)
            labeled_ids = lake.read("silver.labels", pinned["silver.labels"]).select(TRAJECTORY_ID)
            to_label = (
                trajectory_ids if args.relabel_all
                else touched.unionByName(trajectory_ids.join(labeled_ids, TRAJECTORY_ID, "left_anti")).distinct()
            )
            n_labeled, outcomes = write_labels(lake, to_label, params, now)
        finally:
            routed.unpersist()
        if runs:
            check_accounting(lake, runs, records)
    finally:
        checked.unpersist()

    if runs:
        lake.append(
            spark.createDataFrame(
                [(run_id, records, records - quarantined, quarantined, now) for run_id in runs], LABEL_LOG
            ),
            "silver.label_log",
        )
    waiting = lake.read("silver.orphan_feedback").count()
    return StageResult(
        records,
        n_labeled,
        {
            "runs": len(runs),
            "events": route_counts.get((True, True), 0) + route_counts.get((True, False), 0),
            "quarantined": quarantined,
            "orphaned": route_counts.get((True, False), 0),
            "adopted": route_counts.get((False, True), 0),
            "orphans_waiting": waiting,
            "outcomes": ",".join(f"{k}:{v}" for k, v in sorted(outcomes.items())) or "-",
        },
    )


def write_labels(lake: Lake, to_label: DataFrame, params: LabelParams, now: datetime) -> tuple[int, dict[str, int]]:
    """Recompute the labels of these trajectories from all their events and MERGE them in."""
    ids = to_label.persist(StorageLevel.MEMORY_AND_DISK)
    try:
        if not ids.limit(1).count():
            return 0, {}
        events = lake.read("silver.feedback").join(ids, TRAJECTORY_ID, "left_semi")
        labels = (
            events.transform(to_signals, params)
            .transform(supersede_repeats, params.latest_per_user)
            .transform(label_trajectories, params, now)
            .transform(with_unlabeled, ids, now)
            .persist(StorageLevel.MEMORY_AND_DISK)
        )
        try:
            outcomes = {r[0]: r[1] for r in labels.groupBy(OUTCOME).count().collect()}
            lake.delta("silver.labels").alias("t").merge(
                labels.alias("s"), f"t.{TRAJECTORY_ID} = s.{TRAJECTORY_ID}"
            ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()
        finally:
            labels.unpersist()
    finally:
        ids.unpersist()
    return sum(outcomes.values()), outcomes


if __name__ == "__main__":
    main_for(__name__)
