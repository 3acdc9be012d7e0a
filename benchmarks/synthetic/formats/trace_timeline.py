"""What the tracing-format renderers (otel_genai, langfuse, langsmith) share: time and ids.

A canonical step may come without timestamps; a traced operation never does. The timeline gives
such steps a start just after the previous operation (1 ms apart), and hands out ids that sort
in creation order, so an adapter ordering by (start, id) reads the steps back in their order.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DEFAULT_START = "2026-01-01T00:00:00.000Z"
GAP = timedelta(milliseconds=1)


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as the tracing APIs write it."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def unix_nanos(moment: datetime) -> int:
    return ((moment - EPOCH) // timedelta(microseconds=1)) * 1000


def json_or_text(text: str | None) -> Any:
    """A JSON object/array text as the value it encodes (how SDKs log tool arguments and
    results); any other text as it is."""
    if text is None:
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        return text
    return parsed if isinstance(parsed, (dict, list)) else text


def ordered_steps(traj: dict) -> list[dict]:
    return sorted(traj.get("steps") or [], key=lambda s: s.get("index") or 0)


class Timeline:
    """Start/end times and sortable ids for the operations of one trace."""

    def __init__(self, traj: dict, id_length: int = 16) -> None:
        meta = traj.get("metadata") or {}
        first_step = next((s.get("started_at") for s in ordered_steps(traj) if s.get("started_at")), None)
        self.start = parse_time(meta.get("started_at")) or parse_time(first_step) or parse_time(DEFAULT_START)
        self.cursor = self.start
        self.seed = hashlib.sha256(str(traj.get("trajectory_id")).encode("utf-8")).hexdigest()
        self.id_length = id_length
        self.count = 0

    def new_id(self) -> str:
        """Hex id whose first 4 digits count up, so ids sort in creation order."""
        self.count += 1
        digest = hashlib.sha256(f"{self.seed}/{self.count}".encode()).hexdigest()
        return f"{self.count:04x}{digest[: self.id_length - 4]}"

    def times(self, step: dict | None) -> tuple[datetime, datetime]:
        step = step or {}
        start = parse_time(step.get("started_at")) or self.cursor + GAP
        end = parse_time(step.get("ended_at")) or start + GAP
        self.cursor = max(self.cursor, end)
        return start, end

    def end(self, traj: dict) -> datetime:
        meta = traj.get("metadata") or {}
        explicit = parse_time(meta.get("ended_at"))
        if explicit:
            return explicit
        if meta.get("latency_ms") is not None:
            return self.start + timedelta(milliseconds=meta["latency_ms"])
        return max(self.cursor, self.start)
