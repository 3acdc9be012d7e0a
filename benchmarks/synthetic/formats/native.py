"""trajlake.v1: the canonical trajectory as one JSON line, tagged with its format."""

from __future__ import annotations

from schemas.trajectory import NATIVE_FORMAT_TAG

NAME = "native"


def render(trajectory: dict) -> list[dict]:
    return [{"format": NATIVE_FORMAT_TAG, **trajectory}]
