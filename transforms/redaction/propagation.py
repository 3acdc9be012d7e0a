"""Within one trajectory, a value found once is redacted everywhere it appears.

NER is probabilistic: it tags "Priya Patel" in "My name is Priya Patel" and misses "Priya" in
"Thanks Priya!" three steps later. Every value found anywhere in a trajectory (by any
recognizer or under a sensitive JSON key) is searched for in all its texts, and a person's
name parts (capitalised, three letters or more) are searched for too, sharing the full name's
placeholder; a longer value holding a shorter one of the same type shares its placeholder as
well, and an email address like jane.doe@... makes "Jane Doe" a known name. The search is exact
and case-sensitive, so it adds recall with little guessing.
"""

from __future__ import annotations

from collections.abc import Iterable

import regex as re

from transforms.redaction.placeholders import Placeholders
from transforms.redaction.text_analysis import Span, merge_spans

PERSON = "PERSON"
EMAIL_ADDRESS = "EMAIL_ADDRESS"
RECOGNIZER = "SameTrajectoryValue"
MIN_VALUE_CHARS = 4
MIN_NAME_PART_CHARS = 3
_NAME_PART = re.compile(r"^\p{Lu}[\p{L}'’-]+$")
_EMAIL_NAME = re.compile(r"^(\p{L}{2,})[._-](\p{L}{2,})@")


class KnownValues:
    """The values of one trajectory, searched for with plain substring search (no regex to build)."""

    def __init__(self, types: dict[str, str]):
        self.types = types
        self.ordered = sorted(types, key=len, reverse=True)  # longest first: "Priya Patel" before "Priya"

    def extend(self, text: str, spans: tuple[Span, ...]) -> tuple[Span, ...]:
        """spans plus every other whole-word occurrence of a known value in text, merged.

        An occurrence reaching past a span already there widens it ("Martinez" found by NER,
        "Priya Martinez" known: the whole name goes)."""
        taken = [(span.start, span.end) for span in spans]
        extra = []
        for value in self.ordered:
            start = text.find(value)
            while start != -1:
                end = start + len(value)
                if _word_bounded(text, start, end) and not any(a <= start and end <= b for a, b in taken):
                    extra.append(Span(start, end, self.types[value], RECOGNIZER, 1.0))
                    taken.append((start, end))
                start = text.find(value, start + 1)
        return merge_spans(list(spans) + extra) if extra else spans


def _word_bounded(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_")


def known_values(found: Iterable[tuple[str, str]], placeholders: Placeholders) -> KnownValues:
    """From (entity type, value) pairs found in a trajectory; name parts alias their full name."""
    types: dict[str, str] = {}
    for entity_type, value in found:
        value = value.strip()
        if len(value) >= MIN_VALUE_CHARS:
            types.setdefault(value, entity_type)
    for value, entity_type in list(types.items()):
        name = name_in_email(value) if entity_type == EMAIL_ADDRESS else None
        if name is not None:
            types.setdefault(name, PERSON)
    by_type: dict[str, list[str]] = {}
    for value, entity_type in types.items():
        by_type.setdefault(entity_type, []).append(value)
    for entity_type, values in by_type.items():
        values.sort(key=len)
        for index, longer in enumerate(values):
            # A longer span holding a shorter one of the same type is the same thing:
            # "Traveller Priya Patel" is "Priya Patel", "42 Elm Street, Springfield" is "42 Elm Street".
            inner = next((shorter for shorter in values[:index] if _contains_word(longer, shorter)), None)
            if inner is not None:
                placeholders.alias(entity_type, longer, inner)
            # Name parts: of a name found whole, or around a single found word ("Priya" of
            # "Priya Moore" when NER found "Moore"), not around a found name ("Traveller").
            if entity_type == PERSON and (inner is None or " " not in inner):
                for part in longer.split():
                    if part != longer and len(part) >= MIN_NAME_PART_CHARS and _NAME_PART.match(part):
                        types.setdefault(part, PERSON)
                        placeholders.alias(PERSON, part, longer)
    return KnownValues(types)


def _contains_word(text: str, words: str) -> bool:
    if len(words) >= len(text):
        return False
    start = text.find(words)
    while start != -1:
        if _word_bounded(text, start, start + len(words)):
            return True
        start = text.find(words, start + 1)
    return False


def name_in_email(email: str) -> str | None:
    """"Jane Doe" from jane.doe@..., doe_jane@... gives "Doe Jane": people sign with the name
    their address spells, and NER misses a bare name at the end of a message."""
    match = _EMAIL_NAME.match(email)
    if match is None:
        return None
    return " ".join(part.capitalize() for part in match.groups())
