"""Encode the records of one trajectory, encoding what they repeat only once.

Most of what the generator writes repeats: the five shared system prompts and the tool
definitions are in every record (in trace formats, in every model call's input), each model
call of a trace sends all earlier messages again, and constant attributes recur in every span.
JSON encoding is the generator's largest cost, so while it renders a trajectory
(`Splicer.render`), such a value is handed to the renderer as a short token string; the records
are encoded, and each token's encoded form is replaced by the value's encoding, made once. The
result is byte-identical to encoding the records with the values in place
(tests/test_generator.py compares both for every format, on generated and edge-case input).

What renderers call (each returns the value itself when no Splicer is active, so `render()`
called anywhere else returns exactly what it always did):
  shared(key, make)        a value repeated across trajectories, fully determined by `key`
                           (texts, or None, as key parts: equal keys mean equal values)
  shared_items(key, make)  list items that lead many lists, spliced in as a run of items
  so_far(messages, n)      the messages a model call sends, built from each message's
                           encoding (the list must only grow by appending)
  reused(obj)              an object several records of one trajectory hold

A token is `\\x01<id>\\x01`. JSON escapes U+0001 as `\\u0001`, so a token comes out of the
encoder as `"\\u0001<id>\\u0001"`, or, inside a JSON text that is itself a string value (as the
OTel renderer writes messages), as `\\"\\\\u0001<id>\\\\u0001\\"` (strings only). Generated
content never holds U+0001 (the catalog is checked when this module is imported; personal
data, ids and numbers are printable ASCII), so every escaped U+0001 in the output belongs to a
token; one that does not is an error, never silently spliced.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Hashable
from typing import Any

from benchmarks.synthetic import catalog

MARK = "\x01"
ESCAPED = b"\\u0001"  # how the encoder writes MARK (in the UTF-8 the splicing works on)


_LOCAL_IDS = tuple((f"L{n}".encode(), f"{MARK}L{n}{MARK}") for n in range(256))  # a render's token ids


class Splicer:
    """Tokens for repeated values, and an encoder that splices their encodings back.

    It works on UTF-8: a record is encoded with its tokens (the smaller text), then the
    values' encodings, each made once as bytes, are spliced in; no full text is re-encoded.
    Constants (`token`, `items_token`, `text`) are kept for the whole run; the tokens made while
    one trajectory renders (`prefix`, `reuse`, `local_*`) are dropped once its records are
    encoded.
    """

    def __init__(self, dumps: Callable[[Any], str]) -> None:
        self.dumps = dumps
        self.tokens: dict[Hashable, str] = {}
        # token id -> (value is a string, UTF-8 encoding, and inside a string for a string)
        self._texts: dict[bytes, tuple[bool, bytes, bytes | None]] = {}
        self._constants = 0
        self._locals: list[bytes] = []  # ids of this trajectory's tokens
        self._prefixes: dict[int, list] = {}  # id(list) -> [list, items encoded, their encodings joined]
        self._reused: dict[int, tuple[Any, str]] = {}  # id(object) -> (object, its token)

    def _constant(self, key: Hashable, entry: tuple[bool, bytes, bytes | None]) -> str:
        ident = str(self._constants)
        self._constants += 1
        self._texts[ident.encode()] = entry
        token = self.tokens[key] = f"{MARK}{ident}{MARK}"
        return token

    def token(self, key: Hashable, value: Any) -> str:
        """The token standing for `value` (registered under `key` on first use)."""
        found = self.tokens.get(key)
        if found is None:
            if isinstance(value, str):
                once = self.dumps(value)
                found = self._constant(key, (True, once[1:-1].encode(), self.dumps(once)[3:-3].encode()))
            else:  # (it may hold other constants' tokens)
                found = self._constant(key, (False, self.encode(value), None))
        return found

    def items_token(self, key: Hashable, items: list) -> str:
        """A token standing for several list items: spliced in as their encodings, comma-separated."""
        found = self.tokens.get(key)
        if found is None:
            found = self._constant(key, (False, b",".join([self.encode(item) for item in items]), None))
        return found

    def text(self, value: str) -> str:
        """A token for a constant text (keyed by the text itself)."""
        found = self.tokens.get(value)
        return found if found is not None else self.token(value, value)

    def prefix(self, items: list, n: int) -> str:
        """A token for `items[:n]` (n > 0); items must only grow (by appending) during the render."""
        state = self._prefixes.get(id(items))
        if state is None:  # the list is kept (so its id is not reused) until the render ends
            state = self._prefixes[id(items)] = [items, 0, b""]  # list, items encoded, their encodings joined
        done, body = state[1], state[2]
        if n > done:  # encode the new items in one go and extend the joined encodings
            new = self.encode(items[done:n])[1:-1]
            body = state[2] = body + b"," + new if done else new
            state[1] = done = n
        return self._local((False, b"[" + body + b"]" if n == done else self.encode(items[:n]), None))

    def reuse(self, obj: dict | list) -> str:
        """A token for an object several records of this render hold (encoded once); it must not
        change until the render ends."""
        found = self._reused.get(id(obj))
        if found is None:  # the object is kept (so its id is not reused) until the render ends
            found = self._reused[id(obj)] = (obj, self._local((False, self.encode(obj), None)))
        return found[1]

    def escaped(self, text: str) -> bytes:
        """`text` as it reads inside a JSON string (without the quotes), tokens in it spliced."""
        return self.expand(self.dumps(text).encode())[1:-1]

    def local_text(self, escaped: bytes) -> str:
        """A token for a string made during this render, given as `escaped` gives it."""
        return self._local((True, escaped, None))

    def _local(self, entry: tuple[bool, bytes, bytes | None]) -> str:
        n = len(self._locals)
        key, token = _LOCAL_IDS[n] if n < len(_LOCAL_IDS) else (f"L{n}".encode(), f"{MARK}L{n}{MARK}")
        self._locals.append(key)
        self._texts[key] = entry
        return token

    def render(self, renderer: Callable[[dict], list], trajectory: dict) -> tuple[bytes, int]:
        """`"\n".join(dumps(record) for record in renderer(trajectory))` in UTF-8, with shared
        values spliced, and the number of records. (JSON text holds no raw newline.)"""
        global _active
        previous, _active = _active, self
        try:
            records = renderer(trajectory)
        finally:
            _active = previous
        dumps = self.dumps
        try:
            return self.expand("\n".join([dumps(record) for record in records]).encode()), len(records)
        finally:
            for ident in self._locals:
                del self._texts[ident]
            self._locals.clear()
            self._prefixes.clear()
            self._reused.clear()

    def encode(self, obj: Any) -> bytes:
        """dumps(obj) in UTF-8, tokens spliced."""
        return self.expand(self.dumps(obj).encode())

    def expand(self, encoded: bytes) -> bytes:
        """Replace each encoded token by its value's encoding."""
        if ESCAPED not in encoded:
            return encoded
        parts = encoded.split(ESCAPED)  # text, id, text, id, ..., text
        count = len(parts)
        if not count & 1:
            raise ValueError("unpaired U+0001 in encoded record")
        texts = self._texts
        out = [parts[0]]
        append = out.append
        for i in range(1, count, 2):
            ident, after = parts[i], parts[i + 1]
            entry = texts.get(ident)
            if entry is not None:  # `"\u0001<id>\u0001"`
                before = out[-1]
                if before[-1:] != b'"' or after[:1] != b'"':
                    raise ValueError(f"unexpected token {ident!r} in encoded record")
                if entry[0]:  # a string: its escaped text between the quotes
                    append(entry[1])
                    append(after)
                else:  # an object, array or list items: in place of the quoted token
                    out[-1] = before[:-1]
                    append(entry[1])
                    append(after[1:])
                continue
            # inside a JSON text inside a string: `\"\\u0001<id>\\u0001\"` (strings only)
            entry = texts.get(ident[:-1]) if ident[-1:] == b"\\" else None
            before = out[-1]
            if entry is None or entry[2] is None or before[-3:] != b'\\"\\' or after[:2] != b'\\"':
                raise ValueError(f"unexpected token {ident!r} in encoded record")
            out[-1] = before[:-1]
            append(entry[2])
            append(after)
        return b"".join(out)


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
