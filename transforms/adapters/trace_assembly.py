"""One canonical trajectory from the operations of one trace (spans, observations, runs).

Tracing formats (OpenTelemetry GenAI, Langfuse, LangSmith) log an agent run as many timed
operations: model calls, tool executions, retrievals. Each adapter maps its own records to the
format-neutral OPERATION struct below; the rules that turn a time-ordered array of operations
into canonical steps live here once, so the formats agree on them. LangSmith now assembles its
traces in Python with the same rules (trace_rules); OTel GenAI and Langfuse still use these:

- a model call becomes an `llm` step (its answer text, with any reasoning), or a `reasoning`
  step when it produced reasoning but no text; the tool calls it requested that no tool
  operation executed become `tool` steps right after it, answered from the tool messages of
  later model calls (paired by call id);
- a tool operation becomes one `tool` step carrying both the call and its result or error; the
  arguments are the model's request (as it emitted them) when the call id links one, the result
  falls back to a later tool message; a tool operation that logged no call id is linked to the
  request for its tool that nothing else executed (see link_tool_calls);
- a retrieval that logged its query becomes a `retrieval` step (its documents go to
  context_docs either way);
- user messages that first appear at the end of a later model call's input are new user turns:
  `message` steps just before that call's own steps.

All of it is built-in array functions over the sorted array, no UDF.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from schemas.trajectory import CONTEXT_DOC, METADATA, MODEL, STEP, TOOL_CALL, TOOL_SPEC, TRAJECTORY_CONTENT_FIELDS
from transforms.adapters.base import NO_CONTENT, as_candidates, lineage, reject_when

# Operation kinds.
OP_LLM = "llm"
OP_TOOL = "tool"
OP_RETRIEVAL = "retrieval"
OP_OTHER = "other"

# Message roles after normalisation.
ROLE_SYSTEM = "system"
ROLE_USER = "user"
ROLE_ASSISTANT = "assistant"
ROLE_TOOL = "tool"

# Step kinds produced here (schemas.trajectory.STEP_KINDS).
STEP_LLM = "llm"
STEP_TOOL = "tool"
STEP_REASONING = "reasoning"
STEP_MESSAGE = "message"
STEP_RETRIEVAL = "retrieval"

TOOL_REQUEST = StructType(
    [
        StructField("id", StringType()),
        StructField("name", StringType()),
        StructField("arguments", StringType()),  # JSON text
    ]
)

MESSAGE = StructType(
    [
        StructField("role", StringType()),  # system | user | assistant | tool
        StructField("content", StringType()),
        StructField("reasoning", StringType()),
        StructField("tool_calls", ArrayType(TOOL_REQUEST)),
        StructField("tool_call_id", StringType()),  # tool messages: the call they answer
        StructField("is_error", BooleanType()),  # tool messages: the tool failed
    ]
)

OPERATION = StructType(
    [
        StructField("at", TimestampType()),  # start; the sort key
        StructField("ended", TimestampType()),
        StructField("order", StringType()),  # tie-break among equal starts (span id, dotted order)
        StructField("kind", StringType()),  # llm | tool | retrieval | other
        StructField("inputs", ArrayType(MESSAGE)),  # llm: the messages sent
        StructField("output", MESSAGE),  # llm: the (first) answer
        StructField("system", StringType()),  # llm: instructions given apart from the messages
        StructField("tokens_in", LongType()),
        StructField("tokens_out", LongType()),
        StructField("tool", TOOL_CALL),  # tool: the call and its outcome
        StructField("query", StringType()),  # retrieval
        StructField("docs", ArrayType(CONTEXT_DOC)),  # retrieval
        StructField("tools", ArrayType(TOOL_SPEC)),  # tool definitions offered to the model
        StructField("model", MODEL),
    ]
)

# metadata.extra key: how many bronze records a candidate accounts for (read by normalize).
RECORDS_KEY = "records"


def _epoch() -> Column:
    return F.timestamp_seconds(F.lit(0))


def _typed(value: Column | None, data_type) -> Column:
    return (F.lit(None) if value is None else value).cast(data_type)


def message(
    role: Column | None,
    content: Column | None = None,
    reasoning: Column | None = None,
    tool_calls: Column | None = None,
    tool_call_id: Column | None = None,
    is_error: Column | None = None,
) -> Column:
    values = [role, content, reasoning, tool_calls, tool_call_id, is_error]
    return F.struct(*[_typed(v, f.dataType).alias(f.name) for v, f in zip(values, MESSAGE.fields)])


def operation(kind: Column, at: Column, ended: Column | None = None, order: Column | None = None, **parts: Column | None) -> Column:
    """An OPERATION struct; parts are the other OPERATION fields by name (missing ones null)."""
    unknown = set(parts) - set(OPERATION.fieldNames())
    if unknown:
        raise ValueError(f"not OPERATION fields: {sorted(unknown)}")
    values = {"at": F.coalesce(at, ended, _epoch()), "ended": ended, "order": F.coalesce(order, F.lit("")), "kind": kind, **parts}
    return F.struct(*[_typed(values.get(f.name), f.dataType).alias(f.name) for f in OPERATION.fields])


def tool_call(call_id, name, arguments, result=None, error=None) -> Column:
    values = [call_id, name, arguments, result, error]
    return F.struct(*[_typed(v, f.dataType).alias(f.name) for v, f in zip(values, TOOL_CALL.fields)])


def step(
    kind: str, role: str | Column | None, content=None, reasoning=None, tool=None, started=None, ended=None, tokens_in=None, tokens_out=None
) -> Column:
    """A canonical STEP (index filled later by `reindex`)."""
    role_col = F.lit(role) if isinstance(role, str) or role is None else role
    values = [None, F.lit(kind), role_col, content, reasoning, tool, started, ended, tokens_in, tokens_out]
    return F.struct(*[_typed(v, f.dataType).alias(f.name) for v, f in zip(values, STEP.fields)])


def bind(value: Column, body) -> Column:
    """body(value) with value computed once. Spark SQL has no `let`: a value used several times in
    an expression is otherwise copied into the tree each time, and nested helpers multiply the
    copies until planning runs out of memory; a one-element array's transform binds it instead."""
    return F.try_element_at(F.transform(F.array(value), body), F.lit(1))


def nonblank(text: Column) -> Column:
    """The text, or null when it is null, empty or only whitespace."""
    return F.when(F.length(F.trim(text)) > 0, text)


def sort_operations(ops: Column) -> Column:
    """Operations in start order; equal starts keep a stable order by their `order` key."""

    def compare(left: Column, right: Column) -> Column:
        return (
            F.when(left["at"] < right["at"], -1)
            .when(left["at"] > right["at"], 1)
            .when(left["order"] < right["order"], -1)
            .when(left["order"] > right["order"], 1)
            .otherwise(0)
        )

    return F.array_sort(ops, compare)


def root_first(items: Column, tie_break: str) -> Column:
    """Elements with `is_root` first, then by `at`, then by `tie_break`: the order in which
    trace-level values (identity, agent, totals) are looked up."""

    def compare(left: Column, right: Column) -> Column:
        return (
            F.when(left["is_root"] & ~right["is_root"], -1)
            .when(~left["is_root"] & right["is_root"], 1)
            .when(left["at"] < right["at"], -1)
            .when(left["at"] > right["at"], 1)
            .when(left[tie_break] < right[tie_break], -1)
            .when(left[tie_break] > right[tie_break], 1)
            .otherwise(0)
        )

    return F.array_sort(items, compare)


def _of_kind(ops: Column, kind: str) -> Column:
    return F.filter(ops, lambda o: o["kind"] == kind)


def head(values: Column) -> Column:
    """First element, null for an empty or null array (plain indexing fails under ANSI mode)."""
    return F.try_element_at(values, F.lit(1))


def tail(values: Column) -> Column:
    """Last element, null for an empty or null array."""
    return F.try_element_at(values, F.lit(-1))


def _first(values: Column) -> Column:
    """First non-null element of an array (null when none)."""
    return head(F.filter(values, lambda v: v.isNotNull()))


def _last(values: Column) -> Column:
    return tail(F.filter(values, lambda v: v.isNotNull()))


def _messages_with_role(messages: Column, role: str) -> Column:
    return F.filter(F.coalesce(messages, F.array()), lambda m: m["role"] == role)


def reindex(steps: Column) -> Column:
    return F.transform(steps, lambda s, i: s.withField("index", i))


def _requested_calls(ops: Column) -> Column:
    return F.flatten(F.transform(_of_kind(ops, OP_LLM), lambda o: F.coalesce(o["output"]["tool_calls"], F.array())))


def link_tool_calls(ops: Column) -> Column:
    """Tool operations without a call id get the id of the request they executed: the k-th such
    operation of a tool takes the k-th request for that tool that no operation names by id (a
    tool that raised often logs no id, LangSmith's error runs for one)."""
    explicit = F.filter(F.transform(_of_kind(ops, OP_TOOL), lambda o: o["tool"]["call_id"]), lambda i: i.isNotNull())
    pending = F.filter(_requested_calls(ops), lambda r: r["id"].isNotNull() & ~F.array_contains(explicit, r["id"]))

    def unnamed(o: Column) -> Column:
        return (o["kind"] == OP_TOOL) & o["tool"]["call_id"].isNull()

    def linked(o: Column, i: Column) -> Column:
        earlier = F.size(F.filter(F.slice(ops, 1, i), lambda p: unnamed(p) & (p["tool"]["name"] == o["tool"]["name"])))
        match = F.try_element_at(F.filter(pending, lambda r: r["name"] == o["tool"]["name"]), earlier + 1)
        return F.when(unnamed(o), o.withField("tool.call_id", match["id"])).otherwise(o)

    return F.transform(ops, linked)


def steps(ops: Column) -> Column:
    """Canonical steps of a sorted operation array (see the module docstring for the rules)."""
    return bind(link_tool_calls(ops), _linked_steps)


def _linked_steps(ops: Column) -> Column:
    context = F.struct(
        F.filter(F.transform(_of_kind(ops, OP_TOOL), lambda o: o["tool"]["call_id"]), lambda i: i.isNotNull()).alias("executed"),
        F.flatten(F.transform(_of_kind(ops, OP_LLM), lambda o: _messages_with_role(o["inputs"], ROLE_TOOL))).alias("replies"),
        _requested_calls(ops).alias("requested"),
    )
    return bind(context, lambda c: _steps(ops, c["executed"], c["replies"], c["requested"]))


def _steps(ops: Column, executed_ids: Column, tool_messages: Column, requested: Column) -> Column:

    def answer(call_id: Column) -> Column:
        return head(F.filter(tool_messages, lambda m: m["tool_call_id"] == call_id))

    def request(call_id: Column) -> Column:
        return head(F.filter(requested, lambda r: r["id"] == call_id))

    def unexecuted_call(op: Column, call: Column) -> Column:
        def from_reply(reply: Column) -> Column:
            failed = F.coalesce(reply["is_error"], F.lit(False))
            result, error = F.when(~failed, reply["content"]), F.when(failed, reply["content"])
            outcome = tool_call(call["id"], call["name"], call["arguments"], result, error)
            return step(STEP_TOOL, ROLE_ASSISTANT, tool=outcome, started=op["ended"])

        return bind(answer(call["id"]), from_reply)

    def new_user_turns(op: Column, i: Column) -> Column:
        previous = tail(F.filter(F.slice(ops, 1, i), lambda o: o["kind"] == OP_LLM))
        seen = F.coalesce(F.size(previous["inputs"]), F.lit(0))
        fresh = F.filter(
            F.coalesce(op["inputs"], F.array()),
            lambda m, j: (m["role"] == ROLE_USER) & (seen > 0) & (j >= seen),
        )
        return F.transform(fresh, lambda m: step(STEP_MESSAGE, ROLE_USER, content=m["content"]))

    def llm_steps(op: Column, i: Column) -> Column:
        out = op["output"]
        text, reasoning = nonblank(out["content"]), nonblank(out["reasoning"])

        def model_step(kind: str, content: Column | None) -> Column:
            return step(kind, ROLE_ASSISTANT, content, reasoning, None, op["at"], op["ended"], op["tokens_in"], op["tokens_out"])

        own = (
            F.when(text.isNotNull(), F.array(model_step(STEP_LLM, text)))
            .when(reasoning.isNotNull(), F.array(model_step(STEP_REASONING, None)))
            .otherwise(F.array().cast(ArrayType(STEP)))
        )
        calls = F.filter(
            F.coalesce(out["tool_calls"], F.array()),
            lambda c: c["id"].isNull() | ~F.array_contains(executed_ids, c["id"]),
        )
        return F.concat(new_user_turns(op, i), own, F.transform(calls, lambda c: unexecuted_call(op, c)))

    def tool_steps(op: Column) -> Column:
        call = op["tool"]
        found = F.struct(answer(call["call_id"]).alias("reply"), request(call["call_id"]).alias("request"))

        def completed(f: Column) -> Column:
            reply, asked = f["reply"], f["request"]
            failed = F.coalesce(reply["is_error"], F.lit(False))
            no_outcome = call["result"].isNull() & call["error"].isNull()
            outcome = tool_call(
                call["call_id"],
                F.coalesce(call["name"], asked["name"]),
                F.coalesce(asked["arguments"], call["arguments"]),  # as the model emitted them
                F.when(no_outcome & ~failed, reply["content"]).otherwise(call["result"]),
                F.when(no_outcome & failed, reply["content"]).otherwise(call["error"]),
            )
            return step(STEP_TOOL, ROLE_ASSISTANT, tool=outcome, started=op["at"], ended=op["ended"])

        return F.array(bind(found, completed))

    def retrieval_steps(op: Column) -> Column:
        return F.when(
            nonblank(op["query"]).isNotNull(),
            F.array(step(STEP_RETRIEVAL, ROLE_TOOL, content=op["query"], started=op["at"], ended=op["ended"])),
        ).otherwise(F.array().cast(ArrayType(STEP)))

    per_op = F.transform(
        ops,
        lambda o, i: F.when(o["kind"] == OP_LLM, llm_steps(o, i))
        .when(o["kind"] == OP_TOOL, tool_steps(o))
        .when(o["kind"] == OP_RETRIEVAL, retrieval_steps(o))
        .otherwise(F.array().cast(ArrayType(STEP))),
    )
    return reindex(F.flatten(per_op))


def first_user_text(ops: Column) -> Column:
    """The first user message of the first model call that had one."""
    return _first(F.transform(_of_kind(ops, OP_LLM), lambda o: nonblank(head(_messages_with_role(o["inputs"], ROLE_USER))["content"])))


def system_prompt(ops: Column) -> Column:
    """Separate instructions, else the first system message, of the first model call having either."""
    return _first(
        F.transform(
            _of_kind(ops, OP_LLM),
            lambda o: F.coalesce(nonblank(o["system"]), nonblank(head(_messages_with_role(o["inputs"], ROLE_SYSTEM))["content"])),
        )
    )


def last_answer(ops: Column) -> Column:
    """The text of the last model answer that had text."""
    return _last(F.transform(_of_kind(ops, OP_LLM), lambda o: nonblank(o["output"]["content"])))


def context_docs(ops: Column) -> Column:
    return F.flatten(F.transform(_of_kind(ops, OP_RETRIEVAL), lambda o: F.coalesce(o["docs"], F.array().cast(ArrayType(CONTEXT_DOC)))))


def tools_available(ops: Column) -> Column:
    """The tool definitions of the first operation that offered any."""
    return _first(F.transform(ops, lambda o: F.when(F.size(o["tools"]) > 0, o["tools"])))


def first_model(ops: Column) -> Column:
    return _first(F.transform(_of_kind(ops, OP_LLM), lambda o: F.when(o["model"]["name"].isNotNull(), o["model"])))


def total(values: Column) -> Column:
    """Sum of the non-null values of a numeric array; null when there are none."""
    present = F.filter(values, lambda v: v.isNotNull())
    return F.when(F.size(present) > 0, F.aggregate(present, F.lit(0.0), lambda acc, v: acc + v))


def token_total(ops: Column, field: str) -> Column:
    """Sum of a token field over model calls; null when no call reported it."""
    values = F.filter(F.transform(_of_kind(ops, OP_LLM), lambda o: o[field]), lambda v: v.isNotNull())
    return F.when(F.size(values) > 0, F.aggregate(values, F.lit(0).cast("long"), lambda acc, v: acc + v))


def model_of(provider: Column, name: Column, reported: Column) -> Column:
    """MODEL from the requested name and the snapshot the response reported: the version is the
    snapshot's suffix when it extends the name (gpt-4o + gpt-4o-2024-08-06 -> 2024-08-06), else
    the snapshot itself when it differs."""
    version = F.when(
        name.isNotNull() & reported.startswith(F.concat(name, F.lit("-"))),
        reported.substr(F.length(name) + 2, F.length(reported)),
    ).when(name.isNotNull() & (reported != name), reported)
    model = F.struct(provider.alias("provider"), F.coalesce(name, reported).alias("name"), version.alias("version"))
    return F.when(F.coalesce(provider, name, reported).isNotNull(), model)


def no_content(input_text: Column, steps_array: Column, output_text: Column) -> Column:
    """True when a trajectory has neither input, steps nor output."""
    return input_text.isNull() & (F.coalesce(F.size(steps_array), F.lit(0)) <= 0) & output_text.isNull()


def unique_by(items: Column, key: str, newest: str) -> Column:
    """One element per `key` value: the one with the greatest `newest` (a re-exported span or
    observation, or an updated one exported again, counts once, in its latest version).
    Elements without a key are all kept."""

    def compare(left: Column, right: Column) -> Column:
        return (
            F.when(left[key] < right[key], -1)
            .when(left[key] > right[key], 1)
            .when(left[newest] > right[newest], -1)
            .when(left[newest] < right[newest], 1)
            .otherwise(0)
        )

    def first_of_each(ordered: Column) -> Column:
        return F.filter(ordered, lambda x, i: (i == 0) | x[key].isNull() | ~F.get(ordered, i - 1)[key].eqNullSafe(x[key]))

    return bind(F.array_sort(items, compare), first_of_each)


def record_order() -> Column:
    """Where a record stands in ingestion order (later is greater), for unique_by."""
    return F.struct("ingested_at", "source_uri", "source_line")


def record_key() -> Column:
    """A group key naming one bronze record: a nested export record is a trace of its own."""
    return F.concat_ws("/", F.lit("record"), F.col("ingest_run_id"), F.col("source_uri"), F.col("source_line").cast("string"))


def first_record() -> Column:
    """Aggregate: the earliest-ingested contributing record (the candidate's lineage)."""
    return F.min(F.struct("ingested_at", "source_uri", "source_line", "ingest_run_id"))


def grouped_lineage(source_format: str, first: Column) -> list[Column]:
    return [
        F.lit(source_format).alias("source_format"),
        first["source_uri"].alias("source_uri"),
        first["source_line"].alias("source_line"),
        first["ingest_run_id"].alias("ingest_run_id"),
        first["ingested_at"].alias("ingested_at"),
    ]


def latency_ms(started: Column, ended: Column) -> Column:
    return ((F.unix_micros(ended) - F.unix_micros(started)) / 1000).cast("long")


def extra_map(custom: Column, bookkeeping: dict[str, Column]) -> Column:
    """metadata.extra: the format's custom metadata plus the adapter's bookkeeping keys (which win)."""
    keys = list(bookkeeping)
    kept = F.map_filter(F.coalesce(custom, F.create_map().cast("map<string,string>")), lambda k, v: ~k.isin(*keys) & v.isNotNull())
    own = F.map_filter(
        F.create_map(*[item for key in keys for item in (F.lit(key), bookkeeping[key].cast("string"))]),
        lambda k, v: v.isNotNull(),
    )
    return F.map_concat(kept, own)


def rejected(frame: DataFrame, source_format: str, rules: list[tuple[Column, str, Column | str | None]], records: int) -> DataFrame:
    """Reject-only candidates (no content) with their lineage, the first matching rule's reason,
    and metadata.extra["records"]: how many bronze records each accounts for (0 or 1)."""
    extra = F.create_map(F.lit(RECORDS_KEY), F.lit(str(records)))
    metadata = F.struct(*[(extra if f.name == "extra" else F.lit(None)).cast(f.dataType).alias(f.name) for f in METADATA.fields])
    content = [
        (metadata if f.name == "metadata" else F.lit(None)).cast(f.dataType).alias(f.name) for f in TRAJECTORY_CONTENT_FIELDS
    ]
    return as_candidates(frame.select(*content, *lineage(source_format), *reject_when(*rules)))


def checked(candidates: DataFrame) -> DataFrame:
    """Assembled candidates with a `no_content` reject for traces that gave no input, step or output."""
    empty = no_content(F.col("input"), F.col("steps"), F.col("final_output"))
    rule = (empty, NO_CONTENT, "the trace has no input, model call, tool call or output")
    return as_candidates(candidates.select("*", *reject_when(rule)))
