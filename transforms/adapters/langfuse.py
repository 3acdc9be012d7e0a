"""Langfuse trace exports: a trace and its observations -> one trajectory.

Documentation followed: the Langfuse public API definition (langfuse/langfuse
`fern/apis/server/definition/commons.yml`: Trace, TraceWithDetails, TraceWithFullDetails,
Observation, ObservationsView, Usage; `ObservationType` SPAN | GENERATION | EVENT | AGENT | TOOL
| CHAIN | RETRIEVER | EVALUATOR | EMBEDDING | GUARDRAIL; `usageDetails` / `costDetails` maps) and
the observation-types page (langfuse.com/docs/observability/features/observation-types).

Two export shapes are read, told apart per record:
- nested: `GET /api/public/traces/{id}` (TraceWithFullDetails), the trace with its
  `observations` as objects: one record is one trajectory;
- flat: one observation per line (`GET /api/public/observations`, each with `traceId`) plus a
  trace line (`GET /api/public/traces`: TraceWithDetails, `observations` as ids), grouped by
  trace id across lines and files; a trace without its trace line still gives a trajectory.
  An observation (or trace line) exported more than once counts once, in its latest export.
  Lines of a trace that arrive in a later ingest run are assembled with the earlier ones by
  normalize (`group_keys`).

Spark keys the lines (a flat line by its trace id, a nested trace by the record itself) and
rejects those it cannot key or that do not parse; each key's lines are assembled in Python
(python_assembly), by the format-neutral rules of trace_rules and message_shapes, which are
cheaper there than as Spark column expressions.

Mapping (step rules: transforms.adapters.trace_rules): GENERATION observations are model
calls (input: a message list or {messages, tools}; output: a message or completion; shapes in
transforms.adapters.message_shapes), TOOL observations tool steps (input = arguments, output =
result, level ERROR + statusMessage = error, call id from metadata.tool_call_id), RETRIEVER
observations retrievals (input query; output documents). The trace gives identity (id, userId,
sessionId), agent (name, release), tags, input and output; trace metadata keys tenant,
task_type, task_difficulty, task_language, source_kind, status are canonical fields, the other
keys go to metadata.extra. The model provider is the generation's metadata `ls_provider`
(LangChain integration) or `provider`; the version comes from the snapshot the answer reported
(response_metadata.model_name / model).

Not read: the blob-storage export (snake_case columns), scores.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    DoubleType,
    MapType,
    StringType,
    StructField,
    StructType,
    VariantType,
)

from transforms.adapters import message_shapes as ms
from transforms.adapters import python_assembly
from transforms.adapters import trace_rules as tr
from transforms.adapters import variant_values as vv
from transforms.adapters.base import (
    CORRUPT,
    INGESTED_AT,
    INGEST_RUN_ID,
    MISSING_TRAJECTORY_ID,
    RECORD,
    RECORDS_KEY,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
    TopFields,
    no_keys,
    nonblank,
    record_key,
    with_parsed,
)

NAME = "langfuse"

MISSING_TRACE_ID = "missing_trace_id"

OBSERVATION_TYPES = ("SPAN", "GENERATION", "EVENT", "AGENT", "TOOL", "CHAIN", "RETRIEVER", "EVALUATOR", "EMBEDDING", "GUARDRAIL")
GENERATION = "GENERATION"
TOOL = "TOOL"
RETRIEVER = "RETRIEVER"
LEVEL_ERROR = "ERROR"
DEFAULT_SOURCE_KIND = "interaction_log"
STATUS_COMPLETED = "completed"
STATUS_ERROR = "error"
# What a failed observation's error says when it logged no status message and no output.
UNKNOWN_ERROR = "error"

# Trace metadata keys that are canonical fields (the others go to metadata.extra).
META_TENANT = "tenant"
META_TASK_TYPE = "task_type"
META_TASK_DIFFICULTY = "task_difficulty"
META_TASK_LANGUAGE = "task_language"
META_SOURCE_KIND = "source_kind"
META_STATUS = "status"
CANONICAL_META_KEYS = (META_TENANT, META_TASK_TYPE, META_TASK_DIFFICULTY, META_TASK_LANGUAGE, META_SOURCE_KIND, META_STATUS)
# Observation metadata keys.
META_TOOL_CALL_ID = "tool_call_id"
META_PROVIDERS = ("ls_provider", "provider")

EXTRA_OBSERVATIONS = "observations"
EXTRA_ENVIRONMENT = "environment"

WRONG_TYPE_DETAIL = "a field has the wrong JSON type for a Langfuse trace or observation"
MISSING_TRACE_ID_DETAIL = "the observation has no traceId"
MISSING_TRAJECTORY_ID_DETAIL = "the trace has no id"

_USAGE_KEYS = ("input", "output", "total", "unit", "inputCost", "outputCost", "totalCost")
_USAGE = StructType([StructField(k, StringType()) for k in _USAGE_KEYS])

# One line: a trace (nested or flat) or an observation. The shapes share most keys. Strings take
# any JSON (non-strings as their JSON text), variants are payloads read by path.
LANGFUSE_RECORD = StructType(
    [
        StructField("id", StringType()),
        StructField("traceId", StringType()),
        StructField("type", StringType()),
        StructField("name", StringType()),
        StructField("timestamp", StringType()),
        StructField("startTime", StringType()),
        StructField("endTime", StringType()),
        StructField("model", StringType()),
        StructField("input", VariantType()),
        StructField("output", VariantType()),
        StructField("metadata", VariantType()),
        StructField("usage", _USAGE),
        StructField("usageDetails", MapType(StringType(), StringType())),
        StructField("costDetails", MapType(StringType(), StringType())),
        StructField("calculatedTotalCost", StringType()),
        StructField("level", StringType()),
        StructField("statusMessage", StringType()),
        StructField("parentObservationId", StringType()),
        StructField("sessionId", StringType()),
        StructField("userId", StringType()),
        StructField("release", StringType()),
        StructField("version", StringType()),
        StructField("environment", StringType()),
        StructField("tags", ArrayType(StringType())),
        StructField("latency", DoubleType()),
        StructField("totalCost", DoubleType()),
        StructField("observations", ArrayType(StringType())),  # objects (nested) or ids (flat), as JSON text
    ]
)
_OBSERVATION_FIELDS = (
    "id", "traceId", "type", "name", "startTime", "endTime", "model", "input", "output", "metadata",
    "usage", "usageDetails", "costDetails", "calculatedTotalCost", "level", "statusMessage", "parentObservationId",
)
_TRACE_FIELDS = (
    "id", "name", "timestamp", "input", "output", "metadata", "sessionId", "userId", "release", "version",
    "environment", "tags", "latency", "totalCost",
)
_KEYING_FIELDS = ("id", "traceId", "type", "startTime", "observations")
# What keys a line, and every field that can make it fail to parse (a string field takes any JSON).
RECORD_SHAPE = StructType([f for f in LANGFUSE_RECORD if f.name in _KEYING_FIELDS or not isinstance(f.dataType, StringType)])

_P = "_parsed"
_GROUP = "_group"
_TRACE_KEY = "_trace_key"
_OBSERVATION = "_observation"


DETECT_FIELDS = ("type", "startTime", "id", "timestamp", "htmlPath", "observations", "run_type", "resourceSpans")


def detects(record: TopFields) -> Column:
    observation = F.upper(record["type"]).isin(*OBSERVATION_TYPES) & record["startTime"].isNotNull()
    trace = (
        record["id"].isNotNull()
        & record["timestamp"].isNotNull()
        & (record["htmlPath"].isNotNull() | record["observations"].isNotNull())
    )
    other_format = record["run_type"].isNotNull() | record["resourceSpans"].isNotNull()
    return F.coalesce((observation | trace) & ~other_format, F.lit(False))


def _is_observation(p: Column) -> Column:
    return F.upper(p["type"]).isin(*OBSERVATION_TYPES) & p["startTime"].isNotNull()


def _embedded(p: Column) -> Column:
    """The observations a nested trace carries as objects (a flat trace line lists ids)."""
    return F.filter(F.coalesce(p["observations"], F.array()), lambda x: F.ltrim(x).startswith("{"))


def _trace_key(p: Column) -> Column:
    return F.when(_is_observation(p), nonblank(p["traceId"])).otherwise(nonblank(p["id"]))


def _nested(p: Column) -> Column:
    """A trace carrying its observations: one record, one trajectory (null counts as not)."""
    return ~_is_observation(p) & (F.size(_embedded(p)) > 0)


# Just enough of a line to find its trace.
_KEY_FIELDS = StructType([LANGFUSE_RECORD[f] for f in _KEYING_FIELDS])


def _keys_of(p: Column) -> Column:
    """A flat line's trace id; none for a nested trace (one record, one trajectory)."""
    key = _trace_key(p)
    return F.when(_nested(p), no_keys()).when(key.isNotNull(), F.array(key)).otherwise(no_keys())


_HANDED_TO_PYTHON = [RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, _GROUP, _TRACE_KEY, _OBSERVATION]


def to_trajectories(records: DataFrame) -> DataFrame:
    """Rejects of lines that do not parse or name no trace (decided in Spark), then one
    candidate per trace (or nested trace record) assembled in Python."""
    p = F.col(_P)
    parsed = with_parsed(records, _P, RECORD_SHAPE)
    is_observation = _is_observation(p)
    trace_key = _trace_key(p)
    corrupt = p[CORRUPT].isNotNull()
    no_trace = trace_key.isNull()
    keyed = parsed.select(
        RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        trace_key.alias(_TRACE_KEY),
        F.coalesce(is_observation, F.lit(False)).alias(_OBSERVATION),
        *python_assembly.key_and_rejects(
            F.when(_nested(p), record_key()).otherwise(trace_key), _GROUP,
            (corrupt, WRONG_TYPE, WRONG_TYPE_DETAIL),
            (no_trace & is_observation, MISSING_TRACE_ID, MISSING_TRACE_ID_DETAIL),
            (no_trace, MISSING_TRAJECTORY_ID, MISSING_TRAJECTORY_ID_DETAIL),
        ),
    )
    return python_assembly.assemble(keyed, _GROUP, _HANDED_TO_PYTHON, _assemble_trace, NAME)


# --- in Python: the lines of one trace -> one candidate ----------------------------------------


def _text_map(value) -> dict | None:
    """A from_json map<string,string>: an object's values as text."""
    return {k: vv.jackson_text(v) for k, v in value.items()} if isinstance(value, dict) else None


def _text_array(value) -> list | None:
    return [vv.jackson_text(v) for v in value] if isinstance(value, list) else None


def _usage(value) -> dict | None:
    return {k: vv.jackson_text(vv.get(value, k)) for k in _USAGE_KEYS} if isinstance(value, dict) else None


def _payload(value):
    return value


# How Python reads a field, by the type the Spark adapter parsed it as: a value of the wrong type
# reads as null (from_json's partial result for a nested observation; a line was rejected).
_READERS = {StringType: vv.jackson_text, VariantType: _payload, MapType: _text_map, DoubleType: vv.json_double,
            ArrayType: _text_array, StructType: _usage}
_OBSERVATION_READERS = tuple((f, _READERS[type(LANGFUSE_RECORD[f].dataType)]) for f in _OBSERVATION_FIELDS)
_TRACE_READERS = tuple((f, _READERS[type(LANGFUSE_RECORD[f].dataType)]) for f in _TRACE_FIELDS)


def _read(raw, readers: tuple) -> dict:
    """The fields of a line (or nested observation) as Spark's from_json typed them."""
    return {name: read(vv.get(raw, name)) for name, read in readers}


_NO_TRACE = _read({}, _TRACE_READERS)


@dataclass(slots=True)
class _Observation:
    id: str | None
    seen: tuple  # (ingested_at, source_uri, source_line) of its record: later exports win
    type: str | None  # upper case
    root_failed: bool  # a root observation at level ERROR
    cost: float | None
    op: tr.Operation


def _upper(text: str | None) -> str | None:
    return None if text is None else text.upper()


def _embedded_observations(record) -> list:
    """The observations a line carries as objects, as from_json reads each back from the JSON
    text of the `observations` string array: an object from the text Jackson copied it to, a
    string holding an object from that string (all fields null when it does not parse)."""
    listed = vv.get(record, "observations")
    found = []
    # An object's copied text always starts with "{": only a string needs looking at (writing
    # each object out to check took a fifth of the adapter's Python time).
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, dict):
            found.append(vv.jackson_copy(item))
        elif isinstance(item, str) and item.lstrip(" ").startswith("{"):
            found.append(vv.loads_object(item))
    return found


def _assemble_trace(rows: list[dict]) -> list[dict]:
    trace = _NO_TRACE
    observations: list[_Observation] = []
    sent = ms.SentMessages()  # mostly in export order, each generation after those it re-sends (any order reads the same)
    for row in sorted(rows, key=python_assembly.seen):
        record = vv.loads(row[RECORD])
        seen = python_assembly.seen(row)
        if row[_OBSERVATION]:
            observations.append(_read_observation(record, seen, sent))
        else:
            trace = _read(record, _TRACE_READERS)  # rows in ingestion order: the latest export wins
        observations += [_read_observation(raw, seen, sent) for raw in _embedded_observations(record)]
    observations = tr.unique_by(observations, key=lambda o: o.id, newest=lambda o: o.seen)
    ops = tr.sort_operations([o.op for o in observations])
    return [python_assembly.finished(_content(trace, observations, ops, rows[0][_TRACE_KEY], len(rows)), NAME, rows)]


def _read_observation(raw, seen: tuple, sent: ms.SentMessages) -> _Observation:
    """An observation; `sent` reads the messages a generation sent (the trace's SentMessages)."""
    o = _read(raw, _OBSERVATION_READERS)
    level = _upper(o["level"])
    cost = ms.first((o["costDetails"] or {}).get("total"), o["calculatedTotalCost"], (o["usage"] or {}).get("totalCost"))
    return _Observation(
        id=o["id"],
        seen=seen,
        type=_upper(o["type"]),
        root_failed=o["parentObservationId"] is None and level == LEVEL_ERROR,
        cost=vv.text_to_double(cost),
        op=_operation(o, level, sent),
    )


_OPERATION_KINDS = {GENERATION: tr.OP_LLM, TOOL: tr.OP_TOOL, RETRIEVER: tr.OP_RETRIEVAL}
# Where an answer reports the model snapshot.
_REPORTED_MODEL_PATHS = (("response_metadata", "model_name"), ("kwargs", "response_metadata", "model_name"), ("model",))
_QUERY_KEYS = ("query", "question", "input")
# usageDetails keys (then usage's) that report a generation's tokens.
_TOKENS_IN = ("input", "prompt_tokens")
_TOKENS_OUT = ("output", "completion_tokens")


def _tokens(o: dict, keys: tuple[str, str]) -> int | None:
    details, usage = o["usageDetails"] or {}, o["usage"] or {}
    reported = ms.first(details.get(keys[0]), usage.get(keys[0]), details.get(keys[1]))
    return vv.double_to_long(vv.text_to_double(reported))


def _query(value) -> str | None:
    return value if isinstance(value, str) else ms.first(*[vv.text_at(value, k) for k in _QUERY_KEYS])


def _tool_call(o: dict, level: str | None) -> dict:
    """A tool observation's call: level ERROR makes it an error (status message, else output);
    any other level, a result (no level: neither, as the Spark adapter's null comparison gave)."""
    failed = level == LEVEL_ERROR
    error = ms.first(ms.nonblank(o["statusMessage"]), vv.text(o["output"]), UNKNOWN_ERROR) if failed else None
    result = vv.text(o["output"]) if level is not None and not failed else None
    return tr.tool_call(vv.text_at(o["metadata"], META_TOOL_CALL_ID), o["name"], vv.text(o["input"]), result, error)


def _operation(o: dict, level: str | None, sent: ms.SentMessages) -> tr.Operation:
    kind = _OPERATION_KINDS.get(_upper(o["type"]), tr.OP_OTHER)
    inputs, outputs, meta = o["input"], o["output"], o["metadata"]
    parts: dict = {"tools": lambda: ms.tool_specs(vv.get(inputs, "tools"))}  # read only for the first offering any
    if kind == tr.OP_LLM:
        reported = ms.first(*[vv.text_at(outputs, *path) for path in _REPORTED_MODEL_PATHS])
        provider = ms.first(*[vv.text_at(meta, key) for key in META_PROVIDERS])
        parts.update(
            inputs=[ms.message(ms.ROLE_USER, inputs)] if isinstance(inputs, str) else sent(inputs),
            output=ms.output_message(outputs),
            tokens_in=_tokens(o, _TOKENS_IN),
            tokens_out=_tokens(o, _TOKENS_OUT),
            model=tr.model_of(provider, o["model"], reported),
        )
    elif kind == tr.OP_TOOL:
        parts["tool"] = _tool_call(o, level)
    elif kind == tr.OP_RETRIEVAL:
        parts.update(query=_query(inputs), docs=ms.documents(outputs))
    return tr.operation(kind, vv.timestamp_micros(o["startTime"]), vv.timestamp_micros(o["endTime"]), o["id"], **parts)


_TRACE_TEXT_KEYS = ("input", "output", "content", "query", "question")


def _trace_text(value) -> str | None:
    """A trace input/output as text: a string, {input|output|content|query|question: string}, or a message."""
    found = value if isinstance(value, str) else ms.first(*[vv.text_at(value, k) for k in _TRACE_TEXT_KEYS])
    return ms.nonblank(found)


def _trace_input(trace: dict) -> str | None:
    users = [m for m in ms.message_array(trace["input"]) or () if m["role"] == ms.ROLE_USER]
    return ms.first(_trace_text(trace["input"]), users[0]["content"] if users else None)


def _trace_output(trace: dict) -> str | None:
    answer = ms.output_message(trace["output"]) or {}
    return ms.first(_trace_text(trace["output"]), ms.nonblank(answer.get("content")))


def _latency_ms(trace: dict, started: int | None, ended: int | None) -> int | None:
    """The trace's reported latency (seconds), else its span."""
    seconds = trace["latency"]
    reported = None if seconds is None else vv.double_to_long(vv.round_half_up(seconds * 1000))
    return ms.first(reported, tr.latency_ms(started, ended))


def _content(trace: dict, observations: list[_Observation], ops: list[tr.Operation], trace_key: str, records: int) -> dict:
    meta = trace["metadata"]

    def m(key: str) -> str | None:
        return vv.text_at(meta, key)

    reported_start = vv.timestamp_micros(trace["timestamp"])
    starts = [t for t in (min((o.at for o in ops), default=None), reported_start) if t is not None]
    started = min(starts) if starts else None
    ended = ms.first(max((ms.first(o.ended, o.at) for o in ops), default=None), started)
    costs = [o.cost for o in observations if o.type == GENERATION]
    root_failed = any(o.root_failed for o in observations)
    custom = {k: v for k, v in (vv.string_map(meta) or {}).items() if k not in CANONICAL_META_KEYS}
    return {
        "trajectory_id": ms.first(trace["id"], trace_key),
        "session_id": trace["sessionId"],
        "user_id": trace["userId"],
        "tenant": m(META_TENANT),
        "source_kind": ms.first(m(META_SOURCE_KIND), DEFAULT_SOURCE_KIND),
        "agent": {"name": trace["name"], "version": ms.first(trace["release"], trace["version"])},
        "model": tr.first_model(ops),
        "task": {"type": m(META_TASK_TYPE), "difficulty": m(META_TASK_DIFFICULTY), "language": m(META_TASK_LANGUAGE), "tags": trace["tags"]},
        "system_prompt": tr.system_prompt(ops),
        "input": ms.first(_trace_input(trace), tr.first_user_text(ops)),
        "context_docs": tr.context_docs(ops),
        "steps": tr.steps(ops),
        "tools_available": tr.tools_available(ops),
        "final_output": ms.first(_trace_output(trace), tr.last_answer(ops)),
        "metadata": {
            "latency_ms": _latency_ms(trace, started, ended),
            "tokens_in": tr.token_total(ops, "tokens_in"),
            "tokens_out": tr.token_total(ops, "tokens_out"),
            "cost_usd": ms.first(trace["totalCost"], tr.total(costs)),
            "status": ms.first(m(META_STATUS), STATUS_ERROR if root_failed else None, STATUS_COMPLETED),
            "started_at": started,
            "ended_at": ended,
            "extra": tr.extra_map(
                custom,
                {RECORDS_KEY: records, EXTRA_OBSERVATIONS: len(observations), EXTRA_ENVIRONMENT: trace["environment"]},
            ),
        },
    }


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of), DETECT_FIELDS)
