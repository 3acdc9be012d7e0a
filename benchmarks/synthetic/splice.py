"""Encode records whose long constant values repeat, encoding each such value once.

About half the bytes the generator writes are a few constants repeated verbatim: the shared
system prompts (in every record, and in trace formats in every model call's input) and the tool
definitions. While the generator encodes, such a value is replaced by a short token string, the
record is encoded, and the token's encoded form is replaced by the value's cached encoding. The
result is byte-identical to encoding the record with the value in place (tests/test_generator.py
compares both on every format).

A token is `\\x01<id>\\x01`. JSON escapes U+0001 as `\\u0001`, so a token comes out of the
encoder as `"\\u0001<id>\\u0001"`, or, inside a JSON text that is itself a string value (as the
OTel renderer writes messages), as `\\"\\\\u0001<id>\\\\u0001\\"`. Generated content never
holds U+0001 (the catalog is checked when this module is imported; personal data, ids and
numbers are printable ASCII), so every escaped U+0001 in the output is part of a token; any
other is an error, never silently spliced.

Renderers stay plain functions of the trajectory: `shared(key, make)` returns `make()` unless
the generator's `Splicer` is active (only around its own render + encode), so `render()` called
anywhere else returns exactly what it always did.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

from benchmarks.synthetic import catalog

MARK = "\x01"
ESCAPED = "\\u0001"  # how the encoder writes MARK


class Splicer:
    """Tokens for repeated values, and an encoder that splices their cached encodings back.

    Two kinds: constants (`token`, `text`; kept for the whole run) and, while one trajectory is
    rendered, the message lists of its model calls (`prefix`; each message encoded once, though
    every later call of the trace sends it again), dropped once its records are encoded.
    """

    def __init__(self, dumps: Callable[[Any], str]) -> None:
        self.dumps = dumps
        self.tokens: dict[Hashable, str] = {}
        # token id -> (value is a string, level-1 text, level-2 text or None)
        self._texts: dict[str, tuple[bool, str, str | None]] = {}
        self._constants = 0
        self._locals: list[str] = []  # ids of this trajectory's tokens
        self._prefixes: dict[int, list] = {}  # id(list) -> [list, items encoded, their encodings joined]
        self._reused: dict[int, tuple[Any, str]] = {}  # id(object) -> (object, its token)

    def token(self, key: Hashable, value: Any) -> str:
        """The token standing for `value` (registered under `key` on first use)."""
        found = self.tokens.get(key)
        if found is None:
            ident = str(self._constants)
            self._constants += 1
            if isinstance(value, str):
                once = self.dumps(value)
                self._texts[ident] = (True, once[1:-1], self.dumps(once)[3:-3])
            else:  # (it may hold other constants' tokens)
                self._texts[ident] = (False, self.encode(value), None)
            found = self.tokens[key] = f"{MARK}{ident}{MARK}"
        return found

    def items_token(self, key: Hashable, items: list) -> str:
        """A token standing for several list items: spliced in as their encodings, comma-separated."""
        found = self.tokens.get(key)
        if found is None:
            ident = str(self._constants)
            self._constants += 1
            self._texts[ident] = (False, ",".join([self.encode(item) for item in items]), None)
            found = self.tokens[key] = f"{MARK}{ident}{MARK}"
        return found

    def text(self, value: str) -> str:
        """A token for a constant text (keyed by the text itself)."""
        found = self.tokens.get(value)
        return found if found is not None else self.token(value, value)

    def prefix(self, items: list, n: int) -> str:
        """A token for `items[:n]` (n > 0); items must only grow (by appending) during the render."""
        state = self._prefixes.get(id(items))
        if state is None:  # the list is kept (so its id is not reused) until the render ends
            state = self._prefixes[id(items)] = [items, 0, ""]  # list, items encoded, their encodings joined
        done, body = state[1], state[2]
        if n > done:  # encode the new items in one go and extend the joined encodings
            new = self.encode(items[done:n])[1:-1]
            body = state[2] = f"{body},{new}" if done else new
            state[1] = done = n
        text = f"[{body}]" if n == done else self.encode(items[:n])
        return self._local((False, text, None))

    def reuse(self, obj: dict | list) -> str:
        """A token for an object several records of this render hold (encoded once); it must not
        change until the render ends."""
        found = self._reused.get(id(obj))
        if found is None:  # the object is kept (so its id is not reused) until the render ends
            found = self._reused[id(obj)] = (obj, self._local((False, self.encode(obj), None)))
        return found[1]

    def escaped(self, text: str) -> str:
        """`text` as it reads inside a JSON string (without the quotes), tokens in it spliced."""
        return self.expand(self.dumps(text))[1:-1]

    def local_text(self, escaped: str) -> str:
        """A token for a string made during this render, given as `escaped` gives it."""
        return self._local((True, escaped, None))

    def _local(self, entry: tuple[bool, str, str | None]) -> str:
        ident = f"L{len(self._locals)}"
        self._locals.append(ident)
        self._texts[ident] = entry
        return f"{MARK}{ident}{MARK}"

    def render(self, renderer: Callable[[dict], list], trajectory: dict) -> tuple[str, int]:
        """`"\\n".join(dumps(record) for record in renderer(trajectory))` with shared values
        spliced, and the number of records. (JSON text holds no raw newline.)"""
        global _active
        previous, _active = _active, self
        try:
            records = renderer(trajectory)
        finally:
            _active = previous
        dumps = self.dumps
        try:
            return self.expand("\n".join([dumps(record) for record in records])), len(records)
        finally:
            for ident in self._locals:
                del self._texts[ident]
            self._locals.clear()
            self._prefixes.clear()
            self._reused.clear()

    def encode(self, obj: Any) -> str:
        return self.expand(self.dumps(obj))

    def expand(self, encoded: str) -> str:
        """Replace each encoded token by its value's encoding."""
        if ESCAPED not in encoded:
            return encoded
        parts = encoded.split(ESCAPED)
        if len(parts) % 2 == 0:
            raise ValueError("unpaired U+0001 in encoded record")
        out = [parts[0]]
        texts = self._texts
        for i in range(1, len(parts), 2):
            ident, after = parts[i], parts[i + 1]
            before = out[-1]
            if ident.endswith("\\"):  # inside a JSON text inside a string: `\"\\u0001<id>\\u0001\"`
                entry = texts.get(ident[:-1])
                if entry is None or entry[2] is None or not before.endswith('\\"\\') or not after.startswith('\\"'):
                    raise ValueError(f"unexpected token {ident!r} in encoded record")
                out[-1] = before[:-1]
                out.append(entry[2])
            else:
                entry = texts.get(ident)
                if entry is None or not before.endswith('"') or not after.startswith('"'):
                    raise ValueError(f"unexpected token {ident!r} in encoded record")
                if entry[0]:
                    out.append(entry[1])
                else:  # a token standing for an object or array: drop its quotes
                    out[-1] = before[:-1]
                    out.append(entry[1])
                    after = after[1:]
            out.append(after)
        return "".join(out)


_active: Splicer | None = None


def active() -> Splicer | None:
    """The Splicer encoding the records being rendered, if any."""
    return _active


def shared(key: Hashable, make: Callable[[], Any]) -> Any:
    """A value that repeats verbatim across records (e.g. tool definitions) and is fully
    determined by `key`: `make()`, or while a Splicer is active a token for it. Falsy values
    are never tokenized, so a renderer's `if value:` sees the same truth either way."""
    splicer = _active
    if splicer is None:
        return make()
    try:
        found = splicer.tokens.get(key)
    except TypeError:  # content that cannot be a key (an unhashable value): not shared
        return make()
    if found is not None:
        return found
    value = make()
    return splicer.token(key, value) if value else value


def reused(obj: Any) -> Any:
    """`obj`, which several records of one render hold (e.g. the request metadata of every model
    call): while a Splicer is active and it is a non-empty dict or list, a token for it, encoded
    once per render. It must not change after this call."""
    splicer = _active
    if splicer is None or not obj or not isinstance(obj, (dict, list)):
        return obj
    return splicer.reuse(obj)


def so_far(items: list, n: int | None = None) -> list:
    """`items[:n]` as a new list (all of it without n): the messages a model call sends, which
    every later call of the trace sends again. While a Splicer is active and the list is not
    empty, a token whose encoding is built from each item's encoding, made once per render.
    The items must not change after being sent, and the list must only grow by appending."""
    splicer = _active
    if splicer is None:
        return items[:n]
    n = len(items) if n is None else len(items[:n])
    return splicer.prefix(items, n) if n else []


def shared_items(key: Hashable, make: Callable[[], list]) -> list:
    """List items that lead several lists verbatim (e.g. the constant attributes of a span) and
    are fully determined by `key`: `make()`, or while a Splicer is active a one-item list whose
    token is spliced in as all of them. Prepend the result to the list's other items."""
    splicer = _active
    if splicer is None:
        return make()
    try:
        found = splicer.tokens.get(key)
    except TypeError:
        return make()
    if found is not None:
        return [found]
    items = make()
    return [splicer.items_token(key, items)] if items else items


def content_key(items: list[dict] | None) -> tuple:
    """A key for a list of flat dicts (e.g. tools_available) equal exactly when their content is."""
    return tuple(tuple(item.items()) for item in items) if items else ()


def _check_catalog() -> None:
    """The guarantee the token scheme rests on: no catalog text holds MARK."""
    seen: set[int] = set()

    def walk(value: Any) -> None:
        if id(value) in seen:
            return
        seen.add(id(value))
        if isinstance(value, str):
            if MARK in value:
                raise AssertionError(f"catalog text holds U+0001: {value[:60]!r}")
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, (list, tuple, set, frozenset)):
            for v in value:
                walk(v)
        elif dataclasses.is_dataclass(value) and not isinstance(value, type):
            for field in dataclasses.fields(value):
                walk(getattr(value, field.name))

    for name, value in vars(catalog).items():
        if not name.startswith("__"):
            walk(value)


_check_catalog()
