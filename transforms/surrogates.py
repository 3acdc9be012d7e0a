"""Lone UTF-16 surrogates: texts Python can hold but UTF-8 cannot.

A JSON escape like "\\ud83d" on its own (half an emoji, cut by a tool that counts UTF-16 code
units) is valid JSON, and json.loads keeps it as a surrogate code point. Arrow, spaCy and any
UTF-8 output refuse such a text: one of them failed a whole Spark task. Spark's own JSON parser
reads the escape as "?" (Java's UTF-8 encoder), so Python code reading the same records does too.
"""

from __future__ import annotations


def without_lone_surrogates(value):
    """`value` (a text, or dicts, lists and tuples of them) with each lone surrogate replaced by
    "?", one character for one, so offsets into a text stay valid. (A surrogate pair escaped in
    JSON is already one character.)"""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8") if not value.isascii() else value
    if isinstance(value, dict):
        return {k: without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(without_lone_surrogates(v) for v in value)
    return value
