"""Feedback events and the labels derived from them.

Raw feedback lines (bronze.feedback.record) are JSON objects:
  {"event_id": str, "trajectory_id": str, "kind": str, "value": number|bool|str|null,
   "text": str|null, "source": "verifier"|"human"|"judge"|"implicit", "created_at": ISO-8601,
   "user_id": str (optional)}

`value` by kind (anything else goes to bronze.quarantine as feedback_bad_value):
  test_outcome, task_check   passed/failed, pass/fail, true/false, 1/0, or the share of checks
                             passed in [0, 1]
  rating                     a number on the conf scale labels.rating_min..rating_max (1-5)
  thumbs                     up/down, true/false, yes/no, 1/0
  correction                 ignored; `text` (or a string `value`) is the corrected answer
  judge_score                a number in [0, 1]
  acceptance, escalation,    true/false, yes/no, 1/0, or a count >= 0; null means the event
  retry, abandonment         happened (true)
  followup_edit_distance     a number >= 0: how much the user's follow-up rewrote the answer,
                             normalized (0..1) or in characters (see
                             labels.followup_edit_distance_full)
`source` may be left out: it then defaults to the kind's usual source (KIND_DEFAULT_SOURCE).
The sources are schemas.vocabulary.FEEDBACK_SOURCES.
"""

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

FEEDBACK_KINDS = (
    "test_outcome", "task_check",  # verifiable
    "rating", "thumbs", "correction",  # human
    "judge_score",  # judge
    "acceptance", "escalation", "retry", "abandonment", "followup_edit_distance",  # implicit
)
KIND_DEFAULT_SOURCE = {
    "test_outcome": "verifier",
    "task_check": "verifier",
    "rating": "human",
    "thumbs": "human",
    "correction": "human",
    "judge_score": "judge",
    "acceptance": "implicit",
    "escalation": "implicit",
    "retry": "implicit",
    "abandonment": "implicit",
    "followup_edit_distance": "implicit",
}

# silver.labels outcomes.
OUTCOME_SUCCESS = "success"
OUTCOME_FAILURE = "failure"
OUTCOME_AMBIGUOUS = "ambiguous"
OUTCOME_UNLABELED = "unlabeled"
OUTCOMES = (OUTCOME_SUCCESS, OUTCOME_FAILURE, OUTCOME_AMBIGUOUS, OUTCOME_UNLABELED)

# The JSON shape of a raw feedback line (value kept as text, typed later).
FEEDBACK_RECORD = StructType(
    [
        StructField("event_id", StringType()),
        StructField("trajectory_id", StringType()),
        StructField("kind", StringType()),
        StructField("value", StringType()),
        StructField("text", StringType()),
        StructField("source", StringType()),
        StructField("created_at", StringType()),
        StructField("user_id", StringType()),
    ]
)

# silver.feedback (and silver.orphan_feedback): typed, one row per event_id.
FEEDBACK = StructType(
    [
        StructField("event_id", StringType(), nullable=False),
        StructField("trajectory_id", StringType(), nullable=False),
        StructField("kind", StringType()),
        StructField("source", StringType()),  # as given, or the kind's default source
        StructField("value", DoubleType()),  # numeric form: bools 1/0, scores as given
        StructField("value_raw", StringType()),
        StructField("text", StringType()),
        StructField("user_id", StringType()),
        StructField("created_at", TimestampType()),
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),
        StructField("ingest_run_id", StringType()),
        StructField("ingested_at", TimestampType()),
    ]
)

# silver.labels: one row per trajectory.
LABEL = StructType(
    [
        StructField("trajectory_id", StringType(), nullable=False),
        StructField("outcome", StringType()),  # success | failure | ambiguous | unlabeled
        StructField("quality_score", DoubleType()),  # [0, 1]
        StructField("label_source", StringType()),  # the deciding source (else the strongest that scored)
        StructField("confidence", DoubleType()),  # [0, 1]; 0 when ambiguous or unlabeled
        StructField("signals", ArrayType(StringType())),  # "<source>:<kind>" that contributed
        StructField("conflicted", BooleanType()),
        StructField("correction", StringType()),  # latest correction text, if any (preference pairs)
        StructField("n_events", IntegerType()),
        StructField("labeled_at", TimestampType()),
    ]
)

# silver.label_log: bronze.feedback ingest runs already labeled (so reruns skip them).
LABEL_LOG = StructType(
    [
        StructField("ingest_run_id", StringType()),
        StructField("records", LongType()),  # of the label batch the run was part of
        StructField("events", LongType()),
        StructField("quarantined", LongType()),
        StructField("labeled_at", TimestampType()),
    ]
)
