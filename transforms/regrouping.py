"""Records of one trace that arrive in different ingest runs: which ones to assemble together.

Formats that spread a trajectory over many records (spans, observations, runs, agent-loop
calls) are assembled per ingest batch, but exporters ship a trace over several files and the
later file often lands after the earlier one was normalized. Each such adapter names the group
keys (trace ids) of a raw record (`Adapter.group_keys`); records sharing a key assemble into one
trajectory. A batch's records are assembled together with every earlier record that shares a
key with them, closed over keys (an OTLP request can carry spans of several traces, and each of
those traces must be whole too), so the candidate is the whole trace as far as the lake knows it.
"""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

from transforms.adapters.base import INGEST_RUN_ID, RECORD, SOURCE_FORMAT, SOURCE_LINE, SOURCE_URI, Adapter, once_per_row

GROUP_KEY = "group_key"
RECORD_ID = [INGEST_RUN_ID, SOURCE_URI, SOURCE_LINE]  # one bronze row
FORMAT_KEY = [SOURCE_FORMAT, GROUP_KEY]
_KEY_FIELDS = "_key_fields"  # a record parsed with its format's GroupKeys.schema


def grouping(adapters: list[Adapter]) -> list[Adapter]:
    """The adapters whose trajectories can span records."""
    return [a for a in adapters if a.group_keys is not None]


def record_keys(tagged: DataFrame, adapters: list[Adapter]) -> DataFrame:
    """(source_format, group_key, ingest_run_id, source_uri, source_line): one row per group key
    of each format-tagged record of a grouping format (a record without keys has no row).

    Each record is parsed once (`once_per_row`), with its format's key schema.
    """
    chosen = grouping(adapters)
    tag = F.col(SOURCE_FORMAT)
    parsed = F.struct(*[F.when(tag == a.name, F.from_json(F.col(RECORD), a.group_keys.schema)).alias(a.name) for a in chosen])
    keys = F.lit(None).cast(ArrayType(StringType()))
    for adapter in chosen:
        keys = F.when(tag == adapter.name, adapter.group_keys.of(F.col(_KEY_FIELDS)[adapter.name])).otherwise(keys)
    return (
        tagged.where(tag.isin(*[a.name for a in chosen]))
        .select(SOURCE_FORMAT, *RECORD_ID, once_per_row(parsed).alias(_KEY_FIELDS))
        .select(SOURCE_FORMAT, F.explode(keys).alias(GROUP_KEY), *RECORD_ID)
    )


def key_index(keys: DataFrame) -> DataFrame:
    """record_keys -> silver.trace_keys rows: which runs hold records of which trace."""
    return keys.select(SOURCE_FORMAT, GROUP_KEY, INGEST_RUN_ID).distinct()


def records_with(keys: DataFrame, wanted: DataFrame) -> DataFrame:
    """(source_format, ingest_run_id, source_uri, source_line) of the records having a wanted key."""
    return keys.join(wanted, FORMAT_KEY, "left_semi").select(SOURCE_FORMAT, *RECORD_ID).distinct()


def widen(keys: DataFrame, wanted: DataFrame) -> DataFrame:
    """Every key of the records having a wanted key (a superset of wanted): one closure step."""
    return keys.join(records_with(keys, wanted), [SOURCE_FORMAT, *RECORD_ID], "left_semi").select(*FORMAT_KEY).distinct()
