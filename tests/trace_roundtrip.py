"""Round-trip helpers for the trace-format adapter tests: canonical dict -> rendered lines ->
bronze-like rows -> adapter candidate -> the same canonical values.

Tracing formats store some values in another shape than the canonical JSON (JSON text as
objects, timestamps as numbers), so values are compared as what they mean: JSON text by its
parsed value, times as instants. Two differences are by design and normalised here: an
assistant `message` step comes back as an `llm` step (a traced model answer is a model call),
and a step without timestamps gets the time of the operation that carried it.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import functions as F

from schemas.bronze import RAW_RECORD
from tests.raw_files import native_record
from transforms.adapters.base import TopFields

INGESTED_AT = datetime(2026, 11, 2, 8, 0, 0)


def bronze_rows(spark, lines: list[dict], uri: str = "file:///raw/logs/part-0.jsonl", run_id: str = "run-1", first_line: int = 1):
    rows = []
    for i, line in enumerate(lines):
        text = line if isinstance(line, str) else json.dumps(line)
        rows.append((text, len(text.encode("utf-8")), uri, first_line + i, run_id, INGESTED_AT))
    return spark.createDataFrame(rows, RAW_RECORD)


def fixture_lines(path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


FIXTURE_URI = "file:///fixtures/{folder}/{file}"


def fixture_frame(spark, *folders, extra_rows: list[tuple] = ()):
    """One bronze-like frame holding every line of the fixture files of these folders (source_uri
    names folder and file), plus extra (record, source_uri) rows."""
    rows = []
    for folder in folders:
        for path in sorted(folder.glob("*.jsonl")):
            uri = FIXTURE_URI.format(folder=folder.name, file=path.name)
            rows += [(text, len(text.encode("utf-8")), uri, i + 1, "run-1", INGESTED_AT) for i, text in enumerate(fixture_lines(path))]
    for i, (text, uri) in enumerate(extra_rows):
        rows.append((text, len(text.encode("utf-8")), uri, i + 1, "run-1", INGESTED_AT))
    return spark.createDataFrame(rows, RAW_RECORD)


def folder_of(uri: str) -> str:
    return uri.split("/")[-2]


FORMAT_FIXTURES = Path(__file__).parent / "fixtures" / "formats"
NATIVE_SAMPLE = "native_sample"


def detection_by_folder(spark, detects) -> dict[str, set]:
    """What a detector says of each fixture folder's records (and of a native record): a
    detector should say True for its own folder only."""
    folders = sorted(p for p in FORMAT_FIXTURES.iterdir() if p.is_dir())
    native = [(json.dumps(native_record("t-1")), f"file:///fixtures/{NATIVE_SAMPLE}/native.jsonl")]
    seen: dict[str, set] = {}
    for uri, detected in fixture_frame(spark, *folders, extra_rows=native).select("source_uri", detects(TopFields(F.col("record")))).collect():
        seen.setdefault(folder_of(uri), set()).add(detected)
    return seen


def only_own_folder(own: str) -> dict[str, set]:
    names = [p.name for p in FORMAT_FIXTURES.iterdir() if p.is_dir()] + [NATIVE_SAMPLE]
    return {name: {name == own} for name in names}


def accepted(candidates: list[dict], trajectory_id: str) -> dict:
    """The one accepted candidate of a trajectory id."""
    [found] = [c for c in candidates if c["trajectory_id"] == trajectory_id and c["reject_reason"] is None]
    return found


def _instant(value):
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json_value(text):
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _step(step: dict, canonical_times: dict | None = None) -> dict:
    kind = step.get("kind")
    if kind == "message" and step.get("role") == "assistant":
        kind = "llm"
    tool = step.get("tool")
    return {
        "kind": kind,
        "role": "assistant" if kind == "llm" else step.get("role"),
        "content": step.get("content"),
        "reasoning": step.get("reasoning"),
        "tool": None if tool is None else {
            "call_id": tool.get("call_id"), "name": tool.get("name"), "arguments": _json_value(tool.get("arguments")),
            "result": _json_value(tool.get("result")), "error": tool.get("error"),
        },
        "tokens_in": step.get("tokens_in"),
        "tokens_out": step.get("tokens_out"),
    }


def comparable(traj: dict, own_extra_keys: tuple[str, ...] = ()) -> dict:
    """The canonical values a round trip must preserve, in a comparable form."""
    meta = traj.get("metadata") or {}
    task = traj.get("task") or {}
    extra = {k: v for k, v in (meta.get("extra") or {}).items() if k not in own_extra_keys}
    return {
        "trajectory_id": traj.get("trajectory_id"),
        "session_id": traj.get("session_id"),
        "user_id": traj.get("user_id"),
        "tenant": traj.get("tenant"),
        "source_kind": traj.get("source_kind"),
        "agent": traj.get("agent"),
        "model": traj.get("model"),
        "task": {**task, "tags": task.get("tags") or []},
        "system_prompt": traj.get("system_prompt"),
        "input": traj.get("input"),
        "context_docs": traj.get("context_docs") or [],
        "steps": [_step(s) for s in sorted(traj.get("steps") or [], key=lambda s: s.get("index") or 0)],
        "tools_available": [
            {"name": t.get("name"), "description": t.get("description"), "parameters": _json_value(t.get("parameters"))}
            for t in traj.get("tools_available") or []
        ],
        "final_output": traj.get("final_output"),
        "metadata": {
            "latency_ms": meta.get("latency_ms"),
            "tokens_in": meta.get("tokens_in"),
            "tokens_out": meta.get("tokens_out"),
            "cost_usd": None if meta.get("cost_usd") is None else round(meta["cost_usd"], 9),
            "status": meta.get("status"),
            "started_at": _instant(meta.get("started_at")),
            "ended_at": _instant(meta.get("ended_at")),
            "extra": extra,
        },
    }


def step_times(traj: dict) -> list[tuple]:
    """(index, started, ended) of the steps that carry times."""
    return [
        (i, _instant(s.get("started_at")), _instant(s.get("ended_at")))
        for i, s in enumerate(sorted(traj.get("steps") or [], key=lambda s: s.get("index") or 0))
        if s.get("started_at")
    ]


def sample_trajectory(trajectory_id: str = "traj-rt-1", **overrides) -> dict:
    """A canonical trajectory with every part a trace can carry: retrieval, reasoning, two tool
    calls from one model turn (one failing), an answer with reasoning, a new user turn."""
    traj = {
        "trajectory_id": trajectory_id,
        "session_id": "conv-42",
        "user_id": "u-17",
        "tenant": "acme",
        "source_kind": "interaction_log",
        "agent": {"name": "support-bot", "version": "1.4.0"},
        "model": {"provider": "openai", "name": "gpt-4o", "version": "2024-08-06"},
        "task": {"type": "refund", "difficulty": "medium", "language": "en", "tags": ["billing", "refund"]},
        "system_prompt": "You are a helpful support agent.",
        "input": "Where is my refund for order 42?",
        "context_docs": [{"doc_id": "kb-1", "source": "kb", "content": "Refunds take 5 days.", "score": 0.9}],
        "steps": [
            {"index": 0, "kind": "retrieval", "role": "tool", "content": "refund policy",
             "started_at": "2026-11-01T12:00:00.010Z", "ended_at": "2026-11-01T12:00:00.050Z"},
            {"index": 1, "kind": "reasoning", "role": "assistant", "reasoning": "Look up the order and the payment.",
             "started_at": "2026-11-01T12:00:00.060Z", "ended_at": "2026-11-01T12:00:00.200Z", "tokens_in": 100, "tokens_out": 20},
            {"index": 2, "kind": "tool", "role": "assistant",
             "tool": {"call_id": "call_1", "name": "lookup_order", "arguments": "{\"order\": 42}", "result": "{\"status\": \"refunded\"}", "error": None},
             "started_at": "2026-11-01T12:00:00.210Z", "ended_at": "2026-11-01T12:00:00.300Z"},
            {"index": 3, "kind": "tool", "role": "assistant",
             "tool": {"call_id": "call_2", "name": "lookup_payment", "arguments": "{\"order\": 42}", "result": None, "error": "payment service timeout"},
             "started_at": "2026-11-01T12:00:00.210Z", "ended_at": "2026-11-01T12:00:00.400Z"},
            {"index": 4, "kind": "llm", "role": "assistant", "content": "Your refund was issued.", "reasoning": "The order shows refunded.",
             "started_at": "2026-11-01T12:00:00.410Z", "ended_at": "2026-11-01T12:00:00.800Z", "tokens_in": 150, "tokens_out": 12},
            {"index": 5, "kind": "message", "role": "user", "content": "Thanks! When will it arrive?"},
            {"index": 6, "kind": "llm", "role": "assistant", "content": "Within 5 business days.",
             "started_at": "2026-11-01T12:00:00.810Z", "ended_at": "2026-11-01T12:00:00.840Z", "tokens_in": 180, "tokens_out": 8},
        ],
        "tools_available": [
            {"name": "lookup_order", "description": "Find an order", "parameters": "{\"type\": \"object\", \"properties\": {\"order\": {\"type\": \"integer\"}}}"},
            {"name": "lookup_payment", "description": "Find a payment", "parameters": "{\"type\": \"object\"}"},
        ],
        "final_output": "Within 5 business days.",
        "metadata": {"latency_ms": 850, "tokens_in": 430, "tokens_out": 40, "cost_usd": 0.0031, "status": "completed",
                     "started_at": "2026-11-01T12:00:00.000Z", "ended_at": "2026-11-01T12:00:00.850Z", "extra": {"user_segment": "smb"}},
    }
    traj.update(overrides)
    return traj


def generated_trajectories(n: int, seed: int = 7) -> list[dict]:
    """Trajectories from the synthetic generator (its catalog, tools, errors, retries)."""
    from benchmarks.synthetic.trajectories import Clock, TrajectoryBuilder, User

    rng = random.Random(seed)
    clock = Clock("2026-11-01")
    builder = TrajectoryBuilder(rng, clock, pii_rate=0.5, lucky_rate=0.1)
    out = []
    for i in range(n):
        user = User(f"u-{i % 7}", rng.choice(["free", "pro", "enterprise"]), f"tenant-{i % 3}", rng.choice(["en", "de"]))
        out.append(builder.build(f"gen-{seed}-{i}", user, clock.day_start(0) + i * 60_000).trajectory)
    return out
