"""Within one trajectory, a value found once is redacted everywhere it appears.

NER is probabilistic: it tags "Priya Patel" in "My name is Priya Patel" and misses "Priya" in
"Thanks Priya!" three steps later. Every value found anywhere in a trajectory (by any
recognizer or under a sensitive JSON key) is searched for in all its texts, and a person's
name parts (capitalised, three letters or more) are searched for too, sharing the full name's
placeholder. The search is exact and case-sensitive, so it adds recall without guessing.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex as re

from transforms.redaction.placeholders import Placeholders
from transforms.redaction.text_analysis import Span, merge_spans

PERSON = "PERSON"
RECOGNIZER = "SameTrajectoryValue"
MIN_VALUE_CHARS = 4
MIN_NAME_PART_CHARS = 3
_NAME_PART = re.compile(r"^\p{Lu}[\p{L}'’-]+$")


class KnownValues:
    """The values of one trajectory and a single regex finding any of them."""

    def __init__(self, types: dict[str, str]):
        self.types = types
        ordered = sorted(types, key=len, reverse=True)  # longest first: "Priya Patel" before "Priya"
        self.pattern = (
            re.compile(r"(?<!\w)(?:" + "|".join(re.escape(value) for value in ordered) + r")(?!\w)")
            if ordered
            else None
        )

    def extend(self, text: str, spans: tuple[Span, ...]) -> tuple[Span, ...]:
        """spans plus every other occurrence of a known value in text, merged."""
        if self.pattern is None:
            return spans
        extra = [
            Span(match.start(), match.end(), self.types[match.group()], RECOGNIZER, 1.0)
            for match in self.pattern.finditer(text)
            if not any(span.start < match.end() and match.start() < span.end for span in spans)
        ]
        return merge_spans(list(spans) + extra) if extra else spans


def known_values(found: Iterable[tuple[str, str]], placeholders: Placeholders) -> KnownValues:
    """From (entity type, value) pairs found in a trajectory; name parts alias their full name."""
    types: dict[str, str] = {}
    for entity_type, value in found:
        value = value.strip()
        if len(value) >= MIN_VALUE_CHARS:
            types.setdefault(value, entity_type)
    for value, entity_type in list(types.items()):
        if entity_type != PERSON:
            continue
        for part in value.split():
            if part != value and len(part) >= MIN_NAME_PART_CHARS and _NAME_PART.match(part):
                types.setdefault(part, PERSON)
                placeholders.alias(PERSON, part, value)
    return KnownValues(types)
