"""How often the derived outcome matches the generator's true outcome, per signal mix.

    .venv/bin/python -m benchmarks.label_agreement --labels <silver.labels path> --truth <dir>

`--truth` is the generator's output folder (or its `_truth` folder); `--labels` defaults to
silver.labels as the conf places it. Agreement is over decided labels (success | failure);
coverage is the share of labeled trajectories that got a decided one, so a rule that says
"ambiguous" more often trades coverage for agreement and both numbers show it. `missing`
counts true trajectories with no label row at all (they never reached silver.trajectories).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

from schemas.feedback import OUTCOME_AMBIGUOUS, OUTCOME_FAILURE, OUTCOME_SUCCESS, OUTCOME_UNLABELED

TRUTH = StructType(
    [
        StructField("trajectory_id", StringType()),
        StructField("true_outcome", StringType()),  # success | failure
        StructField("true_quality", StringType()),  # good | bad | lucky
        StructField("signal_mix", StringType()),  # e.g. verifier+human+implicit
    ]
)
ALL_MIXES = "(all)"
METRICS = ["trajectories", "decided", "agree", "ambiguous", "unlabeled", "missing", "agreement", "coverage"]


def _counts(joined: DataFrame, *keys) -> DataFrame:
    outcome = F.col("outcome")
    decided = outcome.isin(OUTCOME_SUCCESS, OUTCOME_FAILURE)
    count_if = lambda cond: F.sum(F.when(cond, 1).otherwise(0)).cast("long")  # noqa: E731
    return joined.groupBy(*keys).agg(
        F.count(F.lit(1)).alias("trajectories"),
        count_if(decided).alias("decided"),
        count_if(decided & (outcome == F.col("true_outcome"))).alias("agree"),
        count_if(outcome == OUTCOME_AMBIGUOUS).alias("ambiguous"),
        count_if(outcome == OUTCOME_UNLABELED).alias("unlabeled"),
        count_if(outcome.isNull()).alias("missing"),
    )


def agreement_by_mix(labels: DataFrame, truth: DataFrame) -> DataFrame:
    """One row per signal_mix, plus `(all)`: counts, agreement (agree / decided), coverage (decided / labeled)."""
    joined = truth.select("trajectory_id", "true_outcome", "signal_mix").join(
        labels.select("trajectory_id", "outcome"), "trajectory_id", "left"
    )
    per_mix = _counts(joined, "signal_mix")
    overall = _counts(joined).select(F.lit(ALL_MIXES).alias("signal_mix"), *METRICS[:6])
    return (
        per_mix.unionByName(overall)
        .withColumn("agreement", F.round(F.try_divide(F.col("agree"), F.col("decided")), 4))
        .withColumn("coverage", F.round(F.try_divide(F.col("decided"), F.col("trajectories") - F.col("missing")), 4))
        .select("signal_mix", *METRICS)
    )


def quality_by_truth(labels: DataFrame, truth: DataFrame) -> DataFrame:
    """Mean quality score per true quality (good | bad | lucky): good should score highest."""
    return (
        truth.join(labels.select("trajectory_id", "quality_score"), "trajectory_id")
        .groupBy("true_quality")
        .agg(F.count(F.lit(1)).alias("trajectories"), F.round(F.avg("quality_score"), 4).alias("mean_quality_score"))
        .orderBy("true_quality")
    )


def truth_file(folder: str) -> str:
    base = Path(folder)
    for candidate in (base / "trajectories.jsonl", base / "_truth" / "trajectories.jsonl"):
        if candidate.is_file():
            return str(candidate.resolve())
    raise SystemExit(f"label_agreement: no trajectories.jsonl in {base} or {base / '_truth'}")


def main(argv: list[str] | None = None) -> int:
    from jobs.lake import Lake
    from jobs.settings import load_settings
    from jobs.spark_session import build_spark

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--labels", help="silver.labels Delta table path (default: from conf)")
    parser.add_argument("--truth", required=True, help="generator output folder (with _truth/) or its _truth folder")
    parser.add_argument("--conf-file", help="conf file for the default --labels and Spark settings")
    args = parser.parse_args(argv)
    settings = load_settings(args.conf_file)
    spark = build_spark(settings)
    labels_path = args.labels or Lake(spark, settings).path("silver.labels")
    labels = spark.read.format("delta").load(labels_path)
    truth = spark.read.schema(TRUTH).json(truth_file(args.truth))
    by_mix = agreement_by_mix(labels, truth).orderBy(F.col("signal_mix") == ALL_MIXES, F.desc("trajectories"))
    print(f"labels: {labels_path}")
    by_mix.show(100, truncate=False)
    quality_by_truth(labels, truth).show(truncate=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
