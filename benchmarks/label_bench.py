"""Time the label transforms against a plain from_json + groupBy baseline over the same events.

    .venv/bin/python -m benchmarks.label_bench [--base 20000] [--sizes 1,2,4] [--repeats 3]

Feedback is built in-process with Spark expressions (every kind, ~4 events per trajectory,
2% duplicate event ids, 1% bad values), persisted, then each side is forced with Spark's `noop`
sink so only the transforms are timed, not generation or output. The baseline is the least a
labeller can do (parse, then max(value) per trajectory); the ratio is what typing, validation,
dedup, precedence and conflict rules cost on top of it.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from schemas.feedback import FEEDBACK, FEEDBACK_KINDS, FEEDBACK_RECORD
from transforms.labels.feedback_events import REASON, mark_duplicates, parse_feedback
from transforms.labels.label_rules import label_trajectories, supersede_repeats
from transforms.labels.params import LabelParams
from transforms.labels.signals import to_signals

EVENTS_PER_TRAJECTORY = 4
NOW = datetime(2026, 11, 2)


def _pick(seed: str, n: int) -> Column:
    """A deterministic pseudo-random integer in [0, n) per row."""
    return F.pmod(F.hash(F.col("id"), F.lit(seed)), F.lit(n))


def synthetic_feedback(spark: SparkSession, events: int) -> DataFrame:
    """bronze.feedback-shaped rows: one JSON record per event."""
    kinds = F.array(*[F.lit(k) for k in FEEDBACK_KINDS])
    kind = F.element_at(kinds, _pick("kind", len(FEEDBACK_KINDS)) + 1)
    good = _pick("good", 100) < 60
    value = (
        F.when(kind.isin("test_outcome", "task_check"), F.when(good, "passed").otherwise("failed"))
        .when(kind == "rating", F.when(_pick("bad", 100) == 0, F.lit("11")).otherwise((_pick("rating", 5) + 1).cast("string")))
        .when(kind.isin("thumbs", "acceptance"), F.when(good, "true").otherwise("false"))
        .when(kind.isin("judge_score", "followup_edit_distance"), (_pick("score", 101) / 100).cast("string"))
        .when(kind.isin("escalation", "retry", "abandonment"), F.when(good, "false").otherwise("true"))
    )
    event_number = F.when(F.col("id") % 50 == 49, F.col("id") - 1).otherwise(F.col("id"))
    record = F.struct(
        F.concat(F.lit("e-"), event_number.cast("string")).alias("event_id"),
        F.concat(F.lit("t-"), (F.col("id") * 7919 % (events // EVENTS_PER_TRAJECTORY)).cast("string")).alias("trajectory_id"),
        kind.alias("kind"),
        value.alias("value"),
        F.when(kind == "correction", F.lit("Use the refund API, not the order API.")).alias("text"),
        F.concat(F.lit("u-"), _pick("user", 1000).cast("string")).alias("user_id"),
        F.date_format(F.timestamp_seconds(F.lit(1_793_000_000) + F.col("id")), "yyyy-MM-dd'T'HH:mm:ss'Z'").alias("created_at"),
    )
    return spark.range(events).select(
        F.to_json(record).alias("record"),
        F.lit(0).cast("long").alias("record_bytes"),
        F.lit("file:/bench/feedback/part-0.jsonl").alias("source_uri"),
        (F.col("id") + 1).alias("source_line"),
        F.lit("bench").alias("ingest_run_id"),
        F.lit(NOW).cast("timestamp").alias("ingested_at"),
    )


def label_pipeline(bronze: DataFrame, params: LabelParams) -> DataFrame:
    empty = bronze.sparkSession.createDataFrame([], FEEDBACK)
    return (
        bronze.transform(parse_feedback, params)
        .transform(mark_duplicates, empty)
        .where(F.col(REASON).isNull())
        .select(*FEEDBACK.fieldNames())
        .transform(to_signals, params)
        .transform(supersede_repeats, params.latest_per_user)
        .transform(label_trajectories, params, NOW)
    )


def baseline(bronze: DataFrame) -> DataFrame:
    parsed = bronze.select(F.from_json("record", FEEDBACK_RECORD).alias("f"))
    return parsed.groupBy(F.col("f.trajectory_id").alias("trajectory_id")).agg(
        F.max(F.col("f.value").try_cast("double")).alias("value")
    )


def _seconds(df: DataFrame, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        df.write.format("noop").mode("overwrite").save()
        best = min(best, time.perf_counter() - start)
    return best


def bench(spark: SparkSession, params: LabelParams, base: int, sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for factor in sizes:
        n = base * factor
        bronze = synthetic_feedback(spark, n).persist()
        bronze.count()
        _seconds(label_pipeline(bronze, params), 1)  # warm-up: codegen, JIT
        labels_s = _seconds(label_pipeline(bronze, params), repeats)
        baseline_s = _seconds(baseline(bronze), repeats)
        rows.append(
            {"size": f"{factor}x", "events": n, "trajectories": n // EVENTS_PER_TRAJECTORY,
             "labels_s": labels_s, "baseline_s": baseline_s, "ratio": labels_s / baseline_s}
        )
        bronze.unpersist()
    return rows


def main(argv: list[str] | None = None) -> int:
    from jobs.settings import load_settings
    from jobs.spark_session import build_spark

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--base", type=int, default=20_000, help="events at size 1x")
    parser.add_argument("--sizes", default="1,2,4", help="comma-separated multiples of --base")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best is kept)")
    parser.add_argument("--conf-file", help="conf file (Spark settings, labels.* rules)")
    args = parser.parse_args(argv)
    settings = load_settings(args.conf_file)
    spark = build_spark(settings)
    params = LabelParams.from_conf(settings["labels"])
    rows = bench(spark, params, args.base, [int(s) for s in args.sizes.split(",")], args.repeats)
    print(f"label transforms vs from_json + groupBy(max) baseline; master {settings['spark.master']}, "
          f"shuffle partitions {settings['spark.shuffle_partitions']}, best of {args.repeats}")
    print(f"{'size':>5} {'events':>9} {'trajectories':>12} {'labels_s':>9} {'baseline_s':>10} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['size']:>5} {r['events']:>9,} {r['trajectories']:>12,} "
            f"{r['labels_s']:>9.2f} {r['baseline_s']:>10.2f} {r['ratio']:>6.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
