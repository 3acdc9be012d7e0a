"""JSON values (as json.loads gives them) read the way the Spark adapters read them.

The trace adapters assembled in Python must give the same candidates as their Spark versions,
which read payloads as VARIANT (`try_variant_get`) and run fields with `from_json` into string
columns. This module holds those reading rules once:

- a path that is missing is ABSENT (SQL NULL), a JSON null is None (a variant null: it wins a
  coalesce, as in Spark);
- a value read as text is the string itself, or its JSON as Spark's VARIANT writes it (compact,
  object keys sorted, decimals without trailing zeros, doubles as Java prints them);
- a `from_json` string field holds non-strings as the JSON Jackson copies (keys in their order,
  NaN and the infinities quoted), and an object read back from that text has its fractions as
  doubles (`jackson_copy`);
- a `from_json` double field takes numbers and the NaN / Infinity words, nothing else;
- casts of text to double / long / decimal / timestamp follow Spark's (ANSI `try_cast`,
  `try_to_timestamp`);
- JSON text inside a string (OTel's message attributes) is read as `from_json(text, schema)`
  reads it (json_reader).

Floats are parsed by `loads` as JsonFloat, which keeps the number's text: VARIANT keeps a
decimal literal as a decimal (1.50 -> "1.5", 100.0 -> "100") and only an exponent form or an
over-long literal as a double.
"""

from __future__ import annotations

import json
import math
import re
from decimal import ROUND_HALF_UP, Context, Decimal, InvalidOperation
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from pyspark.sql.types import ArrayType, DataType, DoubleType, StringType, StructType

# Spark's decimal limit (DecimalType.MAX_PRECISION): longer literals become doubles in a VARIANT.
MAX_DECIMAL_DIGITS = 38
LONG_MIN, LONG_MAX = -(2**63), 2**63 - 1
MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 86_400 * MICROS_PER_SECOND
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
# Doubles this large are whole numbers already (2**52: the last bit is worth 1).
WHOLE_DOUBLES = 2.0**52
# The strings from_json takes for a double field (Jackson's non-numeric numbers, allowed by default).
_JSON_DOUBLE_WORDS = {"NaN": math.nan, "Infinity": math.inf, "+Infinity": math.inf, "+INF": math.inf,
                      "-Infinity": -math.inf, "-INF": -math.inf}


class _Absent:
    """A path that leads nowhere (SQL NULL), unlike a JSON null (None)."""

    _instance = None

    def __new__(cls):
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT = _Absent()


class JsonFloat(float):
    """A JSON number with a fraction or exponent, with the text it was written as."""

    __slots__ = ("text",)

    def __new__(cls, text: str):
        value = super().__new__(cls, text)
        value.text = text
        return value


# json.loads builds a decoder (and its scanner) on every call that passes an option: one made once.
VARIANT_DECODER = json.JSONDecoder(parse_float=JsonFloat)


def loads(text: str):
    """json.loads(text, parse_float=JsonFloat)."""
    if text.startswith("\ufeff"):  # as json.loads refuses it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", text, 0)
    return VARIANT_DECODER.decode(text)


def present(value) -> bool:
    """Not SQL NULL: a JSON null counts as present (a variant null)."""
    return value is not ABSENT


def first_present(*values):
    """coalesce() of variants."""
    for value in values:
        if value is not ABSENT:
            return value
    return ABSENT


def get(value, *path):
    """The value at a path of keys (str) and indexes (int); ABSENT when any step is missing."""
    for step in path:
        kind = type(value)
        if kind is dict:
            if step.__class__ is not str or step not in value:
                return ABSENT
        elif kind is not list or step.__class__ is not int or not 0 <= step < len(value):
            return ABSENT
        value = value[step]
    return value


def text(value) -> str | None:
    """try_variant_get(v, '$', 'string'): a string as it is, any other value as its JSON."""
    if value is None or value is ABSENT:
        return None
    if isinstance(value, str):
        return value
    return to_json(value)


def text_at(value, *path) -> str | None:
    if value.__class__ is dict and len(path) == 1:  # the common case, without get's loop
        value = value.get(path[0], ABSENT)
        return value if value.__class__ is str else text(value)
    return text(get(value, *path))


def array(value) -> list | None:
    """try_variant_get(v, '$', 'array<variant>')."""
    return value if isinstance(value, list) else None


def array_at(value, *path) -> list | None:
    return array(get(value, *path))


def text_array(value) -> list | None:
    """try_variant_get(v, '$', 'array<string>')."""
    return [text(v) for v in value] if isinstance(value, list) else None


def string_map(value) -> dict | None:
    """try_variant_get(v, '$', 'map<string,string>'): an object's values as text, in VARIANT key order."""
    if not isinstance(value, dict):
        return None
    return {k: text(value[k]) for k in sorted(value, key=_variant_key_order)}


def double(value) -> float | None:
    """try_variant_get(v, '$', 'double')."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return _int_as_double(value) if isinstance(value, int) else float(value)
    if isinstance(value, str):
        return text_to_double(value)
    return None


def _int_as_double(value: int) -> float | None:
    try:
        return float(value)
    except OverflowError:
        return None


# --- JSON text as Spark writes it -------------------------------------------------------------


def _variant_key_order(key: str) -> bytes:
    """VARIANT sorts object keys as Java compares strings (UTF-16 code units)."""
    return key.encode("utf-16-be", "surrogatepass")


def to_json(value) -> str:
    """JSON text of a value as Spark's VARIANT writes it (to_json / cast to string)."""
    parts: list[str] = []
    _write(value, parts, sort_keys=True, number=_variant_number)
    return "".join(parts)


def jackson_text(value) -> str | None:
    """A from_json string field: strings as they are, other values as the JSON Jackson copies."""
    if value is None or value is ABSENT:
        return None
    if isinstance(value, str):
        return value
    parts: list[str] = []
    _write(value, parts, sort_keys=False, number=_jackson_number)
    return "".join(parts)


def _write(value, parts: list[str], sort_keys: bool, number) -> None:
    # Strings, the most common values, are written in place rather than by a call of their own.
    if value is None:
        parts.append("null")
    elif value is True:
        parts.append("true")
    elif value is False:
        parts.append("false")
    elif isinstance(value, str):
        parts.append(quote(value))
    elif isinstance(value, (int, float)):
        parts.append(number(value))
    elif isinstance(value, list):
        parts.append("[")
        first = True
        for item in value:
            if not first:
                parts.append(",")
            first = False
            if item.__class__ is str:
                parts.append(quote(item))
            else:
                _write(item, parts, sort_keys, number)
        parts.append("]")
    else:
        parts.append("{")
        first = True
        for key in _sorted_keys(value) if sort_keys else value:
            parts.append(("" if first else ",") + quote(key) + ":")
            first = False
            item = value[key]
            if item.__class__ is str:
                parts.append(quote(item))
            else:
                _write(item, parts, sort_keys, number)
        parts.append("}")


def _sorted_keys(value: dict) -> list[str]:
    """Keys in VARIANT order; ASCII keys (nearly all) sort the same by code point, which is faster."""
    return sorted(value) if "".join(value).isascii() else sorted(value, key=_variant_key_order)


# Controls that Python's json escapes as \u00xx and Jackson as \u00XX (both write \b \t \n \f \r short).
_encode_string = json.encoder.encode_basestring  # json.dumps(s, ensure_ascii=False), without its set-up
_LOWER_HEX_ESCAPE = re.compile(r"(?<!\\)((?:\\\\)*)\\u00([0-9a-f]{2})")


def quote(s: str) -> str:
    """A JSON string as Jackson writes it: \\b \\t \\n \\f \\r short, other controls \\u00XX (upper hex)."""
    quoted = _encode_string(s)
    # A control escaped long has \u00 in the text; so has an escaped backslash before "u00",
    # which the pattern leaves alone.
    if "\\u00" in quoted:
        quoted = _LOWER_HEX_ESCAPE.sub(lambda m: f"{m.group(1)}\\u00{m.group(2).upper()}", quoted)
    return quoted


def _variant_number(value) -> str:
    if isinstance(value, JsonFloat):
        literal = value.text
        if "e" in literal or "E" in literal or not _fits_decimal(literal):
            return java_double(float(value))
        return _plain_decimal(literal)
    if isinstance(value, float):
        return java_double(value)
    if LONG_MIN <= value <= LONG_MAX or len(str(abs(value))) <= MAX_DECIMAL_DIGITS:
        return str(value)
    return java_double(float(value))


def _jackson_number(value) -> str:
    """A number as Jackson writes it: doubles as Java prints them, NaN and the infinities quoted
    (its QUOTE_NON_NUMERIC_NUMBERS default; 1e400 reads as Infinity)."""
    if isinstance(value, float):
        written = java_double(float(value))
        return written if math.isfinite(value) else f'"{written}"'
    return str(value)


def _fits_decimal(literal: str) -> bool:
    whole, _, fraction = literal.lstrip("-").partition(".")
    digits = (whole + fraction).lstrip("0") or "0"
    return len(fraction) <= MAX_DECIMAL_DIGITS and len(digits) <= MAX_DECIMAL_DIGITS


def _plain_decimal(literal: str) -> str:
    """BigDecimal.stripTrailingZeros().toPlainString() of a plain decimal literal."""
    if "." in literal:
        literal = literal.rstrip("0").rstrip(".")
    if literal.lstrip("-").strip("0") == "":
        return "0"
    return literal


def java_double(value: float) -> str:
    """Double.toString: plain in [1e-3, 1e7), else d.dddE<n>; always a fraction digit."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign = "-" if value < 0 else ""
    digits, exponent = _shortest_digits(abs(value))  # value = 0.d1d2... * 10^exponent
    if 1e-3 <= abs(value) < 1e7:
        if exponent <= 0:
            return f"{sign}0.{'0' * -exponent}{digits}"
        whole, fraction = digits[:exponent].ljust(exponent, "0"), digits[exponent:]
        return f"{sign}{whole}.{fraction or '0'}"
    return f"{sign}{digits[0]}.{digits[1:] or '0'}E{exponent - 1}"


def _shortest_digits(value: float) -> tuple[str, int]:
    """The shortest digits that read back as value, and n with value = 0.digits * 10^n."""
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    text = "".join(map(str, digits))
    return text.rstrip("0") or "0", len(text) + exponent


# --- what from_json reads back ------------------------------------------------------------------


def jackson_copy(value):
    """A value as from_json reads it back from the text a string field holds (an object Jackson
    copied): fractions and exponents were written as Java doubles, so they come back as those
    (1.50 -> 1.5, 1e5 -> 100000.0, which a VARIANT then keeps as the decimal 100000)."""
    if isinstance(value, dict):
        return {k: jackson_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jackson_copy(v) for v in value]
    if isinstance(value, JsonFloat):
        return JsonFloat(java_double(float(value)))
    return value


def loads_object(text: str) -> dict:
    """from_json of text (PERMISSIVE, no corrupt-record column): a row with every field null when
    the text is not a JSON object."""
    try:
        value = loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def json_double(value) -> float | None:
    """A from_json double field: a number, or one of the NaN / Infinity words; None otherwise
    (from_json fails the field)."""
    if isinstance(value, bool) or value is None or value is ABSENT:
        return None
    if isinstance(value, (int, float)):
        try:
            return float(value)
        except OverflowError:
            return math.inf if value > 0 else -math.inf
    if isinstance(value, str):
        return _JSON_DOUBLE_WORDS.get(value)
    return None


# --- casts of text -----------------------------------------------------------------------------

_JAVA_DOUBLE = re.compile(r"[+-]?(NaN|Infinity|([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)[fFdD]?")
_SPECIAL_DOUBLES = {"inf": math.inf, "+inf": math.inf, "infinity": math.inf, "+infinity": math.inf,
                    "-inf": -math.inf, "-infinity": -math.inf, "nan": math.nan}
_LONG = re.compile(r"[+-]?[0-9]+")


# What Spark trims from text it casts: whitespace and control characters up to the space.
_TRIMMED = "".join(chr(c) for c in range(33))


def _trim(s: str) -> str:
    return s.strip(_TRIMMED)


def text_to_double(s: str | None) -> float | None:
    """try_cast(s AS double)."""
    if s is None:
        return None
    trimmed = _trim(s)
    if _JAVA_DOUBLE.fullmatch(trimmed):
        return float(trimmed.rstrip("fFdD"))
    return _SPECIAL_DOUBLES.get(trimmed.lower())


def double_to_long(d: float | None) -> int | None:
    """try_cast(d AS long): truncated; null when not finite or out of range."""
    if d is None or not math.isfinite(d) or not -(2.0**63) <= d <= 2.0**63:
        return None
    return min(int(d), LONG_MAX)


def round_half_up(d: float | None) -> float | None:
    """F.round(d) of a double: half away from zero on its decimal text (BigDecimal.valueOf);
    NaN and infinities unchanged."""
    if d is None or not math.isfinite(d) or abs(d) >= WHOLE_DOUBLES:
        return d
    return float(Decimal(repr(d)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def text_to_integral_decimal(s: str | None) -> int | None:
    """try_cast(s AS decimal(38,0)) as an int: rounded half up; None when unparsable or over 38 digits."""
    value = text_to_decimal(s, 0)
    return None if value is None else int(value)


# Wide enough for any decimal(38, s) value and its products, so no arithmetic rounds.
WIDE = Context(prec=4 * MAX_DECIMAL_DIGITS)


def text_to_decimal(s: str | None, scale: int) -> Decimal | None:
    """try_cast(s AS decimal(38, scale)): rounded half up to `scale` places; None when unparsable
    or wider than 38 digits."""
    if s is None:
        return None
    trimmed = _trim(s)
    if not _DECIMAL.fullmatch(trimmed):
        return None
    try:
        value = Decimal(trimmed).quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP, context=WIDE)
    except InvalidOperation:
        return None
    return value if value.adjusted() < MAX_DECIMAL_DIGITS - scale else None


def text_to_long(s: str | None) -> int | None:
    """try_cast(s AS long)."""
    if s is None:
        return None
    trimmed = _trim(s)
    if not _LONG.fullmatch(trimmed):
        return None
    value = int(trimmed)
    return value if LONG_MIN <= value <= LONG_MAX else None


_TIMESTAMP = re.compile(
    r"(?P<year>[+-]?[0-9]{4,6})(?:-(?P<month>[0-9]{1,2})(?:-(?P<day>[0-9]{1,2})"
    r"(?:[T ](?P<hour>[0-9]{1,2})(?::(?P<minute>[0-9]{1,2})(?::(?P<second>[0-9]{1,2})(?:\.(?P<fraction>[0-9]*))?)?)?"
    r"(?P<zone>.*))?)?)?"
)
_TIME_ONLY = re.compile(r"T?(?P<hour>[0-9]{1,2}):(?P<minute>[0-9]{1,2})(?::(?P<second>[0-9]{1,2})(?:\.(?P<fraction>[0-9]*))?)?(?P<zone>.*)")
_OFFSET = re.compile(r"(?:UTC|GMT|UT)?(?P<sign>[+-])(?P<hours>[0-9]{1,2})(?::?(?P<minutes>[0-9]{2}))?(?::?(?P<seconds>[0-9]{2}))?")


# The form exporters write (naive UTC, ISO-8601 with optional fraction and Z), read without the general parse.
_COMMON_TIMESTAMP = re.compile(r"([0-9]{4})-([0-9][0-9])-([0-9][0-9])T([0-9][0-9]):([0-9][0-9]):([0-9][0-9])(?:\.([0-9]{1,6}))?Z?")


@lru_cache(maxsize=4096)
def _epoch_day(year: int, month: int, day: int) -> int | None:
    try:
        return date(year, month, day).toordinal() - _EPOCH_ORDINAL
    except ValueError:
        return None


def timestamp_micros(s: str | None) -> int | None:
    """try_to_timestamp(s) in a UTC session: microseconds since the epoch, None when unparsable."""
    if s is None:
        return None
    common = _COMMON_TIMESTAMP.fullmatch(s)
    if common:
        year, month, day, hour, minute, second, fraction = common.groups()
        days = _epoch_day(int(year), int(month), int(day))
        if days is not None and int(hour) < 24 and int(minute) < 60 and int(second) < 60:
            seconds = ((days * 24 + int(hour)) * 60 + int(minute)) * 60 + int(second)
            return seconds * MICROS_PER_SECOND + int((fraction or "").ljust(6, "0"))
    trimmed = _trim(s)
    found = _TIMESTAMP.fullmatch(trimmed)
    if found is None:
        found = _TIME_ONLY.fullmatch(trimmed)
        if found is None:
            return None
        today = datetime.now(timezone.utc).date()
        parts = {"year": today.year, "month": today.month, "day": today.day, **found.groupdict()}
    else:
        parts = found.groupdict()
    try:
        day = date(int(parts["year"]), int(parts["month"] or 1), int(parts["day"] or 1))
    except ValueError:
        return None
    hour, minute, second = (int(parts[k] or 0) for k in ("hour", "minute", "second"))
    if hour > 23 or minute > 59 or second > 59:
        return None
    fraction = int(((parts["fraction"] or "")[:6]).ljust(6, "0"))
    offset = _zone_offset_seconds(parts["zone"] or "", day, hour, minute, second)
    if offset is None:
        return None
    local = (day.toordinal() - _EPOCH_ORDINAL) * MICROS_PER_DAY + ((hour * 60 + minute) * 60 + second) * MICROS_PER_SECOND
    return local + fraction - offset * MICROS_PER_SECOND


def _zone_offset_seconds(zone: str, day: date, hour: int, minute: int, second: int) -> int | None:
    zone = zone.strip()
    if zone in ("", "Z", "UTC", "GMT", "UT"):
        return 0
    offset = _OFFSET.fullmatch(zone)
    if offset:
        seconds = int(offset["hours"]) * 3600 + int(offset["minutes"] or 0) * 60 + int(offset["seconds"] or 0)
        return seconds if offset["sign"] == "+" else -seconds
    region = _region(zone)
    if region is None:
        return None
    local = datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=region)
    return int(local.utcoffset().total_seconds())


@lru_cache(maxsize=64)
def _region(name: str):
    try:
        return ZoneInfo(name)
    except (ValueError, KeyError, OSError):
        return None


# --- from_json of JSON text held in a string -----------------------------------------------------
#
# Spark's from_json (PERMISSIVE, partial results on, Jackson with Spark's JSON options) reads the
# first JSON value of the text (what follows it is ignored); a root that is not the schema's
# shape gives null, except that an object read as an array of structs is a one-element array.
# Below the root a struct keeps the fields it could read: a field of the wrong type is null; an
# array with an element of the wrong type is null as a whole. String fields take any JSON
# (jackson_text); doubles take numbers and the non-numeric names Jackson allows.

_DECODER = json.JSONDecoder()
JSON_SPACE = " \t\n\r"  # what JSON skips before a value
_NON_NUMERIC_DOUBLES = {"NaN": math.nan, "+INF": math.inf, "+Infinity": math.inf, "Infinity": math.inf,
                        "-INF": -math.inf, "-Infinity": -math.inf}


class _Mismatch(Exception):
    """A JSON value of the wrong type for its field."""


def first_json_value(text: str, decoder: json.JSONDecoder = _DECODER):
    """The first JSON value of a text, as Jackson reads it (what follows it is ignored); raises
    ValueError when there is none. With VARIANT_DECODER, numbers keep their literal (JsonFloat)."""
    return _first_json_value_and_end(text, decoder)[0]


def _first_json_value_and_end(text: str, decoder: json.JSONDecoder = _DECODER) -> tuple:
    """first_json_value, and where in the text it ends."""
    return decoder.raw_decode(text, len(text) - len(text.lstrip(JSON_SPACE)))


def _json_double(value) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise _Mismatch
    if isinstance(value, float):
        return float(value)
    if isinstance(value, int):
        converted = _int_as_double(value)
        return converted if converted is not None else math.copysign(math.inf, value)
    if isinstance(value, str) and value in _NON_NUMERIC_DOUBLES:
        return _NON_NUMERIC_DOUBLES[value]
    raise _Mismatch


def _converter(data_type: DataType):
    if isinstance(data_type, StringType):
        return jackson_text
    if isinstance(data_type, DoubleType):
        return _json_double
    if isinstance(data_type, ArrayType):
        element = _converter(data_type.elementType)

        def convert_array(value):
            if value is None:
                return None
            if not isinstance(value, list):
                raise _Mismatch
            return [element(v) for v in value]

        return convert_array
    if isinstance(data_type, StructType):
        fields = [(f.name, _converter(f.dataType)) for f in data_type.fields]

        def convert_struct(value):
            if value is None:
                return None
            if not isinstance(value, dict):
                raise _Mismatch
            row = {}
            for name, convert in fields:
                try:
                    row[name] = convert(value.get(name))
                except _Mismatch:
                    row[name] = None
            return row

        return convert_struct
    raise TypeError(f"json_reader reads structs, arrays, strings and doubles, not {data_type.simpleString()}")


def _value_reader(schema: DataType):
    """A function decoded JSON value -> what from_json(its text, schema) gives."""
    convert = _converter(schema)
    wraps_object = isinstance(schema, ArrayType) and isinstance(schema.elementType, StructType)

    def read_value(value):
        if value is None:
            return None
        if wraps_object and isinstance(value, dict):
            value = [value]
        try:
            return convert(value)
        except _Mismatch:
            return None

    return read_value


def json_reader(schema: DataType):
    """A function text -> from_json(text, schema), structs as dicts of the schema's fields."""
    read_value = _value_reader(schema)

    def read(text: str | None):
        if text is None:
            return None
        try:
            value = first_json_value(text)
        except ValueError:
            return None
        return read_value(value)

    return read


class GrowingArrayReader:
    """json_reader(schema) for an array schema, for texts that mostly extend the text read before:
    a model call's input messages re-send the earlier calls' and add a few. When a text is the
    last non-empty array read with more items before its closing bracket, only the added items
    are decoded and read, so a trace's calls cost what their new messages cost, not the square
    of their number. Any other text is read whole; either way the result is json_reader's.
    `each`, when given, maps every item read to a list of items, and the result is their
    concatenation (so each item is mapped once too). Results share their items: do not change them."""

    def __init__(self, schema: ArrayType, each=None):
        if not isinstance(schema, ArrayType):
            raise TypeError(f"GrowingArrayReader reads arrays, not {schema.simpleString()}")
        read_value = _value_reader(schema)
        if each is None:
            self._read_value = read_value
        else:
            def mapped(value):
                read = read_value(value)
                return None if read is None else [out for item in read for out in each(item)]

            self._read_value = mapped
        self._head: str | None = None  # the last array's text up to its closing bracket
        self._items: list = []  # what it read as

    def __call__(self, text: str | None):
        if text is None:
            return None
        head = self._head
        if head is not None and text.startswith(head):
            comma = len(text) - len(text[len(head):].lstrip(JSON_SPACE))  # where "," goes if items were added
            if text[comma:comma + 1] == ",":
                # "[" in place of the comma: the added items as an array of their own (same length)
                grown = self._array(text, "[" + text[comma + 1:], comma, self._items)
                if grown is not None:
                    return grown
        try:
            value, end = _first_json_value_and_end(text)
        except ValueError:
            return None
        read = self._read_value(value)
        return self._remember(text, end, read) if isinstance(value, list) else read

    def _array(self, text: str, added_text: str, at: int, before: list) -> list | None:
        """`before` and the items of the array added_text (= text[at:] with "[" first) begins with;
        None when there are none or they cannot be read."""
        try:
            value, end = _DECODER.raw_decode(added_text)
        except ValueError:
            return None
        added = self._read_value(value) if isinstance(value, list) else None
        if not added:
            return None
        return self._remember(text, at + end, before + added)

    def _remember(self, text: str, end: int, items: list | None) -> list | None:
        """Keep a non-empty array that ends (its "]") just before text[end]."""
        if items:
            self._head, self._items = text[: end - 1], items
            return list(items)
        return items
