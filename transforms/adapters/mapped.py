"""Adapters described in conf: any messages-style log becomes a source with configuration only.

A mapping (one entry of `normalize.mappings`, documented with a full example in
conf/local.yaml) names, as JSON paths into the record (`$.a.b`, `$.a[0].b`, `$['a b']` or the
dotted shorthand `a.b`), how to recognise the source, where the trajectory id, the messages and
their parts, the tools and the metadata sit. The record is read once into a string map of its
top-level keys (nested values as JSON text) and each path looks up its first key there and each
further key or index in the JSON text it reaches (a key repeated in an object reads as its last
value, as everywhere in trajlake); the messages array is read into an array of such maps, so any
message shape works with built-ins only. The conversation rules (system prompt, input, steps,
tool call/result pairing, final output) are those of `conversation.py`, shared with
openai_chat. One record is one trajectory.

Built-in adapters are tried first: a record a built-in format recognises never reaches a
mapping, so a mapping's `detect` only has to separate it from the other mappings.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StringType

from jobs.errors import ConfError
from schemas.trajectory import AGENT, CONTEXT_DOC, METADATA, MODEL, SOURCE_KINDS, TASK, TOOL_SPEC
from transforms.adapters.base import (
    MISSING_TRAJECTORY_ID,
    NO_CONTENT,
    RECORD,
    WRONG_TYPE,
    Adapter,
    TopFields,
    as_candidates,
    lineage,
    reject_when,
)
from transforms.adapters.conversation import (
    CANONICAL_ROLES,
    EPOCH_UNITS,
    MESSAGE,
    blank_to_null,
    conversation_parts,
    has_text,
    message,
    struct_or_null,
    tags_of,
    text_of,
    timestamp_of,
    tool_call,
)

# Mapping keys.
NAME_KEY, DETECT, SOURCE_KIND, EPOCH_UNIT = "name", "detect", "source_kind", "epoch_unit"
ID, MESSAGES, MESSAGE_KEY, ROLES, TOOL_CALL_KEY = "id", "messages", "message", "roles", "tool_call"
TOOLS, TOOL_KEY, CONTEXT_DOCS, CONTEXT_DOC_KEY = "tools", "tool", "context_docs", "context_doc"
FIELDS, CONSTANTS, EXTRA, STATUSES = "fields", "constants", "extra", "statuses"
MAPPING_KEYS = (
    NAME_KEY, DETECT, SOURCE_KIND, EPOCH_UNIT, ID, MESSAGES, MESSAGE_KEY, ROLES, TOOL_CALL_KEY,
    TOOLS, TOOL_KEY, CONTEXT_DOCS, CONTEXT_DOC_KEY, FIELDS, CONSTANTS, EXTRA, STATUSES,
)
REQUIRED_KEYS = (NAME_KEY, DETECT, ID, MESSAGES, MESSAGE_KEY)
DETECT_PATH, DETECT_EQUALS, DETECT_EXISTS = "path", "equals", "exists"

# Paths inside one message / tool call / tool spec / context doc, with their defaults.
MESSAGE_PARTS = ("role", "content", "reasoning", "tool_calls", "tool_call_id", "error", "is_error",
                 "timestamp", "tokens_in", "tokens_out")
REQUIRED_MESSAGE_PARTS = ("role", "content")
TOOL_CALL_DEFAULTS = {"id": "id", "name": "name", "arguments": "arguments", "result": "result", "error": "error"}
TOOL_DEFAULTS = {"name": "name", "description": "description", "parameters": "parameters"}
CONTEXT_DOC_DEFAULTS = {"doc_id": "doc_id", "source": "source", "content": "content", "score": "score"}

# Canonical fields a mapping may fill from a path (`fields`) or a literal (`constants`).
LONG, DOUBLE, TIMESTAMP, TAGS_TYPE, TEXT = "long", "double", "timestamp", "tags", "text"
FIELD_TYPES = {
    "session_id": TEXT, "user_id": TEXT, "tenant": TEXT,
    "agent.name": TEXT, "agent.version": TEXT,
    "model.provider": TEXT, "model.name": TEXT, "model.version": TEXT,
    "task.type": TEXT, "task.difficulty": TEXT, "task.language": TEXT, "task.tags": TAGS_TYPE,
    "system_prompt": TEXT, "input": TEXT, "final_output": TEXT,
    "metadata.latency_ms": LONG, "metadata.tokens_in": LONG, "metadata.tokens_out": LONG,
    "metadata.cost_usd": DOUBLE, "metadata.status": TEXT,
    "metadata.started_at": TIMESTAMP, "metadata.ended_at": TIMESTAMP,
}
STATUS_FIELD = "metadata.status"  # its values may be renamed with `statuses`
RESERVED_EXTRA_KEYS = ("records",)  # normalize counts grouped records under this extra key
TRUTHY = ("true", "1", "yes")
DEFAULT_SOURCE_KIND = "interaction_log"
DEFAULT_EPOCH_UNIT = "s"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")

_SEGMENT = re.compile(r"\.([^.\[\]'\s]+)|\[(\d+)\]|\['([^']+)'\]")
_STRING_MAP = MapType(StringType(), StringType())
_STRING_ARRAY = ArrayType(StringType())
_MAPS = ArrayType(_STRING_MAP)
_ROOT, _MESSAGES, _WRONG = "_root", "_messages", "_wrong_types"


def _last_wins(parsed: Column) -> Column:
    """A map from_json made, each repeated key once with its last value. (from_json keeps every
    entry and a lookup finds the first; rebuilding the map applies the session's
    spark.sql.mapKeyDedupPolicy, LAST_WIN.)"""
    return F.map_from_entries(F.map_entries(parsed))


def json_object(text: Column) -> Column:
    """A JSON object's text as a string map (nested values as JSON text), a repeated key read
    as its last value."""
    return _last_wins(F.from_json(text, _STRING_MAP))


def json_objects(text: Column) -> Column:
    """A JSON array of objects' text as an array of string maps, as json_object reads each."""
    return F.transform(F.from_json(text, _MAPS), _last_wins)


@dataclass(frozen=True)
class JsonPath:
    """A path: its first key, looked up in a string map, then the keys and indexes of the rest.

    Each further step reads the JSON text it has reached as a string map (a key, see
    json_object) or a string array (an index; null past its end), so a key an object repeats
    reads as its last value at every level (get_json_object would read the first)."""

    text: str  # as written in conf
    first: str
    rest: tuple[str | int, ...] = ()

    def of(self, row_map: Column) -> Column:
        return self.within(row_map[self.first])

    def within(self, value: Column) -> Column:
        """The rest of the path into `value`, the JSON text at its first key."""
        for step in self.rest:
            value = F.get(F.from_json(value, _STRING_ARRAY), step) if isinstance(step, int) else json_object(value)[step]
        return value


def parse_path(text: Any, where: str) -> JsonPath:
    """`$.a.b`, `a.b`, `$.a[0]`, `$['a b'].c` -> JsonPath; ConfError when it is not a path."""
    if not isinstance(text, str) or not text.strip():
        raise ConfError(f"{where}: expected a JSON path like $.a.b, got {text!r}")
    path = text.strip()
    if not path.startswith("$"):
        path = "$" + ("" if path.startswith("[") else ".") + path
    segments, at = [], 1
    while at < len(path):
        match = _SEGMENT.match(path, at)
        if not match:
            raise ConfError(f"{where}: '{text}' is not a JSON path (use $.a.b, $.a[0] or $['a b'])")
        key, index, quoted = match.groups()
        segments.append(int(index) if index is not None else (key if key is not None else quoted))
        at = match.end()
    if not segments or not isinstance(segments[0], str):
        raise ConfError(f"{where}: '{text}' must start with a key (records and messages are JSON objects)")

    return JsonPath(text, segments[0], tuple(segments[1:]))


def _section(mapping: Mapping, key: str, where: str, allowed: tuple[str, ...] | None = None) -> dict:
    value = mapping.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfError(f"{where}: '{key}' must be a mapping, got {type(value).__name__}")
    if allowed is not None:
        unknown = sorted(set(value) - set(allowed))
        if unknown:
            raise ConfError(f"{where}: unknown {key} key(s) {', '.join(map(str, unknown))} (known: {', '.join(allowed)})")
    return dict(value)


def _paths(section: dict, where: str, defaults: dict[str, str] | None = None) -> dict[str, JsonPath]:
    merged = {**(defaults or {}), **section}
    return {k: parse_path(v, f"{where}.{k}") for k, v in merged.items()}


@dataclass(frozen=True)
class MappingSpec:
    """A validated mapping: every path parsed, every name checked."""

    name: str
    detect_path: JsonPath
    detect_equals: str | None
    source_kind: str
    epoch_unit: str
    id: JsonPath
    messages: JsonPath
    message: dict[str, JsonPath]
    roles: dict[str, str]
    tool_call: dict[str, JsonPath]
    tools: JsonPath | None
    tool: dict[str, JsonPath]
    context_docs: JsonPath | None
    context_doc: dict[str, JsonPath]
    fields: dict[str, JsonPath]
    constants: dict[str, str]
    statuses: dict[str, str]
    extra: dict[str, JsonPath]


def validate(mapping: Any) -> MappingSpec:
    """Check a mapping from conf; ConfError (one line, naming the mapping) on anything wrong."""
    if not isinstance(mapping, Mapping):
        raise ConfError(f"normalize.mappings: each mapping must be a mapping, got {type(mapping).__name__}")
    name = mapping.get(NAME_KEY)
    where = f"normalize.mappings '{name}'" if isinstance(name, str) else "normalize.mappings"
    unknown = sorted(set(mapping) - set(MAPPING_KEYS))
    if unknown:
        raise ConfError(f"{where}: unknown key(s) {', '.join(map(str, unknown))} (known: {', '.join(MAPPING_KEYS)})")
    missing = [k for k in REQUIRED_KEYS if not mapping.get(k)]
    if missing:
        raise ConfError(f"{where}: missing required key(s) {', '.join(missing)}")
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise ConfError(f"{where}: name must be lower_snake_case (it becomes source_format), got {name!r}")

    detect = _section(mapping, DETECT, where, (DETECT_PATH, DETECT_EQUALS, DETECT_EXISTS))
    if DETECT_PATH not in detect or (DETECT_EQUALS in detect) == (detect.get(DETECT_EXISTS) is True):
        raise ConfError(f"{where}: detect needs a path and exactly one of 'equals: <value>' or 'exists: true'")
    detect_path = parse_path(detect[DETECT_PATH], f"{where}.detect.path")
    equals = detect.get(DETECT_EQUALS)
    if isinstance(equals, (dict, list)):
        raise ConfError(f"{where}: detect.equals must be a scalar, got {type(equals).__name__}")

    source_kind = mapping.get(SOURCE_KIND, DEFAULT_SOURCE_KIND)
    if source_kind not in SOURCE_KINDS:
        raise ConfError(f"{where}: source_kind must be one of {', '.join(SOURCE_KINDS)}, got {source_kind!r}")
    epoch_unit = mapping.get(EPOCH_UNIT, DEFAULT_EPOCH_UNIT)
    if epoch_unit not in EPOCH_UNITS:
        raise ConfError(f"{where}: epoch_unit must be one of {', '.join(EPOCH_UNITS)}, got {epoch_unit!r}")

    message_section = _section(mapping, MESSAGE_KEY, f"{where}.message", MESSAGE_PARTS)
    absent = [k for k in REQUIRED_MESSAGE_PARTS if k not in message_section]
    if absent:
        raise ConfError(f"{where}: message needs paths for {', '.join(absent)}")
    roles = _section(mapping, ROLES, f"{where}.roles")
    bad_roles = sorted({str(v) for v in roles.values()} - set(CANONICAL_ROLES))
    if bad_roles:
        raise ConfError(f"{where}: roles must map to {', '.join(CANONICAL_ROLES)}; got {', '.join(bad_roles)}")

    fields = _section(mapping, FIELDS, f"{where}.fields", tuple(FIELD_TYPES))
    constants = _section(mapping, CONSTANTS, f"{where}.constants", tuple(FIELD_TYPES))
    extra = _section(mapping, EXTRA, f"{where}.extra")
    reserved = sorted(set(map(str, extra)) & set(RESERVED_EXTRA_KEYS))
    if reserved:
        raise ConfError(f"{where}: extra key(s) {', '.join(reserved)} are reserved")

    def optional(key: str) -> JsonPath | None:
        return parse_path(mapping[key], f"{where}.{key}") if mapping.get(key) else None

    def element(key: str, defaults: dict[str, str]) -> dict[str, JsonPath]:
        """Paths inside one element of an array (a tool call, a tool, a document), defaulted."""
        return _paths(_section(mapping, key, f"{where}.{key}", tuple(defaults)), f"{where}.{key}", defaults)

    return MappingSpec(
        name=name,
        detect_path=detect_path,
        detect_equals=None if equals is None else _literal_text(equals),
        source_kind=source_kind,
        epoch_unit=epoch_unit,
        id=parse_path(mapping[ID], f"{where}.id"),
        messages=parse_path(mapping[MESSAGES], f"{where}.messages"),
        message=_paths(message_section, f"{where}.message"),
        roles={str(k): str(v) for k, v in roles.items()},
        tool_call=element(TOOL_CALL_KEY, TOOL_CALL_DEFAULTS),
        tools=optional(TOOLS),
        tool=element(TOOL_KEY, TOOL_DEFAULTS),
        context_docs=optional(CONTEXT_DOCS),
        context_doc=element(CONTEXT_DOC_KEY, CONTEXT_DOC_DEFAULTS),
        fields=_paths(fields, f"{where}.fields"),
        constants={k: _literal_text(v) for k, v in constants.items() if v is not None},
        statuses={_literal_text(k): _literal_text(v) for k, v in _section(mapping, STATUSES, f"{where}.statuses").items()},
        extra=_paths({str(k): v for k, v in extra.items()}, f"{where}.extra"),
    )


def _literal_text(value: Any) -> str:
    """A YAML scalar or list as the text a JSON lookup would return for it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _typed(text: Column, kind: str, epoch_unit: str) -> Column:
    if kind == LONG:
        return text.try_cast("double").try_cast("long")
    if kind == DOUBLE:
        return text.try_cast("double")
    if kind == TIMESTAMP:
        return timestamp_of(text, epoch_unit)
    if kind == TAGS_TYPE:
        return tags_of(text)
    return text


class _Reader:
    """The Column expressions of one validated mapping."""

    def __init__(self, spec: MappingSpec):
        self.spec = spec

    def raw(self, field: str) -> Column:
        """A canonical field's text: its path's value, else its constant, else null."""
        value = self.spec.fields[field].of(F.col(_ROOT)) if field in self.spec.fields else F.lit(None).cast("string")
        constant = self.spec.constants.get(field)
        return F.coalesce(value, F.lit(constant)) if constant is not None else value

    def field(self, field: str) -> Column:
        typed = _typed(self.raw(field), FIELD_TYPES[field], self.spec.epoch_unit)
        if field == STATUS_FIELD and self.spec.statuses:
            words = F.create_map(*[F.lit(x) for pair in self.spec.statuses.items() for x in pair])
            return F.coalesce(words[typed], typed)
        return typed

    def wrong_types(self) -> Column:
        """Names of typed fields whose value is present but not of their type."""
        checks = [
            F.when(self.raw(f).isNotNull() & self.field(f).isNull(), F.lit(f))
            for f, kind in FIELD_TYPES.items()
            if kind in (LONG, DOUBLE, TIMESTAMP) and (f in self.spec.fields or f in self.spec.constants)
        ]
        messages_text = self.spec.messages.of(F.col(_ROOT))
        checks.append(F.when(messages_text.isNotNull() & F.col(_MESSAGES).isNull(), F.lit(MESSAGES)))
        for label, path in ((TOOLS, self.spec.tools), (CONTEXT_DOCS, self.spec.context_docs)):
            if path is not None:
                text = path.of(F.col(_ROOT))
                checks.append(F.when(text.isNotNull() & F.from_json(text, _MAPS).isNull(), F.lit(label)))
        return F.filter(F.array(*checks), lambda c: c.isNotNull())

    def messages(self, maps: Column) -> Column:
        """array<map> -> array<conversation.MESSAGE>: every path read once per message first
        (expressions inside a lambda are not shared), then the message built from those."""
        spec = self.spec
        none = F.lit(None).cast("string")
        read = F.transform(maps, lambda m: F.struct(*[
            (spec.message[p].of(m) if p in spec.message else none).alias(p) for p in MESSAGE_PARTS
        ]))
        roles = F.create_map(*[F.lit(x) for pair in spec.roles.items() for x in pair]) if spec.roles else None

        def as_message(x: Column) -> Column:
            raw_role = F.lower(F.trim(x["role"]))
            content = text_of(x["content"])
            flagged = F.coalesce(F.lower(x["is_error"]).isin(*TRUTHY), F.lit(False))
            error = F.coalesce(x["error"], F.when(flagged, content))
            calls = None
            if "tool_calls" in spec.message:
                calls = F.transform(json_objects(x["tool_calls"]), lambda c: tool_call(
                    *[spec.tool_call[k].of(c) for k in ("id", "name", "arguments", "result", "error")]
                ))
            return message(
                role=F.coalesce(roles[x["role"]], raw_role) if roles is not None else raw_role,
                content=F.when(error.isNull(), content),
                reasoning=x["reasoning"],
                tool_calls=calls,
                tool_call_id=x["tool_call_id"],
                error=error,
                started_at=timestamp_of(x["timestamp"], spec.epoch_unit),
                tokens_in=x["tokens_in"].try_cast("double").try_cast("long"),
                tokens_out=x["tokens_out"].try_cast("double").try_cast("long"),
            )

        return F.transform(read, as_message)

    def tools_available(self) -> Column:
        if self.spec.tools is None:
            return F.lit(None).cast(ArrayType(TOOL_SPEC))
        tool = self.spec.tool
        return F.filter(
            F.transform(
                json_objects(self.spec.tools.of(F.col(_ROOT))),
                lambda t: F.struct(*[tool[k].of(t).alias(k) for k in ("name", "description", "parameters")]),
            ),
            lambda t: t["name"].isNotNull(),
        ).cast(ArrayType(TOOL_SPEC))

    def context_docs(self) -> Column:
        if self.spec.context_docs is None:
            return F.lit(None).cast(ArrayType(CONTEXT_DOC))
        doc = self.spec.context_doc
        return F.transform(
            json_objects(self.spec.context_docs.of(F.col(_ROOT))),
            lambda d: F.struct(
                doc["doc_id"].of(d).alias("doc_id"), doc["source"].of(d).alias("source"),
                doc["content"].of(d).alias("content"), doc["score"].of(d).try_cast("double").alias("score"),
            ),
        ).cast(ArrayType(CONTEXT_DOC))

    def extra(self) -> Column:
        if not self.spec.extra:
            return F.create_map().cast(_STRING_MAP)
        pairs = [x for key, path in self.spec.extra.items() for x in (F.lit(key), path.of(F.col(_ROOT)))]
        return F.map_filter(F.create_map(*pairs), lambda k, v: v.isNotNull())


def adapter_from_mapping(mapping: dict) -> Adapter:
    """An Adapter for the source a conf mapping describes (ConfError if the mapping is wrong)."""
    spec = validate(mapping)
    reader = _Reader(spec)

    def detects(record: TopFields) -> Column:
        found = spec.detect_path.within(record[spec.detect_path.first])
        test = found.isNotNull() if spec.detect_equals is None else found == F.lit(spec.detect_equals)
        return F.coalesce(test, F.lit(False))

    def to_trajectories(records: DataFrame) -> DataFrame:
        rooted = records.withColumn(_ROOT, json_object(F.col(RECORD)))
        with_messages = rooted.withColumn(
            _MESSAGES, reader.messages(json_objects(spec.messages.of(F.col(_ROOT)))).cast(ArrayType(MESSAGE))
        )
        parts = conversation_parts(F.col(_MESSAGES))
        trajectory_id = blank_to_null(spec.id.of(F.col(_ROOT)))
        content = {
            "trajectory_id": trajectory_id,
            "session_id": reader.field("session_id"),
            "user_id": reader.field("user_id"),
            "tenant": reader.field("tenant"),
            "source_kind": F.lit(spec.source_kind),
            "agent": struct_or_null(AGENT, [reader.field("agent.name"), reader.field("agent.version")]),
            "model": struct_or_null(MODEL, [reader.field(f"model.{p}") for p in ("provider", "name", "version")]),
            "task": struct_or_null(TASK, [reader.field(f"task.{p}") for p in ("type", "difficulty", "language", "tags")]),
            "system_prompt": F.coalesce(reader.field("system_prompt"), parts.system_prompt),
            "input": F.coalesce(reader.field("input"), parts.input),
            "context_docs": reader.context_docs(),
            "steps": parts.steps,
            "tools_available": reader.tools_available(),
            "final_output": F.coalesce(reader.field("final_output"), parts.final_output),
            "metadata": F.struct(
                *[reader.field(f"metadata.{f.name}").alias(f.name) for f in METADATA.fields if f.name != "extra"],
                reader.extra().alias("extra"),
            ).cast(METADATA),
        }
        wrong = reader.wrong_types()
        built = with_messages.select(
            *[column.alias(name) for name, column in content.items()], *lineage(spec.name), wrong.alias(_WRONG)
        )
        empty = ~has_text(F.col("input")) & (F.coalesce(F.size("steps"), F.lit(0)) <= 0) & ~has_text(F.col("final_output"))
        return as_candidates(
            built.select(
                "*",
                *reject_when(
                    (F.size(_WRONG) > 0, WRONG_TYPE, F.concat(F.lit("wrong JSON type for: "), F.array_join(_WRONG, ", "))),
                    (F.col("trajectory_id").isNull(), MISSING_TRAJECTORY_ID, f"nothing at {spec.id.text}"),
                    (empty, NO_CONTENT, "no input, steps or final output"),
                ),
            )
        )

    return Adapter(spec.name, detects, to_trajectories, detect_fields=(spec.detect_path.first,))
