"""Each feedback event -> one signal: a score from 0 (failure) to 1 (success), its weight, its
vote and its source's rank.

One scale for every kind lets the label rules compare a test result, a 4-star rating and a
judge's 0.8 without caring what they were; what each kind's value means lives here alone.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from transforms.labels.feedback_events import KIND, SOURCE, VALUE
from transforms.labels.params import LabelParams

SCORE = "score"  # [0, 1], 1 = success; null = the event says nothing (an escalation that did not happen)
WEIGHT = "weight"  # the kind's weight from conf
VOTE = "vote"  # 1 success, -1 failure, 0 abstains; null when score is null
RANK = "rank"  # the source's place in labels.precedence, 0 = strongest
SIGNAL = "signal"  # "<source>:<kind>"

VOTE_SUCCESS = 1
VOTE_FAILURE = -1
VOTE_ABSTAIN = 0


def literal_map(mapping) -> Column:
    """A Python dict as a Spark map literal (conf lookups by kind or source, no join)."""
    return F.create_map(*[F.lit(x) for pair in mapping.items() for x in pair])


def signal_score(params: LabelParams) -> Column:
    """The kind's value on the common 0..1 success scale (values were validated by parse_feedback)."""
    kind, value = F.col(KIND), F.col(VALUE)
    happened_then_failure = F.when(value > 0, F.lit(0.0))  # a failure sign, or nothing if it did not happen
    rating = (value - params.rating_min) / (params.rating_max - params.rating_min)
    rewrite = F.least(value / params.followup_edit_distance_full, F.lit(1.0))
    return (
        F.when(kind.isin("test_outcome", "task_check", "thumbs", "judge_score"), value)
        .when(kind == "acceptance", F.least(value, F.lit(1.0)))
        .when(kind.isin("escalation", "retry", "abandonment"), happened_then_failure)
        .when(kind == "rating", rating)
        .when(kind == "followup_edit_distance", 1.0 - rewrite)
        .when(kind == "correction", F.lit(0.0))  # the user had to rewrite the answer
    )


def to_signals(events: DataFrame, params: LabelParams) -> DataFrame:
    """silver.feedback rows + score, weight, vote, rank and the `<source>:<kind>` signal name."""
    score = F.col(SCORE)
    vote = (
        F.when(score >= params.success_min, F.lit(VOTE_SUCCESS))
        .when(score <= params.failure_max, F.lit(VOTE_FAILURE))
        .when(score.isNotNull(), F.lit(VOTE_ABSTAIN))
    )
    ranks = {source: params.rank(source) for source in params.precedence}
    return (
        events.withColumn(SCORE, signal_score(params))
        .withColumn(WEIGHT, literal_map(params.weights)[F.col(KIND)])
        .withColumn(VOTE, vote)
        .withColumn(RANK, literal_map(ranks)[F.col(SOURCE)])
        .withColumn(SIGNAL, F.concat_ws(":", F.col(SOURCE), F.col(KIND)))
    )
