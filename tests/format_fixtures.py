"""Source-format fixture lines (tests/fixtures/formats/<format>/*.jsonl) as bronze-like rows."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from schemas.bronze import RAW_RECORD

FORMATS_DIR = Path(__file__).parent / "fixtures" / "formats"
RUN_ID = "run-test"
INGESTED_AT = datetime(2026, 11, 2, 0, 0, 0)


def fixture_lines(fmt: str) -> list[tuple[str, int, str]]:
    """(line text, 1-based line number, file name) of every fixture file of a format."""
    return [
        (text, number, path.name)
        for path in sorted((FORMATS_DIR / fmt).glob("*.jsonl"))
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if text.strip()
    ]


def other_formats_lines(fmt: str) -> list[str]:
    """Every fixture line of every other format folder (whatever exists today)."""
    return [
        text
        for folder in sorted(p for p in FORMATS_DIR.iterdir() if p.is_dir() and p.name != fmt)
        for text, _, _ in fixture_lines(folder.name)
    ]


def bronze(spark: SparkSession, lines: list[tuple[str, int, str]]) -> DataFrame:
    rows = [(text, len(text.encode()), uri, number, RUN_ID, INGESTED_AT) for text, number, uri in lines]
    return spark.createDataFrame(rows, RAW_RECORD)
