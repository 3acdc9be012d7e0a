"""trajlake.v1: the canonical trajectory as one JSON line, tagged with its format."""

from __future__ import annotations

from benchmarks.synthetic.splice import content_key, shared
from schemas.vocabulary import NATIVE_FORMAT_TAG

NAME = "native"


def render(trajectory: dict) -> list[dict]:
    record = {"format": NATIVE_FORMAT_TAG, **trajectory}
    tools = trajectory.get("tools_available")
    if tools:
        record["tools_available"] = shared(("native.tools", content_key(tools)), lambda: tools)
    return [record]
