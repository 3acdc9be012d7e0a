"""Chat messages as tracing SDKs record them -> trace_assembly.MESSAGE, with variant accessors.

Langfuse and LangSmith store a model call's input and output in whatever shape the traced
client used (LangSmith is now read by the Python twin of this module, message_shapes), and one field can hold several JSON types, so the payloads are parsed as VARIANT
and read with `try_variant_get` (no UDF). Shapes understood:

- OpenAI chat messages: {role, content, tool_calls: [{id, type, function: {name, arguments}}],
  tool_call_id}, reasoning in `reasoning_content`; a completion {choices: [{message}]};
- LangChain messages, serialized ({"lc": 1, "type": "constructor", "id": [..., "AIMessage"],
  "kwargs": {content, tool_calls: [{name, args, id}], additional_kwargs, tool_call_id, status}})
  or as dicts ({"type": "ai" | "human" | "system" | "tool", ...}); an LLMResult
  {generations: [[{text, message}]]};
- content as text or a list of blocks: text / output_text, thinking / reasoning, tool_use;
- retrieved documents: LangChain Documents ({page_content, metadata}, plain or serialized) or
  {id, content, score, source}, listed or under `documents`.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType

from schemas.trajectory import CONTEXT_DOC, TOOL_SPEC
from transforms.adapters.trace_assembly import (
    MESSAGE,
    ROLE_ASSISTANT,
    ROLE_SYSTEM,
    ROLE_TOOL,
    ROLE_USER,
    TOOL_REQUEST,
    bind,
    message,
    nonblank,
)

_VARIANT_ARRAY = "array<variant>"

# Message type names (LangChain class or `type`, OpenAI/Anthropic `role`) -> normalised role.
_ROLE_ALIASES = {
    ROLE_USER: ["humanmessage", "humanmessagechunk", "human", "user"],
    ROLE_ASSISTANT: ["aimessage", "aimessagechunk", "ai", "assistant", "model"],
    ROLE_SYSTEM: ["systemmessage", "systemmessagechunk", "system", "developer"],
    ROLE_TOOL: ["toolmessage", "toolmessagechunk", "tool", "function", "functionmessage"],
}
_TEXT_BLOCKS = ["text", "output_text", "input_text"]
_REASONING_BLOCKS = ["thinking", "reasoning"]


def get(v: Column, path: str, target: str = "string") -> Column:
    """A value at a JSON path of a variant, null when absent or of another type."""
    return F.try_variant_get(v, path, target)


def as_text(v: Column) -> Column:
    """A variant as text: strings as they are, anything else as its JSON."""
    return F.when(F.schema_of_variant(v) != F.lit("VOID"), get(v, "$"))


def is_string(v: Column) -> Column:
    return F.schema_of_variant(v) == F.lit("STRING")


def _blocks(content: Column) -> Column:
    return get(content, "$", _VARIANT_ARRAY)


def _join_blocks(blocks: Column, types: list[str], fields: list[str]) -> Column:
    chosen = F.filter(blocks, lambda b: F.lower(get(b, "$.type")).isin(*types))
    texts = F.transform(chosen, lambda b: F.coalesce(*[get(b, f"$.{f}") for f in fields]))
    return nonblank(F.array_join(texts, "\n"))


def content_text(content: Column) -> Column:
    """Text of a content field: the string, or the text blocks joined."""
    return F.when(is_string(content), get(content, "$")).otherwise(_join_blocks(_blocks(content), _TEXT_BLOCKS, ["text", "content"]))


def _content_reasoning(content: Column) -> Column:
    return _join_blocks(_blocks(content), _REASONING_BLOCKS, ["thinking", "reasoning", "text"])


def _tool_request(call: Column) -> Column:
    """One requested call, OpenAI ({id, function: {name, arguments}}) or LangChain ({id, name, args})."""
    arguments = F.coalesce(
        get(call, "$.function.arguments"), as_text(get(call, "$.args", "variant")), as_text(get(call, "$.input", "variant"))
    )
    return F.struct(
        get(call, "$.id").alias("id"),
        F.coalesce(get(call, "$.function.name"), get(call, "$.name")).alias("name"),
        arguments.alias("arguments"),
    ).cast(TOOL_REQUEST)


def _tool_requests(calls: Column) -> Column:
    requests = F.transform(calls, _tool_request)
    return F.when(F.size(requests) > 0, requests)


def _role(body: Column, outer: Column) -> Column:
    class_name = F.try_element_at(get(outer, "$.id", "array<string>"), F.lit(-1))
    kind = F.lower(F.coalesce(class_name, get(body, "$.type"), get(outer, "$.type"), get(body, "$.role"), get(outer, "$.role")))

    def canonical(k: Column) -> Column:
        role = F.lit(None).cast("string")
        for name, aliases in reversed(_ROLE_ALIASES.items()):
            role = F.when(k.isin(*aliases), F.lit(name)).otherwise(role)
        return role

    # LangChain ChatMessage keeps the role apart from the class name.
    return F.coalesce(bind(kind, canonical), F.lower(get(body, "$.role")))


def normalize_message(v: Column) -> Column:
    """One chat message variant (any shape in the module docstring) -> MESSAGE."""
    body = F.coalesce(get(v, "$.kwargs", "variant"), get(v, "$.data", "variant"), v)
    parts = F.struct(
        v.alias("outer"),
        body.alias("body"),
        get(body, "$.content", "variant").alias("content"),
        get(body, "$.additional_kwargs", "variant").alias("extra"),
    )
    plain = message(F.lit(ROLE_USER), get(v, "$"), is_error=F.lit(False))
    return F.when(is_string(v), plain).otherwise(bind(parts, _message_of))


def _message_of(p: Column) -> Column:
    body, content, extra = p["body"], p["content"], p["extra"]
    tool_use = F.filter(_blocks(content), lambda b: get(b, "$.type") == F.lit("tool_use"))
    reasoning = F.coalesce(
        _content_reasoning(content),
        get(body, "$.reasoning_content"),
        get(extra, "$.reasoning_content"),
        get(body, "$.reasoning"),
    )
    tool_calls = F.coalesce(
        _tool_requests(get(body, "$.tool_calls", _VARIANT_ARRAY)),
        _tool_requests(get(extra, "$.tool_calls", _VARIANT_ARRAY)),
        _tool_requests(tool_use),
    )
    return message(
        _role(body, p["outer"]),
        content_text(content),
        reasoning,
        tool_calls,
        get(body, "$.tool_call_id"),
        F.coalesce(get(body, "$.status") == F.lit("error"), F.lit(False)),
    )


def message_array(v: Column) -> Column:
    """A list of messages: the array itself, the first of a batch of lists, or under `messages`."""
    messages = get(v, "$.messages", "variant")
    listed = F.coalesce(
        get(messages, "$[0]", _VARIANT_ARRAY),
        get(messages, "$", _VARIANT_ARRAY),
        get(v, "$[0]", _VARIANT_ARRAY),
        get(v, "$", _VARIANT_ARRAY),
    )
    return F.transform(listed, normalize_message).cast(ArrayType(MESSAGE))


def output_message(v: Column) -> Column:
    """A model call's answer: an LLMResult, a completion, {message}, a message, or plain text."""
    generation = get(v, "$.generations[0][0]", "variant")
    answer = F.coalesce(
        get(generation, "$.message", "variant"),
        get(v, "$.choices[0].message", "variant"),
        get(v, "$.message", "variant"),
        F.when(~is_string(v) & get(v, "$", _VARIANT_ARRAY).isNull() & generation.isNull(), v),
    )
    text_only = F.coalesce(get(generation, "$.text"), F.when(is_string(v), get(v, "$")))
    found = F.struct(answer.alias("answer"), text_only.alias("text"))

    def of(f: Column) -> Column:
        return F.when(f["answer"].isNotNull(), bind(normalize_message(f["answer"]), _as_assistant)).otherwise(
            F.when(f["text"].isNotNull(), message(F.lit(ROLE_ASSISTANT), f["text"]))
        )

    return bind(found, of)


def _as_assistant(m: Column) -> Column:
    return m.withField("role", F.coalesce(m["role"], F.lit(ROLE_ASSISTANT)))


def tool_specs(v: Column) -> Column:
    """Tool definitions, OpenAI ({type: function, function: {...}}) or flat ({name, description, parameters})."""

    def spec(t: Column) -> Column:
        body = F.coalesce(get(t, "$.function", "variant"), t)
        schema = F.coalesce(*[get(body, f"$.{key}", "variant") for key in ("parameters", "input_schema", "args_schema")])
        return F.struct(
            get(body, "$.name").alias("name"),
            get(body, "$.description").alias("description"),
            as_text(schema).alias("parameters"),
        ).cast(TOOL_SPEC)

    specs = F.transform(get(v, "$", _VARIANT_ARRAY), spec)
    return F.when(F.size(specs) > 0, specs)


def string_map(v: Column) -> Column:
    """A JSON object as map<string, string> (nested values as JSON text); null for non-objects."""
    return get(v, "$", "map<string,string>")


def documents(v: Column) -> Column:
    """Retrieved documents (see the module docstring) -> array<CONTEXT_DOC>."""
    listed = F.coalesce(get(v, "$.documents", _VARIANT_ARRAY), get(v, "$", _VARIANT_ARRAY))

    def doc(d: Column) -> Column:
        body = F.coalesce(get(d, "$.kwargs", "variant"), d)

        def of(b: Column) -> Column:
            meta = get(b, "$.metadata", "variant")
            return F.struct(
                F.coalesce(get(b, "$.id"), get(meta, "$.id"), get(meta, "$.doc_id")).alias("doc_id"),
                F.coalesce(get(b, "$.source"), get(meta, "$.source")).alias("source"),
                F.coalesce(get(b, "$.page_content"), get(b, "$.content"), get(b, "$.text")).alias("content"),
                F.coalesce(get(b, "$.score", "double"), get(meta, "$.score", "double")).alias("score"),
            ).cast(CONTEXT_DOC)

        return bind(body, of)

    return F.transform(listed, doc)
