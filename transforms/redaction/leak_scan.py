"""Measure redaction against seeded truth: what leaked, and what was redacted needlessly.

Leak rate: of the values the generator seeded into trajectories that reached the curated zone,
the share still found verbatim anywhere in the curated row (free text and every other column).
Over-redaction: a deterministic sample of words of the original (silver) text that are not
part of any seeded value, and the share of them missing from the curated text. Both are joins
on trajectory_id plus `contains`, so they scale with the data.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from schemas.redaction import LEAK_RATE

TEXT = "text"


def _free_text() -> Column:
    step_texts = F.transform(
        "steps",
        lambda s: F.concat_ws(
            "\n", s["content"], s["reasoning"], s["tool"]["arguments"], s["tool"]["result"], s["tool"]["error"]
        ),
    )
    doc_texts = F.transform("context_docs", lambda d: d["content"])
    return F.concat_ws(
        "\n", "system_prompt", "input", F.array_join(doc_texts, "\n"), F.array_join(step_texts, "\n"), "final_output"
    )


def free_text(trajectories: DataFrame) -> DataFrame:
    """(trajectory_id, text): every free-text part of each trajectory, raw, newline-separated."""
    return trajectories.select("trajectory_id", _free_text().alias(TEXT))


def trajectory_text(trajectories: DataFrame) -> DataFrame:
    """(trajectory_id, text): the free text, then the whole row as JSON (a leak anywhere counts)."""
    everything = F.to_json(F.struct(*[F.col(c) for c in trajectories.columns]))
    return trajectories.select("trajectory_id", F.concat_ws("\n", _free_text(), everything).alias(TEXT))


def leaked_values(truth: DataFrame, curated: DataFrame) -> DataFrame:
    """Distinct seeded (trajectory_id, entity_type, value) of curated trajectories, with `leaked`."""
    seeded = (
        truth.where(F.col("value").isNotNull() & (F.length("value") > 0))
        .select("trajectory_id", "entity_type", "value")
        .distinct()
    )
    return seeded.join(trajectory_text(curated), "trajectory_id").select(
        "trajectory_id", "entity_type", "value", F.col(TEXT).contains(F.col("value")).alias("leaked")
    )


def leak_rates(truth: DataFrame, curated: DataFrame) -> DataFrame:
    """Per entity type: seeded values in curated trajectories, how many leaked, the rate (LEAK_RATE)."""
    return (
        leaked_values(truth, curated)
        .groupBy("entity_type")
        .agg(F.count(F.lit(1)).alias("seeded"), F.sum(F.col("leaked").cast("long")).alias("leaked"))
        .select(
            "entity_type",
            "seeded",
            "leaked",
            (F.col("leaked") / F.col("seeded")).alias("leak_rate"),
        )
        .select(*[F.col(f.name).cast(f.dataType) for f in LEAK_RATE.fields])
    )


def over_redaction_sample(
    truth: DataFrame, original: DataFrame, curated: DataFrame, words_per_trajectory: int, min_word_chars: int
) -> DataFrame:
    """(trajectory_id, word, kept): sampled non-PII words of the original text, kept or replaced."""
    seeded = truth.groupBy("trajectory_id").agg(F.concat_ws("\n", F.collect_list("value")).alias("seeded"))
    words = (
        free_text(original.join(curated.select("trajectory_id"), "trajectory_id", "left_semi"))
        .select("trajectory_id", F.explode(F.split(TEXT, r"[^\p{L}]+")).alias("word"))
        .where(F.length("word") >= min_word_chars)
        .distinct()
        .join(seeded, "trajectory_id", "left")
        .where(F.col("seeded").isNull() | ~F.col("seeded").contains(F.col("word")))
    )
    sample_order = Window.partitionBy("trajectory_id").orderBy(F.xxhash64("trajectory_id", "word"))
    sampled = (
        words.withColumn("_pick", F.row_number().over(sample_order))
        .where(F.col("_pick") <= words_per_trajectory)
        .select("trajectory_id", "word")
    )
    return sampled.join(free_text(curated), "trajectory_id").select(
        "trajectory_id", "word", F.col(TEXT).contains(F.col("word")).alias("kept")
    )
