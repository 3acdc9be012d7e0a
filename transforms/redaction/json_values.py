"""Redact inside JSON without breaking it: tool arguments and results stay valid JSON.

Only leaf values change: keys and structure are kept, string values get their PII replaced, and
values under a sensitive key (`email`, `password`, `api_key`, ... by substring of the normalised
key, at any depth below it) are replaced whole whatever they contain. Long numbers are analysed
as text (a card or phone number stored as a JSON number), and replaced by a string only if PII
is found.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from transforms.redaction.config import normalise_key

_CONTAINER_OPENERS = ("{", "[")


@dataclass
class Leaf:
    """One value inside a parsed JSON document, and where to put its redacted form."""

    container: dict | list
    key: str | int
    text: str
    sensitive_type: str | None  # the whole value is replaced as this type


def parse_container(text: str | None) -> dict | list | None:
    """The JSON object or array text holds, or None when it is not one (then it is plain text)."""
    if not text or not text.lstrip().startswith(_CONTAINER_OPENERS):
        return None
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # nested past about 1,000 levels: redacted as plain text
        return None
    return value if isinstance(value, (dict, list)) else None


def sensitive_type(key: str, sensitive_keys: tuple[tuple[str, str], ...]) -> str | None:
    normalised = normalise_key(key)
    for fragment, entity_type in sensitive_keys:
        if fragment in normalised:
            return entity_type
    return None


def collect_leaves(
    document: dict | list,
    sensitive_keys: tuple[tuple[str, str], ...],
    number_min_digits: int,
) -> list[Leaf]:
    """Every string leaf, every long number, and every value under a sensitive key, in document order."""
    leaves: list[Leaf] = []
    _walk(document, None, sensitive_keys, number_min_digits, leaves)
    return leaves


def _walk(node, inherited, sensitive_keys, number_min_digits, leaves: list[Leaf]) -> None:
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        forced = inherited or (sensitive_type(key, sensitive_keys) if isinstance(key, str) else None)
        if isinstance(value, str):
            leaves.append(Leaf(node, key, value, forced))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if sum(ch.isdigit() for ch in repr(value)) >= number_min_digits:
                leaves.append(Leaf(node, key, json.dumps(value), forced))
        elif isinstance(value, (dict, list)):
            _walk(value, forced, sensitive_keys, number_min_digits, leaves)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def dump(document: dict | list) -> str:
    """The document's JSON text, non-ASCII kept as is, except a lone UTF-16 surrogate (a
    "\\ud83d" escape alone, half an emoji): written back as that escape, since it has no UTF-8
    form (the text would fail the task) and the escape keeps the value the source wrote."""
    return _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", json.dumps(document, ensure_ascii=False))
