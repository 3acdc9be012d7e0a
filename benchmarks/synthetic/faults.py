"""Malformed raw lines and cut-short gzip files, each kind recorded in _truth/malformed.jsonl.

Record-based faults start from a real native-format record (so they look like a logger gone
wrong, not random noise): cut mid-way, a field of the wrong JSON type, no trajectory id, a bad
byte sequence, a NUL byte, or a tool result so large the line exceeds the record size limit.
"""

from __future__ import annotations

import gzip
import random
import zlib
from dataclasses import dataclass

from benchmarks.synthetic.json_text import compact

# Kinds that start from a trajectory record (the others need none).
RECORD_KINDS = frozenset({"truncated_json", "wrong_type", "missing_id", "invalid_utf8", "nul_byte", "oversized", "not_an_object"})
INVALID_UTF8_SEQUENCES = (b"\xff\xfe", b"\xc3\x28", b"\x80", b"\xe2\x82", b"\xed\xa0\x80")
BLANKS = (b" ", b"   ", b"\t", b" \t  ")
SCALARS = (b'"ok"', b"42", b"null", b"true", b"[]")


@dataclass(frozen=True)
class Fault:
    line: bytes
    detail: str


# The one JSON encoding of every raw line: compact, UTF-8 text (not \\u escapes), made once
# (see json_text: json.dumps with options builds a new encoder per call); no check for circular
# references (records are trees; the check costs a dict insert per container).
dumps = compact


def _insert_into_string(text: bytes, field: bytes, payload: bytes) -> bytes:
    """payload inserted right after the opening quote of `"field":"`, else in the middle."""
    marker = b'"' + field + b'":"'
    at = text.find(marker)
    at = at + len(marker) if at >= 0 else len(text) // 2
    return text[:at] + payload + text[at:]


class FaultMaker:
    def __init__(self, rng: random.Random, max_record_bytes: int) -> None:
        self.rng = rng
        self.max_record_bytes = max_record_bytes
        self._blob: str | None = None

    def _big_blob(self) -> str:
        """A tool output just over the limit; made once (a log dump repeating a random chunk)."""
        if self._blob is None:
            chunk = "".join(self.rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", k=4096))
            self._blob = (chunk * (self.max_record_bytes // len(chunk) + 2))[: self.max_record_bytes + 4096]
        return self._blob

    def line(self, kind: str, record: dict | None) -> Fault:
        """A malformed line of `kind`; `record` (a native record) is needed for RECORD_KINDS."""
        rng = self.rng
        if kind == "empty_line":
            return Fault(b"", "empty line")
        if kind == "blank_line":
            return Fault(rng.choice(BLANKS), "whitespace only")
        assert record is not None, kind
        if kind == "not_an_object":
            if rng.random() < 0.5:
                return Fault(("[" + dumps(record) + "]").encode(), "a JSON array holding the record")
            return Fault(rng.choice(SCALARS), "a JSON scalar")
        if kind == "wrong_type":
            return self._wrong_type(record)
        if kind == "missing_id":
            variant = rng.randrange(4)
            if variant == 0:
                record = {k: v for k, v in record.items() if k != "trajectory_id"}
                detail = "no trajectory_id key"
            else:
                record = dict(record, trajectory_id=(None, "", "   ")[variant - 1])
                detail = ("trajectory_id is null", "trajectory_id is empty", "trajectory_id is blank")[variant - 1]
            return Fault(dumps(record).encode(), detail)
        if kind == "oversized":
            steps = [dict(s) for s in record["steps"]]
            steps.append({"index": len(steps), "kind": "tool", "role": "assistant", "content": None, "reasoning": None,
                          "tool": {"call_id": "call_dump", "name": "read_file", "arguments": '{"path": "dump.log"}',
                                   "result": self._big_blob(), "error": None},
                          "started_at": None, "ended_at": None, "tokens_in": None, "tokens_out": None})
            line = dumps(dict(record, steps=steps)).encode()
            return Fault(line, f"{len(line)} bytes > {self.max_record_bytes}")
        text = dumps(record)
        if kind == "truncated_json":
            cut = rng.randrange(len(text) // 5, len(text) * 9 // 10)
            return Fault(text[:cut].encode(), f"cut at char {cut} of {len(text)}")
        if kind == "invalid_utf8":
            bad = rng.choice(INVALID_UTF8_SEQUENCES)
            return Fault(_insert_into_string(text.encode(), b"input", bad), f"bytes {bad.hex()} in input")
        if kind == "nul_byte":
            return Fault(_insert_into_string(text.encode(), b"final_output", b"\x00"), "NUL byte in final_output")
        raise ValueError(f"unknown malformed kind {kind!r}")

    def _wrong_type(self, record: dict) -> Fault:
        variant = self.rng.randrange(4)
        if variant == 0:
            return Fault(dumps(dict(record, steps=dumps(record["steps"]))).encode(), "steps is a string")
        if variant == 1:
            return Fault(dumps(dict(record, context_docs="none")).encode(), "context_docs is a string")
        if variant == 2:
            metadata = dict(record["metadata"], latency_ms="fast")
            return Fault(dumps(dict(record, metadata=metadata)).encode(), "metadata.latency_ms is a string")
        return Fault(dumps(dict(record, task=record["task"]["type"])).encode(), "task is a string")

    def feedback_line(self, kind: str, record: dict) -> Fault:
        text = dumps(record)
        if kind == "truncated_json":
            cut = self.rng.randrange(len(text) // 4, len(text) - 2)
            return Fault(text[:cut].encode(), f"cut at char {cut} of {len(text)}")
        if kind == "not_an_object":
            return Fault(("[" + text + "]").encode(), "a JSON array holding the event")
        return self.line(kind, None)


@dataclass(frozen=True)
class TruncatedGzip:
    data: bytes
    complete_lines: int  # lines a reader gets whole before the stream ends
    total_lines: int


def truncated_gzip(lines: list[bytes], level: int, keep: float) -> TruncatedGzip:
    """A gzip file of `lines` cut to `keep` of its compressed size (the trailer always lost)."""
    full = gzip.compress(b"".join(line + b"\n" for line in lines), compresslevel=level, mtime=0)
    cut = min(max(20, int(len(full) * keep)), len(full) - 9)  # a gzip trailer is 8 bytes
    data = full[:cut]
    readable = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    return TruncatedGzip(data, readable.count(b"\n"), len(lines))
