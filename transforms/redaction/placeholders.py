"""Placeholders that keep a trajectory learnable: the same value gets the same token throughout.

`<PERSON_1>` is the first person a trajectory mentions, in every step and field of it (numbering
restarts per trajectory, so nothing links two trajectories). In `hash` mode the token is a keyed
HMAC-SHA256 of the value instead (`<PERSON_3fa2c1e0>`): stable across trajectories and runs,
for joins, and not reversible without the key.
"""

from __future__ import annotations

import hashlib
import hmac

import regex as re

# Types whose values are written many ways ("+1 (212) 555-0147" / "212.555.0147"): compared on
# their letters and digits alone.
_FORMAT_FREE_TYPES = frozenset({"PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "POSTAL_CODE"})
_NOT_ALNUM = re.compile(r"[\W_]+")


def normalise_value(entity_type: str, value: str) -> str:
    if entity_type in _FORMAT_FREE_TYPES:
        return _NOT_ALNUM.sub("", value).casefold()
    return " ".join(value.split()).casefold()


class Placeholders:
    """The value -> placeholder map of one trajectory."""

    def __init__(self, mode: str, template: str, hash_key: bytes | None = None, hash_chars: int = 8):
        self.mode = mode
        self.template = template
        self.hash_key = hash_key
        self.hash_chars = hash_chars
        self._assigned: dict[tuple[str, str], str] = {}
        self._aliases: dict[tuple[str, str], tuple[str, str]] = {}
        self._count: dict[str, int] = {}

    def alias(self, entity_type: str, part: str, whole: str) -> None:
        """Let `part` (e.g. a first name) share the placeholder of `whole` (the full name)."""
        key = (entity_type, normalise_value(entity_type, part))
        target = self._resolve((entity_type, normalise_value(entity_type, whole)))
        if key != target and key not in self._aliases:
            self._aliases[key] = target

    def _resolve(self, key: tuple[str, str]) -> tuple[str, str]:
        seen = set()
        while key in self._aliases and key not in seen:
            seen.add(key)
            key = self._aliases[key]
        return key

    def token(self, entity_type: str, value: str) -> str:
        key = (entity_type, normalise_value(entity_type, value))
        key = self._resolve(key)  # part -> name -> shorter name
        token = self._assigned.get(key)
        if token is None:
            token = self.template.format(entity=entity_type, id=self._id(*key))
            self._assigned[key] = token
        return token

    def _id(self, entity_type: str, normalised: str) -> str:
        if self.mode == "hash":
            message = f"{entity_type}\x1f{normalised}".encode()
            return hmac.new(self.hash_key or b"", message, hashlib.sha256).hexdigest()[: self.hash_chars]
        number = self._count.get(entity_type, 0) + 1
        self._count[entity_type] = number
        return str(number)
