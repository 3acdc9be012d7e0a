"""Tag each bronze record with the source format whose adapter recognises it (null: none)."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from transforms.adapters.base import CANDIDATE, RECORD, SOURCE_FORMAT, Adapter, TopFields

_FIELD_PREFIX = "_top_"  # the extracted top-level fields' columns, dropped once tagged


def detect_format(records: DataFrame, adapters: list[Adapter]) -> DataFrame:
    """Adds `source_format`: the first adapter (in registry order) whose detector accepts the record.

    The top-level fields the detectors read are extracted by one parse of each record (a
    json_tuple: a generator, so the optimizer keeps it one evaluation per row)."""
    names = sorted({name for adapter in adapters for name in adapter.detect_fields})
    columns = [f"{_FIELD_PREFIX}{name}" for name in names]
    parsed = records.select("*", F.json_tuple(RECORD, *names).alias(*columns)) if names else records
    fields = TopFields(F.col(RECORD), {name: F.col(column) for name, column in zip(names, columns)})
    tag = F.lit(None).cast("string")
    for adapter in reversed(adapters):
        tag = F.when(adapter.detects(fields), F.lit(adapter.name)).otherwise(tag)
    return parsed.select(*records.columns, tag.alias(SOURCE_FORMAT))


def adapter_candidates(tagged: DataFrame, adapter: Adapter) -> DataFrame:
    """One adapter run on the records tagged with its name."""
    return adapter.to_trajectories(tagged.where(F.col(SOURCE_FORMAT) == adapter.name).drop(SOURCE_FORMAT))


def union_candidates(spark: SparkSession, parts: list[DataFrame]) -> DataFrame:
    """The union of adapters' candidates (an empty CANDIDATE frame for none)."""
    if not parts:
        return spark.createDataFrame([], CANDIDATE)
    result = parts[0]
    for part in parts[1:]:
        result = result.unionByName(part)
    return result


def to_candidates(tagged: DataFrame, adapters: list[Adapter]) -> DataFrame:
    """Run each adapter on the records tagged with its name; the union of their candidates."""
    return union_candidates(tagged.sparkSession, [adapter_candidates(tagged, adapter) for adapter in adapters])
