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

Mapping (step rules: transforms.adapters.trace_assembly): GENERATION observations are model
calls (input: a message list or {messages, tools}; output: a message or completion; shapes in
transforms.adapters.chat_messages), TOOL observations tool steps (input = arguments, output =
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

from transforms.adapters import chat_messages as cm
from transforms.adapters import trace_assembly as ta
from transforms.adapters.base import (
    CORRUPT,
    INGEST_RUN_ID,
    INGESTED_AT,
    MISSING_TRAJECTORY_ID,
    SOURCE_LINE,
    SOURCE_URI,
    WRONG_TYPE,
    Adapter,
    GroupKeys,
    no_keys,
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

_USAGE = StructType([StructField(k, StringType()) for k in ("input", "output", "total", "unit", "inputCost", "outputCost", "totalCost")])

# One line: a trace (nested or flat) or an observation. The shapes share most keys.
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

_P = "_parsed"
_GROUP = "_group"
_ITEM = "_item"


def detects(record: Column) -> Column:
    # contains() first: a substring test is far cheaper than a JSON scan of a 10+ KB record, and
    # writers never escape ASCII key names, so a record without the text has no such key.
    typed = F.upper(F.get_json_object(record, "$.type")).isin(*OBSERVATION_TYPES)
    observation = record.contains('"startTime"') & typed & F.get_json_object(record, "$.startTime").isNotNull()
    trace = (
        record.contains('"timestamp"')
        & F.get_json_object(record, "$.id").isNotNull()
        & F.get_json_object(record, "$.timestamp").isNotNull()
        & (
            (record.contains('"htmlPath"') & F.get_json_object(record, "$.htmlPath").isNotNull())
            | (record.contains('"observations"') & F.get_json_object(record, "$.observations").isNotNull())
        )
    )
    other_format = (record.contains('"run_type"') & F.get_json_object(record, "$.run_type").isNotNull()) | (
        record.contains('"resourceSpans"') & F.get_json_object(record, "$.resourceSpans").isNotNull()
    )
    return F.coalesce((observation | trace) & ~other_format, F.lit(False))


def _time(text: Column) -> Column:
    return F.try_to_timestamp(text)


def _observation_struct(p: Column) -> Column:
    return F.struct(*[p[f].alias(f) for f in _OBSERVATION_FIELDS])


def _meta(metadata: Column, key: str) -> Column:
    return cm.get(metadata, f"$.{key}")


def _number(text: Column, target: str) -> Column:
    return text.try_cast("double").try_cast(target)


def _query(value: Column) -> Column:
    return F.when(cm.is_string(value), cm.get(value, "$")).otherwise(
        F.coalesce(cm.get(value, "$.query"), cm.get(value, "$.question"), cm.get(value, "$.input"))
    )


def _operation(o: Column) -> Column:
    kind_name = F.upper(o["type"])
    failed = F.upper(o["level"]) == LEVEL_ERROR
    usage = o["usageDetails"]
    answer = cm.output_message(o["output"])
    inputs = F.when(cm.is_string(o["input"]), F.array(ta.message(F.lit(ta.ROLE_USER), cm.get(o["input"], "$")))).otherwise(
        cm.message_array(o["input"])
    )
    reported = F.coalesce(
        cm.get(o["output"], "$.response_metadata.model_name"),
        cm.get(o["output"], "$.kwargs.response_metadata.model_name"),
        cm.get(o["output"], "$.model"),
    )
    provider = F.coalesce(*[_meta(o["metadata"], k) for k in META_PROVIDERS])
    kind = (
        F.when(kind_name == GENERATION, F.lit(ta.OP_LLM))
        .when(kind_name == TOOL, F.lit(ta.OP_TOOL))
        .when(kind_name == RETRIEVER, F.lit(ta.OP_RETRIEVAL))
        .otherwise(F.lit(ta.OP_OTHER))
    )
    error = F.when(failed, F.coalesce(ta.nonblank(o["statusMessage"]), cm.as_text(o["output"]), F.lit("error")))
    return ta.operation(
        kind,
        _time(o["startTime"]),
        _time(o["endTime"]),
        o["id"],
        inputs=inputs,
        output=answer,
        tokens_in=_number(F.coalesce(usage["input"], o["usage"]["input"], usage["prompt_tokens"]), "long"),
        tokens_out=_number(F.coalesce(usage["output"], o["usage"]["output"], usage["completion_tokens"]), "long"),
        tool=ta.tool_call(
            _meta(o["metadata"], META_TOOL_CALL_ID), o["name"], cm.as_text(o["input"]), F.when(~failed, cm.as_text(o["output"])), error
        ),
        query=_query(o["input"]),
        docs=cm.documents(o["output"]),
        tools=cm.tool_specs(cm.get(o["input"], "$.tools", "variant")),
        model=F.when(kind == ta.OP_LLM, ta.model_of(provider, o["model"], reported)),
    )


def _cost(o: Column) -> Column:
    return F.coalesce(o["costDetails"]["total"], o["calculatedTotalCost"], o["usage"]["totalCost"]).try_cast("double")


def _is_observation(p: Column) -> Column:
    return F.upper(p["type"]).isin(*OBSERVATION_TYPES) & p["startTime"].isNotNull()


def _embedded(p: Column) -> Column:
    """The observations a nested trace carries as objects (a flat trace line lists ids)."""
    return F.filter(F.coalesce(p["observations"], F.array()), lambda x: F.ltrim(x).startswith("{"))


def _trace_key(p: Column) -> Column:
    return F.when(_is_observation(p), ta.nonblank(p["traceId"])).otherwise(ta.nonblank(p["id"]))


# Just enough of a line to find its trace.
_KEY_FIELDS = StructType([LANGFUSE_RECORD[f] for f in ("id", "traceId", "type", "startTime", "observations")])


def _keys_of(p: Column) -> Column:
    """A flat line's trace id; none for a nested trace (one record, one trajectory)."""
    nested = ~_is_observation(p) & (F.size(_embedded(p)) > 0)
    key = _trace_key(p)
    return F.when(nested, no_keys()).when(key.isNotNull(), F.array(key)).otherwise(no_keys())


def to_trajectories(records: DataFrame) -> DataFrame:
    p = F.col(_P)
    parsed = with_parsed(records, _P, LANGFUSE_RECORD)
    is_observation = _is_observation(p)
    embedded = _embedded(p)
    trace_key = _trace_key(p)
    corrupt = p[CORRUPT].isNotNull()
    rejected = ta.rejected(
        parsed.where(corrupt | trace_key.isNull()),
        NAME,
        [
            (corrupt, WRONG_TYPE, "a field has the wrong JSON type for a Langfuse trace or observation"),
            (is_observation, MISSING_TRACE_ID, "the observation has no traceId"),
            (F.lit(True), MISSING_TRAJECTORY_ID, "the trace has no id"),
        ],
        records=1,
    )
    no_trace = F.lit(None).cast(_trace_type())
    own_item = F.when(is_observation, _item(no_trace, _observation_struct(p))).otherwise(
        _item(F.struct(*[p[f].alias(f) for f in _TRACE_FIELDS]), F.lit(None).cast(_observation_type()))
    )
    nested_items = F.transform(embedded, lambda e: _item(no_trace, _observation_struct(F.from_json(e, LANGFUSE_RECORD))))
    nested = ~is_observation & (F.size(embedded) > 0)
    items = parsed.where(~corrupt & trace_key.isNotNull()).select(
        SOURCE_URI, SOURCE_LINE, INGEST_RUN_ID, INGESTED_AT,
        F.when(nested, ta.record_key()).otherwise(trace_key).alias(_GROUP),
        trace_key.alias("_trace_key"),
        F.posexplode(F.concat(F.array(own_item), nested_items)).alias("_pos", _ITEM),
    )
    obs = F.col(f"{_ITEM}.obs")
    described = items.withColumn(
        "_described",
        F.when(
            obs.isNotNull(),
            F.struct(
                obs["id"].alias("id"),
                ta.record_order().alias("seen"),
                F.upper(obs["type"]).alias("type"),
                (obs["parentObservationId"].isNull() & (F.upper(obs["level"]) == LEVEL_ERROR)).alias("root_failed"),
                _cost(obs).alias("cost"),
                _operation(obs).alias("op"),
            ),
        ),
    )
    trace = F.col(f"{_ITEM}.trace")
    grouped = described.groupBy(_GROUP).agg(
        F.max_by(trace, F.when(trace.isNotNull(), ta.record_order())).alias("_trace"),  # its latest export
        F.collect_list("_described").alias("_observations"),
        F.first("_trace_key").alias("_trace_key"),
        ta.first_record().alias("_first"),
        F.sum(F.when(F.col("_pos") == 0, 1).otherwise(0)).alias("_records"),
    )
    staged = grouped.withColumn("_observations", ta.unique_by(F.col("_observations"), "id", "seen"))
    staged = staged.withColumn("_ops", ta.sort_operations(F.transform(F.col("_observations"), lambda o: o["op"])))
    content = _content(F.col("_trace"), F.col("_observations"), F.col("_ops"))
    candidates = staged.select(*content, *ta.grouped_lineage(NAME, F.col("_first")))
    return rejected.unionByName(ta.checked(candidates))


def _item(trace: Column, observation: Column) -> Column:
    """One exploded item of a record: its trace part or one observation."""
    return F.struct(trace.alias("trace"), observation.alias("obs"))


def _trace_type() -> StructType:
    return StructType([LANGFUSE_RECORD[f] for f in _TRACE_FIELDS])


def _observation_type() -> StructType:
    return StructType([LANGFUSE_RECORD[f] for f in _OBSERVATION_FIELDS])


def _trace_text(value: Column) -> Column:
    """A trace input/output as text: a string, {input|output|content|query|question: string}, or a message."""
    keyed = F.coalesce(*[cm.get(value, f"$.{k}") for k in ("input", "output", "content", "query", "question")])
    return ta.nonblank(F.when(cm.is_string(value), cm.get(value, "$")).otherwise(keyed))


def _content(trace: Column, observations: Column, ops: Column) -> list[Column]:
    metadata = trace["metadata"]
    trace_input_messages = cm.message_array(trace["input"])
    trace_input = F.coalesce(
        _trace_text(trace["input"]),
        ta.head(F.filter(trace_input_messages, lambda m: m["role"] == ta.ROLE_USER))["content"],
    )
    trace_output = F.coalesce(_trace_text(trace["output"]), ta.nonblank(cm.output_message(trace["output"])["content"]))
    starts = F.filter(F.transform(ops, lambda o: o["at"]), lambda t: t.isNotNull())
    ends = F.filter(F.transform(ops, lambda o: F.coalesce(o["ended"], o["at"])), lambda t: t.isNotNull())
    started = F.least(F.array_min(starts), _time(trace["timestamp"]))
    ended = F.coalesce(F.array_max(ends), started)
    costs = F.transform(F.filter(observations, lambda o: o["type"] == GENERATION), lambda o: o["cost"])
    cost = F.coalesce(trace["totalCost"], ta.total(costs))
    root_failed = F.exists(observations, lambda o: o["root_failed"])
    custom = F.map_filter(cm.string_map(metadata), lambda k, v: ~k.isin(*CANONICAL_META_KEYS))
    latency = F.coalesce(F.round(trace["latency"] * 1000).try_cast("long"), ta.latency_ms(started, ended))
    return [
        F.coalesce(trace["id"], F.col("_trace_key")).alias("trajectory_id"),
        trace["sessionId"].alias("session_id"),
        trace["userId"].alias("user_id"),
        _meta(metadata, META_TENANT).alias("tenant"),
        F.coalesce(_meta(metadata, META_SOURCE_KIND), F.lit(DEFAULT_SOURCE_KIND)).alias("source_kind"),
        F.struct(trace["name"].alias("name"), F.coalesce(trace["release"], trace["version"]).alias("version")).alias("agent"),
        ta.first_model(ops).alias("model"),
        F.struct(
            _meta(metadata, META_TASK_TYPE).alias("type"),
            _meta(metadata, META_TASK_DIFFICULTY).alias("difficulty"),
            _meta(metadata, META_TASK_LANGUAGE).alias("language"),
            trace["tags"].alias("tags"),
        ).alias("task"),
        ta.system_prompt(ops).alias("system_prompt"),
        F.coalesce(trace_input, ta.first_user_text(ops)).alias("input"),
        ta.context_docs(ops).alias("context_docs"),
        ta.steps(ops).alias("steps"),
        ta.tools_available(ops).alias("tools_available"),
        F.coalesce(trace_output, ta.last_answer(ops)).alias("final_output"),
        F.struct(
            latency.alias("latency_ms"),
            ta.token_total(ops, "tokens_in").alias("tokens_in"),
            ta.token_total(ops, "tokens_out").alias("tokens_out"),
            cost.alias("cost_usd"),
            F.coalesce(_meta(metadata, META_STATUS), F.when(root_failed, F.lit(STATUS_ERROR)), F.lit(STATUS_COMPLETED)).alias("status"),
            started.alias("started_at"),
            ended.alias("ended_at"),
            ta.extra_map(
                custom,
                {
                    ta.RECORDS_KEY: F.col("_records"),
                    EXTRA_OBSERVATIONS: F.size(observations),
                    EXTRA_ENVIRONMENT: trace["environment"],
                },
            ).alias("extra"),
        ).alias("metadata"),
    ]


ADAPTER = Adapter(NAME, detects, to_trajectories, GroupKeys(_KEY_FIELDS, _keys_of))
