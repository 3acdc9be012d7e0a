"""Raw feedback records -> typed events (silver.feedback rows), each kept once, or a reason why not.

Parsing uses `from_json` with the explicit FEEDBACK_RECORD schema; every field is read as text
(a JSON number, boolean or string all arrive as their text), so one record's odd type cannot
null the whole row, and typing happens per kind below, where the reason for a bad value is
known. An event id is the event's identity: the first ingested copy is kept and later copies are
quarantined as duplicates, saying whether their content differed.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from schemas.feedback import FEEDBACK, FEEDBACK_KINDS, FEEDBACK_RECORD, KIND_DEFAULT_SOURCE
from schemas.vocabulary import FEEDBACK_SOURCES
from transforms.labels.params import LabelParams

# silver.feedback columns used by name across the label transforms.
EVENT_ID = "event_id"
TRAJECTORY_ID = "trajectory_id"
KIND = "kind"
SOURCE = "source"
VALUE = "value"
VALUE_RAW = "value_raw"
TEXT = "text"
USER_ID = "user_id"
CREATED_AT = "created_at"
SOURCE_URI = "source_uri"
SOURCE_LINE = "source_line"
INGEST_RUN_ID = "ingest_run_id"
INGESTED_AT = "ingested_at"

# Columns this module adds: the bronze record, and why a row cannot be taken (null = taken).
RECORD = "record"
REASON = "reason"
DETAIL = "detail"
KNOWN_TRAJECTORY = "known_trajectory"

# Reason codes (bronze.quarantine.reason, stage "label").
NOT_JSON = "feedback_not_json"
MISSING_EVENT_ID = "feedback_missing_event_id"
MISSING_TRAJECTORY_ID = "feedback_missing_trajectory_id"
UNKNOWN_KIND = "feedback_unknown_kind"
UNKNOWN_SOURCE = "feedback_unknown_source"
BAD_VALUE = "feedback_bad_value"
BAD_TIMESTAMP = "feedback_bad_timestamp"
DUPLICATE_EVENT = "feedback_duplicate_event"

VERIFIABLE_KINDS = ("test_outcome", "task_check")
FLAG_KINDS = ("acceptance", "escalation", "retry", "abandonment")  # null value = it happened
TRUE_WORDS = ("true", "yes", "up", "pass", "passed", "success", "accepted")
FALSE_WORDS = ("false", "no", "down", "fail", "failed", "failure", "rejected", "error")

_CORRUPT = "_corrupt_record"
_PARSED = "_parsed"
_CREATED_TEXT = "_created_text"
_NUMBER = "_number"
_RANK = "_dup_rank"
_KEPT_CONTENT = "_kept_content"
_EXISTING_CONTENT = "_existing_content"
_IN_SILVER = "_in_silver"
_CONTENT_FIELDS = (TRAJECTORY_ID, KIND, SOURCE, VALUE_RAW, TEXT, USER_ID, CREATED_AT)
_PARSE_SCHEMA = StructType(FEEDBACK_RECORD.fields + [StructField(_CORRUPT, StringType())])


def _blank(col: Column) -> Column:
    return col.isNull() | (F.trim(col) == "")


def _in(col: Column, values) -> Column:
    """`col IN values`, false (not null) when col is null, so it can drive a `when`."""
    return F.coalesce(col.isin(*values), F.lit(False))


def _finite(col: Column) -> Column:
    return col.isNotNull() & ~F.isnan(col) & (F.abs(col) < F.lit(float("inf")))


def _between(col: Column, low: float, high: float) -> Column:
    return _finite(col) & (col >= low) & (col <= high)


def _expectations(params: LabelParams) -> dict[str, tuple[Column, str]]:
    """kind -> (is the typed value acceptable, what was expected) for the quarantine detail."""
    number = F.col(_NUMBER)
    value = F.col(VALUE)
    fraction = (_between(number, 0.0, 1.0), "a boolean or a number in [0, 1]")
    flag = (_finite(value) & (value >= 0), "a boolean, a count >= 0, or null")
    return {
        "test_outcome": fraction,
        "task_check": fraction,
        "rating": (
            _between(number, params.rating_min, params.rating_max),
            f"a number in [{params.rating_min:g}, {params.rating_max:g}]",
        ),
        "thumbs": (_finite(number) & number.isin(0.0, 1.0), "up/down, true/false or 1/0"),
        "correction": (~_blank(F.col(TEXT)), "a non-empty correction text"),
        "judge_score": (_between(number, 0.0, 1.0), "a number in [0, 1]"),
        "acceptance": flag,
        "escalation": flag,
        "retry": flag,
        "abandonment": flag,
        "followup_edit_distance": (_finite(number) & (number >= 0), "a number >= 0"),
    }


def _by_kind(pairs: dict[str, Column], otherwise: Column) -> Column:
    expr = None
    for kind, value in pairs.items():
        cond = F.col(KIND) == kind
        expr = F.when(cond, value) if expr is None else expr.when(cond, value)
    return expr.otherwise(otherwise)


def _field(name: str) -> Column:
    return F.col(f"{_PARSED}.{name}")


def _typed_columns() -> list[Column]:
    """The parsed record's fields, normalized (kind, source) and typed (value, created_at text)."""
    kind = F.lower(F.trim(_field(KIND)))
    default_source = F.create_map(*[F.lit(x) for pair in KIND_DEFAULT_SOURCE.items() for x in pair])[kind]
    word = F.lower(F.trim(_field(VALUE)))
    number = (
        F.when(word.isin(*TRUE_WORDS), F.lit(1.0))
        .when(word.isin(*FALSE_WORDS), F.lit(0.0))
        .otherwise(_field(VALUE).try_cast("double"))
    )
    correction_text = F.coalesce(F.nullif(F.trim(_field(TEXT)), F.lit("")), F.trim(_field(VALUE)))
    return [
        (F.col(_PARSED).isNull() | _field(_CORRUPT).isNotNull()).alias(_CORRUPT),
        _field(EVENT_ID).alias(EVENT_ID),
        _field(TRAJECTORY_ID).alias(TRAJECTORY_ID),
        kind.alias(KIND),
        F.coalesce(F.lower(F.trim(_field(SOURCE))), default_source).alias(SOURCE),
        number.alias(_NUMBER),
        _field(VALUE).alias(VALUE_RAW),
        F.when(kind == "correction", correction_text).otherwise(_field(TEXT)).alias(TEXT),
        _field(USER_ID).alias(USER_ID),
        F.nullif(F.trim(_field(CREATED_AT)), F.lit("")).alias(_CREATED_TEXT),
    ]


def _reason_and_detail(params: LabelParams) -> tuple[Column, Column]:
    """The first thing wrong with a typed record (null = nothing), and what exactly."""
    expectations = _expectations(params)
    value_ok = F.coalesce(_by_kind({k: ok for k, (ok, _) in expectations.items()}, F.lit(False)), F.lit(False))
    expected = _by_kind({k: F.lit(text) for k, (_, text) in expectations.items()}, F.lit(""))
    reason = (
        F.when(F.col(_CORRUPT), F.lit(NOT_JSON))
        .when(_blank(F.col(EVENT_ID)), F.lit(MISSING_EVENT_ID))
        .when(_blank(F.col(TRAJECTORY_ID)), F.lit(MISSING_TRAJECTORY_ID))
        .when(~_in(F.col(KIND), FEEDBACK_KINDS), F.lit(UNKNOWN_KIND))
        .when(~_in(F.col(SOURCE), FEEDBACK_SOURCES), F.lit(UNKNOWN_SOURCE))
        .when(~value_ok, F.lit(BAD_VALUE))
        .when(F.col(_CREATED_TEXT).isNotNull() & F.col(CREATED_AT).isNull(), F.lit(BAD_TIMESTAMP))
    )
    said = F.col(REASON)
    detail = (
        F.when(said == NOT_JSON, F.lit("record is not a JSON object"))
        .when(said == UNKNOWN_KIND, F.format_string("kind '%s' is not one of %s", F.col(KIND), F.lit(", ".join(FEEDBACK_KINDS))))
        .when(said == UNKNOWN_SOURCE, F.format_string("source '%s' is not one of %s", F.col(SOURCE), F.lit(", ".join(FEEDBACK_SOURCES))))
        .when(said == BAD_VALUE, F.format_string("%s value '%s' is not %s", F.col(KIND), F.coalesce(F.col(VALUE_RAW), F.lit("null")), expected))
        .when(said == BAD_TIMESTAMP, F.format_string("created_at '%s' is not an ISO-8601 timestamp", F.col(_CREATED_TEXT)))
    )
    return reason, detail


def parse_feedback(bronze: DataFrame, params: LabelParams) -> DataFrame:
    """bronze.feedback rows -> FEEDBACK columns + `record`, `reason`, `detail` (reason null = good)."""
    parsed = bronze.select(
        RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        F.from_json(RECORD, _PARSE_SCHEMA, {"mode": "PERMISSIVE", "columnNameOfCorruptRecord": _CORRUPT}).alias(_PARSED),
    )
    value = (
        F.when(F.col(KIND) == "correction", F.lit(None).cast("double"))
        .when(_in(F.col(KIND), FLAG_KINDS) & F.col(VALUE_RAW).isNull(), F.lit(1.0))  # the event itself says it happened
        .otherwise(F.col(_NUMBER))
    )
    reason, detail = _reason_and_detail(params)
    return (
        parsed.select(RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, *_typed_columns())
        .withColumn(VALUE, value)
        .withColumn(CREATED_AT, F.try_to_timestamp(F.col(_CREATED_TEXT)))
        .withColumn(REASON, reason)
        .withColumn(DETAIL, detail)
        .select(*FEEDBACK.fieldNames(), RECORD, REASON, DETAIL)
    )


def _content() -> Column:
    """What makes two copies of an event the same: everything but where and when it was logged."""
    return F.struct(*[F.col(c) for c in _CONTENT_FIELDS])


def mark_duplicates(events: DataFrame, kept: DataFrame) -> DataFrame:
    """Good events whose id is already `kept` (silver) or seen earlier in this batch get a reason.

    Within the batch the first ingested copy wins (ingested_at, file, line: a total order, so
    reruns pick the same one).
    """
    first = Window.partitionBy(EVENT_ID).orderBy(
        F.col(REASON).isNotNull(), F.col(INGESTED_AT).asc_nulls_last(), F.col(SOURCE_URI), F.col(SOURCE_LINE)
    )
    existing = kept.select(
        F.col(EVENT_ID), F.lit(True).alias(_IN_SILVER), _content().alias(_EXISTING_CONTENT)
    )
    ranked = (
        events.withColumn(_RANK, F.row_number().over(first))
        .withColumn(_KEPT_CONTENT, F.first(_content()).over(first))
        .join(existing, EVENT_ID, "left")
    )
    in_silver = F.col(REASON).isNull() & F.col(_IN_SILVER).isNotNull()
    in_batch = F.col(REASON).isNull() & (F.col(_RANK) > 1)
    same = F.when(in_silver, F.col(_EXISTING_CONTENT).eqNullSafe(_content())).otherwise(F.col(_KEPT_CONTENT).eqNullSafe(_content()))
    detail = F.format_string(
        "event id already %s (%s)",
        F.when(in_silver, F.lit("in silver")).otherwise(F.lit("earlier in this batch")),
        F.when(same, F.lit("same content")).otherwise(F.lit("different content; the first ingested is kept")),
    )
    return ranked.select(
        *[c for c in events.columns if c not in (REASON, DETAIL)],
        F.when(in_silver | in_batch, F.lit(DUPLICATE_EVENT)).otherwise(F.col(REASON)).alias(REASON),
        F.when(in_silver | in_batch, detail).otherwise(F.col(DETAIL)).alias(DETAIL),
    )


def with_known_trajectory(events: DataFrame, trajectory_ids: DataFrame) -> DataFrame:
    """Adds `known_trajectory`: whether the event's trajectory is in silver (else it is an orphan)."""
    known = trajectory_ids.select(F.col(TRAJECTORY_ID), F.lit(True).alias(KNOWN_TRAJECTORY))
    return events.join(known, TRAJECTORY_ID, "left").select(
        *events.columns, F.coalesce(F.col(KNOWN_TRAJECTORY), F.lit(False)).alias(KNOWN_TRAJECTORY)
    )


def quarantine_rows(rejected: DataFrame, stage: str, now: datetime) -> DataFrame:
    """Rejected feedback rows in the bronze.quarantine shape, the record kept verbatim to retry."""
    return rejected.select(
        F.lit(stage).alias("stage"),
        F.lit("feedback").alias("log_kind"),
        SOURCE_URI,
        SOURCE_LINE,
        REASON,
        DETAIL,
        F.col(RECORD).alias("raw"),
        F.lit("utf-8").alias("raw_encoding"),
        INGEST_RUN_ID,
        F.lit(now).cast("timestamp").alias("quarantined_at"),
    )
