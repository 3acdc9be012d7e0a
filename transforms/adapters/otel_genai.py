"""OpenTelemetry GenAI spans exported as OTLP/JSON: the spans of one trace -> one trajectory.

Documentation followed: the OTLP/JSON encoding (opentelemetry-proto `examples/trace.json`,
OTLP spec "JSON Protobuf Encoding": 64-bit ints and *UnixNano as strings, enums as numbers,
hex trace/span ids) and the GenAI semantic conventions (semantic-conventions
`docs/gen-ai/gen-ai-spans.md`, `gen-ai-agent-spans.md`, `non-normative/examples-llm-calls.md`,
`gen-ai-input-messages.json` / `gen-ai-output-messages.json` / `gen-ai-retrieval-documents.json`).

One line is one export request (`{"resourceSpans": [...]}`, as the Collector's file exporter
writes it); a trace's spans may be spread over several lines and files, and one request may
carry spans of several traces. Spans are grouped by trace id:

- trajectory_id is the `trajlake.trajectory_id` attribute when a span sets it (the root's
  first), else the trace id. `gen_ai.conversation.id` is the session, not the trajectory: a
  conversation spans many traces (one per turn).
- `chat` / `text_completion` / `generate_content` spans are model calls (messages from
  `gen_ai.input.messages` / `gen_ai.output.messages`, JSON text with `parts` of type text,
  reasoning, tool_call, tool_call_response), `execute_tool` spans tool steps, `retrieval` spans
  retrievals; `invoke_agent` / `create_agent` give the agent and the run's own input and output.
  Step rules: transforms.adapters.trace_rules.
- Canonical fields the conventions have no attribute for are read from `trajlake.*` span
  attributes: trajlake.tenant, trajlake.source_kind, trajlake.task.{type,difficulty,language,tags},
  trajlake.extra.<key> (-> metadata.extra). Cost: `gen_ai.usage.cost` (OpenLIT's attribute).
- Each record is counted (metadata.extra["records"]) by exactly one trajectory: the one of the
  smallest trace id among its spans, so normalize's accounting holds when a request carries
  several traces. A span without trace id in an otherwise good request is rejected on its own
  (`missing_trace_id`, counting no record). A span exported twice (exporter retries) counts once,
  by span id. Spans of one trace that arrive in a later ingest run are assembled with the earlier
  ones by normalize (`group_keys`: the trace ids of a request).

Spark parses each request only as far as its shape (what can make it fail to parse) and its
spans' trace ids, rejects the requests it cannot use and the spans without trace id, and keys
each request by the trace ids of its spans; each trace's requests are assembled in Python
(python_assembly), by the format-neutral rules of trace_rules and message_shapes, reading the
OTLP/JSON fields as Spark's from_json typed them (variant_values).

Message attributes recorded as structured AnyValue (kvlist/array) rather than JSON text, and the
older event-based content capture (`gen_ai.user.message` events), are not read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

from transforms.adapters import message_shapes as ms
from transforms.adapters import python_assembly
from transforms.adapters import trace_rules as tr
from transforms.adapters import variant_values as vv
from transforms.adapters.base import (
    CORRUPT,
    INGESTED_AT,
    INGEST_RUN_ID,
    RECORD,
    RECORDS_KEY,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
    TopFields,
    nonblank,
    record_key,
    reject_when,
    with_parsed,
)

NAME = "otel_genai"

# Reject reasons of this format.
MISSING_TRACE_ID = "missing_trace_id"
NO_SPANS = "no_spans"

# GenAI semantic-convention attributes.
OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
SYSTEM_LEGACY = "gen_ai.system"
REQUEST_MODEL = "gen_ai.request.model"
RESPONSE_MODEL = "gen_ai.response.model"
INPUT_TOKENS = "gen_ai.usage.input_tokens"
OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
PROMPT_TOKENS_LEGACY = "gen_ai.usage.prompt_tokens"
COMPLETION_TOKENS_LEGACY = "gen_ai.usage.completion_tokens"
USAGE_COST = "gen_ai.usage.cost"
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"
AGENT_NAME = "gen_ai.agent.name"
AGENT_VERSION = "gen_ai.agent.version"
CONVERSATION_ID = "gen_ai.conversation.id"
TOOL_NAME = "gen_ai.tool.name"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT = "gen_ai.tool.call.result"
RETRIEVAL_QUERY = "gen_ai.retrieval.query.text"
RETRIEVAL_DOCUMENTS = "gen_ai.retrieval.documents"
DATA_SOURCE_ID = "gen_ai.data_source.id"
ERROR_TYPE = "error.type"
EXCEPTION_MESSAGE = "exception.message"
USER_ID = "user.id"
ENDUSER_ID = "enduser.id"
SESSION_ID = "session.id"
SERVICE_NAME = "service.name"
SERVICE_VERSION = "service.version"

# trajlake's own attributes, for canonical fields the conventions do not cover.
TRAJECTORY_ID_ATTR = "trajlake.trajectory_id"
TENANT_ATTR = "trajlake.tenant"
SOURCE_KIND_ATTR = "trajlake.source_kind"
TASK_TYPE_ATTR = "trajlake.task.type"
TASK_DIFFICULTY_ATTR = "trajlake.task.difficulty"
TASK_LANGUAGE_ATTR = "trajlake.task.language"
TASK_TAGS_ATTR = "trajlake.task.tags"
EXTRA_PREFIX = "trajlake.extra."

LLM_OPERATIONS = ("chat", "text_completion", "generate_content")
TOOL_OPERATION = "execute_tool"
RETRIEVAL_OPERATION = "retrieval"
AGENT_OPERATIONS = ("invoke_agent", "create_agent", "invoke_workflow")
STATUS_ERROR = ("2", "STATUS_CODE_ERROR")  # span status codes meaning ERROR
STATUS_COMPLETED = "completed"
STATUS_FAILED = "error"
DEFAULT_SOURCE_KIND = "interaction_log"
EXCEPTION_EVENT = "exception"
DEFAULT_ERROR = "error"  # a failed span's error when it names none

# OTLP/JSON message part types.
PART_TEXT = "text"
PART_REASONING = "reasoning"
PART_TOOL_CALL = "tool_call"
PART_TOOL_RESPONSE = "tool_call_response"

WRONG_TYPE_DETAIL = "a field has the wrong JSON type for OTLP/JSON traces"
NO_SPANS_DETAIL = "the export request holds no spans"
MISSING_TRACE_ID_DETAIL = "no span of the request has a traceId"
ORPHAN_SPAN_DETAIL = "span %d of the request has no traceId"

# Latest *UnixNano read as a time: 9999-12-31T23:59:59.999999Z, in microseconds.
MAX_MICROS = 253402300799999999
NANOS_PER_MICRO = 1000

# metadata.extra keys this adapter sets.
EXTRA_RECORDS = RECORDS_KEY
EXTRA_SPANS = "spans"
EXTRA_TRACE_ID = "trace_id"


def _strings(*names: str) -> list[StructField]:
    return [StructField(n, StringType()) for n in names]


# OTLP/JSON. Numbers that may come as strings (intValue, *UnixNano, enum codes) are read as text.
_SCALAR_VALUES = _strings("stringValue", "intValue", "doubleValue", "boolValue", "bytesValue")
ANY_VALUE = StructType(
    _SCALAR_VALUES
    + [
        StructField("arrayValue", StructType([StructField("values", ArrayType(StructType(_SCALAR_VALUES)))])),
        StructField("kvlistValue", StringType()),  # kept as its JSON text
    ]
)
ATTRIBUTES = ArrayType(StructType([StructField("key", StringType()), StructField("value", ANY_VALUE)]))
SPAN_EVENT = StructType(_strings("timeUnixNano", "name") + [StructField("attributes", ATTRIBUTES)])
SPAN = StructType(
    _strings("traceId", "spanId", "parentSpanId", "name", "kind", "startTimeUnixNano", "endTimeUnixNano")
    + [
        StructField("attributes", ATTRIBUTES),
        StructField("events", ArrayType(SPAN_EVENT)),
        StructField("status", StructType(_strings("code", "message"))),
    ]
)
SCOPE_SPANS = StructType([StructField("scope", StructType(_strings("name", "version"))), StructField("spans", ArrayType(SPAN))])
RESOURCE_SPANS = StructType(
    [StructField("resource", StructType([StructField("attributes", ATTRIBUTES)])), StructField("scopeSpans", ArrayType(SCOPE_SPANS))]
)
EXPORT_REQUEST = StructType([StructField("resourceSpans", ArrayType(RESOURCE_SPANS))])

# gen_ai.input.messages / gen_ai.output.messages (JSON text in a string attribute). `arguments`
# and `response` hold any JSON: read as text, they are its JSON text.
PART = StructType(_strings("type", "content", "id", "name", "arguments", "response", "result"))
OTEL_MESSAGES = ArrayType(StructType(_strings("role", "finish_reason") + [StructField("parts", ArrayType(PART))]))
TOOL_DEFINITION = ArrayType(StructType(_strings("name", "description", "parameters")))
RETRIEVED = ArrayType(StructType(_strings("id") + [StructField("score", DoubleType())] + _strings("content", "source")))

# --- in Spark: detection, keys, rejects ---------------------------------------------------------


def _shape(data_type, keep: tuple[str, ...] = ("traceId",)):
    """A schema's objects and arrays (what can make a parse fail) and the `keep` fields: string
    fields take any JSON, so the rest is left to Python. A struct left without fields keeps its
    first one."""
    if isinstance(data_type, ArrayType):
        return ArrayType(_shape(data_type.elementType, keep))
    if isinstance(data_type, StructType):
        fields = [
            StructField(f.name, _shape(f.dataType, keep))
            for f in data_type.fields
            if not isinstance(f.dataType, StringType) or f.name in keep
        ]
        return StructType(fields or data_type.fields[:1])
    return data_type


# An export request parsed as far as rejects and keys need: it fails exactly where EXPORT_REQUEST does.
REQUEST_SHAPE = _shape(EXPORT_REQUEST)

_P = "_parsed"
_IDS = "_span_trace_ids"
_OWNER = "_owner_trace"
_TRACE = "_trace_id"


DETECT_FIELDS = ("resourceSpans",)


def detects(record: TopFields) -> Column:
    return record["resourceSpans"].isNotNull()


def _value_text(value: Column) -> Column:
    """An AnyValue as text: scalars as they are, arrays as a JSON array of their scalars."""

    def scalar(v: Column) -> Column:
        return F.coalesce(v["stringValue"], v["intValue"], v["doubleValue"], v["boolValue"], v["bytesValue"])

    array = F.to_json(F.transform(value["arrayValue"]["values"], scalar))
    return F.coalesce(scalar(value), F.when(value["arrayValue"].isNotNull(), array), value["kvlistValue"])


def attribute_map(attributes: Column) -> Column:
    """OTLP key/value list -> map<string, string>; a repeated key keeps its first value (the Spark
    form of _attribute_map, for queries over bronze)."""
    listed = F.coalesce(attributes, F.array().cast(ATTRIBUTES))
    unique = F.filter(listed, lambda kv, i: kv["key"].isNotNull() & ~F.exists(F.slice(listed, 1, i), lambda p: p["key"] == kv["key"]))
    return F.map_from_entries(F.transform(unique, lambda kv: F.struct(kv["key"], _value_text(kv["value"]))))


def _trace_id(span: Column) -> Column:
    return nonblank(F.lower(F.trim(span["traceId"])))


def _span_trace_ids(request: Column) -> Column:
    """The trace id of every span of a request, in span order (null for a span without one)."""
    return F.flatten(
        F.transform(
            F.coalesce(request["resourceSpans"], F.array()),
            lambda rs: F.flatten(
                F.transform(
                    F.coalesce(rs["scopeSpans"], F.array()),
                    lambda ss: F.transform(F.coalesce(ss["spans"], F.array()), _trace_id),
                )
            ),
        )
    )


# Just enough of an export request to read its spans' trace ids.
_TRACE_IDS = StructType(
    [StructField("resourceSpans", ArrayType(StructType([StructField("scopeSpans", ArrayType(StructType([
        StructField("spans", ArrayType(StructType(_strings("traceId"))))
    ])))])))]
)


def _distinct_ids(ids: Column) -> Column:
    return F.array_distinct(F.filter(ids, lambda i: i.isNotNull()))


def _keys_of(request: Column) -> Column:
    """The trace ids of a request's spans: the traces it is assembled into."""
    return _distinct_ids(_span_trace_ids(request))


_HANDED_TO_PYTHON = [RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, _TRACE, _IDS, _OWNER]


def to_trajectories(records: DataFrame) -> DataFrame:
    """Rejects of requests that give no trace (decided in Spark), then one candidate per trace,
    assembled in Python from every request holding its spans (with a reject for each of its
    spans without trace id)."""
    p, ids = F.col(_P), F.col(_IDS)
    parsed = with_parsed(records, _P, REQUEST_SHAPE).withColumn(_IDS, _span_trace_ids(p))
    corrupt = p[CORRUPT].isNotNull()
    no_spans = F.size(ids) == 0
    owner = F.array_min(ids)  # the smallest trace id: the trajectory that counts the record
    reason, detail = reject_when(
        (corrupt, WRONG_TYPE, WRONG_TYPE_DETAIL),
        (no_spans, NO_SPANS, NO_SPANS_DETAIL),
        (owner.isNull(), MISSING_TRACE_ID, MISSING_TRACE_ID_DETAIL),
    )
    keyed = parsed.select(
        RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, _IDS,
        owner.alias(_OWNER),
        # A request goes to each of its traces; a rejected one to a key of its own (exploded
        # here, so key_and_rejects cannot give it).
        F.explode(F.when(reason.isNotNull(), F.array(record_key())).otherwise(_distinct_ids(ids))).alias(_TRACE),
        reason, detail,
    )
    return python_assembly.assemble(keyed, _TRACE, _HANDED_TO_PYTHON, _assemble_trace, NAME, owns=_owns)


# --- in Python: the requests of one trace -> one candidate --------------------------------------

# The attribute JSON the conventions define, read as from_json(text, schema) read it.
_read_messages = vv.json_reader(OTEL_MESSAGES)
_read_parts = vv.json_reader(ArrayType(PART))
_read_tool_definitions = vv.json_reader(TOOL_DEFINITION)
_read_documents = vv.json_reader(RETRIEVED)
_read_tags = vv.json_reader(ArrayType(StringType()))

_SCALAR_KEYS = tuple(f.name for f in _SCALAR_VALUES)
_OPERATION_KINDS = {
    **{name: tr.OP_LLM for name in LLM_OPERATIONS}, TOOL_OPERATION: tr.OP_TOOL, RETRIEVAL_OPERATION: tr.OP_RETRIEVAL,
}


@dataclass(slots=True)
class _Span:
    attrs: dict  # its attributes as text, each key's first value
    resource: dict  # its resource's attributes
    is_root: bool
    at: int | None
    span_id: str  # lower-cased; "" when it has none (all such spans count as one)
    seen: tuple  # (ingested_at, source_uri, source_line) of its request: later exports win
    is_error: bool
    op: tr.Operation


def _list_at(value, *path) -> list:
    return vv.array_at(value, *path) or []


def _spans_of(request: dict) -> list[tuple]:
    """(span, its resource's attributes) for every span of a request, in the order of _span_trace_ids."""
    return [
        (span, vv.get(rs, "resource", "attributes"))
        for rs in _list_at(request, "resourceSpans")
        for ss in _list_at(rs, "scopeSpans")
        for span in _list_at(ss, "spans")
    ]


def _text(value, *path) -> str | None:
    """An OTLP/JSON string field (from_json: non-strings as their JSON text)."""
    return vv.jackson_text(vv.get(value, *path))


def _scalar_text(value) -> str | None:
    if not isinstance(value, dict):
        return None
    for key in _SCALAR_KEYS:
        if key in value:
            found = vv.jackson_text(value[key])
            if found is not None:
                return found
    return None


def _value_text_of(value) -> str | None:
    """An AnyValue as text (_value_text): scalars as they are, arrays as a JSON array of their scalars."""
    found = _scalar_text(value)
    if found is not None:
        return found
    listed = vv.get(value, "arrayValue", "values")
    if isinstance(listed, list):
        texts = [_scalar_text(v) for v in listed]
        return "[" + ",".join("null" if t is None else vv.quote(t) for t in texts) + "]"
    return _text(value, "kvlistValue")


def _attribute_map(attributes) -> dict:
    """attribute_map in Python: key -> text, a repeated key keeping its first value."""
    found: dict = {}
    for kv in attributes if isinstance(attributes, list) else ():
        key = _text(kv, "key")
        if key is not None and key not in found:
            found[key] = _value_text_of(vv.get(kv, "value"))
    return found


def _nanos_time(text: str | None) -> int | None:
    """*UnixNano text -> microseconds (try_cast to decimal(38,0), / 1000 truncated); None when
    malformed or outside years 1970-9999."""
    nanos = vv.text_to_integral_decimal(text)
    if nanos is None:
        return None
    micros = abs(nanos) // NANOS_PER_MICRO * (1 if nanos >= 0 else -1)
    return micros if 0 <= micros <= MAX_MICROS else None


def _texts(parts: list | None, part_type: str) -> str | None:
    chosen = [p["content"] for p in parts or () if p is not None and p["type"] == part_type and p["content"] is not None]
    return ms.nonblank("\n".join(chosen))


def _message(m: dict | None) -> list[dict]:
    """One gen_ai message -> canonical messages: each tool_call_response part is one tool message."""
    m = m or {}
    parts = [p for p in m.get("parts") or () if p is not None]
    responses = [p for p in parts if p["type"] == PART_TOOL_RESPONSE]
    if responses:
        return [ms.message(ms.ROLE_TOOL, ms.first(p["response"], p["result"]), tool_call_id=p["id"]) for p in responses]
    requests = [{"id": p["id"], "name": p["name"], "arguments": p["arguments"]} for p in parts if p["type"] == PART_TOOL_CALL]
    role = m.get("role")
    role = None if role is None else role.lower()
    return [ms.message(role, _texts(parts, PART_TEXT), _texts(parts, PART_REASONING), requests or None)]


def _messages(json_text: str | None) -> list | None:
    """gen_ai.*.messages JSON -> messages."""
    listed = _read_messages(json_text)
    return None if listed is None else [out for m in listed for out in _message(m)]


def _input_reader() -> vv.GrowingArrayReader:
    """_messages for the input messages of a trace's spans, in export order: each model call
    re-sends the messages of those before it, which are read once."""
    return vv.GrowingArrayReader(OTEL_MESSAGES, each=_message)


def _instructions(json_text: str | None) -> str | None:
    """gen_ai.system_instructions: text parts as JSON, or plain text."""
    parts = _read_parts(json_text)
    return ms.nonblank(json_text) if parts is None else _texts(parts, PART_TEXT)


def _long(text: str | None) -> int | None:
    return vv.double_to_long(vv.text_to_double(text))


def _model(attrs: dict) -> dict | None:
    return tr.model_of(ms.first(attrs.get(PROVIDER_NAME), attrs.get(SYSTEM_LEGACY)), attrs.get(REQUEST_MODEL), attrs.get(RESPONSE_MODEL))


def _is_error(span) -> bool:
    return _text(span, "status", "code") in STATUS_ERROR


def _exception_message(span) -> str | None:
    for event in _list_at(span, "events"):
        if _text(event, "name") == EXCEPTION_EVENT:
            return _attribute_map(vv.get(event, "attributes")).get(EXCEPTION_MESSAGE)
    return None


def _tools(json_text: str | None) -> list | None:
    listed = _read_tool_definitions(json_text)
    return listed or None


def _documents(json_text: str | None, data_source: str | None) -> list | None:
    listed = _read_documents(json_text)
    if listed is None:
        return None
    return [
        {"doc_id": d["id"], "source": ms.first(d["source"], data_source), "content": d["content"], "score": d["score"]}
        for d in (d or dict.fromkeys(("id", "source", "content", "score")) for d in listed)
    ]


def _operation(span, attrs: dict, at: int | None, error: str | None, read_inputs: vv.GrowingArrayReader) -> tr.Operation:
    """The span as an Operation. Every part is read whatever the kind (the rules use those of its
    kind, but the tool definitions of any span), the model only for model calls, and the tool
    definitions only when asked for: the rules read those of the first span offering any."""
    kind = _OPERATION_KINDS.get(attrs.get(OPERATION_NAME), tr.OP_OTHER)
    outputs = _messages(attrs.get(OUTPUT_MESSAGES))
    answers = [m for m in outputs or () if m["role"] == ms.ROLE_ASSISTANT]
    return tr.operation(
        kind,
        at,
        _nanos_time(_text(span, "endTimeUnixNano")),
        _span_id(span),
        inputs=read_inputs(attrs.get(INPUT_MESSAGES)),
        output=answers[0] if answers else None,
        system=_instructions(attrs.get(SYSTEM_INSTRUCTIONS)),
        tokens_in=_long(ms.first(attrs.get(INPUT_TOKENS), attrs.get(PROMPT_TOKENS_LEGACY))),
        tokens_out=_long(ms.first(attrs.get(OUTPUT_TOKENS), attrs.get(COMPLETION_TOKENS_LEGACY))),
        tool=tr.tool_call(
            attrs.get(TOOL_CALL_ID), ms.first(attrs.get(TOOL_NAME), _text(span, "name")), attrs.get(TOOL_CALL_ARGUMENTS),
            attrs.get(TOOL_CALL_RESULT) if error is None else None, error,
        ),
        query=attrs.get(RETRIEVAL_QUERY),
        docs=_documents(attrs.get(RETRIEVAL_DOCUMENTS), attrs.get(DATA_SOURCE_ID)),
        tools=lambda: _tools(attrs.get(TOOL_DEFINITIONS)),
        model=_model(attrs) if kind == tr.OP_LLM else None,
    )


def _span_id(span) -> str:
    found = _text(span, "spanId")
    return "" if found is None else found.lower()


def _read_span(span, resource: dict, seen: tuple, read_inputs: vv.GrowingArrayReader) -> _Span:
    """A span, its resource's attributes already read (`resource`, shared by its siblings);
    `read_inputs` reads its input messages (the trace's GrowingArrayReader)."""
    attrs = _attribute_map(vv.get(span, "attributes"))
    failed = _is_error(span)
    error = None
    if failed:
        error = ms.first(ms.nonblank(_text(span, "status", "message")), _exception_message(span), attrs.get(ERROR_TYPE), DEFAULT_ERROR)
    at = _nanos_time(_text(span, "startTimeUnixNano"))
    return _Span(
        attrs=attrs,
        resource=resource,
        is_root=ms.nonblank(_text(span, "parentSpanId")) is None,
        at=at,
        span_id=_span_id(span),
        seen=seen,
        is_error=failed,
        op=_operation(span, attrs, at, error, read_inputs),
    )


def _owns(row: dict) -> bool:
    """Whether the trace a row was handed to counts its request (the smallest trace id does)."""
    return row[_OWNER] == row[_TRACE]


def _assemble_trace(rows: list[dict]) -> list[dict]:
    trace_id = rows[0][_TRACE]
    spans: list[_Span] = []
    # Each model call's input re-sends the messages of the calls before it, which come first.
    read_inputs = _input_reader()
    for row in sorted(rows, key=python_assembly.seen):
        # Plain json.loads: every field is read as from_json reads it (Jackson's text), not as VARIANT.
        listed = _spans_of(json.loads(row[RECORD]))
        assert len(listed) == len(row[_IDS]), "Python and Spark disagree on a request's spans"
        seen = python_assembly.seen(row)
        resources: dict[int, dict] = {}  # id(attributes) -> their map: read once per resource, not per span
        for (span, resource), key in zip(listed, row[_IDS]):
            if key == trace_id:
                if id(resource) not in resources:
                    resources[id(resource)] = _attribute_map(resource)
                spans.append(_read_span(span, resources[id(resource)], seen, read_inputs))
    spans = tr.unique_by(spans, key=lambda s: s.span_id, newest=lambda s: s.seen)
    by_rank = tr.root_first(spans, lambda s: s.is_root, lambda s: s.at, lambda s: s.span_id)
    owned = {(r[INGEST_RUN_ID], r[SOURCE_URI], r[SOURCE_LINE]): r for r in rows if _owns(r)}
    trace = python_assembly.finished(_content(trace_id, by_rank, tr.sort_operations([s.op for s in spans]), len(owned)), NAME, rows)
    return [trace, *_orphan_spans(owned.values())]


def _orphan_spans(requests) -> list[dict]:
    """A missing_trace_id reject (counting no record) for each span without a traceId in the
    requests the trace counts. (When the assembly raises, every such request is rejected whole.)"""
    return [
        python_assembly.rejected(row, _TRACE, NAME, MISSING_TRACE_ID, ORPHAN_SPAN_DETAIL % (position + 1), records=0)
        for row in requests
        for position, span_trace in enumerate(row[_IDS])
        if span_trace is None
    ]


def _first_values(by_rank: list[_Span]) -> dict:
    """One map for the trace: each key's first non-null value over the spans (root first), then
    over their resources, so trace-level attributes are one lookup each."""
    merged: dict = {}
    for source in [s.attrs for s in by_rank] + [s.resource for s in by_rank]:
        for key, value in source.items():
            if value is not None and key not in merged:
                merged[key] = value
    return merged


def _joined(lists: list) -> list | None:
    """flatten(): None when any list is None."""
    return None if any(part is None for part in lists) else [item for part in lists for item in part]


def _content(trace_id: str, by_rank: list[_Span], ops: list[tr.Operation], records: int) -> dict:
    attr = _first_values(by_rank).get
    root = by_rank[0]
    agents = [s for s in by_rank if s.attrs.get(OPERATION_NAME) in AGENT_OPERATIONS]
    agent = agents[0] if agents else None
    agent_inputs = _joined([s.op.inputs for s in agents]) or []
    agent_outputs = _joined([_messages(s.attrs.get(OUTPUT_MESSAGES)) for s in agents]) or []
    user_texts = [m["content"] for m in agent_inputs if m["role"] == ms.ROLE_USER and ms.nonblank(m["content"]) is not None]
    answers = [m["content"] for m in agent_outputs if m["role"] == ms.ROLE_ASSISTANT and ms.nonblank(m["content"]) is not None]
    agent_system = ms.first(*[s.op.system for s in agents])
    started = min(s.op.at for s in by_rank)
    ended = max(ms.first(s.op.ended, s.op.at) for s in by_rank)
    costs = [vv.text_to_double(s.attrs.get(USAGE_COST)) for s in by_rank if s.op.kind == tr.OP_LLM]
    extra = {k[len(EXTRA_PREFIX):][: 1 << 16]: v for k, v in root.attrs.items() if k.startswith(EXTRA_PREFIX)}
    trajectory_id = ms.first(ms.nonblank(attr(TRAJECTORY_ID_ATTR)), trace_id)
    return {
        "trajectory_id": trajectory_id,
        "session_id": ms.first(attr(CONVERSATION_ID), attr(SESSION_ID)),
        "user_id": ms.first(attr(USER_ID), attr(ENDUSER_ID)),
        "tenant": attr(TENANT_ATTR),
        "source_kind": ms.first(attr(SOURCE_KIND_ATTR), DEFAULT_SOURCE_KIND),
        "agent": {"name": ms.first(attr(AGENT_NAME), attr(SERVICE_NAME)), "version": ms.first(attr(AGENT_VERSION), attr(SERVICE_VERSION))},
        "model": ms.first(tr.first_model(ops), _model(agent.attrs) if agent else None),
        "task": {
            "type": attr(TASK_TYPE_ATTR),
            "difficulty": attr(TASK_DIFFICULTY_ATTR),
            "language": attr(TASK_LANGUAGE_ATTR),
            "tags": _read_tags(attr(TASK_TAGS_ATTR)),
        },
        "system_prompt": ms.first(agent_system, tr.system_prompt(ops)),
        "input": ms.first(user_texts[0] if user_texts else None, tr.first_user_text(ops)),
        "context_docs": tr.context_docs(ops),
        "steps": tr.steps(ops),
        "tools_available": tr.tools_available(ops),
        "final_output": ms.first(answers[-1] if answers else None, tr.last_answer(ops)),
        "metadata": {
            "latency_ms": tr.latency_ms(started, ended),
            "tokens_in": ms.first(agent.op.tokens_in if agent else None, tr.token_total(ops, "tokens_in")),
            "tokens_out": ms.first(agent.op.tokens_out if agent else None, tr.token_total(ops, "tokens_out")),
            "cost_usd": ms.first(vv.text_to_double(root.attrs.get(USAGE_COST)), tr.total(costs)),
            "status": ms.first(ms.nonblank(root.attrs.get(ERROR_TYPE)), STATUS_FAILED) if root.is_error else STATUS_COMPLETED,
            "started_at": started,
            "ended_at": ended,
            "extra": tr.extra_map(
                extra,
                {EXTRA_RECORDS: records, EXTRA_SPANS: len(by_rank), EXTRA_TRACE_ID: trace_id if trajectory_id != trace_id else None},
            ),
        },
    }


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_TRACE_IDS, _keys_of), DETECT_FIELDS)
