"""Content hashes and one row per trajectory id.

The hash covers what a trainer would see (prompts, input, context, steps, tools, output), not
ids or timestamps, so the same conversation logged twice hashes alike whatever its ids.
"""

from __future__ import annotations

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

CONTENT_HASH = "content_hash"
ID_RANK = "_id_rank"
KEPT_HASH = "_kept_content_hash"


def with_content_hash(trajectories: DataFrame) -> DataFrame:
    steps = F.transform(
        F.coalesce(F.col("steps"), F.array()),
        lambda s: F.struct(
            s["kind"], s["role"], s["content"], s["reasoning"],
            s["tool"]["name"], s["tool"]["arguments"], s["tool"]["result"], s["tool"]["error"],
        ),
    )
    content = F.struct(
        F.col("system_prompt"),
        F.col("input"),
        F.transform(F.coalesce(F.col("context_docs"), F.array()), lambda d: d["content"]).alias("context"),
        steps.alias("steps"),
        F.col("tools_available"),
        F.col("final_output"),
    )
    return trajectories.withColumn(CONTENT_HASH, F.sha2(F.to_json(content), 256))


def rank_by_trajectory_id(candidates: DataFrame) -> DataFrame:
    """Adds `_id_rank` (1 = kept) and the kept row's hash: earliest ingest, then file, then line."""
    order = Window.partitionBy("trajectory_id").orderBy(
        F.col("ingested_at").asc_nulls_last(), F.col("source_uri"), F.col("source_line")
    )
    whole = Window.partitionBy("trajectory_id")
    ranked = candidates.withColumn(ID_RANK, F.row_number().over(order))
    kept_hash = F.first(F.when(F.col(ID_RANK) == 1, F.col(CONTENT_HASH)), ignorenulls=True).over(whole)
    return ranked.withColumn(KEPT_HASH, kept_hash)
