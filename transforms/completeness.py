"""Which parts of a trajectory were captured, so partial captures can be filtered later."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

COMPLETENESS = "completeness"


def _text(column: str) -> Column:
    return F.col(column).isNotNull() & (F.length(F.trim(F.col(column))) > 0)


def _any_step(predicate) -> Column:
    return F.coalesce(F.exists(F.col("steps"), predicate), F.lit(False))


def _present(name: str, condition: Column) -> Column:
    return F.when(condition, F.lit(name))


def with_completeness(trajectories: DataFrame) -> DataFrame:
    """Adds `completeness`: the captured parts, in schemas.trajectory.COMPLETENESS_PARTS order."""
    parts = [
        _present("input", _text("input")),
        _present("system_prompt", _text("system_prompt")),
        _present("context", F.coalesce(F.size("context_docs"), F.lit(0)) > 0),
        _present("steps", F.coalesce(F.size("steps"), F.lit(0)) > 0),
        _present(
            "tool_results",
            _any_step(lambda s: s["tool"]["result"].isNotNull() | s["tool"]["error"].isNotNull()),
        ),
        _present(
            "reasoning",
            _any_step(lambda s: (s["kind"] == "reasoning") | (F.length(F.trim(s["reasoning"])) > 0)),
        ),
        _present("output", _text("final_output")),
        _present("model_version", F.col("model.version").isNotNull() & (F.col("model.version") != "")),
        _present("latency", F.col("metadata.latency_ms").isNotNull()),
    ]
    return trajectories.withColumn(COMPLETENESS, F.filter(F.array(*parts), lambda p: p.isNotNull()))
