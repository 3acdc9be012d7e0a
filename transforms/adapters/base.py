"""What a source-format adapter is, and the pieces every adapter shares.

An adapter recognises its records by a test on their top-level fields (`detects`) and turns
the bronze rows it recognised into canonical trajectory candidates (`to_trajectories`). A
candidate that cannot become a trajectory keeps its lineage and carries `reject_reason`, so
normalize can quarantine it instead of losing it. Adapters of formats that spread one
trajectory over many records (spans, runs, observations) group them inside to_trajectories;
their candidate's source_line is the first record's. Such an adapter also says which group keys
(trace ids) a raw record belongs to (`group_keys`), so normalize can find the records of a trace
that earlier ingest runs brought and assemble them with the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from schemas.trajectory import LINEAGE_FIELDS, TRAJECTORY_CONTENT_FIELDS

# Bronze columns an adapter receives (schemas.bronze.RAW_RECORD).
RECORD = "record"
SOURCE_URI = "source_uri"
SOURCE_LINE = "source_line"
INGEST_RUN_ID = "ingest_run_id"
INGESTED_AT = "ingested_at"
SOURCE_FORMAT = "source_format"

REJECT_REASON = "reject_reason"
REJECT_DETAIL = "reject_detail"
CORRUPT = "_corrupt_record"

# Reject reasons adapters share (normalize stage quarantine codes).
MISSING_TRAJECTORY_ID = "missing_trajectory_id"
WRONG_TYPE = "wrong_type"  # a field of the wrong JSON type for its format
NO_CONTENT = "no_content"  # neither input, steps nor output
ASSEMBLY_FAILED = "assembly_failed"  # assembling the trace raised (a shape no rule foresaw)

# metadata.extra key: how many bronze records a candidate accounts for (normalize sums it).
RECORDS_KEY = "records"

CANDIDATE = StructType(
    TRAJECTORY_CONTENT_FIELDS
    + LINEAGE_FIELDS
    + [StructField(REJECT_REASON, StringType()), StructField(REJECT_DETAIL, StringType())]
)


class TopFields:
    """A bronze record as detectors read it: its text (`record`) and its top-level fields, each
    as `get_json_object(record, '$.<name>')` gives it (strings unquoted, other values as JSON
    text, null when absent, JSON null or not a JSON object).

    Format detection extracts the fields every detector names (`Adapter.detect_fields`) with one
    `json_tuple` parse per record: a `get_json_object` per field parsed the whole record again
    each time, and detection was about a tenth of a normalize's task time. (For a key written
    twice, json_tuple reads the last, get_json_object the first.) Built without `extracted`
    (one detector alone, as in tests), each field is its own get_json_object.
    """

    def __init__(self, record: Column, extracted: Mapping[str, Column] | None = None):
        self.record = record
        self._extracted = extracted

    def __getitem__(self, name: str) -> Column:
        if self._extracted is None:
            return F.get_json_object(self.record, f"$.{name}")
        if name not in self._extracted:
            raise KeyError(f"top-level field {name!r} was not extracted: list it in the adapter's detect_fields")
        return self._extracted[name]


@dataclass(frozen=True)
class GroupKeys:
    """The keys to_trajectories groups a record by (formats that assemble one trajectory from
    many records): `of` maps the record parsed with `schema` to array<string>, empty when the
    record is a trajectory of its own. Records sharing a key must be exactly those that assemble
    together.

    The parse and the key expression are apart so the record is parsed once: handed a
    from_json, Spark's JSON-expression pruning gives each field access its own parse of the text
    (the OpenAI key read every line five times over).
    """

    schema: StructType
    of: Callable[[Column], Column]


@dataclass(frozen=True)
class Adapter:
    """A source format: its name (the source_format value), its detector (boolean, never null)
    with the top-level fields it reads, its mapping and, for formats whose trajectories span
    records, its group keys."""

    name: str
    detects: Callable[[TopFields], Column]
    to_trajectories: Callable[[DataFrame], DataFrame]
    group_keys: GroupKeys | None = None
    detect_fields: tuple[str, ...] = ()


def no_keys() -> Column:
    """The group_keys of a record that is a trajectory of its own."""
    return F.array().cast(ArrayType(StringType()))


def parse_json(record: Column, schema: StructType) -> Column:
    """from_json with a corrupt-record column, so wrong types are caught, not silently nulled."""
    with_corrupt = StructType(list(schema.fields) + [StructField(CORRUPT, StringType())])
    return F.from_json(record, with_corrupt, {"columnNameOfCorruptRecord": CORRUPT, "mode": "PERMISSIVE"})


def once_per_row(column: Column) -> Column:
    """`column` evaluated once per row, for a select: a JSON parse that later expressions read.

    It sits in a Generate (explode of a one-element array), which the optimizer neither
    collapses into later projections nor pushes filters through. As a plain projection, Spark
    inlines it into every field access and its JSON-expression pruning gives each copy its own
    schema, so no common-subexpression elimination saves it: the trace adapters parsed each
    record 15-30 times, the OpenAI group keys five.
    """
    return F.explode(F.array(column))


def with_parsed(records: DataFrame, name: str, schema: StructType) -> DataFrame:
    """`records` plus column `name`: the raw record parsed by parse_json, once per row."""
    return records.select("*", once_per_row(parse_json(F.col(RECORD), schema)).alias(name))


def lineage(source_format: str) -> list[Column]:
    """The lineage columns of a candidate built from one bronze row (or the first of a group)."""
    return [
        F.lit(source_format).alias(SOURCE_FORMAT),
        F.col(SOURCE_URI),
        F.col(SOURCE_LINE),
        F.col(INGEST_RUN_ID),
        F.col(INGESTED_AT),
    ]


def reject_when(*rules: tuple[Column, str, Column | str | None]) -> list[Column]:
    """reject_reason / reject_detail from (condition, reason, detail) rules, first match wins."""
    reason = F.lit(None).cast("string")
    detail = F.lit(None).cast("string")
    for condition, code, text in reversed(rules):
        text_col = text if isinstance(text, Column) else F.lit(text).cast("string")
        reason = F.when(condition, F.lit(code)).otherwise(reason)
        detail = F.when(condition, text_col).otherwise(detail)
    return [reason.alias(REJECT_REASON), detail.alias(REJECT_DETAIL)]


def as_candidates(df: DataFrame) -> DataFrame:
    """Select the CANDIDATE columns in order, cast to their canonical types."""
    return df.select(*[F.col(f.name).cast(f.dataType).alias(f.name) for f in CANDIDATE.fields])


def iso_timestamp(column: Column) -> Column:
    """ISO-8601 text (with Z or offset, optional fraction) -> timestamp; null when unparsable."""
    return F.try_to_timestamp(column)


def nanos_timestamp(column: Column) -> Column:
    """Unix nanoseconds (number or numeric string, as OTLP/JSON writes them) -> timestamp."""
    return F.timestamp_micros((column.try_cast("decimal(38,0)") / 1000).try_cast("long"))


def nonblank(text: Column) -> Column:
    """The text, or null when it is null, empty or only whitespace."""
    return F.when(F.length(F.trim(text)) > 0, text)


def record_key() -> Column:
    """A group key naming one bronze record: a nested trace export is a trace of its own, and a
    record rejected before assembly a group of its own."""
    return F.concat_ws("/", F.lit("record"), F.col(INGEST_RUN_ID), F.col(SOURCE_URI), F.col(SOURCE_LINE).cast("string"))
