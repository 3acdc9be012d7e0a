"""JSON encoders for the generator's hot paths.

`json.JSONEncoder.encode` rebuilds its C encoder (and a float formatting closure) on every call:
about as costly as encoding a small record, and the generator encodes tens of records per
trajectory. `encoder()` builds the C encoder once and returns a function giving exactly
`JSONEncoder(ensure_ascii=False, separators=..., check_circular=False).encode(obj)` (checked
when this module is imported; without the C extension it is that very method).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder as _stdlib
from typing import Any

_SAMPLE = {"s": "ü \u2028 \x01 \" \\ \n", "i": -3, "f": [0.1, -0.0, 1e-7, 1e22, float("inf")], "b": [True, False, None], "d": {}, "l": [[]]}


def encoder(item_separator: str = ",", key_separator: str = ":") -> Callable[[Any], str]:
    """obj -> its JSON text: UTF-8 text kept as is (ensure_ascii=False), the given separators,
    no check for circular references (the generator's records are trees)."""
    reference = json.JSONEncoder(ensure_ascii=False, separators=(item_separator, key_separator), check_circular=False)
    make = getattr(_stdlib, "c_make_encoder", None)
    if make is None:
        return reference.encode
    try:
        encode_c = make(None, reference.default, _stdlib.encode_basestring, None, key_separator, item_separator,
                        False, False, True)
    except TypeError:  # another signature: keep the standard path
        return reference.encode
    join = "".join
    encode_str = _stdlib.encode_basestring

    def encode(obj: Any) -> str:
        if obj.__class__ is str:
            return encode_str(obj)
        return join(encode_c(obj, 0))

    for sample in (_SAMPLE, [_SAMPLE, 1, "x"], "ü\"", 12, 1.5, None):
        if encode(sample) != reference.encode(sample):
            return reference.encode
    return encode


# For hot records of a fixed shape the generator writes its JSON text with an f-string, each
# field through one of these (the compact encoder's exact output; a text field that is not a
# str raises rather than diverges). tests/test_generator.py compares them with the encoder.
string = _stdlib.encode_basestring  # str -> JSON string literal (TypeError for anything else)
compact = encoder(",", ":")  # the raw lines' encoding
_INF = float("inf")


def scalar(value: Any) -> str:
    """Any value's compact JSON text; str, None, bool, int and finite float without the encoder."""
    kind = value.__class__
    if kind is str:
        return string(value)
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if kind is int:
        return int.__repr__(value)
    if kind is float and -_INF < value < _INF:
        return float.__repr__(value)
    return compact(value)


def optional(text: str | None) -> str:
    """A str or None field."""
    return "null" if text is None else string(text)


def boolean(value: bool) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    raise TypeError(f"not a bool: {value!r}")
