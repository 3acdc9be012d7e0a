"""Chat messages as tracing SDKs record them -> one message shape, in Python.

Read by the rules the trace adapters followed when they were Spark expressions, so a trace
assembled again (late records) gives the content, and content hash, silver already holds. Values
are json.loads values read through variant_values (ABSENT is a missing path, None a JSON null).
Shapes understood:

- OpenAI chat messages: {role, content, tool_calls: [{id, type, function: {name, arguments}}],
  tool_call_id}, reasoning in `reasoning_content`; a completion {choices: [{message}]};
- LangChain messages, serialized ({"lc": 1, "type": "constructor", "id": [..., "AIMessage"],
  "kwargs": {content, tool_calls: [{name, args, id}], additional_kwargs, tool_call_id, status}})
  or as dicts ({"type": "ai" | "human" | "system" | "tool", ...}); an LLMResult
  {generations: [[{text, message}]]};
- content as text or a list of blocks: text / output_text, thinking / reasoning, tool_use;
- retrieved documents: LangChain Documents ({page_content, metadata}, plain or serialized) or
  {id, content, score, source}, listed or under `documents`.

A message is a dict (role, content, reasoning, tool_calls, tool_call_id, is_error); a requested
call one with id, name and arguments (JSON text); documents and tool definitions have the fields
of CONTEXT_DOC and TOOL_SPEC.
"""

from __future__ import annotations

from transforms.adapters.variant_values import (
    ABSENT,
    array,
    array_at,
    double,
    first_present,
    get,
    present,
    text,
    text_array,
    text_at,
)

ROLE_SYSTEM = "system"
ROLE_USER = "user"
ROLE_ASSISTANT = "assistant"
ROLE_TOOL = "tool"

# Message type names (LangChain class or `type`, OpenAI/Anthropic `role`) -> normalised role.
_ROLE_ALIASES = {
    ROLE_USER: ("humanmessage", "humanmessagechunk", "human", "user"),
    ROLE_ASSISTANT: ("aimessage", "aimessagechunk", "ai", "assistant", "model"),
    ROLE_SYSTEM: ("systemmessage", "systemmessagechunk", "system", "developer"),
    ROLE_TOOL: ("toolmessage", "toolmessagechunk", "tool", "function", "functionmessage"),
}
_ROLE_OF_ALIAS = {alias: role for role, aliases in _ROLE_ALIASES.items() for alias in aliases}
_TEXT_BLOCKS = ("text", "output_text", "input_text")
_TEXT_BLOCK_FIELDS = ("text", "content")
_REASONING_BLOCKS = ("thinking", "reasoning")
_REASONING_BLOCK_FIELDS = ("thinking", "reasoning", "text")
_TOOL_USE_BLOCK = "tool_use"
_ERROR_STATUS = "error"
_SCHEMA_KEYS = ("parameters", "input_schema", "args_schema")


def message(role, content=None, reasoning=None, tool_calls=None, tool_call_id=None, is_error=None) -> dict:
    return {"role": role, "content": content, "reasoning": reasoning, "tool_calls": tool_calls,
            "tool_call_id": tool_call_id, "is_error": is_error}


def nonblank(value: str | None) -> str | None:
    """The text, or None when it is None, empty or only spaces (Spark's trim strips spaces only)."""
    return value if value is not None and value.strip(" ") else None


def first(*values):
    """coalesce() of plain values."""
    for value in values:
        if value is not None:
            return value
    return None


def lower(value: str | None) -> str | None:
    """lower() of a text that may be null."""
    return None if value is None else value.lower()


def _join_blocks(blocks: list | None, types: tuple[str, ...], fields: tuple[str, ...]) -> str | None:
    if blocks is None:
        return None
    texts = []
    for block in blocks:
        if lower(text_at(block, "type")) in types:
            found = first(*[text_at(block, f) for f in fields])
            if found is not None:
                texts.append(found)
    return nonblank("\n".join(texts))


def content_text(content) -> str | None:
    """Text of a content field: the string, or the text blocks joined."""
    if isinstance(content, str):
        return content
    return _join_blocks(array(content), _TEXT_BLOCKS, _TEXT_BLOCK_FIELDS)


def _tool_request(call) -> dict:
    """One requested call, OpenAI ({id, function: {name, arguments}}) or LangChain ({id, name, args})."""
    return {
        "id": text_at(call, "id"),
        "name": first(text_at(call, "function", "name"), text_at(call, "name")),
        "arguments": first(text_at(call, "function", "arguments"), text_at(call, "args"), text_at(call, "input")),
    }


def _tool_requests(calls: list | None) -> list | None:
    return [_tool_request(c) for c in calls] if calls else None


# A message's alternatives are read one at a time, up to the first found (not all, then
# coalesced): this runs for every message of every trace.


def _first_text_at(*places: tuple) -> str | None:
    """The first text found at (value, field) places, in order."""
    for where, field in places:
        found = text_at(where, field)
        if found is not None:
            return found
    return None


def _role(body, outer) -> str | None:
    class_names = text_array(get(outer, "id"))
    kind = class_names[-1] if class_names else None
    if kind is None:
        kind = _first_text_at((body, "type"), (outer, "type"), (body, "role"), (outer, "role"))
    # LangChain ChatMessage keeps the role apart from the class name.
    role = _ROLE_OF_ALIAS.get(lower(kind))
    return role if role is not None else lower(text_at(body, "role"))


def _reasoning(blocks: list | None, body, extra) -> str | None:
    found = _join_blocks(blocks, _REASONING_BLOCKS, _REASONING_BLOCK_FIELDS)
    if found is None:
        found = _first_text_at((body, "reasoning_content"), (extra, "reasoning_content"), (body, "reasoning"))
    return found


def _message_tool_calls(blocks: list | None, body, extra) -> list | None:
    found = _tool_requests(array_at(body, "tool_calls"))
    if found is None:
        found = _tool_requests(array_at(extra, "tool_calls"))
    if found is None and blocks is not None:
        found = _tool_requests([b for b in blocks if text_at(b, "type") == _TOOL_USE_BLOCK])
    return found


def normalize_message(value) -> dict:
    """One chat message (any shape in the module docstring)."""
    if isinstance(value, str):
        return sent_message(value)
    body = _body(value)
    found = _sent(body, value)
    content = get(body, "content")
    extra = get(body, "additional_kwargs")
    blocks = array(content)
    found["reasoning"] = _reasoning(blocks, body, extra)
    found["tool_calls"] = _message_tool_calls(blocks, body, extra)
    return found


def sent_message(value) -> dict:
    """A message sent to a model: `normalize_message` without its reasoning and tool calls (left
    None). The rules read a sent message's role, text, call id and error status only, and each
    model call sends all earlier messages again: most messages a trace holds are sent ones."""
    if isinstance(value, str):
        return message(ROLE_USER, value, is_error=False)
    return _sent(_body(value), value)


def _body(value):
    """Where a message's fields are: a serialized LangChain message's kwargs, a dict form's data, else itself."""
    return first_present(get(value, "kwargs"), get(value, "data"), value)


def _sent(body, value) -> dict:
    return message(
        _role(body, value),
        content_text(get(body, "content")),
        tool_call_id=text_at(body, "tool_call_id"),
        is_error=text_at(body, "status") == _ERROR_STATUS,
    )


def _sent_list(value) -> list | None:
    """Where a value lists sent messages: the array itself, the first of a batch of lists, or under `messages`."""
    messages = get(value, "messages")
    return first(array_at(messages, 0), array(messages), array_at(value, 0), array(value))


def message_array(value) -> list | None:
    """A list of sent messages (`sent_message`): the array itself, the first of a batch of lists,
    or under `messages`."""
    listed = _sent_list(value)
    return None if listed is None else [sent_message(m) for m in listed]


class SentMessages:
    """message_array for the model calls of one trace. Each call sends the messages of the calls
    before it again, so a trace holds about the square of its calls in messages: when a call's
    list starts with the list read last, only the messages after it are read.

    "Starts with" is Python's equality of the decoded values, under which 1, 1.0 and true are
    equal: a message sent again with such a value changed reads as first sent. (SDKs send the
    same objects again; the rules read a sent message's role, text, call id and status.) Results
    share their messages: do not change them."""

    def __init__(self) -> None:
        self._listed: list = []
        self._read: list = []

    def __call__(self, value) -> list | None:
        listed = _sent_list(value)
        if listed is None:
            return None
        known = len(self._listed)
        if known and len(listed) >= known and listed[:known] == self._listed:
            read = self._read + [sent_message(m) for m in listed[known:]]
        else:
            read = [sent_message(m) for m in listed]
        self._listed, self._read = listed, read
        return list(read)


def output_message(value) -> dict | None:
    """A model call's answer: an LLMResult, a completion, {message}, a message, or plain text."""
    generation = get(value, "generations", 0, 0)
    bare = present(value) and not isinstance(value, str) and array(value) is None and not present(generation)
    answer = first_present(
        get(generation, "message"), get(value, "choices", 0, "message"), get(value, "message"), value if bare else ABSENT
    )
    if present(answer):
        found = normalize_message(answer)
        if found["role"] is None:
            found["role"] = ROLE_ASSISTANT
        return found
    text_only = first(text_at(generation, "text"), value if isinstance(value, str) else None)
    return None if text_only is None else message(ROLE_ASSISTANT, text_only)


def tool_specs(value) -> list | None:
    """Tool definitions, OpenAI ({type: function, function: {...}}) or flat ({name, description, parameters})."""
    listed = array(value)
    if not listed:
        return None
    specs = []
    for tool in listed:
        body = first_present(get(tool, "function"), tool)
        schema = first_present(*[get(body, key) for key in _SCHEMA_KEYS])
        specs.append({"name": text_at(body, "name"), "description": text_at(body, "description"), "parameters": text(schema)})
    return specs


def documents(value) -> list | None:
    """Retrieved documents (see the module docstring) -> CONTEXT_DOC dicts."""
    listed = first(array_at(value, "documents"), array(value))
    return None if listed is None else [_document(d) for d in listed]


def _document(doc) -> dict:
    body = first_present(get(doc, "kwargs"), doc)
    meta = get(body, "metadata")
    return {
        "doc_id": first(text_at(body, "id"), text_at(meta, "id"), text_at(meta, "doc_id")),
        "source": first(text_at(body, "source"), text_at(meta, "source")),
        "content": first(text_at(body, "page_content"), text_at(body, "content"), text_at(body, "text")),
        "score": first(double(get(body, "score")), double(get(meta, "score"))),
    }
