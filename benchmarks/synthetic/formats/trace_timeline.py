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


_fromisoformat = datetime.fromisoformat


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


# Formatting a datetime (strftime, even isoformat) costs as much as a small record's encoding;
# the renderers format every start and end. For UTC moments (all the generator makes) the text
# is a cached per-minute head, from strftime itself, plus the seconds and fraction from a table.
_MICROSECOND = timedelta(microseconds=1)
_MINUTE_US = 60_000_000
_TWO_DIGITS = tuple(f"{n:02d}" for n in range(60))
_THREE_DIGITS = tuple(f"{n:03d}" for n in range(1000))
_minute_heads: dict[int, tuple[str, str]] = {}


def utc_fields(moment: datetime) -> tuple[tuple[str, str], int, int] | None:
    """For a UTC datetime: (its minute as "%Y-%m-%dT%H:%M:" and "%Y%m%dT%H%M", second,
    microsecond); None for any other."""
    if moment.tzinfo is not timezone.utc:
        return None
    return _fields((moment - EPOCH) // _MICROSECOND)


def _fields(micros: int) -> tuple[tuple[str, str], int, int]:
    """utc_fields of the moment `micros` microseconds after the epoch."""
    minute, rest = divmod(micros, _MINUTE_US)
    heads = _minute_heads.get(minute)
    if heads is None:
        start = EPOCH + timedelta(minutes=minute)
        heads = (start.strftime("%Y-%m-%dT%H:%M:"), start.strftime("%Y%m%dT%H%M"))
        if len(_minute_heads) >= 4096:
            _minute_heads.clear()
        _minute_heads[minute] = heads
    second, micro = divmod(rest, 1_000_000)
    return heads, second, micro


def _iso_of(heads: tuple[str, str], second: int, micro: int) -> str:
    return f"{heads[0]}{_TWO_DIGITS[second]}.{_THREE_DIGITS[micro // 1000]}Z"


def _naive_of(heads: tuple[str, str], second: int, micro: int) -> str:
    return f"{heads[0]}{_TWO_DIGITS[second]}.{_THREE_DIGITS[micro // 1000]}{_THREE_DIGITS[micro % 1000]}"


def _stamp_of(heads: tuple[str, str], second: int, micro: int) -> str:
    return f"{heads[1]}{_TWO_DIGITS[second]}{_THREE_DIGITS[micro // 1000]}{_THREE_DIGITS[micro % 1000]}Z"


def _seconds(micros: int, start: datetime, end: datetime) -> float:
    """round((end - start).total_seconds(), 3) given micros = their distance in microseconds; for
    whole milliseconds that is ms / 1000 (both are the double nearest to it), without round()'s
    decimal conversion."""
    if micros % 1000 == 0:
        return (micros // 1000) / 1000
    return round((end - start).total_seconds(), 3)


def iso(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds and Z, as the tracing APIs write it."""
    fields = utc_fields(moment)
    if fields is None:
        return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return _iso_of(*fields)


def iso_span(start: datetime, end: datetime) -> tuple[str, str, float]:
    """(iso(start), iso(end), seconds_between(start, end)), each moment taken apart once."""
    if start.tzinfo is not timezone.utc or end.tzinfo is not timezone.utc:
        return iso(start), iso(end), seconds_between(start, end)
    first, last = (start - EPOCH) // _MICROSECOND, (end - EPOCH) // _MICROSECOND
    return _iso_of(*_fields(first)), _iso_of(*_fields(last)), _seconds(last - first, start, end)


def seconds_between(start: datetime, end: datetime) -> float:
    """round((end - start).total_seconds(), 3)."""
    return _seconds((end - start) // _MICROSECOND, start, end)


def naive_span(start: datetime, end: datetime) -> tuple[str, str, str]:
    """(naive_text(start), stamp_text(start), naive_text(end))."""
    if start.tzinfo is not timezone.utc or end.tzinfo is not timezone.utc:
        return naive_text(start), stamp_text(start), naive_text(end)
    fields = _fields((start - EPOCH) // _MICROSECOND)
    return _naive_of(*fields), _stamp_of(*fields), _naive_of(*_fields((end - EPOCH) // _MICROSECOND))


def naive_text(moment: datetime) -> str:
    """moment.strftime("%Y-%m-%dT%H:%M:%S.%f")."""
    fields = utc_fields(moment)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") if fields is None else _naive_of(*fields)


def stamp_text(moment: datetime) -> str:
    """moment.strftime("%Y%m%dT%H%M%S%fZ")."""
    fields = utc_fields(moment)
    return moment.strftime("%Y%m%dT%H%M%S%fZ") if fields is None else _stamp_of(*fields)


def unix_nanos(moment: datetime) -> int:
    return ((moment - EPOCH) // _MICROSECOND) * 1000


_scan = json.JSONDecoder().scan_once


def json_or_text(text: str | None) -> Any:
    """A JSON object/array text as the value it encodes (how SDKs log tool arguments and
    results); any other text as it is."""
    if text is None:
        return None
    if text[:1] in ("{", "[") and text[-1:] in ("}", "]"):  # the usual case, without json.loads' set-up
        try:
            parsed, end = _scan(text, 0)
        except (ValueError, StopIteration):
            pass
        else:
            if end == len(text):
                return parsed
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
        self.steps = ordered_steps(traj)
        self.start = parse_time(meta.get("started_at"))
        if not self.start:
            first_step = next((s.get("started_at") for s in self.steps if s.get("started_at")), None)
            self.start = parse_time(first_step) or parse_time(DEFAULT_START)
        self.cursor = self.start
        self.seed = hashlib.sha256(str(traj.get("trajectory_id")).encode("utf-8")).hexdigest()
        self.id_length = id_length
        self.count = 0
        self._seeded = hashlib.sha256(f"{self.seed}/".encode())  # new_id hashes seed/count: the seed part once

    def new_id(self) -> str:
        """Hex id whose first 4 digits count up, so ids sort in creation order."""
        self.count += 1
        digest = self._seeded.copy()
        digest.update(b"%d" % self.count)  # = sha256(f"{seed}/{count}")
        return "%04x%s" % (self.count, digest.hexdigest()[: self.id_length - 4])

    def times(self, step: dict | None) -> tuple[datetime, datetime]:
        step = step or {}
        text = step.get("started_at")  # parse_time, written out: this runs for every operation
        start = _fromisoformat(text.replace("Z", "+00:00")) if text else None
        if start is None:
            start = self.cursor + GAP
        elif start.tzinfo is None:
            start = start.replace(tzinfo=timezone.utc)
        text = step.get("ended_at")
        end = _fromisoformat(text.replace("Z", "+00:00")) if text else None
        if end is None:
            end = start + GAP
        elif end.tzinfo is None:
            end = end.replace(tzinfo=timezone.utc)
        if end > self.cursor:
            self.cursor = end
        return start, end

    def end(self, traj: dict) -> datetime:
        meta = traj.get("metadata") or {}
        explicit = parse_time(meta.get("ended_at"))
        if explicit:
            return explicit
        if meta.get("latency_ms") is not None:
            return self.start + timedelta(milliseconds=meta["latency_ms"])
        return max(self.cursor, self.start)
