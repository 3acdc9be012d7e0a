"""Label trajectories from their feedback: bronze.feedback -> silver.feedback -> silver.labels.

New feedback is read by ingest run: runs that ingest finished (bronze.ingest_log) and this job
has not logged yet (silver.label_log). Ingest logs a run only after its rows are written and
accounted for, so a half-written run is never read; a run id is a logical batch name that
survives Delta compaction, VACUUM and ingest's removal of crashed runs, whereas Delta version
ranges or change data feed would need retained history and the feed enabled at table creation.

Each event lands once: in silver.feedback when its trajectory is known, in
silver.orphan_feedback while it is not (moved over on the run its trajectory arrives), or in
bronze.quarantine with a reason (bad record, duplicate event id). Labels of the trajectories
that got events, and of trajectories never labeled, are recomputed from all their events and
MERGEd into silver.labels; `--relabel-all` recomputes every label (after a conf change).
What is read from a table this job then writes is materialized first (local checkpoints), so
every step of the run sees the tables as they were when it started. A run that dies before its
log entry is redone whole on the next run: its rows are removed first, writes are insert-only
MERGEs or full recomputations, so the retry changes nothing twice.
"""

from __future__ import annotations

import argparse
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs import ingest
from jobs.errors import AccountingError, ConfError
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from schemas.bronze import QUARANTINE, RAW_RECORD
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
    """Feedback ingest runs that ingest finished and this job has not labeled yet (both logs are small)."""
    done = {r[0] for r in lake.read("silver.label_log").select(INGEST_RUN_ID).collect()}
    return sorted(ingest.finished_runs(lake, ingest.FEEDBACK) - done)


def _own_quarantine(runs: list[str]):
    return F.col(INGEST_RUN_ID).isin(runs) & (F.col("stage") == NAME) & (F.col("log_kind") == ingest.FEEDBACK)


def _run_rows(lake: Lake, runs: list[str]) -> DataFrame:
    """One row (the table's name) per row these runs have in the tables this job writes them to."""
    in_runs = F.col(INGEST_RUN_ID).isin(runs)
    parts = [
        lake.read(name).where(condition).select(F.lit(name).alias("table"))
        for name, condition in [
            ("silver.feedback", in_runs), ("silver.orphan_feedback", in_runs), ("bronze.quarantine", _own_quarantine(runs)),
        ]
    ]
    return parts[0].unionByName(parts[1]).unionByName(parts[2])


def discard_unfinished(lake: Lake, runs: list[str]) -> None:
    """Remove what a crashed earlier attempt at these runs wrote, so they are redone once."""
    if not runs:
        return
    for (name,) in _run_rows(lake, runs).distinct().collect():
        lake.delta(name).delete(_own_quarantine(runs) if name == "bronze.quarantine" else F.col(INGEST_RUN_ID).isin(runs))


def merge_feedback(lake: Lake, routed: DataFrame) -> None:
    """Events of known trajectories into silver.feedback; insert-only on event_id, so a retry adds nothing twice."""
    lake.delta("silver.feedback").alias("t").merge(
        routed.where(F.col(KNOWN_TRAJECTORY)).select(*FEEDBACK.fieldNames()).alias("s"), f"t.{EVENT_ID} = s.{EVENT_ID}"
    ).whenNotMatchedInsertAll().execute()


def merge_orphans(lake: Lake, routed: DataFrame) -> None:
    """New orphans into silver.orphan_feedback, adopted ones (their trajectory arrived) out of it.

    Runs after the adopted events' labels are written: if the job dies before, they are still
    orphans on the retry, so they are adopted (and their trajectories labeled) again.
    """
    columns = FEEDBACK.fieldNames()
    (
        lake.delta("silver.orphan_feedback").alias("t")
        .merge(routed.select(*columns, KNOWN_TRAJECTORY).alias("s"), f"t.{EVENT_ID} = s.{EVENT_ID}")
        .whenMatchedDelete(condition=f"s.{KNOWN_TRAJECTORY}")
        .whenNotMatchedInsert(condition=f"NOT s.{KNOWN_TRAJECTORY}", values={c: f"s.{c}" for c in columns})
        .execute()
    )


def check_accounting(lake: Lake, runs: list[str], records: int) -> None:
    """Every bronze record of these runs is now in silver.feedback, the orphans or quarantine."""
    landed = _run_rows(lake, runs).count()
    if landed != records:
        raise AccountingError(
            f"label accounting failed for runs {', '.join(runs)}: {records:,} bronze feedback records "
            f"but {landed:,} landed in silver.feedback + silver.orphan_feedback + quarantine"
        )


def new_events(lake: Lake, runs: list[str], params: LabelParams) -> DataFrame:
    """The pending runs' bronze records, parsed and checked: reason null = a new event to keep."""
    kept = lake.read("silver.feedback").unionByName(lake.read("silver.orphan_feedback"))
    return (
        lake.read_or_empty("bronze.feedback", RAW_RECORD).where(F.col(INGEST_RUN_ID).isin(runs))
        .transform(parse_feedback, params)
        .transform(mark_duplicates, kept)
    )


def trajectories_to_label(lake: Lake, routed: DataFrame, trajectory_ids: DataFrame, relabel_all: bool) -> DataFrame:
    """Those that got events this run, and those never labeled yet (new trajectories: `unlabeled`)."""
    if relabel_all:
        return trajectory_ids
    touched = routed.where(F.col(KNOWN_TRAJECTORY)).select(TRAJECTORY_ID)
    never = trajectory_ids.join(lake.read("silver.labels").select(TRAJECTORY_ID), TRAJECTORY_ID, "left_anti")
    return touched.unionByName(never).distinct()


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    params = label_params(settings)
    lake = Lake(spark, settings)
    for name, schema in OUTPUTS:
        lake.ensure(name, schema)
    runs = pending_runs(lake)
    if runs:
        log.info(f"[label] {len(runs):,} new feedback ingest run(s): {', '.join(runs[:3])}{' ...' if len(runs) > 3 else ''}")
    discard_unfinished(lake, runs)
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    trajectory_ids = lake.read_or_empty("silver.trajectories", TRAJECTORY).select(TRAJECTORY_ID).distinct()

    # Checkpointed, not cached: a Delta DataFrame re-reads the table's latest version on every
    # action, and this job then writes the tables these were read from; an evicted cache would
    # silently recompute against the new versions, a checkpoint cannot.
    checked = new_events(lake, runs, params).localCheckpoint()
    reasons = {r[0]: r[1] for r in checked.groupBy(REASON).count().collect()}
    records = sum(reasons.values())
    quarantined = records - reasons.get(None, 0)
    if quarantined:
        lake.append(quarantine_rows(checked.where(F.col(REASON).isNotNull()), NAME, now), "bronze.quarantine")
    fresh = checked.where(F.col(REASON).isNull()).select(*FEEDBACK.fieldNames())
    routed = (
        fresh.unionByName(lake.read("silver.orphan_feedback"))
        .transform(with_known_trajectory, trajectory_ids)
        .localCheckpoint()
    )
    is_fresh = F.col(INGEST_RUN_ID).isin(runs) if runs else F.lit(False)
    routes = {(r[0], r[1]): r[2] for r in routed.groupBy(is_fresh, KNOWN_TRAJECTORY).count().collect()}
    attached, orphaned = routes.get((True, True), 0), routes.get((True, False), 0)
    adopted, still_orphans = routes.get((False, True), 0), routes.get((False, False), 0)
    to_label = trajectories_to_label(lake, routed, trajectory_ids, args.relabel_all).localCheckpoint()

    # Write order matters for retries: orphans leave their table only after their labels exist.
    if attached or adopted:  # a MERGE with nothing to do is skipped: no empty commits
        merge_feedback(lake, routed)
    n_labeled, outcomes = write_labels(lake, to_label, params, now)
    if orphaned or adopted:
        merge_orphans(lake, routed)
    if runs:
        check_accounting(lake, runs, records)
        log_rows = [(run_id, records, attached + orphaned, quarantined, now) for run_id in runs]
        lake.append(spark.createDataFrame(log_rows, LABEL_LOG), "silver.label_log")
    return StageResult(
        records,
        n_labeled,
        {
            "runs": len(runs),
            "events": attached + orphaned,
            "quarantined": quarantined,
            "orphaned": orphaned,
            "adopted": adopted,
            "orphans_waiting": orphaned + still_orphans,
            "outcomes": ",".join(f"{k}:{v}" for k, v in sorted(outcomes.items())) or "-",
        },
    )


def write_labels(lake: Lake, ids: DataFrame, params: LabelParams, now: datetime) -> tuple[int, dict[str, int]]:
    """Recompute the labels of these trajectories (materialized ids) from all their events; MERGE them in."""
    events = lake.read("silver.feedback").join(ids, TRAJECTORY_ID, "left_semi")
    labels = (
        events.transform(to_signals, params)
        .transform(supersede_repeats, params.latest_per_user)
        .transform(label_trajectories, params, now)
        .transform(with_unlabeled, ids, now)
        .localCheckpoint()
    )
    outcomes = {r[0]: r[1] for r in labels.groupBy(OUTCOME).count().collect()}
    if outcomes:
        lake.delta("silver.labels").alias("t").merge(
            labels.alias("s"), f"t.{TRAJECTORY_ID} = s.{TRAJECTORY_ID}"
        ).whenMatchedUpdateAll().whenNotMatchedInsertAll().execute()
    return sum(outcomes.values()), outcomes


if __name__ == "__main__":
    main_for(__name__)
