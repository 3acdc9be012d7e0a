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

Spark parses each line with the LINE schema (a field of the wrong JSON type makes it a
`wrong_type` reject, as from_json's corrupt-record column says), finds its trajectory id and
rejects the lines without one; each trajectory id's lines are assembled in Python
(python_assembly), where the rules are cheaper than as Spark column expressions. The Python side
reads every value as the LINE schema types it (variant_values: string fields hold other JSON as
Jackson's text, doubles take numbers and the NaN / Infinity words) and applies conversation.py's
rules (conversation_rules), so a trajectory keeps the content hash the Spark mapping gave it.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import NamedTuple

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

from schemas.trajectory import CONTEXT_DOC
from transforms.adapters import message_shapes as ms
from transforms.adapters import python_assembly
from transforms.adapters import trace_rules as tr
from transforms.adapters import variant_values as vv
from transforms.adapters.base import (
    CORRUPT,
    INGEST_RUN_ID,
    INGESTED_AT,
    MISSING_TRAJECTORY_ID,
    NO_CONTENT,
    RECORD,
    REJECT_DETAIL,
    REJECT_REASON,
    SOURCE_FORMAT,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
    TopFields,
    no_keys,
    nonblank,
    with_parsed,
)
from transforms.adapters.conversation import ASSISTANT, CONTENT_PART_SEPARATOR, CONTENT_PARTS, STEP_RETRIEVAL, TAGS, TOOL
from transforms.adapters.conversation_rules import conversation_parts, has_text, message
from transforms.adapters.message_shapes import first
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

WRONG_TYPE_DETAIL = "a field has the wrong JSON type for an OpenAI chat log"
MISSING_TRAJECTORY_ID_DETAIL = "no trajectory_id, metadata.trajectory_id, trace_id, response id or id"
NO_CONTENT_DETAIL = "no input, steps or final output"

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
# A line's fields and their types: what from_json checks (wrong_type) and the Python side reads.
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

_LINE = "_line"
_TID = "_trajectory_id"


DETECT_FIELDS = ("request", "messages")


def detects(record: TopFields) -> Column:
    # The nested path and the key list parse the record again: only for records with the field.
    # (A `when`, not `&`: a null left side, every record without `messages`, made Spark evaluate
    # the right one, and listing the keys of every trace record was half of detection's cost.)
    logged_call = record["request"].isNotNull() & F.get_json_object(record.record, "$.request.messages").startswith("[")
    example = F.when(record["messages"].startswith("["), F.forall(F.json_object_keys(record.record), lambda k: k.isin(*EXAMPLE_KEYS)))
    return F.coalesce(logged_call, F.lit(False)) | F.coalesce(example, F.lit(False))


def _merged_meta(line: Column) -> Column:
    """Gateway `metadata`, then the keys only `request.metadata` has."""
    top_meta = F.coalesce(line["metadata"], F.create_map().cast("map<string,string>"))
    request_meta = F.coalesce(line["request"]["metadata"], F.create_map().cast("map<string,string>"))
    return F.map_concat(
        top_meta, F.map_filter(request_meta, lambda k, v: ~F.array_contains(F.map_keys(top_meta), k))
    )


def _trajectory_id(line: Column) -> Column:
    """The first non-blank of trajectory_id, metadata.trajectory_id, trace_id, response.id, id."""
    return F.coalesce(
        *[nonblank(c) for c in (
            line["trajectory_id"], _merged_meta(line)[META_TRAJECTORY_ID], line["trace_id"], line["response"]["id"], line["id"],
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
    key = _trajectory_id(line)
    return F.when(key.isNotNull(), F.array(key)).otherwise(no_keys())


_LINEAGE = [SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT]
_HANDED_TO_PYTHON = [RECORD, *_LINEAGE, _TID]


def to_trajectories(records: DataFrame) -> DataFrame:
    """Rejects of lines of the wrong shape or without a trajectory id (decided in Spark), then
    one candidate per trajectory id, its lines assembled in Python."""
    line = F.col(_LINE)
    parsed = with_parsed(records, _LINE, LINE)
    corrupt = line[CORRUPT].isNotNull()
    key = _trajectory_id(line)
    keyed = parsed.select(
        RECORD, *_LINEAGE,
        *python_assembly.key_and_rejects(
            key, _TID, (corrupt, WRONG_TYPE, WRONG_TYPE_DETAIL), (key.isNull(), MISSING_TRAJECTORY_ID, MISSING_TRAJECTORY_ID_DETAIL)
        ),
    )
    return python_assembly.assemble(keyed, _TID, _HANDED_TO_PYTHON, _assemble_trajectory, NAME)


# --- in Python: the lines of one trajectory id -> one candidate ---------------------------------
#
# Lines reaching Python parsed without error under LINE, so every value has its field's type:
# objects or null for structs and maps, arrays or null for arrays, integers for longs, numbers
# or the NaN / Infinity words for doubles; string fields take any JSON.

_CONTENT_PARTS = vv.json_reader(CONTENT_PARTS)
_TAGS = vv.json_reader(TAGS)
_CONTEXT_DOCS = vv.json_reader(ArrayType(CONTEXT_DOC))
# Java's `$` (no MULTILINE) also matches before one line terminator that ends the text; \d is ASCII.
_JAVA_END = r"(?=(?:\r\n|[\n\r\u0085\u2028\u2029])?\Z)"
_SNAPSHOT = re.compile(SNAPSHOT_SUFFIX.removesuffix("$") + _JAVA_END, re.ASCII)
_OPENAI_MODEL = re.compile(OPENAI_MODEL_NAMES, re.ASCII)
_PAIRS = json.JSONDecoder(object_pairs_hook=lambda pairs: pairs)
_EPOCH_SCALE = 6  # timestamp_of reads numbers as decimal(38,6) seconds


def _text(value, *path) -> str | None:
    """A string field: the string, or another JSON value's text as Jackson copies it."""
    return vv.jackson_text(vv.get(value, *path))


def _object(value, *path) -> dict | None:
    found = vv.get(value, *path)
    return found if found.__class__ is dict else None


def _list(value, *path) -> list | None:
    found = vv.get(value, *path)
    return found if found.__class__ is list else None


def _long(value, *path) -> int | None:
    found = vv.get(value, *path)
    return found if found.__class__ is int else None


def _double(value, *path) -> float | None:
    return vv.json_double(vv.get(value, *path))


def _lower_trim(value: str | None) -> str | None:
    """lower(trim(value)): Spark's trim strips spaces only."""
    return None if value is None else value.strip(" ").lower()


def _first_json_value(text: str):
    """The first JSON value of a text, its numbers as VARIANT keeps them; ValueError when there is none."""
    return vv.first_json_value(text, vv.VARIANT_DECODER)


def _json_value_or_absent(text: str):
    try:
        return _first_json_value(text)
    except ValueError:
        return vv.ABSENT


def _json_field(text: str | None, key: str) -> str | None:
    """get_json_object(text, '$.key'): a string as it is, other values as JSON text; null for a JSON null."""
    if text is None:
        return None
    found = vv.get(_json_value_or_absent(text), key)
    return None if found is vv.ABSENT else vv.jackson_text(found)


def _object_keys(text: str) -> list | None:
    """json_object_keys(text): the top-level object's keys, duplicates included."""
    try:
        pairs = _PAIRS.raw_decode(text)[0]
    except ValueError:
        return None
    return [k for k, _ in pairs] if isinstance(pairs, list) else None


def tool_error_of(text: str | None) -> str | None:
    """A tool result that is exactly `{"error": ...}` is the tool's error text."""
    if text is None or not text.startswith('{"error"') or _object_keys(text) != ["error"]:
        return None
    return _json_field(text, "error")


def text_of(content: str | None) -> str | None:
    """Message content as text: a plain string as is, a content-parts array (read from its JSON
    text, as Spark did) as its texts; a string that merely looks like a parts array is read as one."""
    if content is None or not content.startswith("[{"):
        return content
    parts = _CONTENT_PARTS(content)
    if not parts or any(p is None or p["type"] is None for p in parts):
        return content
    return CONTENT_PART_SEPARATOR.join(t for t in (first(p["text"], p["refusal"]) for p in parts) if t is not None)


def tags_of(value: str | None) -> list | None:
    """Tags given as a JSON array (`["a","b"]`) or as comma-separated text (`a, b`)."""
    if value is None:
        return None
    as_json = _TAGS(value) if value.startswith("[") else None
    if as_json is not None:
        return as_json
    return [t for t in (t.strip(" ") for t in value.split(",")) if t != ""]


def timestamp_of(value: str | None) -> int | None:
    """conversation.timestamp_of in seconds: Unix seconds (read as decimal(38,6)) or ISO-8601 text
    -> epoch microseconds; None if neither."""
    seconds = vv.text_to_decimal(value, _EPOCH_SCALE)
    if seconds is None:
        return vv.timestamp_micros(value)
    if seconds.adjusted() + _EPOCH_SCALE >= vv.MAX_DECIMAL_DIGITS - _EPOCH_SCALE:
        return None  # seconds * 1e6 overflows decimal(38,6) (Spark: null, or an error under ANSI)
    micros = int(seconds.scaleb(_EPOCH_SCALE, context=vv.WIDE))
    return micros if vv.LONG_MIN <= micros <= vv.LONG_MAX else None


def _status(raw: str | None, error: str | None, responded: bool) -> str | None:
    """A gateway status word as the canonical status; else error when there is one, completed when answered."""
    word = _lower_trim(raw)
    if word in COMPLETED_WORDS:
        return STATUS_COMPLETED
    if word in ERROR_WORDS:
        return STATUS_ERROR
    if word:
        return word
    if error is not None:
        return STATUS_ERROR
    return STATUS_COMPLETED if responded else None


def _string_map(value) -> dict:
    """A map<string,string> field (JSON null -> empty): values as string fields read them."""
    return {k: vv.jackson_text(v) for k, v in value.items()} if value.__class__ is dict else {}


def _meta(line: dict) -> dict:
    """Gateway `metadata`, then the keys only `request.metadata` has."""
    merged = _string_map(vv.get(line, "metadata"))
    for key, value in _string_map(vv.get(line, "request", "metadata")).items():
        merged.setdefault(key, value)
    return merged


def _message(raw) -> dict:
    """One chat message as a conversation MESSAGE (a JSON null message has every field null)."""
    text = text_of(_text(raw, "content"))
    retrieval = _text(raw, "name") == RETRIEVAL_NAME
    role = _lower_trim(_text(raw, "role"))
    error = tool_error_of(text) if role == TOOL else None
    calls = _list(raw, "tool_calls")
    return message(
        role=TOOL if retrieval else role,
        content=first(ms.nonblank(text), _text(raw, "refusal")) if error is None else None,
        reasoning=first(_text(raw, "reasoning_content"), _text(raw, "reasoning")),
        tool_calls=None if calls is None else [_tool_call(c) for c in calls],
        tool_call_id=_text(raw, "tool_call_id"),
        error=error,
        kind=STEP_RETRIEVAL if retrieval else None,
    )


def _tool_call(raw) -> dict:
    return {"call_id": _text(raw, "id"), "name": _text(raw, "function", "name"),
            "arguments": _text(raw, "function", "arguments"), "result": None, "error": None}


@dataclass(slots=True)
class _Call:
    """One line: what it adds to the trajectory's totals, and how it ranks as the trajectory."""

    line: dict
    row: dict
    conversation: list | None  # raw messages: the request's plus the reply, or the example's
    n_request: int | None  # how many messages the request sent = position of the reply
    start: int | None
    end: int | None

    def rank(self) -> tuple:
        """The line with the longest conversation, then the latest end, then the last position, is the trajectory."""
        size = -1 if self.conversation is None else len(self.conversation)
        return (size, self.end is not None, self.end or 0, self.row[SOURCE_URI], self.row[SOURCE_LINE])

    def counted(self) -> "_Counted":
        """The call's identity and its counted values: a call logged twice counts once."""
        line, usage = self.line, _object(self.line, "response", "usage")
        cost = first(_double(line, "cost_usd"), _double(line, "response_cost"))
        return _Counted(
            call_id=first(_text(line, "response", "id"), _text(line, "id"), f"{self.row[SOURCE_URI]}:{self.row[SOURCE_LINE]}"),
            n_request=self.n_request,
            start=self.start,
            end=self.end,
            latency=vv.double_to_long(_double(line, "latency_ms")),
            tokens_in=_long(usage, "prompt_tokens"),
            tokens_out=_long(usage, "completion_tokens"),
            cost=_NAN if cost != cost else cost,  # NaN equals NaN in Spark's array_distinct
            reasoning_tokens=_long(usage, "completion_tokens_details", "reasoning_tokens"),
        )


_NAN = "NaN"


class _Counted(NamedTuple):
    """What one call adds to the trajectory (Spark's CALL_FIELDS struct); equal tuples are one call."""

    call_id: str
    n_request: int | None
    start: int | None
    end: int | None
    latency: int | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | str | None
    reasoning_tokens: int | None


def _reply(line: dict) -> dict | None:
    return _object(line, "response", "choices", 0, "message")


def _read_call(row: dict) -> _Call:
    line = _first_json_value(row[RECORD])
    requested = _list(line, "request", "messages")
    reply = _reply(line)
    conversation = _list(line, "messages") if requested is None else requested + ([reply] if reply is not None else [])
    created = _long(line, "response", "created")
    start = first(
        timestamp_of(_text(line, "start_time")), timestamp_of(_text(line, "startTime")),
        created * vv.MICROS_PER_SECOND if created is not None else None,
    )
    end = first(timestamp_of(_text(line, "end_time")), timestamp_of(_text(line, "endTime")))
    return _Call(line, row, conversation, None if requested is None else len(requested), start, end)


@dataclass(slots=True)
class _Totals:
    """Earliest start, latest end and the sums of the distinct calls' latency, tokens and cost."""

    start: int | None
    end: int | None
    latency: int | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    reasoning_tokens: int | None


def _sum(values: list, zero):
    present = [v for v in values if v is not None]
    if not present:
        return None
    total = zero
    for v in present:
        total += v
    return total


def _totals(calls: list[_Counted]) -> _Totals:
    starts = [c.start for c in calls if c.start is not None]
    ends = [c.end for c in calls if c.end is not None]
    return _Totals(
        min(starts) if starts else None,
        max(ends) if ends else None,
        _sum([c.latency for c in calls], 0),
        _sum([c.tokens_in for c in calls], 0),
        _sum([c.tokens_out for c in calls], 0),
        _sum([math.nan if c.cost == _NAN else c.cost for c in calls], 0.0),
        _sum([c.reasoning_tokens for c in calls], 0),
    )


def _with_call_usage(messages: list[dict], calls: list[_Counted]) -> list[dict]:
    """Each assistant reply gets the times and tokens of the (first) call that produced it."""
    by_position: dict = {}
    for call in calls:
        by_position.setdefault(call.n_request, call)
    for position, m in enumerate(messages):
        call = by_position.get(position)
        if call is not None and m["role"] == ASSISTANT:
            m.update(started_at=call.start, ended_at=call.end, tokens_in=call.tokens_in, tokens_out=call.tokens_out)
    return messages


def _model(meta: dict, requested: str | None, answered: str | None) -> dict | None:
    """MODEL: metadata's names, else the requested name with the answered snapshot's suffix as version."""
    prefixed = requested is not None and answered is not None and answered.startswith(requested + "-")
    basis = first(answered, requested)
    snapshot = _SNAPSHOT.search(basis) if basis is not None else None
    version = first(meta.get(META_MODEL_VERSION), answered[len(requested) + 1:] if prefixed else None,
                    ms.nonblank(snapshot.group(1)) if snapshot else None)
    named = first(requested, answered)
    name = first(meta.get(META_MODEL_NAME), requested if prefixed else None,
                 _SNAPSHOT.sub("", named) if named is not None else None)
    guessed = PROVIDER if name is not None and _OPENAI_MODEL.search(name) else None
    provider = first(meta.get(META_MODEL_PROVIDER), guessed)
    return None if provider is None and name is None and version is None else {"provider": provider, "name": name, "version": version}


def _tools_available(line: dict) -> list | None:
    """`tools` ({type, function}) else legacy `functions`, of the request or the example; unnamed dropped."""
    tools = first(_list(line, "request", "tools"), _list(line, "tools"))
    functions = first(_list(line, "request", "functions"), _list(line, "functions"))
    if tools is not None:
        specs = [_object(t, "function") for t in tools]
    elif functions is not None:
        specs = functions
    else:
        return None
    named = [{"name": _text(f, "name"), "description": _text(f, "description"), "parameters": _text(f, "parameters")} for f in specs]
    return [s for s in named if s["name"] is not None]


def _error(line: dict) -> str | None:
    """The error's message, or the error itself (text, or JSON text)."""
    raw = _text(line, "error")
    return first(_json_field(raw, "message") if raw is not None and raw.lstrip(vv.JSON_SPACE).startswith("{") else None, raw)


def _extra(meta: dict, records: int, line: dict, error: str | None, totals: _Totals) -> list[tuple]:
    """Custom metadata keys (null values kept, as the Spark map did), then the adapter's own."""
    custom = [(k, v) for k, v in meta.items() if k not in CANONICAL_META_KEYS and k not in COMPUTED_EXTRA_KEYS]
    computed = [
        (EXTRA_RECORDS, str(records)),
        (EXTRA_FINISH_REASON, _text(line, "response", "choices", 0, "finish_reason")),
        (EXTRA_REASONING_TOKENS, None if totals.reasoning_tokens is None else str(totals.reasoning_tokens)),
        (EXTRA_ERROR, error),
    ]
    return custom + [(k, v) for k, v in computed if v is not None]


def _metadata(meta: dict, best: _Call, totals: _Totals, records: int) -> dict:
    """Trajectory-level values from metadata when given, else aggregated over the calls."""
    line = best.line
    error = _error(line)
    started = first(timestamp_of(meta.get(META_STARTED_AT)), totals.start)
    ended = first(timestamp_of(meta.get(META_ENDED_AT)), totals.end)
    return {
        "latency_ms": first(vv.double_to_long(vv.text_to_double(meta.get(META_LATENCY_MS))), tr.latency_ms(started, ended), totals.latency),
        "tokens_in": first(vv.text_to_long(meta.get(META_TOKENS_IN)), totals.tokens_in),
        "tokens_out": first(vv.text_to_long(meta.get(META_TOKENS_OUT)), totals.tokens_out),
        "cost_usd": first(vv.text_to_double(meta.get(META_COST_USD)), totals.cost),
        "status": first(_status(meta.get(META_STATUS), None, False), _status(_text(line, "status"), error, _reply(line) is not None)),
        "started_at": started,
        "ended_at": ended,
        "extra": _extra(meta, records, line, error, totals),
    }


def _struct_or_null(**values) -> dict | None:
    return values if any(v is not None for v in values.values()) else None


def _content(trajectory_id: str, best: _Call, calls: list[_Counted], records: int) -> dict:
    line, meta = best.line, _meta(best.line)
    totals = _totals(calls)
    raw = best.conversation or []
    parts = conversation_parts(_with_call_usage([_message(m) for m in raw], calls))
    example = _list(line, "request", "messages") is None
    return {
        "trajectory_id": trajectory_id,
        "session_id": meta.get(META_SESSION_ID),
        "user_id": first(meta.get(META_USER_ID), _text(line, "request", "user")),
        "tenant": meta.get(META_TENANT),
        "source_kind": first(meta.get(META_SOURCE_KIND), DEMONSTRATION if example else None, INTERACTION_LOG),
        "agent": _struct_or_null(name=meta.get(META_AGENT_NAME), version=meta.get(META_AGENT_VERSION)),
        "model": _model(meta, _text(line, "request", "model"), _text(line, "response", "model")),
        "task": _struct_or_null(
            type=meta.get(META_TASK_TYPE), difficulty=meta.get(META_TASK_DIFFICULTY),
            language=meta.get(META_TASK_LANGUAGE), tags=tags_of(meta.get(META_TAGS)),
        ),
        "system_prompt": parts.system_prompt,
        "input": parts.input,
        "context_docs": _CONTEXT_DOCS(meta.get(META_CONTEXT_DOCS)),
        "steps": parts.steps,
        "tools_available": _tools_available(line),
        "final_output": parts.final_output,
        "metadata": _metadata(meta, best, totals, records),
    }


def _lineage_order(row: dict) -> tuple:
    """The Spark adapter's min(struct(source_uri, source_line, ingest_run_id, ingested_at))."""
    return (row[SOURCE_URI], row[SOURCE_LINE], row[INGEST_RUN_ID], row[INGESTED_AT])


def _distinct(calls: list[_Counted]) -> list[_Counted]:
    """Spark's array_distinct: the first of equal calls, in order."""
    return list(dict.fromkeys(calls))


def _assemble_trajectory(rows: list[dict]) -> list[dict]:
    """The lines sharing a trajectory id -> its candidate (a `no_content` reject when empty)."""
    rows = sorted(rows, key=_lineage_order)
    calls = [_read_call(row) for row in rows]
    best = max(calls, key=_Call.rank)
    content = _content(rows[0][_TID], best, _distinct([c.counted() for c in calls]), len(rows))
    empty = not has_text(content["input"]) and not content["steps"] and not has_text(content["final_output"])
    first_row = rows[0]
    return [{
        **content,
        SOURCE_FORMAT: NAME,
        **{c: first_row[c] for c in _LINEAGE},
        REJECT_REASON: NO_CONTENT if empty else None,
        REJECT_DETAIL: NO_CONTENT_DETAIL if empty else None,
    }]


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of), DETECT_FIELDS)
