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

Mapping (step rules: transforms.adapters.trace_assembly): `llm` runs are model calls (inputs
`messages` - a list or LangChain's list of lists - or `prompts`; outputs an LLMResult
`generations`, a completion `choices`, or a message; shapes in chat_messages), `tool` runs tool
steps (inputs = arguments, outputs.output = result, a ToolMessage's tool_call_id = call id,
`error` or an error ToolMessage = error), `retriever` runs retrievals (inputs.query, outputs
documents). The root run gives the agent (name; metadata revision_id = version), tags, input,
output, totals; root metadata keys trajectory_id, thread_id / session_id / conversation_id,
user_id, tenant, source_kind, task_type, task_difficulty, task_language, status are canonical
fields, other keys (but LangSmith's own ls_* ones) go to metadata.extra.
"""

from __future__ import annotations

import functools

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType, VariantType

from transforms.adapters import chat_messages as cm
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
    no_keys,
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
FLAT_RUN = StructType(_RUN_FIELDS)


def _run_schema(levels: int) -> StructType:
    """A run with `levels` levels of child_runs typed; below them child_runs stay JSON text."""
    children = ArrayType(_run_schema(levels - 1)) if levels > 0 else ArrayType(StringType())
    return StructType(_RUN_FIELDS + [StructField("child_runs", children)])


RUN_RECORD = _run_schema(NESTED_LEVELS - 1)

_P = "_parsed"
_RUN = "_run"
_GROUP = "_group"


def detects(record: Column) -> Column:
    return F.coalesce(
        record.contains('"run_type"')
        & F.get_json_object(record, "$.run_type").isNotNull()
        & F.get_json_object(record, "$.id").isNotNull()
        & ~(record.contains('"resourceSpans"') & F.get_json_object(record, "$.resourceSpans").isNotNull()),
        F.lit(False),
    )


def _flat(run: Column) -> Column:
    return F.struct(*[run[f.name].alias(f.name) for f in _RUN_FIELDS])


def _runs_of(root: Column) -> tuple[Column, Column]:
    """All runs of a (possibly nested) record, flattened, and how many lie below the levels read."""
    level = F.array(root)
    levels = [F.transform(level, _flat)]
    for _ in range(NESTED_LEVELS - 1):
        level = F.flatten(F.transform(level, lambda r: F.coalesce(r["child_runs"], F.array())))
        levels.append(F.transform(level, _flat))
    beyond = F.aggregate(F.transform(level, lambda r: F.coalesce(F.size(r["child_runs"]), F.lit(0))), F.lit(0), lambda a, n: a + n)
    return F.concat(*levels), beyond


def _time(text: Column) -> Column:
    return F.try_to_timestamp(text)


def _meta(extra: Column) -> Column:
    return cm.get(extra, "$.metadata", "variant")


# Where else an llm run's outputs report usage: LLMResult, OpenAI completion, a message's usage_metadata.
_PROMPT_TOKEN_PATHS = ("$.llm_output.token_usage.prompt_tokens", "$.usage.prompt_tokens", "$.usage_metadata.input_tokens")
_COMPLETION_TOKEN_PATHS = ("$.llm_output.token_usage.completion_tokens", "$.usage.completion_tokens", "$.usage_metadata.output_tokens")


def _tokens(run: Column, field: str, usage_paths: tuple[str, ...]) -> Column:
    values = [run[field]] + [cm.get(run["outputs"], path) for path in usage_paths]
    return F.coalesce(*values).try_cast("double").try_cast("long")


def _tool_output(run: Column) -> Column:
    """A tool run's output: a ToolMessage (tool_call_id, content, status) or any value."""
    out = F.coalesce(cm.get(run["outputs"], "$.output", "variant"), run["outputs"])
    looks_like_message = F.coalesce(*[cm.get(out, path) for path in ("$.lc", "$.tool_call_id", "$.kwargs.tool_call_id")]).isNotNull()
    return F.struct(
        out.alias("value"),
        F.when(looks_like_message, cm.normalize_message(out)).alias("message"),
    )


def _arguments(inputs: Column) -> Column:
    """A tool run's arguments: the `input` string LangChain logs for string tools, else the inputs as JSON."""
    single_input = (F.size(F.map_keys(cm.string_map(inputs))) == 1) & cm.is_string(cm.get(inputs, "$.input", "variant"))
    return F.when(F.coalesce(single_input, F.lit(False)), cm.get(inputs, "$.input")).otherwise(cm.as_text(inputs))


def _operation(run: Column) -> Column:
    run_type = F.lower(run["run_type"])
    meta = _meta(run["extra"])
    inputs, outputs = run["inputs"], run["outputs"]
    prompts = cm.get(inputs, "$.prompts[0]")
    messages = F.when(prompts.isNotNull(), F.array(ta.message(F.lit(ta.ROLE_USER), prompts))).otherwise(cm.message_array(inputs))
    reported = F.coalesce(
        cm.get(outputs, "$.llm_output.model_name"),
        cm.get(outputs, "$.generations[0][0].message.kwargs.response_metadata.model_name"),
        cm.get(outputs, "$.generations[0][0].message.response_metadata.model_name"),
        cm.get(outputs, "$.model"),
    )
    requested = F.coalesce(
        cm.get(meta, f"$.{META_MODEL_NAME}"), cm.get(run["extra"], "$.invocation_params.model"), cm.get(inputs, "$.model")
    )
    tools = F.coalesce(
        cm.tool_specs(cm.get(run["extra"], "$.invocation_params.tools", "variant")), cm.tool_specs(cm.get(inputs, "$.tools", "variant"))
    )
    kind = (
        F.when(run_type == RUN_LLM, F.lit(ta.OP_LLM))
        .when(run_type == RUN_TOOL, F.lit(ta.OP_TOOL))
        .when(run_type == RUN_RETRIEVER, F.lit(ta.OP_RETRIEVAL))
        .otherwise(F.lit(ta.OP_OTHER))
    )

    def tool(o: Column) -> Column:
        reply = o["message"]
        error = F.coalesce(ta.nonblank(run["error"]), F.when(F.coalesce(reply["is_error"], F.lit(False)), reply["content"]))
        result = F.when(error.isNull(), F.coalesce(reply["content"], cm.as_text(o["value"])))
        call_id = F.coalesce(reply["tool_call_id"], cm.get(meta, f"$.{META_TOOL_CALL_ID}"))
        return ta.tool_call(call_id, run["name"], _arguments(inputs), result, error)

    return ta.operation(
        kind,
        _time(run["start_time"]),
        _time(run["end_time"]),
        F.coalesce(run["dotted_order"], run["id"]),
        inputs=messages,
        output=cm.output_message(outputs),
        tokens_in=_tokens(run, "prompt_tokens", _PROMPT_TOKEN_PATHS),
        tokens_out=_tokens(run, "completion_tokens", _COMPLETION_TOKEN_PATHS),
        tool=F.when(kind == ta.OP_TOOL, ta.bind(_tool_output(run), tool)),
        query=F.coalesce(cm.get(inputs, "$.query"), cm.get(inputs, "$.input"), cm.get(inputs, "$.question")),
        docs=cm.documents(outputs),
        tools=tools,
        model=F.when(kind == ta.OP_LLM, ta.model_of(cm.get(meta, f"$.{META_PROVIDER}"), requested, reported)),
    )


def _trace_key(run: Column) -> Column:
    root_in_order = ta.nonblank(F.regexp_extract(F.coalesce(run["dotted_order"], F.lit("")), r"^[0-9]{8}T[0-9]+Z([^.]+)", 1))
    own_id_if_root = F.when(ta.nonblank(run["parent_run_id"]).isNull(), ta.nonblank(run["id"]))
    return F.coalesce(ta.nonblank(run["trace_id"]), root_in_order, own_id_if_root)


def _nested(run: Column) -> Column:
    return F.coalesce(F.size(run["child_runs"]) > 0, F.lit(False))


# Just enough of a run to find its trace (child_runs only counted).
_KEY_FIELDS = StructType(
    [f for f in _RUN_FIELDS if f.name in ("id", "trace_id", "parent_run_id", "dotted_order")]
    + [StructField("child_runs", ArrayType(StringType()))]
)


def _keys_of(run: Column) -> Column:
    """A flat run's trace key; none for a nested export (one record, one trajectory)."""
    key = _trace_key(run)
    return F.when(_nested(run), no_keys()).when(key.isNotNull(), F.array(key)).otherwise(no_keys())


def to_trajectories(records: DataFrame) -> DataFrame:
    p = F.col(_P)
    parsed = with_parsed(records, _P, RUN_RECORD)
    corrupt = p[CORRUPT].isNotNull()
    nested = _nested(p)
    key = F.when(nested, F.coalesce(ta.nonblank(p["trace_id"]), ta.nonblank(p["id"]))).otherwise(_trace_key(p))
    rejected = ta.rejected(
        parsed.where(corrupt | key.isNull()),
        NAME,
        [
            (corrupt, WRONG_TYPE, "a field has the wrong JSON type for a LangSmith run"),
            (F.lit(True), MISSING_TRACE_ID, "the run has no trace_id, dotted_order or root id"),
        ],
        records=1,
    )
    runs, beyond = _runs_of(p)
    exploded = parsed.where(~corrupt & key.isNotNull()).select(
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        key.alias("_trace_key"),
        F.when(nested, ta.record_key()).otherwise(key).alias(_GROUP),
        beyond.alias("_beyond"),
        F.posexplode(runs).alias("_pos", _RUN),
    )
    run = F.col(_RUN)
    described = exploded.withColumn(
        "_described",
        F.struct(
            (ta.nonblank(run["parent_run_id"]).isNull() | ((F.col("_pos") == 0) & nested_row())).alias("is_root"),
            _time(run["start_time"]).alias("at"),
            F.coalesce(run["dotted_order"], run["id"], F.lit("")).alias("order"),
            run["id"].alias("id"),
            ta.record_order().alias("seen"),
            run.alias("run"),
            run["total_cost"].try_cast("double").alias("cost"),
            _operation(run).alias("op"),
        ),
    )
    grouped = described.groupBy(_GROUP).agg(
        F.collect_list("_described").alias("_runs"),
        F.first("_trace_key").alias("_trace_key"),
        ta.first_record().alias("_first"),
        F.sum(F.when(F.col("_pos") == 0, 1).otherwise(0)).alias("_records"),
        F.sum(F.when(F.col("_pos") == 0, F.col("_beyond")).otherwise(0)).alias("_beyond"),
    )
    staged = (
        grouped.withColumn("_runs", ta.unique_by(F.col("_runs"), "id", "seen"))
        .withColumn("_ops", ta.sort_operations(F.transform(F.col("_runs"), lambda r: r["op"])))
        .withColumn("_root", ta.head(ta.root_first(F.col("_runs"), "order"))["run"])
    )
    candidates = staged.select(*_content(F.col("_root"), F.col("_runs"), F.col("_ops")), *ta.grouped_lineage(NAME, F.col("_first")))
    return rejected.unionByName(ta.checked(candidates))


def nested_row() -> Column:
    return F.col(_GROUP) == ta.record_key()


def _langsmith_key(key: Column) -> Column:
    """Metadata LangSmith itself sets (ls_run_depth, ls_provider, LANGSMITH_* env...)."""
    return functools.reduce(lambda a, b: a | b, [key.startswith(prefix) for prefix in LANGSMITH_META_PREFIXES])


def _root_text(value: Column, keys: tuple[str, ...]) -> Column:
    keyed = F.coalesce(*[cm.get(value, f"$.{k}") for k in keys])
    return ta.nonblank(F.when(cm.is_string(value), cm.get(value, "$")).otherwise(keyed))


def _content(root: Column, runs: Column, ops: Column) -> list[Column]:
    meta = _meta(root["extra"])

    def m(key: str) -> Column:
        return cm.get(meta, f"$.{key}")

    root_messages = cm.message_array(root["inputs"])
    root_input = F.coalesce(
        _root_text(root["inputs"], ("input", "question", "query")),
        ta.head(F.filter(root_messages, lambda x: x["role"] == ta.ROLE_USER))["content"],
    )
    out_messages = cm.message_array(root["outputs"])
    root_output = F.coalesce(
        _root_text(root["outputs"], ("output", "answer", "result")),
        ta.nonblank(cm.output_message(cm.get(root["outputs"], "$.output", "variant"))["content"]),
        ta.tail(F.filter(out_messages, lambda x: (x["role"] == ta.ROLE_ASSISTANT) & ta.nonblank(x["content"]).isNotNull()))["content"],
    )
    starts = F.filter(F.transform(ops, lambda o: o["at"]), lambda t: t.isNotNull())
    ends = F.filter(F.transform(ops, lambda o: F.coalesce(o["ended"], o["at"])), lambda t: t.isNotNull())
    started = F.coalesce(_time(root["start_time"]), F.array_min(starts))
    ended = F.coalesce(_time(root["end_time"]), F.array_max(ends))
    llm_costs = F.transform(F.filter(runs, lambda r: F.lower(r["run"]["run_type"]) == RUN_LLM), lambda r: r["cost"])
    cost = F.coalesce(root["total_cost"].try_cast("double"), ta.total(llm_costs))
    failed = ta.nonblank(root["error"]).isNotNull() | (F.lower(root["status"]) == STATUS_ERROR)
    custom = F.map_filter(
        cm.string_map(meta),
        lambda k, v: ~k.isin(*CANONICAL_META_KEYS) & ~_langsmith_key(k),
    )
    return [
        F.coalesce(ta.nonblank(m(META_TRAJECTORY_ID)), F.col("_trace_key")).alias("trajectory_id"),
        F.coalesce(*[m(k) for k in META_THREAD_KEYS]).alias("session_id"),
        m(META_USER_ID).alias("user_id"),
        m(META_TENANT).alias("tenant"),
        F.coalesce(m(META_SOURCE_KIND), F.lit(DEFAULT_SOURCE_KIND)).alias("source_kind"),
        F.struct(root["name"].alias("name"), F.coalesce(*[m(k) for k in META_VERSION_KEYS]).alias("version")).alias("agent"),
        ta.first_model(ops).alias("model"),
        F.struct(
            m(META_TASK_TYPE).alias("type"),
            m(META_TASK_DIFFICULTY).alias("difficulty"),
            m(META_TASK_LANGUAGE).alias("language"),
            root["tags"].alias("tags"),
        ).alias("task"),
        ta.system_prompt(ops).alias("system_prompt"),
        F.coalesce(root_input, ta.first_user_text(ops)).alias("input"),
        ta.context_docs(ops).alias("context_docs"),
        ta.steps(ops).alias("steps"),
        ta.tools_available(ops).alias("tools_available"),
        F.coalesce(root_output, ta.last_answer(ops)).alias("final_output"),
        F.struct(
            ta.latency_ms(started, ended).alias("latency_ms"),
            F.coalesce(root["prompt_tokens"].try_cast("long"), ta.token_total(ops, "tokens_in")).alias("tokens_in"),
            F.coalesce(root["completion_tokens"].try_cast("long"), ta.token_total(ops, "tokens_out")).alias("tokens_out"),
            cost.alias("cost_usd"),
            F.coalesce(m(META_STATUS), F.when(failed, F.lit(STATUS_ERROR)), F.lit(STATUS_COMPLETED)).alias("status"),
            started.alias("started_at"),
            ended.alias("ended_at"),
            ta.extra_map(
                custom,
                {
                    ta.RECORDS_KEY: F.col("_records"),
                    EXTRA_RUNS: F.size(runs),
                    EXTRA_BEYOND_DEPTH: F.when(F.col("_beyond") > 0, F.col("_beyond")),
                    EXTRA_PROJECT: root["session_id"],
                },
            ).alias("extra"),
        ).alias("metadata"),
    ]


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of))
