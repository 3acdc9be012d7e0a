"""LangSmith run exports: the runs of one trace -> one trajectory.

Documentation followed: LangSmith "Run (span) data format" (docs.smith.langchain.com
reference/data_formats/run_data_format: id, trace_id, parent_run_id, dotted_order, run_type,
inputs, outputs, error, start_time, end_time, extra, tags, session_id, status, prompt_tokens,
completion_tokens, total_tokens, total_cost, child_runs), "Log LLM calls" (messages in LangChain,
OpenAI or Anthropic format; `ls_provider` / `ls_model_name` metadata) and "threads" (the
conversation id is metadata `thread_id`, `session_id` or `conversation_id`; `session_id` of a
run is its tracing project).

Two export shapes, told apart per record:
- flat: one run per line, grouped by trace_id (else the root id that starts dotted_order, else
  the run's own id when it has no parent) across lines and files, ordered by start time then
  dotted_order; a run exported more than once counts once, in its latest export; runs of a trace
  that arrive in a later ingest run are assembled with the earlier ones by normalize (`group_keys`);
- nested: a root run with `child_runs` inline, read to NESTED_LEVELS levels with an explicit
  schema (deeper runs are counted in metadata.extra["runs_beyond_depth"], not read).

Spark keys the records (a flat run by its trace, a nested export by the record itself) and
rejects those it cannot key or that do not parse as runs; each key's records are assembled in
Python (python_assembly), by the format-neutral rules of trace_rules and message_shapes, which
are cheaper there than as Spark column expressions.

Mapping (step rules: transforms.adapters.trace_rules): `llm` runs are model calls (inputs
`messages` - a list or LangChain's list of lists - or `prompts`; outputs an LLMResult
`generations`, a completion `choices`, or a message; shapes in message_shapes), `tool` runs tool
steps (inputs = arguments, outputs.output = result, a ToolMessage's tool_call_id = call id,
`error` or an error ToolMessage = error), `retriever` runs retrievals (inputs.query, outputs
documents). The root run gives the agent (name; metadata revision_id = version), tags, input,
output, totals; root metadata keys trajectory_id, thread_id / session_id / conversation_id,
user_id, tenant, source_kind, task_type, task_difficulty, task_language, status are canonical
fields, other keys (but LangSmith's own ls_* ones) go to metadata.extra.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType, VariantType

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
    no_keys,
    nonblank,
    record_key,
    with_parsed,
)

NAME = "langsmith"

MISSING_TRACE_ID = "missing_trace_id"

# Levels of a nested export read: the root and NESTED_LEVELS - 1 levels of child_runs.
NESTED_LEVELS = 5

RUN_LLM = "llm"
RUN_TOOL = "tool"
RUN_RETRIEVER = "retriever"
STATUS_ERROR = "error"
STATUS_COMPLETED = "completed"
DEFAULT_SOURCE_KIND = "interaction_log"

# Root-run metadata keys that are canonical fields.
META_TRAJECTORY_ID = "trajectory_id"
META_THREAD_KEYS = ("thread_id", "session_id", "conversation_id")
META_USER_ID = "user_id"
META_TENANT = "tenant"
META_SOURCE_KIND = "source_kind"
META_VERSION_KEYS = ("revision_id", "agent_version")
META_TASK_TYPE = "task_type"
META_TASK_DIFFICULTY = "task_difficulty"
META_TASK_LANGUAGE = "task_language"
META_STATUS = "status"
CANONICAL_META_KEYS = (
    META_TRAJECTORY_ID, *META_THREAD_KEYS, META_USER_ID, META_TENANT, META_SOURCE_KIND, *META_VERSION_KEYS,
    META_TASK_TYPE, META_TASK_DIFFICULTY, META_TASK_LANGUAGE, META_STATUS,
)
LANGSMITH_META_PREFIXES = ("ls_", "LANGSMITH_", "LANGCHAIN_")
# Run metadata keys.
META_PROVIDER = "ls_provider"
META_MODEL_NAME = "ls_model_name"
META_TOOL_CALL_ID = "tool_call_id"

EXTRA_RUNS = "runs"
EXTRA_BEYOND_DEPTH = "runs_beyond_depth"
EXTRA_PROJECT = "langsmith_project_id"

WRONG_TYPE_DETAIL = "a field has the wrong JSON type for a LangSmith run"
MISSING_TRACE_ID_DETAIL = "the run has no trace_id, dotted_order or root id"

# A run's fields and how the Spark adapter typed them: strings take any JSON (non-strings as
# their JSON text), variants are payloads read by path, tags an array of strings.
_RUN_FIELDS = [
    StructField("id", StringType()),
    StructField("trace_id", StringType()),
    StructField("parent_run_id", StringType()),
    StructField("dotted_order", StringType()),
    StructField("name", StringType()),
    StructField("run_type", StringType()),
    StructField("inputs", VariantType()),
    StructField("outputs", VariantType()),
    StructField("error", StringType()),
    StructField("start_time", StringType()),
    StructField("end_time", StringType()),
    StructField("extra", VariantType()),
    StructField("tags", ArrayType(StringType())),
    StructField("session_id", StringType()),
    StructField("status", StringType()),
    StructField("prompt_tokens", StringType()),
    StructField("completion_tokens", StringType()),
    StructField("total_tokens", StringType()),
    StructField("total_cost", StringType()),
]
_TEXT_FIELDS = tuple(f.name for f in _RUN_FIELDS if isinstance(f.dataType, StringType))
_PAYLOAD_FIELDS = tuple(f.name for f in _RUN_FIELDS if isinstance(f.dataType, VariantType))
_TAGS = "tags"
_CHILD_RUNS = "child_runs"
_KEYING_FIELDS = ("id", "trace_id", "parent_run_id", "dotted_order")


def _shape_schema(levels: int) -> StructType:
    """What keys a record and what can make it fail to parse as runs: its arrays (tags, and
    child_runs holding runs to `levels` levels, below which they stay JSON text). String fields
    take any JSON, so the rest of a run is left to Python."""
    children = ArrayType(_shape_schema(levels - 1)) if levels > 0 else ArrayType(StringType())
    fields = [f for f in _RUN_FIELDS if f.name in (*_KEYING_FIELDS, _TAGS)]
    return StructType(fields + [StructField(_CHILD_RUNS, children)])


RUN_SHAPE = _shape_schema(NESTED_LEVELS - 1)

_P = "_parsed"
_GROUP = "_group"
_TRACE_KEY = "_trace_key"
_NESTED = "_nested"


DETECT_FIELDS = ("run_type", "id", "resourceSpans")


def detects(record: TopFields) -> Column:
    return F.coalesce(
        record["run_type"].isNotNull() & record["id"].isNotNull() & record["resourceSpans"].isNull(),
        F.lit(False),
    )


def _trace_key(run: Column) -> Column:
    root_in_order = nonblank(F.regexp_extract(F.coalesce(run["dotted_order"], F.lit("")), r"^[0-9]{8}T[0-9]+Z([^.]+)", 1))
    own_id_if_root = F.when(nonblank(run["parent_run_id"]).isNull(), nonblank(run["id"]))
    return F.coalesce(nonblank(run["trace_id"]), root_in_order, own_id_if_root)


def _nested(run: Column) -> Column:
    return F.coalesce(F.size(run[_CHILD_RUNS]) > 0, F.lit(False))


# Just enough of a run to find its trace (child_runs only counted).
_KEY_FIELDS = StructType(
    [f for f in _RUN_FIELDS if f.name in _KEYING_FIELDS] + [StructField(_CHILD_RUNS, ArrayType(StringType()))]
)


def _keys_of(run: Column) -> Column:
    """A flat run's trace key; none for a nested export (one record, one trajectory)."""
    key = _trace_key(run)
    return F.when(_nested(run), no_keys()).when(key.isNotNull(), F.array(key)).otherwise(no_keys())


_HANDED_TO_PYTHON = [RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT, _GROUP, _TRACE_KEY, _NESTED]


def to_trajectories(records: DataFrame) -> DataFrame:
    """Rejects of records that are not runs or name no trace (decided in Spark), then one
    candidate per trace (or nested export) assembled in Python."""
    p = F.col(_P)
    parsed = with_parsed(records, _P, RUN_SHAPE)
    corrupt = p[CORRUPT].isNotNull()
    nested = _nested(p)
    key = F.when(nested, F.coalesce(nonblank(p["trace_id"]), nonblank(p["id"]))).otherwise(_trace_key(p))
    keyed = parsed.select(
        RECORD, SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        key.alias(_TRACE_KEY),
        nested.alias(_NESTED),
        *python_assembly.key_and_rejects(
            F.when(nested, record_key()).otherwise(key), _GROUP,
            (corrupt, WRONG_TYPE, WRONG_TYPE_DETAIL), (key.isNull(), MISSING_TRACE_ID, MISSING_TRACE_ID_DETAIL),
        ),
    )
    return python_assembly.assemble(keyed, _GROUP, _HANDED_TO_PYTHON, _assemble_trace, NAME)


# --- in Python: the runs of one trace -> one candidate ------------------------------------------


@dataclass(slots=True)
class _Run:
    fields: dict  # the run's fields, read as the Spark adapter typed them
    seen: tuple  # (ingested_at, source_uri, source_line) of its record: later exports win
    is_root: bool
    at: int | None
    order: str
    op: tr.Operation

    @property
    def id(self) -> str | None:
        return self.fields["id"]


def _children(run) -> list:
    children = vv.get(run, _CHILD_RUNS)
    return children if isinstance(children, list) else []


def _runs_of(record: dict) -> tuple[list, int]:
    """All runs of a (possibly nested) record, flattened level by level, and how many lie below
    the levels read."""
    level = [record]
    runs = list(level)
    for _ in range(NESTED_LEVELS - 1):
        level = [child for run in level for child in _children(run)]
        runs += level
    return runs, sum(len(_children(run)) for run in level)


def _fields(raw) -> dict:
    """A run's fields as Spark's from_json typed them (JSON null children have all fields null)."""
    fields = {name: vv.jackson_text(vv.get(raw, name)) for name in _TEXT_FIELDS}
    fields.update({name: vv.get(raw, name) for name in _PAYLOAD_FIELDS})
    tags = vv.get(raw, _TAGS)
    fields[_TAGS] = [vv.jackson_text(t) for t in tags] if isinstance(tags, list) else None
    return fields


def _read_run(raw, seen: tuple, root_of_export: bool, sent: ms.SentMessages) -> _Run:
    """A run; `sent` reads the messages its model call sent (the trace's SentMessages)."""
    fields = _fields(raw)
    return _Run(
        fields=fields,
        seen=seen,
        is_root=ms.nonblank(fields["parent_run_id"]) is None or root_of_export,
        at=vv.timestamp_micros(fields["start_time"]),
        order=ms.first(fields["dotted_order"], fields["id"], ""),
        op=_operation(fields, sent),
    )


def _assemble_trace(rows: list[dict]) -> list[dict]:
    runs: list[_Run] = []
    beyond = 0
    sent = ms.SentMessages()  # runs mostly come in export order, each model call after those it re-sends (any order reads the same)
    for row in sorted(rows, key=python_assembly.seen):
        tree, below = _runs_of(vv.loads(row[RECORD]))
        beyond += below
        runs += [_read_run(raw, python_assembly.seen(row), pos == 0 and row[_NESTED], sent) for pos, raw in enumerate(tree)]
    runs = tr.unique_by(runs, key=lambda r: r.id, newest=lambda r: r.seen)
    ops = tr.sort_operations([r.op for r in runs])
    root = tr.root_first(runs, lambda r: r.is_root, lambda r: r.at, lambda r: r.order)[0]
    return [python_assembly.finished(_content(root.fields, runs, ops, rows[0][_TRACE_KEY], len(rows), beyond), NAME, rows)]


_OPERATION_KINDS = {RUN_LLM: tr.OP_LLM, RUN_TOOL: tr.OP_TOOL, RUN_RETRIEVER: tr.OP_RETRIEVAL}
# Where else an llm run's outputs report usage: LLMResult, OpenAI completion, a message's usage_metadata.
_PROMPT_TOKEN_PATHS = (("llm_output", "token_usage", "prompt_tokens"), ("usage", "prompt_tokens"), ("usage_metadata", "input_tokens"))
_COMPLETION_TOKEN_PATHS = (("llm_output", "token_usage", "completion_tokens"), ("usage", "completion_tokens"), ("usage_metadata", "output_tokens"))
# Where an llm run's outputs report the model snapshot.
_REPORTED_MODEL_PATHS = (
    ("llm_output", "model_name"),
    ("generations", 0, 0, "message", "kwargs", "response_metadata", "model_name"),
    ("generations", 0, 0, "message", "response_metadata", "model_name"),
    ("model",),
)
_QUERY_KEYS = ("query", "input", "question")
# A tool run's output that is a ToolMessage.
_TOOL_MESSAGE_MARKS = (("lc",), ("tool_call_id",), ("kwargs", "tool_call_id"))
_STRING_TOOL_INPUT = "input"


def _tokens(run: dict, field: str, usage_paths: tuple) -> int | None:
    reported = ms.first(run[field], *[vv.text_at(run["outputs"], *path) for path in usage_paths])
    return vv.double_to_long(vv.text_to_double(reported))


def _tool_call(run: dict, meta) -> dict:
    """A tool run's call: its output is a ToolMessage (tool_call_id, content, status) or any value."""
    out = vv.first_present(vv.get(run["outputs"], "output"), run["outputs"])
    is_message = ms.first(*[vv.text_at(out, *path) for path in _TOOL_MESSAGE_MARKS]) is not None
    reply = ms.normalize_message(out) if is_message else {}
    error = ms.first(ms.nonblank(run["error"]), reply.get("content") if reply.get("is_error") else None)
    result = ms.first(reply.get("content"), vv.text(out)) if error is None else None
    call_id = ms.first(reply.get("tool_call_id"), vv.text_at(meta, META_TOOL_CALL_ID))
    return tr.tool_call(call_id, run["name"], _arguments(run["inputs"]), result, error)


def _arguments(inputs) -> str | None:
    """A tool run's arguments: the `input` string LangChain logs for string tools, else the inputs as JSON."""
    single_input = isinstance(inputs, dict) and len(inputs) == 1 and isinstance(vv.get(inputs, _STRING_TOOL_INPUT), str)
    return vv.text_at(inputs, _STRING_TOOL_INPUT) if single_input else vv.text(inputs)


def _operation(run: dict, sent: ms.SentMessages) -> tr.Operation:
    kind = _OPERATION_KINDS.get(ms.lower(run["run_type"]), tr.OP_OTHER)
    inputs, outputs, extra = run["inputs"], run["outputs"], run["extra"]
    meta = vv.get(extra, "metadata")
    parts: dict = {
        "tools": lambda: ms.first(ms.tool_specs(vv.get(extra, "invocation_params", "tools")), ms.tool_specs(vv.get(inputs, "tools"))),
    }
    if kind == tr.OP_LLM:
        prompt = vv.text_at(inputs, "prompts", 0)
        requested = ms.first(vv.text_at(meta, META_MODEL_NAME), vv.text_at(extra, "invocation_params", "model"), vv.text_at(inputs, "model"))
        reported = ms.first(*[vv.text_at(outputs, *path) for path in _REPORTED_MODEL_PATHS])
        parts.update(
            inputs=[ms.message(ms.ROLE_USER, prompt)] if prompt is not None else sent(inputs),
            output=ms.output_message(outputs),
            tokens_in=_tokens(run, "prompt_tokens", _PROMPT_TOKEN_PATHS),
            tokens_out=_tokens(run, "completion_tokens", _COMPLETION_TOKEN_PATHS),
            model=tr.model_of(vv.text_at(meta, META_PROVIDER), requested, reported),
        )
    elif kind == tr.OP_TOOL:
        parts["tool"] = _tool_call(run, meta)
    elif kind == tr.OP_RETRIEVAL:
        parts.update(query=ms.first(*[vv.text_at(inputs, key) for key in _QUERY_KEYS]), docs=ms.documents(outputs))
    at, ended = vv.timestamp_micros(run["start_time"]), vv.timestamp_micros(run["end_time"])
    return tr.operation(kind, at, ended, ms.first(run["dotted_order"], run["id"]), **parts)


def _langsmith_key(key: str) -> bool:
    """Metadata LangSmith itself sets (ls_run_depth, ls_provider, LANGSMITH_* env...)."""
    return key.startswith(LANGSMITH_META_PREFIXES)


def _root_text(value, keys: tuple[str, ...]) -> str | None:
    found = value if isinstance(value, str) else ms.first(*[vv.text_at(value, k) for k in keys])
    return ms.nonblank(found)


_ROOT_INPUT_KEYS = ("input", "question", "query")
_ROOT_OUTPUT_KEYS = ("output", "answer", "result")


def _root_input(root: dict) -> str | None:
    users = [m for m in ms.message_array(root["inputs"]) or () if m["role"] == ms.ROLE_USER]
    return ms.first(_root_text(root["inputs"], _ROOT_INPUT_KEYS), users[0]["content"] if users else None)


def _root_output(root: dict) -> str | None:
    outputs = root["outputs"]
    answers = [m for m in ms.message_array(outputs) or () if m["role"] == ms.ROLE_ASSISTANT and ms.nonblank(m["content"]) is not None]
    return ms.first(
        _root_text(outputs, _ROOT_OUTPUT_KEYS),
        ms.nonblank((ms.output_message(vv.get(outputs, "output")) or {}).get("content")),
        answers[-1]["content"] if answers else None,
    )


def _content(root: dict, runs: list[_Run], ops: list[tr.Operation], trace_key: str, records: int, beyond: int) -> dict:
    meta = vv.get(root["extra"], "metadata")

    def m(key: str) -> str | None:
        return vv.text_at(meta, key)

    started = ms.first(vv.timestamp_micros(root["start_time"]), min(o.at for o in ops))
    ended = ms.first(vv.timestamp_micros(root["end_time"]), max(ms.first(o.ended, o.at) for o in ops))
    llm_costs = [vv.text_to_double(r.fields["total_cost"]) for r in runs if ms.lower(r.fields["run_type"]) == RUN_LLM]
    failed = ms.nonblank(root["error"]) is not None or ms.lower(root["status"]) == STATUS_ERROR
    custom = {k: v for k, v in (vv.string_map(meta) or {}).items() if k not in CANONICAL_META_KEYS and not _langsmith_key(k)}
    return {
        "trajectory_id": ms.first(ms.nonblank(m(META_TRAJECTORY_ID)), trace_key),
        "session_id": ms.first(*[m(k) for k in META_THREAD_KEYS]),
        "user_id": m(META_USER_ID),
        "tenant": m(META_TENANT),
        "source_kind": ms.first(m(META_SOURCE_KIND), DEFAULT_SOURCE_KIND),
        "agent": {"name": root["name"], "version": ms.first(*[m(k) for k in META_VERSION_KEYS])},
        "model": tr.first_model(ops),
        "task": {"type": m(META_TASK_TYPE), "difficulty": m(META_TASK_DIFFICULTY), "language": m(META_TASK_LANGUAGE), "tags": root[_TAGS]},
        "system_prompt": tr.system_prompt(ops),
        "input": ms.first(_root_input(root), tr.first_user_text(ops)),
        "context_docs": tr.context_docs(ops),
        "steps": tr.steps(ops),
        "tools_available": tr.tools_available(ops),
        "final_output": ms.first(_root_output(root), tr.last_answer(ops)),
        "metadata": {
            "latency_ms": tr.latency_ms(started, ended),
            "tokens_in": ms.first(vv.text_to_long(root["prompt_tokens"]), tr.token_total(ops, "tokens_in")),
            "tokens_out": ms.first(vv.text_to_long(root["completion_tokens"]), tr.token_total(ops, "tokens_out")),
            "cost_usd": ms.first(vv.text_to_double(root["total_cost"]), tr.total(llm_costs)),
            "status": ms.first(m(META_STATUS), STATUS_ERROR if failed else None, STATUS_COMPLETED),
            "started_at": started,
            "ended_at": ended,
            "extra": tr.extra_map(
                custom,
                {
                    RECORDS_KEY: records,
                    EXTRA_RUNS: len(runs),
                    EXTRA_BEYOND_DEPTH: beyond if beyond > 0 else None,
                    EXTRA_PROJECT: root["session_id"],
                },
            ),
        },
    }


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of), DETECT_FIELDS)
