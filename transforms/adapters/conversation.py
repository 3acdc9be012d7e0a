"""A chat conversation (an ordered list of role-tagged messages) -> the canonical parts.

Declaratively mapped logs (mapped.py) reduce to one `MESSAGE` array; this module turns it into
system_prompt, input, steps and final_output with higher-order functions: leading
system/developer messages are the system prompt, the first user message is the input, an
assistant message becomes an `llm` step (or a `reasoning` step when it only reasons) followed by
one `tool` step per tool call, a tool call and its result message (paired by call id) are one
step, and the final output is the last assistant message when it answers rather than calls a
tool. The chat-completions adapter (openai_chat), assembled in Python, applies the same rules
from conversation_rules.py; a change here belongs there too.
"""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from schemas.trajectory import STEP, TOOL_CALL

SYSTEM = "system"
DEVELOPER = "developer"
USER = "user"
ASSISTANT = "assistant"
TOOL = "tool"
SYSTEM_ROLES = (SYSTEM, DEVELOPER)
CANONICAL_ROLES = (SYSTEM, DEVELOPER, USER, ASSISTANT, TOOL)

STEP_LLM = "llm"
STEP_TOOL = "tool"
STEP_REASONING = "reasoning"
STEP_MESSAGE = "message"
STEP_RETRIEVAL = "retrieval"

SYSTEM_PROMPT_SEPARATOR = "\n\n"
CONTENT_PART_SEPARATOR = "\n"

# One message of a conversation, whatever the source format. A `tool` message carries the
# result text in `content` or the failure in `error`; an assistant message's calls may carry
# their result inline (formats that log the result with the call).
MESSAGE = StructType(
    [
        StructField("role", StringType()),
        StructField("content", StringType()),
        StructField("reasoning", StringType()),
        StructField("tool_calls", ArrayType(TOOL_CALL)),
        StructField("tool_call_id", StringType()),
        StructField("error", StringType()),
        StructField("kind", StringType()),  # step kind of a non-assistant message (default message)
        StructField("started_at", TimestampType()),
        StructField("ended_at", TimestampType()),
        StructField("tokens_in", LongType()),
        StructField("tokens_out", LongType()),
    ]
)

# OpenAI-style content parts: [{"type": "text", "text": ...}, {"type": "refusal", ...}, ...].
CONTENT_PARTS = ArrayType(
    StructType(
        [
            StructField("type", StringType()),
            StructField("text", StringType()),
            StructField("refusal", StringType()),
        ]
    )
)
TAGS = ArrayType(StringType())

_MICROS_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}
EPOCH_UNITS = ("s", "ms", "us", "ns")


def empty_array(element_type) -> Column:
    """A typed empty array (built per call: Columns need an active Spark session)."""
    return F.array().cast(ArrayType(element_type))


@dataclass(frozen=True)
class ConversationParts:
    system_prompt: Column
    input: Column
    steps: Column
    final_output: Column


def struct_or_null(schema: StructType, values: list[Column]) -> Column:
    """A canonical struct part (agent, model, task), or null when every field is missing."""
    present = F.lit(False)
    for value in values:
        present = present | value.isNotNull()
    built = F.struct(*[v.cast(f.dataType).alias(f.name) for v, f in zip(values, schema.fields)])
    return F.when(present, built)


def has_text(column: Column) -> Column:
    return F.coalesce(F.length(F.trim(column)) > 0, F.lit(False))


def blank_to_null(column: Column) -> Column:
    return F.when(has_text(column), column)


def text_of(content: Column) -> Column:
    """Message content as text: a plain string as is, a content-parts array as its texts.

    Spark reads any JSON value into a string field as its JSON text, so parts arrive as
    `[{"type":...}]`; a string that merely looks like a parts array is read as one (rare).
    """
    parts = F.from_json(content, CONTENT_PARTS)
    is_parts = (
        content.startswith("[{")
        & (F.size(parts) > 0)
        & F.forall(parts, lambda p: p["type"].isNotNull())
    )
    texts = F.filter(
        F.transform(parts, lambda p: F.coalesce(p["text"], p["refusal"])), lambda t: t.isNotNull()
    )
    return F.when(F.coalesce(is_parts, F.lit(False)), F.array_join(texts, CONTENT_PART_SEPARATOR)).otherwise(content)


def tags_of(value: Column) -> Column:
    """Tags given as a JSON array (`["a","b"]`) or as comma-separated text (`a, b`)."""
    as_json = F.from_json(value, TAGS)
    as_list = F.filter(F.transform(F.split(value, ","), lambda t: F.trim(t)), lambda t: t != "")
    return F.when(value.isNull(), F.lit(None).cast(TAGS)).when(
        value.startswith("[") & as_json.isNotNull(), as_json
    ).otherwise(as_list)


def timestamp_of(value: Column, epoch_unit: str = "s") -> Column:
    """ISO-8601 text, or a Unix epoch number (in `epoch_unit`) -> timestamp; null if neither.

    A JSON number read into a string field arrives as Java renders it (`1.79361180025E9`),
    which the decimal cast reads.
    """
    numeric = value.try_cast("decimal(38,6)")
    # try_multiply: a number too large for microseconds is no timestamp (null); a plain product
    # overflowing decimal(38,6) is an error under ANSI, and one such record failed the job.
    micros = numeric / 1000 if epoch_unit == "ns" else F.try_multiply(numeric, F.lit(_MICROS_PER[epoch_unit]))
    epoch = F.timestamp_micros(micros.try_cast("long"))
    return F.when(numeric.isNotNull(), epoch).otherwise(F.try_to_timestamp(value))


def message(
    role: Column,
    content: Column,
    reasoning: Column | None = None,
    tool_calls: Column | None = None,
    tool_call_id: Column | None = None,
    error: Column | None = None,
    kind: Column | None = None,
    started_at: Column | None = None,
    ended_at: Column | None = None,
    tokens_in: Column | None = None,
    tokens_out: Column | None = None,
) -> Column:
    """A MESSAGE struct (missing parts null), typed exactly so arrays of them union cleanly."""
    values = {
        "role": role, "content": content, "reasoning": reasoning, "tool_calls": tool_calls,
        "tool_call_id": tool_call_id, "error": error, "kind": kind, "started_at": started_at, "ended_at": ended_at,
        "tokens_in": tokens_in, "tokens_out": tokens_out,
    }
    return F.struct(
        *[
            (values[f.name] if values[f.name] is not None else F.lit(None)).cast(f.dataType).alias(f.name)
            for f in MESSAGE.fields
        ]
    )


def tool_call(call_id: Column, name: Column, arguments: Column, result: Column | None = None, error: Column | None = None) -> Column:
    none = F.lit(None).cast("string")
    return F.struct(
        call_id.cast("string").alias("call_id"),
        name.cast("string").alias("name"),
        arguments.cast("string").alias("arguments"),
        (result if result is not None else none).cast("string").alias("result"),
        (error if error is not None else none).cast("string").alias("error"),
    )


def _step(kind: str | Column, role: Column, content: Column | None = None, reasoning: Column | None = None,
          tool: Column | None = None, timed: Column | None = None) -> Column:
    """A STEP struct; `timed` (a MESSAGE) lends its times and tokens to llm/reasoning steps."""
    none = F.lit(None)
    return F.struct(
        none.cast("int").alias("index"),
        (F.lit(kind) if isinstance(kind, str) else kind).alias("kind"),
        role.cast("string").alias("role"),
        (content if content is not None else none).cast("string").alias("content"),
        (reasoning if reasoning is not None else none).cast("string").alias("reasoning"),
        (tool if tool is not None else none).cast(TOOL_CALL).alias("tool"),
        (timed["started_at"] if timed is not None else none).cast("timestamp").alias("started_at"),
        (timed["ended_at"] if timed is not None else none).cast("timestamp").alias("ended_at"),
        (timed["tokens_in"] if timed is not None else none).cast("long").alias("tokens_in"),
        (timed["tokens_out"] if timed is not None else none).cast("long").alias("tokens_out"),
    )


def conversation_parts(messages: Column) -> ConversationParts:
    """The canonical parts of an array<MESSAGE> (see the module docstring for the rules)."""
    msgs = F.coalesce(messages, empty_array(MESSAGE))
    first_non_system = F.array_position(
        F.transform(msgs, lambda m: ~F.coalesce(m["role"].isin(*SYSTEM_ROLES), F.lit(False))), True
    )
    n_leading_system = F.when(first_non_system == 0, F.size(msgs)).otherwise(first_non_system - 1).cast("int")
    input_at = F.array_position(F.transform(msgs, lambda m: F.coalesce(m["role"] == USER, F.lit(False))), True)

    system_prompt = F.when(
        n_leading_system > 0,
        blank_to_null(
            F.concat_ws(SYSTEM_PROMPT_SEPARATOR, F.transform(F.slice(msgs, 1, n_leading_system), lambda m: m["content"]))
        ),
    )
    user_input = F.when(input_at > 0, F.get(msgs, (input_at - 1).cast("int"))["content"])

    tool_results = F.filter(msgs, lambda m: m["role"] == TOOL)
    call_ids = F.flatten(
        F.transform(msgs, lambda m: F.transform(F.coalesce(m["tool_calls"], empty_array(TOOL_CALL)), lambda c: c["call_id"]))
    )

    def answered_calls(m: Column) -> Column:
        """Each call of the message with its result message (found once, used twice)."""
        return F.transform(F.coalesce(m["tool_calls"], empty_array(TOOL_CALL)), lambda c: F.struct(
            c.alias("call"), F.get(F.filter(tool_results, lambda t: t["tool_call_id"] == c["call_id"]), 0).alias("answer")
        ))

    def tool_step(x: Column) -> Column:
        call, answer = x["call"], x["answer"]
        paired = tool_call(
            call["call_id"], call["name"], call["arguments"],
            F.coalesce(call["result"], answer["content"]), F.coalesce(call["error"], answer["error"]),
        )
        return _step(STEP_TOOL, F.lit(ASSISTANT), tool=paired)

    def steps_of(m: Column) -> Column:
        said = (
            F.when(has_text(m["content"]), F.array(_step(STEP_LLM, F.lit(ASSISTANT), m["content"], blank_to_null(m["reasoning"]), timed=m)))
            .when(has_text(m["reasoning"]), F.array(_step(STEP_REASONING, F.lit(ASSISTANT), reasoning=m["reasoning"], timed=m)))
            .otherwise(empty_array(STEP))
        )
        assistant = F.concat(said, F.transform(answered_calls(m), tool_step))
        answered = F.coalesce(F.array_contains(call_ids, m["tool_call_id"]), F.lit(False))
        orphan_result = F.when(answered, empty_array(STEP)).otherwise(
            F.array(_step(F.coalesce(m["kind"], F.lit(STEP_MESSAGE)), m["role"], F.coalesce(m["content"], m["error"]), timed=m))
        )
        other = F.array(
            _step(F.coalesce(m["kind"], F.lit(STEP_MESSAGE)), m["role"], m["content"], blank_to_null(m["reasoning"]), timed=m)
        )
        return F.when(m["role"] == ASSISTANT, assistant).when(m["role"] == TOOL, orphan_result).otherwise(other)

    later = F.filter(msgs, lambda m, i: (i >= n_leading_system) & (i != input_at - 1))
    steps = F.transform(F.flatten(F.transform(later, steps_of)), lambda s, i: s.withField("index", i))

    assistants = F.filter(msgs, lambda m: m["role"] == ASSISTANT)
    last = F.get(assistants, (F.size(assistants) - 1).cast("int"))
    answers = has_text(last["content"]) & (F.coalesce(F.size(last["tool_calls"]), F.lit(0)) <= 0)
    final_output = F.when(answers, last["content"])
    return ConversationParts(system_prompt, user_input, steps, final_output)
