"""Feedback events and the labels derived from them.

Raw feedback lines (bronze.feedback.record) are JSON objects:
  {"event_id": str, "trajectory_id": str, "kind": str, "value": number|bool|str|null,
   "text": str|null, "source": "verifier"|"human"|"judge"|"implicit", "created_at": ISO-8601,
   "user_id": str (optional)}
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
FEEDBACK_SOURCES = ("verifier", "human", "judge", "implicit")

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
        StructField("source", StringType()),
        StructField("value", DoubleType()),  # numeric form: bools 1/0, scores as given
        StructField("value_raw", StringType()),
        StructField("text", StringType()),
        StructField("created_at", TimestampType()),
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),
    ]
)

# silver.labels: one row per trajectory.
LABEL = StructType(
    [
        StructField("trajectory_id", StringType(), nullable=False),
        StructField("outcome", StringType()),  # success | failure | ambiguous | unlabeled
        StructField("quality_score", DoubleType()),  # [0, 1]
        StructField("label_source", StringType()),  # strongest source that spoke
        StructField("confidence", DoubleType()),  # [0, 1]
        StructField("signals", ArrayType(StringType())),  # "<source>:<kind>" that contributed
        StructField("conflicted", BooleanType()),
        StructField("correction", StringType()),  # latest human correction text, if any
        StructField("n_events", IntegerType()),
        StructField("labeled_at", TimestampType()),
    ]
)
