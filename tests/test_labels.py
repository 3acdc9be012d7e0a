"""Labels: each rule on a tiny frame (chispa), then the job end to end across runs via Lake."""

from __future__ import annotations

import argparse
import json
from datetime import datetime

import pytest
from chispa import assert_approx_df_equality, assert_df_equality
from pyspark.sql import functions as F

from benchmarks.label_agreement import agreement_by_mix
from jobs import label
from jobs.errors import ConfError
from schemas.bronze import INGEST_LOG, RAW_RECORD
from schemas.feedback import FEEDBACK, LABEL
from schemas.trajectory import TRAJECTORY
from transforms.labels.feedback_events import mark_duplicates, parse_feedback
from transforms.labels.label_rules import label_trajectories, supersede_repeats, with_unlabeled
from transforms.labels.params import LabelParams
from transforms.labels.signals import to_signals

INGESTED = datetime(2026, 11, 1, 12, 0)
LABELED = datetime(2026, 11, 2, 0, 0)
LABEL_VIEW = "trajectory_id string, outcome string, label_source string, confidence double, conflicted boolean, signals array<string>"


@pytest.fixture(scope="module")
def params(base_settings) -> LabelParams:
    return LabelParams.from_conf(base_settings["labels"])


def with_policy(params: LabelParams, **changes) -> LabelParams:
    conf = {f: getattr(params, f) for f in params.__dataclass_fields__}
    conf.update(changes)
    return LabelParams.from_conf(conf)


def bronze(spark, records, run_id="run-1", ingested_at=INGESTED):
    rows = [
        (r if isinstance(r, str) else json.dumps(r), 0, "file:/raw/feedback/part-0.jsonl", i + 1, run_id, ingested_at)
        for i, r in enumerate(records)
    ]
    return spark.createDataFrame(rows, RAW_RECORD)


def events(spark, rows):
    """FEEDBACK rows from (event_id, trajectory_id, kind, source, value, user_id, created_at hour, text)."""
    full = [
        (e, t, k, s, v, None if v is None else str(v), text, u,
         None if hour is None else datetime(2026, 11, 1, hour), "file:/f", i + 1, "run-1", INGESTED)
        for i, (e, t, k, s, v, u, hour, text) in enumerate(rows)
    ]
    return spark.createDataFrame(full, FEEDBACK)


def labels_of(spark, rows, params, policy=None):
    p = params if policy is None else policy
    return (
        events(spark, rows).transform(to_signals, p).transform(supersede_repeats, p.latest_per_user)
        .transform(label_trajectories, p, LABELED)
    )


def view(labels):
    return labels.select("trajectory_id", "outcome", "label_source", "confidence", "conflicted", "signals")


# -- parsing and duplicates ------------------------------------------------------------------
def test_parse_types_each_kind_and_gives_bad_records_a_reason(spark, params):
    records = [
        {"event_id": "e1", "trajectory_id": "t1", "kind": "test_outcome", "value": "passed", "source": "verifier", "created_at": "2026-11-01T10:00:00Z"},
        {"event_id": "e2", "trajectory_id": "t1", "kind": "thumbs", "value": "down"},
        {"event_id": "e3", "trajectory_id": "t1", "kind": "rating", "value": 4, "user_id": "u1"},
        {"event_id": "e4", "trajectory_id": "t1", "kind": "escalation", "value": None},
        {"event_id": "e5", "trajectory_id": "t1", "kind": "correction", "text": "Use the v2 API."},
        {"event_id": "e6", "trajectory_id": "t1", "kind": "judge_score", "value": 0.25, "source": "judge"},
        "not json at all",
        {"trajectory_id": "t1", "kind": "thumbs", "value": True},
        {"event_id": "e7", "trajectory_id": " ", "kind": "thumbs", "value": True},
        {"event_id": "e8", "trajectory_id": "t1", "kind": "dance", "value": 1},
        {"event_id": "e9", "trajectory_id": "t1", "kind": "thumbs", "value": 1, "source": "robot"},
        {"event_id": "e10", "trajectory_id": "t1", "kind": "rating", "value": 9},
        {"event_id": "e11", "trajectory_id": "t1", "kind": "thumbs", "value": "maybe"},
        {"event_id": "e12", "trajectory_id": "t1", "kind": "correction", "text": "  "},
        {"event_id": "e13", "trajectory_id": "t1", "kind": "thumbs", "value": 1, "created_at": "last tuesday"},
    ]
    parsed = bronze(spark, records).transform(parse_feedback, params)
    expected = spark.createDataFrame(
        [
            (1, "e1", "test_outcome", "verifier", 1.0, "Z", None),
            (2, "e2", "thumbs", "human", 0.0, None, None),
            (3, "e3", "rating", "human", 4.0, None, None),
            (4, "e4", "escalation", "implicit", 1.0, None, None),
            (5, "e5", "correction", "human", None, None, None),
            (6, "e6", "judge_score", "judge", 0.25, None, None),
            (7, None, None, None, None, None, "feedback_not_json"),
            (8, None, "thumbs", "human", 1.0, None, "feedback_missing_event_id"),
            (9, "e7", "thumbs", "human", 1.0, None, "feedback_missing_trajectory_id"),
            (10, "e8", "dance", None, 1.0, None, "feedback_unknown_kind"),
            (11, "e9", "thumbs", "robot", 1.0, None, "feedback_unknown_source"),
            (12, "e10", "rating", "human", 9.0, None, "feedback_bad_value"),
            (13, "e11", "thumbs", "human", None, None, "feedback_bad_value"),
            (14, "e12", "correction", "human", None, None, "feedback_bad_value"),
            (15, "e13", "thumbs", "human", 1.0, None, "feedback_bad_timestamp"),
        ],
        "source_line long, event_id string, kind string, source string, value double, utc string, reason string",
    )
    got = parsed.select(
        "source_line", "event_id", "kind", "source", "value",
        F.when(F.col("created_at") == F.lit(datetime(2026, 11, 1, 10)), F.lit("Z")).alias("utc"), "reason",
    )
    assert_df_equality(got, expected, ignore_nullable=True, ignore_row_order=True)
    details = {r.source_line: r.detail for r in parsed.where("reason = 'feedback_bad_value'").collect()}
    assert details[12] == "rating value '9' is not a number in [1, 5]"
    assert parsed.where("event_id = 'e5'").head().text == "Use the v2 API."


def test_duplicate_event_ids_keep_the_first_ingested_copy(spark, params):
    records = [
        {"event_id": "e1", "trajectory_id": "t1", "kind": "thumbs", "value": "up"},
        {"event_id": "e1", "trajectory_id": "t1", "kind": "thumbs", "value": "up"},  # same event again
        {"event_id": "e2", "trajectory_id": "t1", "kind": "thumbs", "value": "down"},
        {"event_id": "e2", "trajectory_id": "t1", "kind": "thumbs", "value": "up"},  # same id, other content
        {"event_id": "e3", "trajectory_id": "t1", "kind": "thumbs", "value": "up"},  # already in silver
        {"event_id": "e4", "trajectory_id": "t1", "kind": "bogus"},  # bad records keep their reason
    ]
    kept = events(spark, [("e3", "t1", "thumbs", "human", 1.0, None, None, None)])
    got = bronze(spark, records).transform(parse_feedback, params).transform(mark_duplicates, kept)
    expected = spark.createDataFrame(
        [
            (1, None, None),
            (2, "feedback_duplicate_event", "event id already earlier in this batch (same content)"),
            (3, None, None),
            (4, "feedback_duplicate_event", "event id already earlier in this batch (different content; the first ingested is kept)"),
            (5, "feedback_duplicate_event", "event id already in silver (different content; the first ingested is kept)"),
            (6, "feedback_unknown_kind", None),
        ],
        "source_line long, reason string, detail string",
    )
    assert_df_equality(
        got.select("source_line", "reason", F.when(F.col("reason") == "feedback_duplicate_event", F.col("detail")).alias("detail")),
        expected, ignore_nullable=True, ignore_row_order=True,
    )
    # e3's silver copy was logged as value "1.0", this one as "up": the raw value differs.


# -- signals ---------------------------------------------------------------------------------
def test_each_kind_maps_to_a_score_vote_and_source_rank(spark, params):
    rows = [
        ("e1", "t", "test_outcome", "verifier", 0.0, None, None, None),
        ("e2", "t", "task_check", "verifier", 0.75, None, None, None),
        ("e3", "t", "rating", "human", 3.0, None, None, None),
        ("e4", "t", "thumbs", "human", 1.0, None, None, None),
        ("e5", "t", "correction", "human", None, None, None, "fixed"),
        ("e6", "t", "judge_score", "judge", 0.35, None, None, None),
        ("e7", "t", "acceptance", "implicit", 1.0, None, None, None),
        ("e8", "t", "escalation", "implicit", 0.0, None, None, None),  # did not happen: says nothing
        ("e9", "t", "retry", "implicit", 2.0, None, None, None),
        ("e10", "t", "followup_edit_distance", "implicit", 0.2, None, None, None),
    ]
    got = events(spark, rows).transform(to_signals, params).select("event_id", "score", "weight", "vote", "rank")
    expected = spark.createDataFrame(
        [
            ("e1", 0.0, 1.0, -1, 0), ("e2", 0.75, 1.0, 1, 0), ("e3", 0.5, 1.0, 0, 1), ("e4", 1.0, 1.0, 1, 1),
            ("e5", 0.0, 1.0, -1, 1), ("e6", 0.35, 1.0, -1, 2), ("e7", 1.0, 1.0, 1, 3), ("e8", None, 1.0, None, 3),
            ("e9", 0.0, 0.5, -1, 3), ("e10", 0.8, 0.5, 1, 3),
        ],
        "event_id string, score double, weight double, vote int, rank int",
    )
    assert_approx_df_equality(got, expected, 1e-9, ignore_nullable=True)


# -- precedence and conflicts ----------------------------------------------------------------
def test_the_strongest_voting_source_decides_and_weaker_disagreement_is_flagged(spark, params):
    rows = [
        ("a1", "tA", "test_outcome", "verifier", 1.0, None, None, None),
        ("a2", "tA", "thumbs", "human", 0.0, "u1", None, None),
        ("a3", "tA", "judge_score", "judge", 0.1, None, None, None),
        ("b1", "tB", "rating", "human", 5.0, "u1", None, None),
        ("b2", "tB", "judge_score", "judge", 0.2, None, None, None),
        ("b3", "tB", "abandonment", "implicit", 1.0, None, None, None),
        ("c1", "tC", "judge_score", "judge", 0.9, None, None, None),
        ("c2", "tC", "escalation", "implicit", 1.0, None, None, None),
        ("d1", "tD", "acceptance", "implicit", 1.0, None, None, None),
        ("d2", "tD", "followup_edit_distance", "implicit", 0.1, None, None, None),
        ("e1", "tE", "task_check", "verifier", 0.5, None, None, None),  # abstains: human decides
        ("e2", "tE", "thumbs", "human", 0.0, "u1", None, None),
    ]
    expected = spark.createDataFrame(
        [
            ("tA", "success", "verifier", 0.95, True, ["verifier:test_outcome", "human:thumbs", "judge:judge_score"]),
            ("tB", "success", "human", 0.85, True, ["human:rating", "judge:judge_score", "implicit:abandonment"]),
            ("tC", "success", "judge", 0.7, True, ["judge:judge_score", "implicit:escalation"]),
            ("tD", "success", "implicit", 0.55, False, ["implicit:acceptance", "implicit:followup_edit_distance"]),
            ("tE", "failure", "human", 0.85, False, ["verifier:task_check", "human:thumbs"]),
        ],
        LABEL_VIEW,
    )
    assert_approx_df_equality(view(labels_of(spark, rows, params)), expected, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_disagreement_within_the_deciding_source_is_ambiguous_or_its_majority(spark, params):
    rows = [
        ("f1", "tF", "thumbs", "human", 1.0, "u1", None, None),
        ("f2", "tF", "rating", "human", 1.0, "u2", None, None),
        ("f3", "tF", "acceptance", "implicit", 1.0, None, None, None),
        ("g1", "tG", "thumbs", "human", 1.0, "u1", None, None),
        ("g2", "tG", "thumbs", "human", 1.0, "u2", None, None),
        ("g3", "tG", "thumbs", "human", 0.0, "u3", None, None),
        ("h1", "tH", "test_outcome", "verifier", 1.0, None, None, None),
        ("h2", "tH", "test_outcome", "verifier", 0.0, None, None, None),
        ("h3", "tH", "thumbs", "human", 1.0, "u1", None, None),
        ("i1", "tI", "judge_score", "judge", 0.5, None, None, None),  # nothing votes
    ]
    ambiguous = spark.createDataFrame(
        [
            ("tF", "ambiguous", "human", 0.0, True, ["human:rating", "human:thumbs", "implicit:acceptance"]),
            ("tG", "ambiguous", "human", 0.0, True, ["human:thumbs"]),
            ("tH", "ambiguous", "verifier", 0.0, True, ["verifier:test_outcome", "human:thumbs"]),
            ("tI", "ambiguous", "judge", 0.0, False, ["judge:judge_score"]),
        ],
        LABEL_VIEW,
    )
    assert_approx_df_equality(view(labels_of(spark, rows, params)), ambiguous, 1e-9, ignore_nullable=True, ignore_row_order=True)
    majority = spark.createDataFrame(
        [
            ("tF", "ambiguous", "human", 0.0, True, ["human:rating", "human:thumbs", "implicit:acceptance"]),
            ("tG", "success", "human", 0.85 * 2 / 3, True, ["human:thumbs"]),
            ("tH", "ambiguous", "verifier", 0.0, True, ["verifier:test_outcome", "human:thumbs"]),
            ("tI", "ambiguous", "judge", 0.0, False, ["judge:judge_score"]),
        ],
        LABEL_VIEW,
    )
    by_majority = labels_of(spark, rows, params, with_policy(params, conflict_policy="precedence"))
    assert_approx_df_equality(view(by_majority), majority, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_a_user_who_changes_their_mind_is_not_a_conflict(spark, params):
    rows = [
        ("j1", "tJ", "thumbs", "human", 0.0, "u1", 9, None),
        ("j2", "tJ", "thumbs", "human", 1.0, "u1", 10, None),  # later: replaces j1
        ("j3", "tJ", "judge_score", "judge", 0.9, None, 8, None),
    ]
    latest = spark.createDataFrame([("tJ", "success", "human", 0.85, False, ["human:thumbs", "judge:judge_score"])], LABEL_VIEW)
    assert_approx_df_equality(view(labels_of(spark, rows, params)), latest, 1e-9, ignore_nullable=True)
    every_event = labels_of(spark, rows, params, with_policy(params, latest_per_user=False))
    assert every_event.select("outcome", "conflicted").collect() == [("ambiguous", True)]


def test_quality_score_correction_text_and_unlabeled_trajectories(spark, params):
    rows = [
        ("k1", "tK", "test_outcome", "verifier", 1.0, None, None, None),
        ("k2", "tK", "rating", "human", 3.0, "u1", None, None),
        ("k3", "tK", "correction", "human", None, "u2", 9, "Call refund_v1 first."),
        ("k4", "tK", "correction", "human", None, "u3", 11, "Call refund_v2 first."),
    ]
    labels = labels_of(spark, rows, params)
    ids = spark.createDataFrame([("tK",), ("tL",)], "trajectory_id string")
    got = with_unlabeled(labels, ids, LABELED)
    # quality: (verifier 4 * 1.0 + human 3 * 0.5 + human 3 * 0.0 + human 3 * 0.0) / (4 + 3 + 3 + 3)
    expected = spark.createDataFrame(
        [
            ("tK", "success", 5.5 / 13, "verifier", 0.95, ["verifier:test_outcome", "human:correction", "human:rating"], True, "Call refund_v2 first.", 4, LABELED),
            ("tL", "unlabeled", None, None, 0.0, [], False, None, 0, LABELED),
        ],
        LABEL,
    )
    assert_approx_df_equality(got, expected, 1e-9, ignore_nullable=True, ignore_row_order=True)


def test_a_bad_labels_conf_is_a_one_line_conf_error(base_settings):
    with pytest.raises(ConfError, match="conflict_policy"):
        label.label_params(base_settings.with_overrides({"labels.conflict_policy": "vote"}))
    with pytest.raises(ConfError, match="failure_max < success_min"):
        label.label_params(base_settings.with_overrides({"labels.failure_max": 0.7}))


# -- the job, end to end ---------------------------------------------------------------------
def land_feedback(spark, lake, run_id, records):
    """What ingest leaves behind for one run: bronze.feedback rows and its ingest_log entry."""
    lake.append(bronze(spark, records, run_id), "bronze.feedback")
    log_row = ("file:/raw/feedback/part-0.jsonl", "feedback", 0, INGESTED, len(records), len(records), 0, "ingested", run_id, INGESTED)
    lake.append(spark.createDataFrame([log_row], INGEST_LOG), "bronze.ingest_log")


def add_trajectories(spark, lake, ids):
    """silver.trajectories rows that are only an id: all the label job reads of them."""
    rows = spark.createDataFrame([(i,) for i in ids], "trajectory_id string")
    columns = [F.col(f.name) if f.name == "trajectory_id" else F.lit(None).cast(f.dataType).alias(f.name) for f in TRAJECTORY.fields]
    lake.append(rows.select(*columns), "silver.trajectories")


def outcomes(lake):
    return {r.trajectory_id: (r.outcome, r.label_source, r.conflicted, r.n_events) for r in lake.read("silver.labels").collect()}


def ids(lake, table):
    return sorted(r.event_id for r in lake.read(table).select("event_id").collect())


def test_job_handles_late_orphan_and_duplicate_feedback_across_runs(spark, lake, fresh_settings):
    args = argparse.Namespace(relabel_all=False)
    add_trajectories(spark, lake, ["t1", "t3"])
    land_feedback(spark, lake, "run-1", [
        {"event_id": "e1", "trajectory_id": "t1", "kind": "thumbs", "value": "up", "user_id": "u1"},
        {"event_id": "e2", "trajectory_id": "t2", "kind": "test_outcome", "value": "passed"},  # t2 not there yet
        {"event_id": "e1", "trajectory_id": "t1", "kind": "thumbs", "value": "up", "user_id": "u1"},
        {"event_id": "e9", "trajectory_id": "t1", "kind": "rating", "value": 11},
    ])
    first = label.run(spark, fresh_settings, args)

    assert (first.rows_in, first.rows_out) == (4, 2)
    assert (first.detail["orphaned"], first.detail["quarantined"], first.detail["adopted"]) == (1, 2, 0)
    assert outcomes(lake) == {"t1": ("success", "human", False, 1), "t3": ("unlabeled", None, False, 0)}
    assert (ids(lake, "silver.feedback"), ids(lake, "silver.orphan_feedback")) == (["e1"], ["e2"])

    # Run 2: t2 arrives; a late verifier result for t1; e1 again with other content; a new orphan.
    add_trajectories(spark, lake, ["t2"])
    land_feedback(spark, lake, "run-2", [
        {"event_id": "e3", "trajectory_id": "t1", "kind": "test_outcome", "value": "failed", "source": "verifier"},
        {"event_id": "e1", "trajectory_id": "t1", "kind": "thumbs", "value": "down", "user_id": "u1"},
        {"event_id": "e4", "trajectory_id": "t5", "kind": "acceptance", "value": True},
    ])
    second = label.run(spark, fresh_settings, args)

    assert (second.rows_in, second.rows_out) == (3, 2)  # t1 relabeled, t2 labeled; t3 untouched
    assert (second.detail["adopted"], second.detail["orphaned"], second.detail["orphans_waiting"]) == (1, 1, 1)
    assert outcomes(lake) == {
        "t1": ("failure", "verifier", True, 2),
        "t2": ("success", "verifier", False, 1),
        "t3": ("unlabeled", None, False, 0),
    }
    assert (ids(lake, "silver.feedback"), ids(lake, "silver.orphan_feedback")) == (["e1", "e2", "e3"], ["e4"])
    reasons = sorted((r.ingest_run_id, r.reason, r.stage) for r in lake.read("bronze.quarantine").collect())
    assert reasons == [
        ("run-1", "feedback_bad_value", "label"),
        ("run-1", "feedback_duplicate_event", "label"),
        ("run-2", "feedback_duplicate_event", "label"),
    ]
    assert "different content" in lake.read("bronze.quarantine").where("ingest_run_id = 'run-2'").head().detail

    # A crash after run 2's writes but before it was logged: the retry redoes it and changes nothing.
    def state():
        quarantine = sorted((r.ingest_run_id, r.reason) for r in lake.read("bronze.quarantine").collect())
        return outcomes(lake), ids(lake, "silver.feedback"), ids(lake, "silver.orphan_feedback"), quarantine

    before = state()
    lake.delta("silver.label_log").delete(F.col("ingest_run_id") == "run-2")
    retry = label.run(spark, fresh_settings, args)
    assert (retry.rows_in, retry.detail["runs"]) == (3, 1)
    assert state() == before

    # A conf change (humans now outrank verifiers) touches no label until --relabel-all.
    humans_first = fresh_settings.with_overrides({"labels.precedence": ["human", "verifier", "judge", "implicit"]})
    assert label.run(spark, humans_first, args).rows_out == 0
    assert outcomes(lake)["t1"] == ("failure", "verifier", True, 2)
    relabeled = label.run(spark, humans_first, argparse.Namespace(relabel_all=True))
    assert (relabeled.rows_in, relabeled.rows_out) == (0, 3)
    assert outcomes(lake) == {
        "t1": ("success", "human", True, 2),
        "t2": ("success", "verifier", False, 1),
        "t3": ("unlabeled", None, False, 0),
    }


def test_agreement_is_computed_per_signal_mix_over_decided_labels(spark):
    truth = spark.createDataFrame(
        [
            ("t1", "success", "good", "verifier"), ("t2", "failure", "bad", "verifier"),
            ("t3", "success", "good", "implicit"), ("t4", "failure", "bad", "implicit"), ("t5", "success", "lucky", "implicit"),
        ],
        "trajectory_id string, true_outcome string, true_quality string, signal_mix string",
    )
    labels = spark.createDataFrame(
        [("t1", "success"), ("t2", "success"), ("t3", "success"), ("t4", "ambiguous")],
        "trajectory_id string, outcome string",
    )
    expected = spark.createDataFrame(
        [
            ("verifier", 2, 2, 1, 0, 0, 0, 0.5, 1.0),
            ("implicit", 3, 1, 1, 1, 0, 1, 1.0, 0.5),
            ("(all)", 5, 3, 2, 1, 0, 1, 0.6667, 0.75),
        ],
        "signal_mix string, trajectories long, decided long, agree long, ambiguous long, unlabeled long, missing long, agreement double, coverage double",
    )
    assert_df_equality(agreement_by_mix(labels, truth), expected, ignore_nullable=True, ignore_row_order=True)
