"""Source-format fixture lines (tests/fixtures/formats/<format>/*.jsonl) as bronze-like rows."""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from schemas.bronze import RAW_RECORD
from tests.raw_files import native_record
from transforms.adapters.base import Adapter
from transforms.format_detection import detect_format, to_candidates

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


def every_fixture_line() -> list[tuple[str, int, str]]:
    """fixture_lines of every format folder, and one native record."""
    folders = sorted(p.name for p in FORMATS_DIR.iterdir() if p.is_dir())
    return [line for folder in folders for line in fixture_lines(folder)] + [(json.dumps(native_record("t-native")), 1, "native.jsonl")]


def bronze(spark: SparkSession, lines: list[tuple[str, int, str]]) -> DataFrame:
    rows = [(text, len(text.encode()), uri, number, RUN_ID, INGESTED_AT) for text, number, uri in lines]
    return spark.createDataFrame(rows, RAW_RECORD)


_FIRST_SCALAR_MEMBER = re.compile(r'\{("[^"\\]+")\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?|true|false|null)\s*,')
OVERWRITTEN = "~overwritten~"
_DECOYS = {"true": "false", "false": "true", "null": "null"}  # by value; else by first character:
_DECOYS_BY_START = {'"': f'"{OVERWRITTEN}"', **{c: "987654321" for c in "-0123456789"}}


def with_repeated_keys(text: str) -> str:
    """The line with the first member of each object written twice, first with a decoy of the
    same JSON type (a null stays null): read as JSON readers read a repeated key (the last
    wins), it is the same record."""
    def repeat(member: re.Match) -> str:
        key, value = member[1], member[2]
        decoy = _DECOYS.get(value) or _DECOYS_BY_START[value[0]]
        return f"{{{key}: {decoy}, {key}: {value},"

    return _FIRST_SCALAR_MEMBER.sub(repeat, text)


def detected_candidates(spark: SparkSession, lines: list[tuple[str, int, str]], adapters: list[Adapter]) -> list[dict]:
    """The candidates of the lines, each detected and mapped by `adapters`, collected in lineage
    order (chispa cannot order rows holding a map)."""
    rows = to_candidates(detect_format(bronze(spark, lines), adapters), adapters).collect()
    return sorted((r.asDict(recursive=True) for r in rows), key=lambda c: (c["source_uri"], c["source_line"], c["trajectory_id"] or ""))
