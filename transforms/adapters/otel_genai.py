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
  Step rules: transforms.adapters.trace_assembly.
- Canonical fields the conventions have no attribute for are read from `trajlake.*` span
  attributes: trajlake.tenant, trajlake.source_kind, trajlake.task.{type,difficulty,language,tags},
  trajlake.extra.<key> (-> metadata.extra). Cost: `gen_ai.usage.cost` (OpenLIT's attribute).
- Each record is counted (metadata.extra["records"]) by exactly one trajectory: the one of the
  smallest trace id among its spans, so normalize's accounting holds when a request carries
  several traces. A span without trace id in an otherwise good request is rejected on its own
  (`missing_trace_id`, counting no record). A span exported twice (exporter retries) counts once,
  by span id. Spans of one trace that arrive in a later ingest run are assembled with the earlier
  ones by normalize (`group_keys`: the trace ids of a request).

Message attributes recorded as structured AnyValue (kvlist/array) rather than JSON text, and the
older event-based content capture (`gen_ai.user.message` events), are not read.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, StringType, StructField, StructType

from schemas.trajectory import CONTEXT_DOC, TOOL_SPEC
from transforms.adapters import trace_assembly as ta
from transforms.adapters.base import (
    CORRUPT,
    INGEST_RUN_ID,
    INGESTED_AT,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
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

# metadata.extra keys this adapter sets.
EXTRA_RECORDS = ta.RECORDS_KEY
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

_PARSED = "_parsed"
_SPANS = "_spans"
_OWNER = "_owner_trace"
_TRACE = "_trace_id"
_SPAN = "_span"


def detects(record: Column) -> Column:
    return record.contains('"resourceSpans"') & F.get_json_object(record, "$.resourceSpans").isNotNull()


def _value_text(value: Column) -> Column:
    """An AnyValue as text: scalars as they are, arrays as a JSON array of their scalars."""

    def scalar(v: Column) -> Column:
        return F.coalesce(v["stringValue"], v["intValue"], v["doubleValue"], v["boolValue"], v["bytesValue"])

    array = F.to_json(F.transform(value["arrayValue"]["values"], scalar))
    return F.coalesce(scalar(value), F.when(value["arrayValue"].isNotNull(), array), value["kvlistValue"])


def attribute_map(attributes: Column) -> Column:
    """OTLP key/value list -> map<string, string>; a repeated key keeps its first value."""
    listed = F.coalesce(attributes, F.array().cast(ATTRIBUTES))
    unique = F.filter(listed, lambda kv, i: kv["key"].isNotNull() & ~F.exists(F.slice(listed, 1, i), lambda p: p["key"] == kv["key"]))
    return F.map_from_entries(F.transform(unique, lambda kv: F.struct(kv["key"], _value_text(kv["value"]))))


def _texts(parts: Column, part_type: str) -> Column:
    chosen = F.filter(F.coalesce(parts, F.array()), lambda p: p["type"] == part_type)
    return ta.nonblank(F.array_join(F.transform(chosen, lambda p: p["content"]), "\n"))


def otel_messages(json_text: Column) -> Column:
    """gen_ai.*.messages JSON -> array<MESSAGE>; each tool_call_response part is one tool message."""

    def convert(m: Column) -> Column:
        parts = F.coalesce(m["parts"], F.array())
        responses = F.filter(parts, lambda p: p["type"] == "tool_call_response")
        requests = F.transform(
            F.filter(parts, lambda p: p["type"] == "tool_call"),
            lambda p: F.struct(p["id"].alias("id"), p["name"].alias("name"), p["arguments"].alias("arguments")),
        )
        as_tool_replies = F.transform(
            responses, lambda p: ta.message(F.lit(ta.ROLE_TOOL), F.coalesce(p["response"], p["result"]), tool_call_id=p["id"])
        )
        plain = ta.message(
            F.lower(m["role"]), _texts(parts, "text"), _texts(parts, "reasoning"), F.when(F.size(requests) > 0, requests)
        )
        return F.when(F.size(responses) > 0, as_tool_replies).otherwise(F.array(plain))

    return F.flatten(F.transform(F.from_json(json_text, OTEL_MESSAGES), convert))


def _instructions(json_text: Column) -> Column:
    parts = F.from_json(json_text, ArrayType(PART))
    return F.when(parts.isNull(), ta.nonblank(json_text)).otherwise(_texts(parts, "text"))


_MAX_MICROS = 253402300799999999  # 9999-12-31T23:59:59.999999Z


def _nanos_time(text: Column) -> Column:
    """*UnixNano (a numeric string in OTLP/JSON) -> timestamp; null, not a failure, when malformed."""
    micros = (text.try_cast("decimal(38,0)") / 1000).try_cast("long")
    return F.when(micros.between(0, _MAX_MICROS), F.timestamp_micros(micros))


def _long(text: Column) -> Column:
    return text.try_cast("double").try_cast("long")


def _model(attrs: Column) -> Column:
    return ta.model_of(F.coalesce(attrs[PROVIDER_NAME], attrs[SYSTEM_LEGACY]), attrs[REQUEST_MODEL], attrs[RESPONSE_MODEL])


def _is_error(span: Column) -> Column:
    return F.coalesce(span["status"]["code"].isin(*STATUS_ERROR), F.lit(False))


def _exception_message(span: Column) -> Column:
    exceptions = F.filter(F.coalesce(span["events"], F.array()), lambda e: e["name"] == "exception")
    return attribute_map(ta.head(exceptions)["attributes"])[EXCEPTION_MESSAGE]


def _operation(span: Column, attrs: Column) -> Column:
    """The span as a trace_assembly OPERATION."""
    op = attrs[OPERATION_NAME]
    at = _nanos_time(span["startTimeUnixNano"])
    ended = _nanos_time(span["endTimeUnixNano"])
    order = F.coalesce(F.lower(span["spanId"]), F.lit(""))
    error = F.when(
        _is_error(span),
        F.coalesce(ta.nonblank(span["status"]["message"]), _exception_message(span), attrs[ERROR_TYPE], F.lit("error")),
    )
    outputs = otel_messages(attrs[OUTPUT_MESSAGES])
    answer = ta.head(F.filter(outputs, lambda m: m["role"] == ta.ROLE_ASSISTANT))
    tools = F.transform(F.from_json(attrs[TOOL_DEFINITIONS], TOOL_DEFINITION), lambda t: t.cast(TOOL_SPEC))
    docs = F.transform(
        F.from_json(attrs[RETRIEVAL_DOCUMENTS], RETRIEVED),
        lambda d: F.struct(d["id"], F.coalesce(d["source"], attrs[DATA_SOURCE_ID]), d["content"], d["score"]).cast(CONTEXT_DOC),
    )
    kind = (
        F.when(op.isin(*LLM_OPERATIONS), F.lit(ta.OP_LLM))
        .when(op == TOOL_OPERATION, F.lit(ta.OP_TOOL))
        .when(op == RETRIEVAL_OPERATION, F.lit(ta.OP_RETRIEVAL))
        .otherwise(F.lit(ta.OP_OTHER))
    )
    return ta.operation(
        kind,
        at,
        ended,
        order,
        inputs=otel_messages(attrs[INPUT_MESSAGES]),
        output=answer,
        system=_instructions(attrs[SYSTEM_INSTRUCTIONS]),
        tokens_in=_long(F.coalesce(attrs[INPUT_TOKENS], attrs[PROMPT_TOKENS_LEGACY])),
        tokens_out=_long(F.coalesce(attrs[OUTPUT_TOKENS], attrs[COMPLETION_TOKENS_LEGACY])),
        tool=ta.tool_call(
            attrs[TOOL_CALL_ID], F.coalesce(attrs[TOOL_NAME], span["name"]), attrs[TOOL_CALL_ARGUMENTS],
            F.when(error.isNull(), attrs[TOOL_CALL_RESULT]), error,
        ),
        query=attrs[RETRIEVAL_QUERY],
        docs=docs,
        tools=F.when(F.size(tools) > 0, tools),
        model=F.when(kind == ta.OP_LLM, _model(attrs)),
    )


def _spans_of(request: Column) -> Column:
    """All spans of an export request, each with its resource's attributes."""
    return F.flatten(
        F.transform(
            F.coalesce(request["resourceSpans"], F.array()),
            lambda rs: F.flatten(
                F.transform(
                    F.coalesce(rs["scopeSpans"], F.array()),
                    lambda ss: F.transform(
                        F.coalesce(ss["spans"], F.array()),
                        lambda sp: F.struct(sp.alias("span"), rs["resource"]["attributes"].alias("resource")),
                    ),
                )
            ),
        )
    )


def _trace_id(span: Column) -> Column:
    return ta.nonblank(F.lower(F.trim(span["traceId"])))


# Just enough of an export request to read its spans' trace ids.
_TRACE_IDS = StructType(
    [StructField("resourceSpans", ArrayType(StructType([StructField("scopeSpans", ArrayType(StructType([
        StructField("spans", ArrayType(StructType(_strings("traceId"))))
    ])))])))]
)


def _keys_of(request: Column) -> Column:
    """The trace ids of a request's spans, as _traces groups them."""
    ids = F.flatten(
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
    return F.array_distinct(F.filter(ids, lambda i: i.isNotNull()))


def _record_rejects(parsed: DataFrame) -> DataFrame:
    """Requests that give no trajectory at all: each is one rejected candidate counting its record."""
    corrupt = F.col(f"{_PARSED}.{CORRUPT}").isNotNull()
    no_spans = F.size(F.col(_SPANS)) == 0
    return ta.rejected(
        parsed.where(corrupt | no_spans | F.col(_OWNER).isNull()),
        NAME,
        [
            (corrupt, WRONG_TYPE, "a field has the wrong JSON type for OTLP/JSON traces"),
            (no_spans, NO_SPANS, "the export request holds no spans"),
            (F.lit(True), MISSING_TRACE_ID, "no span of the request has a traceId"),
        ],
        records=1,
    )


def to_trajectories(records: DataFrame) -> DataFrame:
    parsed = (
        with_parsed(records, _PARSED, EXPORT_REQUEST)
        .withColumn(_SPANS, _spans_of(F.col(_PARSED)))
        .withColumn(_OWNER, F.array_min(F.transform(F.col(_SPANS), lambda s: _trace_id(s["span"]))))
    )
    usable = parsed.where(F.col(f"{_PARSED}.{CORRUPT}").isNull() & (F.size(F.col(_SPANS)) > 0) & F.col(_OWNER).isNotNull())
    spans = usable.select(
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, _OWNER, F.posexplode(_SPANS).alias("_pos", _SPAN)
    ).withColumn(_TRACE, _trace_id(F.col(f"{_SPAN}.span")))
    orphan_spans = ta.rejected(
        spans.where(F.col(_TRACE).isNull()),
        NAME,
        [(F.lit(True), MISSING_TRACE_ID, F.format_string("span %d of the request has no traceId", F.col("_pos") + 1))],
        records=0,
    )
    return _record_rejects(parsed).unionByName(orphan_spans).unionByName(_traces(spans.where(F.col(_TRACE).isNotNull())))


def _traces(spans: DataFrame) -> DataFrame:
    """Spans grouped by trace -> one candidate each."""
    span = F.col(f"{_SPAN}.span")
    attrs = F.col("_attrs")
    described = spans.withColumn("_attrs", attribute_map(span["attributes"])).select(
        _TRACE,
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        F.when(F.col(_OWNER) == F.col(_TRACE), F.struct(INGEST_RUN_ID, SOURCE_URI, SOURCE_LINE)).alias("_owned_record"),
        F.struct(
            ta.nonblank(span["parentSpanId"]).isNull().alias("is_root"),
            _nanos_time(span["startTimeUnixNano"]).alias("at"),
            F.coalesce(F.lower(span["spanId"]), F.lit("")).alias("span_id"),
            ta.record_order().alias("seen"),
            attrs.alias("attrs"),
            attribute_map(F.col(f"{_SPAN}.resource")).alias("resource"),
            _is_error(span).alias("is_error"),
            _operation(span, attrs).alias("op"),
        ).alias("_described"),
    )
    grouped = described.groupBy(_TRACE).agg(
        F.collect_list("_described").alias("_spans"),
        ta.first_record().alias("_first"),
        F.count_distinct("_owned_record").alias("_records"),
    )
    staged = (
        grouped.withColumn("_spans", ta.unique_by(F.col("_spans"), "span_id", "seen"))
        .withColumn("_by_rank", ta.root_first(F.col("_spans"), "span_id"))
        .withColumn("_ops", ta.sort_operations(F.transform(F.col("_spans"), lambda s: s["op"])))
        .withColumn("_agents", F.filter(F.col("_by_rank"), lambda s: s["attrs"][OPERATION_NAME].isin(*AGENT_OPERATIONS)))
        .withColumn("_trace_attrs", _first_values(F.col("_by_rank")))
    )
    content = _content(F.col("_by_rank"), F.col("_ops"), F.col("_agents"), F.col("_trace_attrs"))
    return ta.checked(staged.select(*content, *ta.grouped_lineage(NAME, F.col("_first"))))


def _first_values(by_rank: Column) -> Column:
    """One map for the trace: each key's first value over the spans (root first), then over the
    resources, so trace-level attributes are one lookup each."""
    empty = F.create_map().cast("map<string,string>")

    def merge(field: str):
        return lambda acc, s: F.map_concat(acc, F.map_filter(s[field], lambda k, v: ~F.map_contains_key(acc, k) & v.isNotNull()))

    spans = F.aggregate(by_rank, empty, merge("attrs"))
    return F.aggregate(by_rank, spans, merge("resource"))


def _content(by_rank: Column, ops: Column, agents: Column, trace_attrs: Column) -> list[Column]:
    def attr(key: str) -> Column:
        return trace_attrs[key]

    root = ta.head(by_rank)
    agent_inputs = F.flatten(F.transform(agents, lambda s: s["op"]["inputs"]))
    agent_outputs = F.flatten(F.transform(agents, lambda s: otel_messages(s["attrs"][OUTPUT_MESSAGES])))
    agent_input = ta.head(F.filter(agent_inputs, lambda m: (m["role"] == ta.ROLE_USER) & ta.nonblank(m["content"]).isNotNull()))["content"]
    answers = F.filter(agent_outputs, lambda m: (m["role"] == ta.ROLE_ASSISTANT) & ta.nonblank(m["content"]).isNotNull())
    agent_output = ta.tail(answers)["content"]
    agent_system = ta.head(F.filter(F.transform(agents, lambda s: s["op"]["system"]), lambda v: v.isNotNull()))
    started = F.array_min(F.transform(by_rank, lambda s: s["op"]["at"]))
    ended = F.array_max(F.transform(by_rank, lambda s: F.coalesce(s["op"]["ended"], s["op"]["at"])))
    model_calls = F.filter(by_rank, lambda s: s["op"]["kind"] == ta.OP_LLM)
    costs = F.transform(model_calls, lambda s: s["attrs"][USAGE_COST].try_cast("double"))
    cost = F.coalesce(root["attrs"][USAGE_COST].try_cast("double"), ta.total(costs))
    extra = F.transform_keys(
        F.map_filter(root["attrs"], lambda k, v: k.startswith(EXTRA_PREFIX)),
        lambda k, v: F.substring(k, len(EXTRA_PREFIX) + 1, 1 << 16),
    )
    trace_id = F.col(_TRACE)
    trajectory_id = F.coalesce(ta.nonblank(attr(TRAJECTORY_ID_ATTR)), trace_id)
    steps = ta.steps(ops)
    agent = ta.head(agents)
    agent_attrs = agent["attrs"]
    model = F.coalesce(ta.first_model(ops), _model(agent_attrs))
    tags = F.from_json(attr(TASK_TAGS_ATTR), ArrayType(StringType()))
    return [
        trajectory_id.alias("trajectory_id"),
        F.coalesce(attr(CONVERSATION_ID), attr(SESSION_ID)).alias("session_id"),
        F.coalesce(attr(USER_ID), attr(ENDUSER_ID)).alias("user_id"),
        attr(TENANT_ATTR).alias("tenant"),
        F.coalesce(attr(SOURCE_KIND_ATTR), F.lit(DEFAULT_SOURCE_KIND)).alias("source_kind"),
        F.struct(
            F.coalesce(attr(AGENT_NAME), attr(SERVICE_NAME)).alias("name"),
            F.coalesce(attr(AGENT_VERSION), attr(SERVICE_VERSION)).alias("version"),
        ).alias("agent"),
        model.alias("model"),
        F.struct(
            attr(TASK_TYPE_ATTR).alias("type"),
            attr(TASK_DIFFICULTY_ATTR).alias("difficulty"),
            attr(TASK_LANGUAGE_ATTR).alias("language"),
            tags.alias("tags"),
        ).alias("task"),
        F.coalesce(agent_system, ta.system_prompt(ops)).alias("system_prompt"),
        F.coalesce(agent_input, ta.first_user_text(ops)).alias("input"),
        ta.context_docs(ops).alias("context_docs"),
        steps.alias("steps"),
        ta.tools_available(ops).alias("tools_available"),
        F.coalesce(agent_output, ta.last_answer(ops)).alias("final_output"),
        F.struct(
            ta.latency_ms(started, ended).alias("latency_ms"),
            F.coalesce(agent["op"]["tokens_in"], ta.token_total(ops, "tokens_in")).alias("tokens_in"),
            F.coalesce(agent["op"]["tokens_out"], ta.token_total(ops, "tokens_out")).alias("tokens_out"),
            cost.alias("cost_usd"),
            F.when(root["is_error"], F.coalesce(ta.nonblank(root["attrs"][ERROR_TYPE]), F.lit(STATUS_FAILED)))
            .otherwise(F.lit(STATUS_COMPLETED))
            .alias("status"),
            started.alias("started_at"),
            ended.alias("ended_at"),
            ta.extra_map(
                extra,
                {
                    EXTRA_RECORDS: F.col("_records"),
                    EXTRA_SPANS: F.size(by_rank),
                    EXTRA_TRACE_ID: F.when(trajectory_id != trace_id, trace_id),
                },
            ).alias("extra"),
        ).alias("metadata"),
    ]


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_TRACE_IDS, _keys_of))
