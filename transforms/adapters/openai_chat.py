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
each call produced; a call logged twice counts once) and are counted in
metadata.extra["records"]. Lines of one trajectory that arrive in a later ingest run are
assembled with the earlier ones by normalize (`group_keys`: the line's trajectory id).

Conventions for what the format has no field for (the renderer in
benchmarks/synthetic/formats/openai_chat.py writes them, this adapter reads them back; their
names are in transforms/adapters/openai_conventions.py): the metadata keys in `META_*`
(gateway `metadata` first, then `request.metadata`; values are text, tags as `a,b` or a JSON
array, context_docs as JSON text); the trajectory-level keys
(started_at, ended_at, latency_ms, tokens_in/out, cost_usd, status) win over the per-call
aggregates; other metadata keys go to metadata.extra; a tool result that is exactly
`{"error": "..."}` is the tool's error; a message named `retrieval` is a retrieval step.
Not read: legacy `function_call` / `function` messages, choices beyond the first, audio.
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

from schemas.trajectory import AGENT, CONTEXT_DOC, METADATA, MODEL, TASK, TOOL_SPEC
from transforms.adapters.base import (
    CORRUPT,
    INGESTED_AT,
    INGEST_RUN_ID,
    MISSING_TRAJECTORY_ID,
    NO_CONTENT,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
    TopFields,
    as_candidates,
    no_keys,
    reject_when,
    with_parsed,
)
from transforms.adapters.conversation import (
    ASSISTANT,
    STEP_RETRIEVAL,
    TOOL,
    blank_to_null,
    conversation_parts,
    has_text,
    message,
    millis_between,
    struct_or_null,
    tags_of,
    text_of,
    timestamp_of,
    tool_call,
)
from transforms.adapters.openai_conventions import (
    CANONICAL_META_KEYS,
    COMPUTED_EXTRA_KEYS,
    EXTRA_ERROR,
    EXTRA_FINISH_REASON,
    EXTRA_REASONING_TOKENS,
    EXTRA_RECORDS,
    META_AGENT_NAME,
    META_AGENT_VERSION,
    META_CONTEXT_DOCS,
    META_COST_USD,
    META_ENDED_AT,
    META_LATENCY_MS,
    META_MODEL_NAME,
    META_MODEL_PROVIDER,
    META_MODEL_VERSION,
    META_SESSION_ID,
    META_SOURCE_KIND,
    META_STARTED_AT,
    META_STATUS,
    META_TAGS,
    META_TASK_DIFFICULTY,
    META_TASK_LANGUAGE,
    META_TASK_TYPE,
    META_TENANT,
    META_TOKENS_IN,
    META_TOKENS_OUT,
    META_TRAJECTORY_ID,
    META_USER_ID,
    OPENAI_MODEL_NAMES,
    PROVIDER,
    RETRIEVAL_NAME,
)

NAME = "openai_chat"
INTERACTION_LOG = "interaction_log"
DEMONSTRATION = "demonstration"

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
_GROUP, _REJECT, _LINE_REASON, _LINE_DETAIL = "_group", "_reject", "_line_reason", "_line_detail"
_MESSAGES = "_messages"  # array<conversation.MESSAGE> of the trajectory
_CALL_ID = "_call_id"  # the call's identity: its response id, else its log line id


DETECT_FIELDS = ("request", "messages")


def detects(record: TopFields) -> Column:
    # The nested path and the key list parse the record again: only for records with the field.
    logged_call = record["request"].isNotNull() & F.get_json_object(record.record, "$.request.messages").startswith("[")
    example = record["messages"].startswith("[") & F.forall(F.json_object_keys(record.record), lambda k: k.isin(*EXAMPLE_KEYS))
    return F.coalesce(logged_call, F.lit(False)) | F.coalesce(example, F.lit(False))


def _line(path: str) -> Column:
    return F.col(f"{_LINE}.{path}")


def _best(field: str) -> Column:
    return F.col(f"{_BEST}.{field}")


def _best_meta(key: str) -> Column:
    return _best(_META)[key]


def tool_error_of(text: Column) -> Column:
    """A tool result that is exactly `{"error": ...}` is the tool's error text."""
    only_error = text.startswith('{"error"') & (F.json_object_keys(text) == F.array(F.lit("error")))
    return F.when(F.coalesce(only_error, F.lit(False)), F.get_json_object(text, "$.error"))


def _as_messages(conversation: Column) -> Column:
    """array<_MESSAGE> -> array<conversation.MESSAGE>, in stages so each text is parsed once
    (expressions inside a lambda are not shared)."""
    read = F.transform(conversation, lambda m: F.struct(
        m.alias("m"),
        text_of(m["content"]).alias("text"),
        F.coalesce(m["name"] == RETRIEVAL_NAME, F.lit(False)).alias("retrieval"),
    ))
    judged = F.transform(read, lambda x: x.withField(
        "error", F.when(F.lower(F.trim(x["m"]["role"])) == TOOL, tool_error_of(x["text"]))
    ))

    def as_message(x: Column) -> Column:
        m = x["m"]
        return message(
            role=F.when(x["retrieval"], F.lit(TOOL)).otherwise(F.lower(F.trim(m["role"]))),
            content=F.when(x["error"].isNull(), F.coalesce(blank_to_null(x["text"]), m["refusal"])),
            reasoning=F.coalesce(m["reasoning_content"], m["reasoning"]),
            tool_calls=F.transform(
                m["tool_calls"], lambda c: tool_call(c["id"], c["function"]["name"], c["function"]["arguments"])
            ),
            tool_call_id=m["tool_call_id"],
            error=x["error"],
            kind=F.when(x["retrieval"], F.lit(STEP_RETRIEVAL)),
        )

    return F.transform(judged, as_message)


def _with_call_usage(conversation: Column, calls: Column) -> Column:
    """Each assistant reply gets the times and tokens of the call that produced it."""

    paired = F.transform(_as_messages(conversation), lambda m, i: F.struct(
        m.alias("m"), F.get(F.filter(calls, lambda c: c[_N_REQUEST] == i), 0).alias("call")
    ))

    def attribute(x: Column) -> Column:
        m, call = x["m"], x["call"]
        timed = (
            m.withField("started_at", call[_START]).withField("ended_at", call[_END])
            .withField("tokens_in", call[_TOKENS_IN]).withField("tokens_out", call[_TOKENS_OUT])
        )
        return F.when((m["role"] == ASSISTANT) & call.isNotNull(), timed).otherwise(m)

    return F.transform(paired, attribute)


def _status(raw: Column, error: Column, responded: Column) -> Column:
    word = F.lower(F.trim(raw))
    return (
        F.when(word.isin(*COMPLETED_WORDS), F.lit(STATUS_COMPLETED))
        .when(word.isin(*ERROR_WORDS), F.lit(STATUS_ERROR))
        .when(has_text(word), word)
        .when(error.isNotNull(), F.lit(STATUS_ERROR))
        .when(responded, F.lit(STATUS_COMPLETED))
    )


def _merged_meta(line: Column) -> Column:
    """Gateway `metadata`, then the keys only `request.metadata` has."""
    top_meta = F.coalesce(line["metadata"], F.create_map().cast("map<string,string>"))
    request_meta = F.coalesce(line["request"]["metadata"], F.create_map().cast("map<string,string>"))
    return F.map_concat(
        top_meta, F.map_filter(request_meta, lambda k, v: ~F.array_contains(F.map_keys(top_meta), k))
    )


def _trajectory_id(line: Column, meta: Column) -> Column:
    return F.coalesce(
        *[blank_to_null(c) for c in (
            line["trajectory_id"], meta[META_TRAJECTORY_ID], line["trace_id"], line["response"]["id"], line["id"],
        )]
    )


# Just enough of a line to find its trajectory id.
_KEY_FIELDS = StructType(
    [LINE[f] for f in ("trajectory_id", "id", "trace_id", "metadata")]
    + [
        StructField("request", StructType([_REQUEST["metadata"]])),
        StructField("response", StructType([_RESPONSE["id"]])),
    ]
)


def _keys_of(line: Column) -> Column:
    """The line's trajectory id: the lines of an agent loop share it."""
    key = _trajectory_id(line, _merged_meta(line))
    return F.when(key.isNotNull(), F.array(key)).otherwise(no_keys())


def _calls(records: DataFrame) -> DataFrame:
    """One row per line: its trajectory id, conversation, usage and times, or its reject."""
    parsed = with_parsed(records, _LINE, LINE).withColumn(_META, _merged_meta(F.col(_LINE)))

    request_messages = _line("request.messages")
    reply = F.get(_line("response.choices"), 0)["message"]
    conversation = F.when(
        request_messages.isNotNull(),
        F.concat(request_messages, F.when(reply.isNotNull(), F.array(reply)).otherwise(F.array().cast(ArrayType(_MESSAGE)))),
    ).otherwise(_line("messages"))
    trajectory_id = _trajectory_id(F.col(_LINE), F.col(_META))
    error = F.coalesce(F.get_json_object(_line("error"), "$.message"), _line("error"))
    started = F.coalesce(
        timestamp_of(_line("start_time")), timestamp_of(_line("startTime")), F.timestamp_seconds(_line("response.created"))
    )
    ended = F.coalesce(timestamp_of(_line("end_time")), timestamp_of(_line("endTime")))
    return parsed.select(
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        trajectory_id.alias(_TID),
        F.coalesce(_line("response.id"), _line("id"), F.concat_ws(":", F.col(SOURCE_URI), F.col(SOURCE_LINE))).alias(_CALL_ID),
        F.col(_META),
        conversation.alias(_CONVERSATION),
        F.size(request_messages).alias(_N_REQUEST),
        request_messages.isNull().alias(_EXAMPLE),
        started.alias(_START),
        ended.alias(_END),
        _line("latency_ms").try_cast("long").alias(_LATENCY),
        _line("response.usage.prompt_tokens").alias(_TOKENS_IN),
        _line("response.usage.completion_tokens").alias(_TOKENS_OUT),
        F.coalesce(_line("cost_usd"), _line("response_cost")).alias(_COST),
        _line("response.usage.completion_tokens_details.reasoning_tokens").alias(_REASONING_TOKENS),
        _status(_line("status"), error, reply.isNotNull()).alias(_STATUS),
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
    provider = F.coalesce(_best_meta(META_MODEL_PROVIDER), F.when(name.rlike(OPENAI_MODEL_NAMES), F.lit(PROVIDER)))
    return struct_or_null(MODEL, [provider, name, version])


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


def _metadata() -> Column:
    """Trajectory-level values from metadata when given, else aggregated over the calls."""
    started = F.coalesce(timestamp_of(_best_meta(META_STARTED_AT)), F.col(_START))
    ended = F.coalesce(timestamp_of(_best_meta(META_ENDED_AT)), F.col(_END))
    return F.struct(
        F.coalesce(
            _best_meta(META_LATENCY_MS).try_cast("double").try_cast("long"), millis_between(started, ended), F.col(_LATENCY)
        ).alias("latency_ms"),
        F.coalesce(_best_meta(META_TOKENS_IN).try_cast("long"), F.col(_TOKENS_IN)).alias("tokens_in"),
        F.coalesce(_best_meta(META_TOKENS_OUT).try_cast("long"), F.col(_TOKENS_OUT)).alias("tokens_out"),
        F.coalesce(_best_meta(META_COST_USD).try_cast("double"), F.col(_COST)).alias("cost_usd"),
        F.coalesce(_status(_best_meta(META_STATUS), F.lit(None), F.lit(False)), _best(_STATUS)).alias("status"),
        started.alias("started_at"),
        ended.alias("ended_at"),
        _extra().alias("extra"),
    ).cast(METADATA)


CALL_FIELDS = (_CALL_ID, _N_REQUEST, _START, _END, _LATENCY, _TOKENS_IN, _TOKENS_OUT, _COST, _REASONING_TOKENS)


def _call_totals(calls: Column) -> list[Column]:
    """Earliest start, latest end and the sums of the calls' latency, tokens and cost."""

    def total(field: str, kind: str) -> Column:
        values = F.filter(F.transform(calls, lambda c: c[field].cast(kind)), lambda v: v.isNotNull())
        return F.when(F.size(values) > 0, F.aggregate(values, F.lit(0).cast(kind), lambda acc, v: acc + v)).alias(field)

    return [
        F.array_min(F.transform(calls, lambda c: c[_START])).alias(_START),
        F.array_max(F.transform(calls, lambda c: c[_END])).alias(_END),
        total(_LATENCY, "long"), total(_TOKENS_IN, "long"), total(_TOKENS_OUT, "long"),
        total(_COST, "double"), total(_REASONING_TOKENS, "long"),
    ]


def _group_key() -> Column:
    """Accepted lines group by trajectory id; a rejected line is a group of its own."""
    rejected = F.col(REJECT_REASON).isNotNull()
    return F.struct(
        F.col(_TID).alias("id"),
        F.when(rejected, F.col(SOURCE_URI)).alias("uri"),
        F.when(rejected, F.col(SOURCE_LINE)).alias("line"),
    )


def to_trajectories(records: DataFrame) -> DataFrame:
    """One candidate per trajectory id (its lines grouped), plus one per rejected line."""
    calls = _calls(records)
    best_fields = [_CONVERSATION, _META, _EXAMPLE, _STATUS, _FINISH, _ERROR, _TOOLS, _FUNCTIONS, _REQUEST_MODEL, _RESPONSE_MODEL, _USER]
    grouped = calls.groupBy(_group_key().alias(_GROUP)).agg(
        F.min(F.struct(SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT)).alias(_FIRST),
        F.max_by(
            F.struct(*best_fields), F.struct(F.size(_CONVERSATION), F.col(_END), F.col(SOURCE_URI), F.col(SOURCE_LINE))
        ).alias(_BEST),
        F.first(F.struct(REJECT_REASON, REJECT_DETAIL)).alias(_REJECT),
        F.count(F.lit(1)).alias(_RECORDS),
        # A line logged twice (a re-emitted file) is one call: totals are over distinct calls.
        F.array_distinct(F.collect_list(F.struct(*CALL_FIELDS))).alias(_CALLS),
    ).select("*", *_call_totals(F.col(_CALLS)))
    # Materialised once: conversation_parts reads the messages many times.
    grouped = grouped.withColumn(_MESSAGES, _with_call_usage(_best(_CONVERSATION), F.col(_CALLS)))
    parts = conversation_parts(F.col(_MESSAGES))
    content = {
        "trajectory_id": F.col(f"{_GROUP}.id"),
        "session_id": _best_meta(META_SESSION_ID),
        "user_id": F.coalesce(_best_meta(META_USER_ID), _best(_USER)),
        "tenant": _best_meta(META_TENANT),
        "source_kind": F.coalesce(
            _best_meta(META_SOURCE_KIND), F.when(_best(_EXAMPLE), F.lit(DEMONSTRATION)), F.lit(INTERACTION_LOG)
        ),
        "agent": struct_or_null(AGENT, [_best_meta(META_AGENT_NAME), _best_meta(META_AGENT_VERSION)]),
        "model": _model(),
        "task": struct_or_null(
            TASK,
            [_best_meta(META_TASK_TYPE), _best_meta(META_TASK_DIFFICULTY), _best_meta(META_TASK_LANGUAGE), tags_of(_best_meta(META_TAGS))],
        ),
        "system_prompt": parts.system_prompt,
        "input": parts.input,
        "context_docs": F.from_json(_best_meta(META_CONTEXT_DOCS), ArrayType(CONTEXT_DOC)),
        "steps": parts.steps,
        "tools_available": _tools_available(),
        "final_output": parts.final_output,
        "metadata": _metadata(),
    }
    built = grouped.select(
        *[column.alias(name) for name, column in content.items()],
        F.lit(NAME).alias(SOURCE_FORMAT),
        *[F.col(f"{_FIRST}.{c}").alias(c) for c in (SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT)],
        F.col(f"{_REJECT}.{REJECT_REASON}").alias(_LINE_REASON),
        F.col(f"{_REJECT}.{REJECT_DETAIL}").alias(_LINE_DETAIL),
    )
    empty = ~has_text(F.col("input")) & (F.coalesce(F.size("steps"), F.lit(0)) <= 0) & ~has_text(F.col("final_output"))
    return as_candidates(
        built.withColumn(REJECT_REASON, F.coalesce(F.col(_LINE_REASON), F.when(empty, F.lit(NO_CONTENT))))
        .withColumn(REJECT_DETAIL, F.coalesce(F.col(_LINE_DETAIL), F.when(empty, F.lit("no input, steps or final output"))))
    )


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of), DETECT_FIELDS)
