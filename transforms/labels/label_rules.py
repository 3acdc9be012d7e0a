"""Signals -> one label per trajectory: outcome, quality score, deciding source, confidence.

Precedence: the outcome comes from the strongest source (labels.precedence) with at least one
voting signal; a verifier's result is a fact about the trajectory, a human's rating an opinion,
a judge's score a model's opinion, implicit behaviour a hint. If the deciding source's own
signals disagree, the outcome is ambiguous (or, with conflict_policy=precedence, their weighted
majority). Weaker sources never overturn a stronger one, but any disagreement between voting
signals sets `conflicted`, and every scored signal feeds the quality score (a mean weighted by
kind and source), so "passed the tests but the user rewrote it" stays visible.
"""

from __future__ import annotations

from datetime import datetime

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from schemas.feedback import LABEL, OUTCOME_AMBIGUOUS, OUTCOME_FAILURE, OUTCOME_SUCCESS, OUTCOME_UNLABELED
from transforms.labels.feedback_events import (
    CREATED_AT, EVENT_ID, INGESTED_AT, KIND, SOURCE, TEXT, TRAJECTORY_ID, USER_ID,
)
from transforms.labels.params import CONFLICT_AMBIGUOUS, LabelParams
from transforms.labels.signals import RANK, SCORE, SIGNAL, VOTE, VOTE_FAILURE, VOTE_SUCCESS, WEIGHT, literal_map

ACTIVE = "active"  # false for a user's earlier event of a kind they gave again

OUTCOME = "outcome"
QUALITY_SCORE = "quality_score"
LABEL_SOURCE = "label_source"
CONFIDENCE = "confidence"
SIGNALS = "signals"
CONFLICTED = "conflicted"
CORRECTION = "correction"
N_EVENTS = "n_events"
LABELED_AT = "labeled_at"

_SUCCESS_W = "_success_w_{}"
_FAILURE_W = "_failure_w_{}"
_STRONGEST = "_strongest_rank"
_QUALITY_NUM = "_quality_num"
_QUALITY_DEN = "_quality_den"
_SIGNAL_SET = "_signal_set"
_DECIDER = "_decider_rank"
_DECIDER_SUCCESS_W = "_decider_success_w"
_DECIDER_FAILURE_W = "_decider_failure_w"


def _event_time() -> Column:
    """When the event happened, by its own clock, else by when it was ingested; id breaks ties."""
    return F.struct(F.coalesce(F.col(CREATED_AT), F.col(INGESTED_AT)), F.col(INGESTED_AT), F.col(EVENT_ID))


def supersede_repeats(signals: DataFrame, latest_per_user: bool) -> DataFrame:
    """Adds `active`: a user's latest event of each kind per trajectory; events without a user all count.

    Repartitioning by trajectory first lets this window and the per-trajectory aggregation that
    follows share one shuffle.
    """
    if not latest_per_user:
        return signals.withColumn(ACTIVE, F.lit(True))
    per_user_kind = Window.partitionBy(TRAJECTORY_ID, SOURCE, KIND, USER_ID).orderBy(_event_time().desc())
    return signals.repartition(TRAJECTORY_ID).withColumn(
        ACTIVE, F.col(USER_ID).isNull() | (F.row_number().over(per_user_kind) == 1)
    )


def _votes_per_trajectory(signals: DataFrame, params: LabelParams) -> DataFrame:
    """One aggregation pass: success and failure weight per source rank, quality sums, signals, correction."""
    counted = F.col(ACTIVE) & F.col(SCORE).isNotNull() & (F.col(WEIGHT) > 0)

    def weight_of(rank: int, vote: int) -> Column:
        return F.coalesce(F.sum(F.when(counted & (F.col(RANK) == rank) & (F.col(VOTE) == vote), F.col(WEIGHT))), F.lit(0.0))

    quality_weight = F.col(WEIGHT) * literal_map(params.quality_weights)[F.col(SOURCE)]
    is_correction = F.col(KIND) == "correction"
    ranks = range(len(params.precedence))
    return signals.groupBy(TRAJECTORY_ID).agg(
        F.count(F.lit(1)).cast("int").alias(N_EVENTS),
        *[weight_of(r, VOTE_SUCCESS).alias(_SUCCESS_W.format(r)) for r in ranks],
        *[weight_of(r, VOTE_FAILURE).alias(_FAILURE_W.format(r)) for r in ranks],
        F.min(F.when(counted, F.col(RANK))).alias(_STRONGEST),
        F.sum(F.when(counted, F.col(SCORE) * quality_weight)).alias(_QUALITY_NUM),
        F.sum(F.when(counted, quality_weight)).alias(_QUALITY_DEN),
        F.array_sort(F.collect_set(F.when(counted, F.struct(F.col(RANK), F.col(SIGNAL))))).alias(_SIGNAL_SET),
        F.max_by(F.when(is_correction, F.col(TEXT)), F.when(is_correction, _event_time())).alias(CORRECTION),
    )


def _with_decider(votes: DataFrame, params: LabelParams) -> DataFrame:
    """The strongest rank that voted, and its success and failure weights (null when none voted)."""
    ranks = range(len(params.precedence))
    success = [F.col(_SUCCESS_W.format(r)) for r in ranks]
    failure = [F.col(_FAILURE_W.format(r)) for r in ranks]
    voted = [s + f > 0 for s, f in zip(success, failure)]
    return votes.select(
        "*",
        F.coalesce(*[F.when(v, F.lit(r)) for r, v in zip(ranks, voted)]).alias(_DECIDER),
        F.coalesce(*[F.when(v, s) for v, s in zip(voted, success)]).alias(_DECIDER_SUCCESS_W),
        F.coalesce(*[F.when(v, f) for v, f in zip(voted, failure)]).alias(_DECIDER_FAILURE_W),
        ((F.greatest(*success) > 0) & (F.greatest(*failure) > 0)).alias(CONFLICTED),
    )


def label_trajectories(signals: DataFrame, params: LabelParams, labeled_at: datetime) -> DataFrame:
    """Signals (with `active`) -> LABEL rows, one per trajectory that has at least one event.

    Ambiguous and unlabeled outcomes have confidence 0: there is no outcome to be sure of.
    """
    s_w, f_w = F.col(_DECIDER_SUCCESS_W), F.col(_DECIDER_FAILURE_W)
    outcome = (
        F.when(F.col(_STRONGEST).isNull(), F.lit(OUTCOME_UNLABELED))  # events, but none that scores
        .when(F.col(_DECIDER).isNull(), F.lit(OUTCOME_AMBIGUOUS))  # scored, but every signal abstained
    )
    if params.conflict_policy == CONFLICT_AMBIGUOUS:
        outcome = outcome.when((s_w > 0) & (f_w > 0), F.lit(OUTCOME_AMBIGUOUS))
    outcome = outcome.when(s_w > f_w, F.lit(OUTCOME_SUCCESS)).when(f_w > s_w, F.lit(OUTCOME_FAILURE)).otherwise(F.lit(OUTCOME_AMBIGUOUS))
    sources = F.array(*[F.lit(s) for s in params.precedence])
    label_source = F.element_at(sources, F.coalesce(F.col(_DECIDER), F.col(_STRONGEST)) + 1)
    decided = F.col(OUTCOME).isin(OUTCOME_SUCCESS, OUTCOME_FAILURE)
    share = F.try_divide(F.greatest(s_w, f_w), s_w + f_w)
    confidence = F.when(decided, literal_map(params.source_confidence)[F.col(LABEL_SOURCE)] * share).otherwise(F.lit(0.0))
    return (
        signals.transform(_votes_per_trajectory, params)
        .transform(_with_decider, params)
        .withColumn(OUTCOME, outcome)
        .withColumn(LABEL_SOURCE, label_source)
        .select(
            TRAJECTORY_ID,
            OUTCOME,
            F.try_divide(F.col(_QUALITY_NUM), F.col(_QUALITY_DEN)).alias(QUALITY_SCORE),
            LABEL_SOURCE,
            confidence.alias(CONFIDENCE),
            F.transform(F.col(_SIGNAL_SET), lambda s: s[SIGNAL]).alias(SIGNALS),
            CONFLICTED,
            CORRECTION,
            N_EVENTS,
            F.lit(labeled_at).cast("timestamp").alias(LABELED_AT),
        )
    )


def with_unlabeled(labels: DataFrame, trajectory_ids: DataFrame, labeled_at: datetime) -> DataFrame:
    """LABEL rows for every id in trajectory_ids: its label, or `unlabeled` when it has no events."""
    found = labels.select(*LABEL.fieldNames())
    defaults = {
        OUTCOME: F.lit(OUTCOME_UNLABELED),
        CONFIDENCE: F.lit(0.0),
        SIGNALS: F.array().cast("array<string>"),
        CONFLICTED: F.lit(False),
        N_EVENTS: F.lit(0),
        LABELED_AT: F.lit(labeled_at).cast("timestamp"),
    }
    joined = trajectory_ids.select(TRAJECTORY_ID).join(found, TRAJECTORY_ID, "left")
    return joined.select(
        *[
            F.coalesce(F.col(f.name), defaults[f.name]).alias(f.name) if f.name in defaults else F.col(f.name)
            for f in LABEL.fields
        ]
    )
