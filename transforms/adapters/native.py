"""The native format: the canonical trajectory as JSON, tagged `"format": "trajlake.v1"`.

Teams that control their agent's logging write this directly; nothing is lost or guessed.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from schemas.trajectory import NATIVE_RECORD, TRAJECTORY_CONTENT_FIELDS
from schemas.vocabulary import NATIVE_FORMAT_TAG
from transforms.adapters.base import (
    CORRUPT,
    MISSING_TRAJECTORY_ID,
    WRONG_TYPE,
    Adapter,
    TopFields,
    as_candidates,
    lineage,
    reject_when,
    with_parsed,
)

NAME = "native"
_PARSED = "_parsed"


DETECT_FIELDS = ("format",)


def detects(record: TopFields) -> Column:
    return F.coalesce(record["format"] == F.lit(NATIVE_FORMAT_TAG), F.lit(False))


def to_trajectories(records: DataFrame) -> DataFrame:
    parsed = with_parsed(records, _PARSED, NATIVE_RECORD)
    content = [F.col(f"{_PARSED}.{f.name}").alias(f.name) for f in TRAJECTORY_CONTENT_FIELDS]
    trajectory_id = F.col(f"{_PARSED}.trajectory_id")
    candidates = parsed.select(
        *content,
        *lineage(NAME),
        *reject_when(
            (F.col(f"{_PARSED}.{CORRUPT}").isNotNull(), WRONG_TYPE, "a field has the wrong JSON type for trajlake.v1"),
            (trajectory_id.isNull() | (F.trim(trajectory_id) == ""), MISSING_TRAJECTORY_ID, None),
        ),
    )
    return as_candidates(candidates)


ADAPTER = Adapter(NAME, detects, to_trajectories, detect_fields=DETECT_FIELDS)
