"""Raw log files -> one row per line, each either a clean JSON-object record or a reason it is not.

Spark's text and JSON readers replace invalid UTF-8 silently and forget line numbers, and a
truncated gzip member fails the whole task. Ingest promises that every raw line lands in bronze
or in quarantine with its file and line number, so the bytes are split here, in one pass per
file over `binaryFile` content, with Python only where the checks need it (decompression,
UTF-8 and JSON validity), batched through `mapInPandas`.
"""

from __future__ import annotations

import base64
import json
import zlib
from collections.abc import Iterator

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql.types import LongType, StringType, StructField, StructType

# Reason codes an ingest quarantine row can carry.
EMPTY_LINE = "empty_line"
BLANK_LINE = "blank_line"
INVALID_UTF8 = "invalid_utf8"
NUL_BYTE = "nul_byte"
RECORD_TOO_LARGE = "record_too_large"
TRUNCATED_JSON = "truncated_json"
NOT_JSON = "not_json"
NOT_AN_OBJECT = "not_an_object"
TOO_DEEP = "too_deep"  # nested past what the JSON readers take (Spark's and Python's: about 1,000 levels)
UNREADABLE_FILE = "unreadable_file"

# What each output row is: a line, or the one summary row per file that carries its line count.
ROW_LINE = "line"
ROW_FILE = "file"

LINES = StructType(
    [
        StructField("row_type", StringType()),
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),  # null on file rows
        StructField("record", StringType()),  # the UTF-8 line when it is a clean JSON object
        StructField("record_bytes", LongType()),
        StructField("reason", StringType()),  # null when clean
        StructField("detail", StringType()),
        StructField("raw", StringType()),  # the line for quarantine (text, or base64 of the bytes)
        StructField("raw_encoding", StringType()),
        StructField("lines_read", LongType()),  # file rows: how many lines the file had
    ]
)


def _decompress(path: str, content: bytes) -> tuple[bytes, str | None]:
    """The file's bytes, and a fault description when only a prefix could be read."""
    if not path.endswith(".gz"):
        return content, None
    out = bytearray()
    decomp = zlib.decompressobj(16 + zlib.MAX_WBITS)
    data = content
    try:
        while data:
            out += decomp.decompress(data)
            if not decomp.eof:
                break
            data = decomp.unused_data  # a further gzip member follows
            decomp = zlib.decompressobj(16 + zlib.MAX_WBITS) if data else decomp
        if not decomp.eof:
            out += decomp.flush()
            return bytes(out), "truncated gzip: the stream ends before its last member is complete"
    except zlib.error as exc:
        return bytes(out), f"corrupt gzip: {exc}"
    return bytes(out), None


def _classify(raw: bytes, max_bytes: int) -> tuple[str | None, str | None, str | None]:
    """(record, reason, detail) for one line's bytes."""
    if len(raw) > max_bytes:
        return None, RECORD_TOO_LARGE, f"{len(raw)} bytes > limit {max_bytes}"
    if not raw:
        return None, EMPTY_LINE, None
    if not raw.strip():
        return None, BLANK_LINE, None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return None, INVALID_UTF8, f"byte {exc.start}: {exc.reason}"
    if "\x00" in text:
        return None, NUL_BYTE, f"at char {text.index(chr(0))}"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        # The document ran out: the error sits at its end, or a string never closed.
        truncated = exc.pos >= len(text.rstrip()) - 1 or exc.msg.startswith("Unterminated string")
        return None, TRUNCATED_JSON if truncated else NOT_JSON, f"{exc.msg} at char {exc.pos}"
    except RecursionError:  # uncaught, it failed the task and so the whole ingest
        return None, TOO_DEEP, "arrays and objects nested deeper than about 1,000 levels"
    if not isinstance(value, dict):
        return None, NOT_AN_OBJECT, f"a JSON {type(value).__name__}"
    return text, None, None


def _raw_text(raw: bytes) -> tuple[str, str]:
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii"), "base64"


def _split_file(path: str, content: bytes, max_bytes: int) -> list[tuple]:
    data, fault = _decompress(path, content)
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()  # the newline that ends the last line does not start another
    rows = []
    for number, piece in enumerate(pieces, start=1):
        raw = piece[:-1] if piece.endswith(b"\r") else piece
        if fault and number == len(pieces) and not data.endswith(b"\n"):
            reason, record, detail = UNREADABLE_FILE, None, "last line cut off by the file fault"
        else:
            record, reason, detail = _classify(raw, max_bytes)
        if reason is None:
            rows.append((ROW_LINE, path, number, record, len(raw), None, None, None, None, None))
        else:
            text, encoding = _raw_text(raw)
            rows.append((ROW_LINE, path, number, None, len(raw), reason, detail, text, encoding, None))
    file_reason = UNREADABLE_FILE if fault else None
    rows.append((ROW_FILE, path, None, None, len(content), file_reason, fault, None, None, len(pieces)))
    return rows


def split_lines(files: DataFrame, max_record_bytes: int) -> DataFrame:
    """binaryFile rows (path, content) -> LINES rows: every line of every file, plus one file row each."""

    def split_batches(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        columns = [f.name for f in LINES.fields]
        for batch in batches:
            rows = []
            for path, content in zip(batch["path"], batch["content"]):
                rows.extend(_split_file(path, bytes(content), max_record_bytes))
            yield pd.DataFrame.from_records(rows, columns=columns)

    return files.select("path", "content").mapInPandas(split_batches, schema=LINES)
