"""Small raw-log builders for ingest and normalize tests (native-format records)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any


def native_record(trajectory_id: str | None, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "format": "trajlake.v1",
        "trajectory_id": trajectory_id,
        "session_id": "s-1",
        "user_id": "u-1",
        "tenant": "acme",
        "source_kind": "interaction_log",
        "agent": {"name": "support-bot", "version": "1.4.0"},
        "model": {"provider": "openai", "name": "gpt-4o", "version": "2024-08-06"},
        "task": {"type": "refund", "difficulty": "easy", "language": "en", "tags": ["billing"]},
        "system_prompt": "You are a helpful support agent.",
        "input": "Where is my refund?",
        "context_docs": [{"doc_id": "kb-1", "source": "kb", "content": "Refunds take 5 days.", "score": 0.9}],
        "steps": [
            {"index": 0, "kind": "reasoning", "role": "assistant", "reasoning": "Look up the order."},
            {
                "index": 1, "kind": "tool", "role": "assistant",
                "tool": {"call_id": "c1", "name": "lookup_order", "arguments": "{\"order\": 42}", "result": "{\"status\": \"refunded\"}"},
                "started_at": "2026-11-01T12:00:00.100Z", "ended_at": "2026-11-01T12:00:00.300Z",
            },
            {"index": 2, "kind": "llm", "role": "assistant", "content": "Your refund was issued.", "tokens_in": 120, "tokens_out": 12},
        ],
        "tools_available": [{"name": "lookup_order", "description": "Find an order", "parameters": "{\"type\": \"object\"}"}],
        "final_output": "Your refund was issued.",
        "metadata": {
            "latency_ms": 850, "tokens_in": 120, "tokens_out": 12, "cost_usd": 0.0012, "status": "completed",
            "started_at": "2026-11-01T12:00:00.000Z", "ended_at": "2026-11-01T12:00:00.850Z", "extra": {},
        },
    }
    record.update(overrides)
    return record


def line(record: dict[str, Any]) -> bytes:
    return json.dumps(record).encode("utf-8")


def write_lines(path: Path, lines: list[bytes], gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join(item + b"\n" for item in lines)
    path.write_bytes(gzip.compress(data) if gz else data)
    return path
