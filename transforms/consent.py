"""Consent: the latest decision per user, and the gate trajectories pass (or are recorded at).

Raw consent lines are parsed with the explicit CONSENT_RECORD schema; the latest record per user
(by `updated_at`) wins. When two records of a user carry the same time, the more restrictive one
wins (revoked > refused > granted), so a tie never lets data through. Records that cannot be
ordered or understood (no user, unknown status, unparseable time) carry no decision.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from schemas.consent import CONSENT, CONSENT_RECORD, CONSENT_STATUSES
from schemas.redaction import CONSENT_EXCLUSION

GRANTED, REFUSED, REVOKED = CONSENT_STATUSES
NO_RECORD, CONSENT_REFUSED, CONSENT_REVOKED = "no_consent_record", "consent_refused", "consent_revoked"
RECORD_COLUMN = "record"
_PARSED = "consent"


def _restrictiveness():
    """Higher wins a tie on updated_at."""
    return F.when(F.col("status") == REVOKED, 2).when(F.col("status") == REFUSED, 1).otherwise(0)


def parse_consent_records(raw: DataFrame, scope: str) -> DataFrame:
    """bronze.consent (`record` JSON text) -> valid CONSENT_RECORD-shaped rows of this scope, typed."""
    parsed = raw.select(F.from_json(RECORD_COLUMN, CONSENT_RECORD).alias(_PARSED)).select(f"{_PARSED}.*")
    status = F.lower(F.trim("status"))
    return (
        parsed.select(
            F.trim("user_id").alias("user_id"),
            "tenant",
            status.alias("status"),
            F.lower(F.trim("scope")).alias("scope"),
            F.try_to_timestamp("updated_at").alias("updated_at"),
        )
        .where(
            (F.col("user_id") != "")
            & F.col("status").isin(*CONSENT_STATUSES)
            & F.col("updated_at").isNotNull()
            & (F.col("scope").isNull() | (F.col("scope") == scope.lower()))
        )
    )


def latest_consent(raw: DataFrame, scope: str) -> DataFrame:
    """The decision in force per user (schemas.consent.CONSENT)."""
    latest_first = Window.partitionBy("user_id").orderBy(
        F.col("updated_at").desc(), _restrictiveness().desc(), F.col("tenant").asc_nulls_last()
    )
    return (
        parse_consent_records(raw, scope)
        .withColumn("_rank", F.row_number().over(latest_first))
        .where(F.col("_rank") == 1)
        .select(
            "user_id",
            "tenant",
            "status",
            (F.col("status") == GRANTED).alias("training_allowed"),
            "updated_at",
        )
        .select(*[F.col(f.name).cast(f.dataType) for f in CONSENT.fields])
    )


class ConsentGate(NamedTuple):
    allowed: DataFrame  # the trajectories, unchanged, whose user granted consent
    excluded: DataFrame  # CONSENT_EXCLUSION rows for all the others


def gate_by_consent(trajectories: DataFrame, consent: DataFrame, decided_at: datetime) -> ConsentGate:
    """Split trajectories by their user's consent; nothing is dropped without a reason row."""
    decisions = consent.select(
        F.col("user_id").alias("_consent_user"), F.col("status").alias("_consent_status")
    )
    joined = trajectories.join(decisions, trajectories["user_id"] == decisions["_consent_user"], "left")
    reason = (
        F.when(F.col("_consent_status").isNull(), F.lit(NO_RECORD))
        .when(F.col("_consent_status") == REFUSED, F.lit(CONSENT_REFUSED))
        .when(F.col("_consent_status") == REVOKED, F.lit(CONSENT_REVOKED))
    )
    decided = joined.withColumn("_reason", reason)
    allowed = decided.where(F.col("_reason").isNull()).select(*trajectories.columns)
    excluded = decided.where(F.col("_reason").isNotNull()).select(
        "trajectory_id",
        "user_id",
        F.col("_reason").alias("reason"),
        F.lit(decided_at).cast("timestamp").alias("decided_at"),
    ).select(*CONSENT_EXCLUSION.fieldNames())
    return ConsentGate(allowed, excluded)
