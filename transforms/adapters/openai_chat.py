"""OpenAI chat-completions logs: a logged call (request + response) or a bare messages example.

Documentation followed (shapes, field names and types):
- Chat Completions API reference, https://platform.openai.com/docs/api-reference/chat : the
  request (`model`, `messages` with roles system/developer/user/assistant/tool, assistant
  `tool_calls` [{id, type: "function", function: {name, arguments (JSON text)}}], `tool`
  messages with `tool_call_id`, `tools` [{type: "function", function: {name, description,
  parameters}}], `metadata` (string -> string, up to 16 keys, stored completions), `user`) and
  the `chat.completion` object (`id`, `created` (Unix seconds), `model` (the snapshot, e.g.
  gpt-4o-2024-08-06), `choices[].message` {content, refusal, tool_calls}, `finish_reason`,
  `usage` {prompt_tokens, completion_tokens, total_tokens,
  completion_tokens_details.reasoning_tokens}); content may be a string or an array of
  content parts [{type: "text", text}].
- Fine-tuning chat format, https://platform.openai.com/docs/guides/fine-tuning (and Azure
  OpenAI "fine-tuning and tool calling"): one example per line, `{"messages": [...],
  "tools": [...], "parallel_tool_calls": ...}` -> source_kind `demonstration`.
- Gateway request logs (LiteLLM StandardLoggingPayload, https://docs.litellm.ai/docs/proxy/logging_spec;
  Portkey custom logs `{request, response, metadata}`, https://portkey.ai/docs/api-reference/logs):
  one line per LLM call with the call's `request` and `response` plus gateway fields:
  `metadata` (free-form), `trace_id`, `start_time`/`startTime`, `end_time`/`endTime` (ISO-8601
  or Unix seconds), `latency_ms`, `cost_usd`/`response_cost`, `status` (success | failure),
  `error` (the OpenAI error object).
- Reasoning text is not returned by OpenAI's own models; OpenAI-compatible servers put it in
  the message's `reasoning_content` (DeepSeek, vLLM) or `reasoning` (OpenRouter): both are read.

Trajectory id: the first present of `trajectory_id`, `metadata.trajectory_id`,
`request.metadata.trajectory_id`, `trace_id`, `response.id`, `id`; none -> missing_trajectory_id.
An agent loop logs one line per LLM call, each request holding the conversation so far: lines
sharing a trajectory id are grouped, the line with the longest conversation is the trajectory,
the others contribute their usage, cost and times (per call, attributed to the assistant message
each call produced) and are counted in metadata.extra["records"].

Conventions for what the format has no field for (the renderer in
benchmarks/synthetic/formats/openai_chat.py writes them, this adapter reads them back): the
metadata keys in `META_*` (gateway `metadata` first, then `request.metadata`; values are text,
tags as `a,b` or a JSON array, context_docs as JSON text), other metadata keys go to
metadata.extra; a tool result that is exactly `{"error": "..."}` is the tool's error.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
)

from schemas.trajectory import AGENT, CONTEXT_DOC, METADATA, MODEL, TASK, TOOL_SPEC, TRAJECTORY_CONTENT_FIELDS
from transforms.adapters.base import (
    CORRUPT,
    INGEST_RUN_ID,
    INGESTED_AT,
    MISSING_TRAJECTORY_ID,
    NO_CONTENT,
    RECORD,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    as_candidates,
    parse_json,
    reject_when,
)
from transforms.adapters.conversation import (
    ASSISTANT,
    TOOL,
    blank_to_null,
    conversation_parts,
    has_text,
    message,
    millis_between,
    tags_of,
    text_of,
    timestamp_of,
    tool_call,
)

NAME = "openai_chat"
PROVIDER = "openai"
INTERACTION_LOG = "interaction_log"
DEMONSTRATION = "demonstration"

# Metadata keys (gateway `metadata` or `request.metadata`) read into canonical fields.
META_TRAJECTORY_ID = "trajectory_id"
META_SESSION_ID = "session_id"
META_USER_ID = "user_id"
META_TENANT = "tenant"
META_SOURCE_KIND = "source_kind"
META_AGENT_NAME = "agent_name"
META_AGENT_VERSION = "agent_version"
META_MODEL_PROVIDER = "model_provider"
META_MODEL_NAME = "model_name"
META_MODEL_VERSION = "model_version"
META_TASK_TYPE = "task_type"
META_TASK_DIFFICULTY = "task_difficulty"
META_TASK_LANGUAGE = "task_language"
META_TAGS = "tags"
META_CONTEXT_DOCS = "context_docs"
META_LATENCY_MS = "latency_ms"
META_TOKENS_IN = "tokens_in"
META_TOKENS_OUT = "tokens_out"
META_COST_USD = "cost_usd"
META_STATUS = "status"
META_STARTED_AT = "started_at"
META_ENDED_AT = "ended_at"
CANONICAL_META_KEYS = (
    META_TRAJECTORY_ID, META_SESSION_ID, META_USER_ID, META_TENANT, META_SOURCE_KIND,
    META_AGENT_NAME, META_AGENT_VERSION, META_MODEL_PROVIDER, META_MODEL_NAME, META_MODEL_VERSION,
    META_TASK_TYPE, META_TASK_DIFFICULTY, META_TASK_LANGUAGE, META_TAGS, META_CONTEXT_DOCS,
    META_LATENCY_MS, META_TOKENS_IN, META_TOKENS_OUT, META_COST_USD, META_STATUS,
    META_STARTED_AT, META_ENDED_AT,
)

# metadata.extra keys this adapter fills ("records" is what normalize counts, RECORDS_KEY there).
EXTRA_RECORDS = "records"
EXTRA_FINISH_REASON = "finish_reason"
EXTRA_REASONING_TOKENS = "reasoning_tokens"
EXTRA_ERROR = "error"
COMPUTED_EXTRA_KEYS = (EXTRA_RECORDS, EXTRA_FINISH_REASON, EXTRA_REASONING_TOKENS, EXTRA_ERROR)

# Gateway status words -> canonical metadata.status.
STATUS_COMPLETED = "completed"
STATUS_ERROR = "error"
COMPLETED_WORDS = ("success", "succeeded", "ok", "completed")
ERROR_WORDS = ("failure", "failed", "error")

# Top-level keys a bare messages example may have (anything else is some other format).
EXAMPLE_KEYS = ("messages", "tools", "functions", "parallel_tool_calls", "metadata", "id", "trajectory_id")
# A model snapshot suffix: gpt-4o-2024-08-06, gpt-4-0613, claude-3-5-sonnet-20241022.
SNAPSHOT_SUFFIX = r"-(\d{4}-\d{2}-\d{2}|\d{8}|\d{4})$"

_FUNCTION_CALL = StructType([StructField("name", StringType()), StructField("arguments", StringType())])
_TOOL_CALL = StructType(
    [StructField("id", StringType()), StructField("type", StringType()), StructField("function", _FUNCTION_CALL)]
)
_MESSAGE = StructType(
    [
        StructField("role", StringType()),
        StructField("content", StringType()),  # text, or content parts as JSON text
        StructField("name", StringType()),
        StructField("refusal", StringType()),
        StructField("reasoning_content", StringType()),
        StructField("reasoning", StringType()),
        StructField("tool_calls", ArrayType(_TOOL_CALL)),
        StructField("tool_call_id", StringType()),
    ]
)
_FUNCTION = StructType(
    [
        StructField("name", StringType()),
        StructField("description", StringType()),
        StructField("parameters", StringType()),  # the JSON Schema object, as JSON text
    ]
)
_TOOL = StructType([StructField("type", StringType()), StructField("function", _FUNCTION)])
_REQUEST = StructType(
    [
        StructField("model", StringType()),
        StructField("messages", ArrayType(_MESSAGE)),
        StructField("tools", ArrayType(_TOOL)),
        StructField("functions", ArrayType(_FUNCTION)),
        StructField("metadata", MapType(StringType(), StringType())),
        StructField("user", StringType()),
    ]
)
_USAGE = StructType(
    [
        StructField("prompt_tokens", LongType()),
        StructField("completion_tokens", LongType()),
        StructField("total_tokens", LongType()),
        StructField("completion_tokens_details", StructType([StructField("reasoning_tokens", LongType())])),
    ]
)
_CHOICE = StructType(
    [
        StructField("index", LongType()),
        StructField("message", _MESSAGE),
        StructField("finish_reason", StringType()),
    ]
)
_RESPONSE = StructType(
    [
        StructField("id", StringType()),
        StructField("object", StringType()),
        StructField("created", LongType()),
        StructField("model", StringType()),
        StructField("choices", ArrayType(_CHOICE)),
        StructField("usage", _USAGE),
    ]
)
LINE = StructType(
    [
        StructField("trajectory_id", StringType()),
        StructField("id", StringType()),
        StructField("trace_id", StringType()),
        StructField("request", _REQUEST),
        StructField("response", _RESPONSE),
        StructField("error", StringType()),  # the error object as JSON text, or a message
        StructField("metadata", MapType(StringType(), StringType())),
        StructField("start_time", StringType()),
        StructField("startTime", StringType()),
        StructField("end_time", StringType()),
        StructField("endTime", StringType()),
        StructField("latency_ms", DoubleType()),
        StructField("cost_usd", DoubleType()),
        StructField("response_cost", DoubleType()),
        StructField("status", StringType()),
        # the bare example form
        StructField("messages", ArrayType(_MESSAGE)),
        StructField("tools", ArrayType(_TOOL)),
        StructField("functions", ArrayType(_FUNCTION)),
    ]
)

# Working columns.
_LINE = "_line"
_TID = "_trajectory_id"
_META = "_meta"
_CONVERSATION = "_conversation"  # array<_MESSAGE>: request messages + the response message
_N_REQUEST = "_n_request"  # how many messages the request sent = position of the reply
_EXAMPLE = "_example"
_START, _END, _LATENCY = "_start", "_end", "_latency"
_TOKENS_IN, _TOKENS_OUT, _COST, _REASONING_TOKENS = "_tokens_in", "_tokens_out", "_cost", "_reasoning_tokens"
_STATUS, _FINISH, _ERROR = "_status", "_finish", "_error"
_TOOLS, _FUNCTIONS, _REQUEST_MODEL, _RESPONSE_MODEL, _USER = "_tools", "_functions", "_req_model", "_resp_model", "_user"
_FIRST, _BEST, _CALLS, _RECORDS = "_first", "_best", "_calls", "_records"


def detects(record: Column) -> Column:
    logged_call = F.get_json_object(record, "$.request.messages").startswith("[")
    example = F.get_json_object(record, "$.messages").startswith("[") & F.forall(
        F.json_object_keys(record), lambda k: k.isin(*EXAMPLE_KEYS)
    )
    return F.coalesce(logged_call, F.lit(False)) | F.coalesce(example, F.lit(False))


def _line(path: str) -> Column:
    return F.col(f"{_LINE}.{path}")


def _meta(key: str) -> Column:
    return F.col(_META)[key]


def _best(field: str) -> Column:
    return F.col(f"{_BEST}.{field}")


def _best_meta(key: str) -> Column:
    return _best(_META)[key]


def _struct_or_null(schema: StructType, values: list[Column]) -> Column:
    """The struct, or null when every part is missing (so absent parts stay absent)."""
    present = F.lit(False)
    for value in values:
        present = present | value.isNotNull()
    built = F.struct(*[v.cast(f.dataType).alias(f.name) for v, f in zip(values, schema.fields)])
    return F.when(present, built)


def tool_error_of(text: Column) -> Column:
    """A tool result that is exactly `{"error": ...}` is the tool's error text."""
    keys = F.json_object_keys(text)
    only_error = text.startswith("{") & (F.size(keys) == 1) & (F.get(keys, 0) == "error")
    return F.when(F.coalesce(only_error, F.lit(False)), F.get_json_object(text, "$.error"))


def _as_message(m: Column) -> Column:
    role = F.lower(F.trim(m["role"]))
    text = text_of(m["content"])
    error = F.when(role == TOOL, tool_error_of(text))
    calls = F.transform(m["tool_calls"], lambda c: tool_call(c["id"], c["function"]["name"], c["function"]["arguments"]))
    return message(
        role=role,
        content=F.when(error.isNull(), F.coalesce(blank_to_null(text), m["refusal"])),
        reasoning=F.coalesce(m["reasoning_content"], m["reasoning"]),
        tool_calls=calls,
        tool_call_id=m["tool_call_id"],
        error=error,
    )


def _with_call_usage(conversation: Column, calls: Column) -> Column:
    """Each assistant reply gets the times and tokens of the call that produced it."""

    def attribute(m: Column, i: Column) -> Column:
        call = F.get(F.filter(calls, lambda c: c[_N_REQUEST] == i), 0)
        timed = (
            m.withField("started_at", call[_START]).withField("ended_at", call[_END])
            .withField("tokens_in", call[_TOKENS_IN]).withField("tokens_out", call[_TOKENS_OUT])
        )
        return F.when((m["role"] == ASSISTANT) & call.isNotNull(), timed).otherwise(m)

    return F.transform(F.transform(conversation, _as_message), attribute)


def _status(raw: Column, error: Column, responded: Column) -> Column:
    word = F.lower(F.trim(raw))
    return (
        F.when(word.isin(*COMPLETED_WORDS), F.lit(STATUS_COMPLETED))
        .when(word.isin(*ERROR_WORDS), F.lit(STATUS_ERROR))
        .when(has_text(word), word)
        .when(error.isNotNull(), F.lit(STATUS_ERROR))
        .when(responded, F.lit(STATUS_COMPLETED))
    )


def _calls(records: DataFrame) -> DataFrame:
    """One row per line: its trajectory id, conversation, usage and times, or its reject."""
    top_meta = F.coalesce(_line("metadata"), F.create_map().cast("map<string,string>"))
    request_meta = F.coalesce(_line("request.metadata"), F.create_map().cast("map<string,string>"))
    merged_meta = F.map_concat(
        top_meta, F.map_filter(request_meta, lambda k, v: ~F.array_contains(F.map_keys(top_meta), k))
    )
    parsed = records.withColumn(_LINE, parse_json(F.col(RECORD), LINE)).withColumn(_META, merged_meta)

    request_messages = _line("request.messages")
    reply = F.get(_line("response.choices"), 0)["message"]
    conversation = F.when(
        request_messages.isNotNull(),
        F.concat(request_messages, F.when(reply.isNotNull(), F.array(reply)).otherwise(F.array().cast(ArrayType(_MESSAGE)))),
    ).otherwise(_line("messages"))
    trajectory_id = F.coalesce(
        *[blank_to_null(c) for c in (
            _line("trajectory_id"), F.col(_META)[META_TRAJECTORY_ID], _line("trace_id"), _line("response.id"), _line("id"),
        )]
    )
    error = F.coalesce(F.get_json_object(_line("error"), "$.message"), _line("error"))
    started = F.coalesce(
        timestamp_of(_line("start_time")), timestamp_of(_line("startTime")), timestamp_of(_meta(META_STARTED_AT)),
        F.timestamp_seconds(_line("response.created")),
    )
    ended = F.coalesce(timestamp_of(_line("end_time")), timestamp_of(_line("endTime")), timestamp_of(_meta(META_ENDED_AT)))
    return parsed.select(
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        trajectory_id.alias(_TID),
        F.col(_META),
        conversation.alias(_CONVERSATION),
        F.size(request_messages).alias(_N_REQUEST),
        request_messages.isNull().alias(_EXAMPLE),
        started.alias(_START),
        ended.alias(_END),
        F.coalesce(_line("latency_ms"), _meta(META_LATENCY_MS).try_cast("double")).cast("long").alias(_LATENCY),
        F.coalesce(_line("response.usage.prompt_tokens"), _meta(META_TOKENS_IN).try_cast("long")).alias(_TOKENS_IN),
        F.coalesce(_line("response.usage.completion_tokens"), _meta(META_TOKENS_OUT).try_cast("long")).alias(_TOKENS_OUT),
        F.coalesce(_line("cost_usd"), _line("response_cost"), _meta(META_COST_USD).try_cast("double")).alias(_COST),
        _line("response.usage.completion_tokens_details.reasoning_tokens").alias(_REASONING_TOKENS),
        _status(F.coalesce(_line("status"), _meta(META_STATUS)), error, reply.isNotNull()).alias(_STATUS),
        F.get(_line("response.choices"), 0)["finish_reason"].alias(_FINISH),
        error.alias(_ERROR),
        F.coalesce(_line("request.tools"), _line("tools")).alias(_TOOLS),
        F.coalesce(_line("request.functions"), _line("functions")).alias(_FUNCTIONS),
        _line("request.model").alias(_REQUEST_MODEL),
        _line("response.model").alias(_RESPONSE_MODEL),
        _line("request.user").alias(_USER),
        *reject_when(
            (_line(CORRUPT).isNotNull(), WRONG_TYPE, "a field has the wrong JSON type for an OpenAI chat log"),
            (trajectory_id.isNull(), MISSING_TRAJECTORY_ID, "no trajectory_id, metadata.trajectory_id, trace_id, response id or id"),
        ),
    )


def _model() -> Column:
    requested, answered = _best(_REQUEST_MODEL), _best(_RESPONSE_MODEL)
    prefixed = F.coalesce(answered.startswith(F.concat(requested, F.lit("-"))), F.lit(False))
    suffix = answered.substr(F.length(requested) + 2, F.length(answered))
    version = F.coalesce(
        _best_meta(META_MODEL_VERSION),
        F.when(prefixed, suffix),
        blank_to_null(F.regexp_extract(F.coalesce(answered, requested), SNAPSHOT_SUFFIX, 1)),
    )
    name = F.coalesce(
        _best_meta(META_MODEL_NAME),
        F.when(prefixed, requested),
        F.regexp_replace(F.coalesce(requested, answered), SNAPSHOT_SUFFIX, ""),
    )
    provider = F.when(name.isNotNull() | version.isNotNull(), F.coalesce(_best_meta(META_MODEL_PROVIDER), F.lit(PROVIDER)))
    return _struct_or_null(MODEL, [provider, name, version])


def _tools_available() -> Column:
    spec = lambda name, description, parameters: F.struct(  # noqa: E731
        name.alias("name"), description.alias("description"), parameters.alias("parameters")
    )
    tools = F.transform(_best(_TOOLS), lambda t: spec(t["function"]["name"], t["function"]["description"], t["function"]["parameters"]))
    functions = F.transform(_best(_FUNCTIONS), lambda f: spec(f["name"], f["description"], f["parameters"]))
    return F.filter(F.coalesce(tools, functions), lambda t: t["name"].isNotNull()).cast(ArrayType(TOOL_SPEC))


def _extra() -> Column:
    custom = F.map_filter(
        _best(_META), lambda k, v: ~k.isin(*CANONICAL_META_KEYS, *COMPUTED_EXTRA_KEYS)
    )
    computed = F.map_filter(
        F.create_map(
            F.lit(EXTRA_RECORDS), F.col(_RECORDS).cast("string"),
            F.lit(EXTRA_FINISH_REASON), _best(_FINISH),
            F.lit(EXTRA_REASONING_TOKENS), F.col(_REASONING_TOKENS).cast("string"),
            F.lit(EXTRA_ERROR), _best(_ERROR),
        ),
        lambda k, v: v.isNotNull(),
    )
    return F.map_concat(custom, computed)


def _trajectories(calls: DataFrame) -> DataFrame:
    """Group the accepted lines by trajectory id; the longest conversation is the trajectory."""
    best_fields = [_CONVERSATION, _META, _EXAMPLE, _STATUS, _FINISH, _ERROR, _TOOLS, _FUNCTIONS, _REQUEST_MODEL, _RESPONSE_MODEL, _USER]
    grouped = calls.groupBy(_TID).agg(
        F.min(F.struct(SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT)).alias(_FIRST),
        F.max_by(
            F.struct(*best_fields), F.struct(F.size(_CONVERSATION), F.col(_END), F.col(SOURCE_URI), F.col(SOURCE_LINE))
        ).alias(_BEST),
        F.count(F.lit(1)).alias(_RECORDS),
        F.collect_list(F.struct(_N_REQUEST, _START, _END, _TOKENS_IN, _TOKENS_OUT)).alias(_CALLS),
        F.min(_START).alias(_START),
        F.max(_END).alias(_END),
        F.sum(_LATENCY).alias(_LATENCY),
        F.sum(_TOKENS_IN).alias(_TOKENS_IN),
        F.sum(_TOKENS_OUT).alias(_TOKENS_OUT),
        F.sum(_COST).alias(_COST),
        F.sum(_REASONING_TOKENS).alias(_REASONING_TOKENS),
    )
    parts = conversation_parts(_with_call_usage(_best(_CONVERSATION), F.col(_CALLS)))
    content = {
        "trajectory_id": F.col(_TID),
        "session_id": _best_meta(META_SESSION_ID),
        "user_id": F.coalesce(_best_meta(META_USER_ID), _best(_USER)),
        "tenant": _best_meta(META_TENANT),
        "source_kind": F.coalesce(
            _best_meta(META_SOURCE_KIND), F.when(_best(_EXAMPLE), F.lit(DEMONSTRATION)), F.lit(INTERACTION_LOG)
        ),
        "agent": _struct_or_null(AGENT, [_best_meta(META_AGENT_NAME), _best_meta(META_AGENT_VERSION)]),
        "model": _model(),
        "task": _struct_or_null(
            TASK,
            [_best_meta(META_TASK_TYPE), _best_meta(META_TASK_DIFFICULTY), _best_meta(META_TASK_LANGUAGE), tags_of(_best_meta(META_TAGS))],
        ),
        "system_prompt": parts.system_prompt,
        "input": parts.input,
        "context_docs": F.from_json(_best_meta(META_CONTEXT_DOCS), ArrayType(CONTEXT_DOC)),
        "steps": parts.steps,
        "tools_available": _tools_available(),
        "final_output": parts.final_output,
        "metadata": F.struct(
            F.coalesce(millis_between(F.col(_START), F.col(_END)), F.col(_LATENCY)).alias("latency_ms"),
            F.col(_TOKENS_IN).alias("tokens_in"),
            F.col(_TOKENS_OUT).alias("tokens_out"),
            F.col(_COST).alias("cost_usd"),
            _best(_STATUS).alias("status"),
            F.col(_START).alias("started_at"),
            F.col(_END).alias("ended_at"),
            _extra().alias("extra"),
        ).cast(METADATA),
    }
    built = grouped.select(
        *[column.alias(name) for name, column in content.items()],
        F.lit(NAME).alias(SOURCE_FORMAT),
        *[F.col(f"{_FIRST}.{c}").alias(c) for c in (SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT)],
    )
    empty = ~has_text(F.col("input")) & (F.size("steps") == 0) & ~has_text(F.col("final_output"))
    return built.select("*", *reject_when((empty, NO_CONTENT, "no input, steps or final output")))


def _rejected(calls: DataFrame) -> DataFrame:
    """Lines that could not join a trajectory: lineage, reason, and no content."""
    content = [
        (F.col(_TID) if f.name == "trajectory_id" else F.lit(None)).cast(f.dataType).alias(f.name)
        for f in TRAJECTORY_CONTENT_FIELDS
    ]
    return calls.select(
        *content, F.lit(NAME).alias(SOURCE_FORMAT), SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        "reject_reason", "reject_detail",
    )


def to_trajectories(records: DataFrame) -> DataFrame:
    calls = _calls(records)
    accepted = calls.where(F.col("reject_reason").isNull())
    rejected = calls.where(F.col("reject_reason").isNotNull())
    return as_candidates(_trajectories(accepted)).unionByName(as_candidates(_rejected(rejected)))


ADAPTER = Adapter(NAME, detects, to_trajectories)
