"""A chat conversation -> the canonical parts, in Python: conversation.py's rules for adapters
that assemble in Python workers (openai_chat).

The rules are conversation.py's, read over message dicts with the fields of conversation.MESSAGE
(times as epoch microseconds), so a trajectory assembled here has the content, and content
hash, the Spark expressions gave: leading system/developer messages are the system prompt, the
first user message is the input, an assistant message becomes an `llm` step (or a `reasoning`
step when it only reasons) followed by one `tool` step per tool call, a tool call and its result
message (paired by call id) are one step, and the final output is the last assistant message
when it answers rather than calls a tool.
"""

from __future__ import annotations

from dataclasses import dataclass

from transforms.adapters import trace_rules as tr
from transforms.adapters.conversation import (
    ASSISTANT,
    MESSAGE,
    STEP_LLM,
    STEP_MESSAGE,
    STEP_REASONING,
    STEP_TOOL,
    SYSTEM_PROMPT_SEPARATOR,
    SYSTEM_ROLES,
    TOOL,
    USER,
)
from transforms.adapters.message_shapes import first, nonblank

MESSAGE_FIELDS = tuple(f.name for f in MESSAGE.fields)


@dataclass(frozen=True, slots=True)
class Parts:
    system_prompt: str | None
    input: str | None
    steps: list[dict]
    final_output: str | None


def has_text(value: str | None) -> bool:
    """length(trim(value)) > 0: Spark's trim strips spaces only."""
    return nonblank(value) is not None


def message(**values) -> dict:
    """A MESSAGE dict, missing fields None."""
    return {name: values.get(name) for name in MESSAGE_FIELDS}


def _step(kind: str, role: str | None, m: dict | None = None, content=None, reasoning=None, tool=None) -> dict:
    """A STEP dict; `m` (the message) lends its times and tokens."""
    m = m or {}
    return tr.step(kind, role, content, reasoning, tool, m.get("started_at"), m.get("ended_at"), m.get("tokens_in"), m.get("tokens_out"))


def _leading_system(messages: list[dict]) -> int:
    """How many messages open the conversation with a system/developer role."""
    return next((i for i, m in enumerate(messages) if m["role"] not in SYSTEM_ROLES), len(messages))


def _system_prompt(leading: list[dict]) -> str | None:
    if not leading:
        return None
    return nonblank(SYSTEM_PROMPT_SEPARATOR.join(m["content"] for m in leading if m["content"] is not None))


def _tool_steps(m: dict, results: list[dict]) -> list[dict]:
    """One `tool` step per call of an assistant message, with its result message's content or error."""
    out = []
    for call in m["tool_calls"] or ():
        call_id = call["call_id"]
        answer = next((r for r in results if r["tool_call_id"] == call_id), {}) if call_id is not None else {}
        paired = tr.tool_call(
            call_id, call["name"], call["arguments"],
            first(call["result"], answer.get("content")), first(call["error"], answer.get("error")),
        )
        out.append(_step(STEP_TOOL, ASSISTANT, tool=paired))
    return out


def _steps_of(m: dict, results: list[dict], call_ids: set) -> list[dict]:
    """The steps of one message after the system prompt and the input."""
    role = m["role"]
    if role == ASSISTANT:
        said = []
        if has_text(m["content"]):
            said.append(_step(STEP_LLM, ASSISTANT, m, m["content"], nonblank(m["reasoning"])))
        elif has_text(m["reasoning"]):
            said.append(_step(STEP_REASONING, ASSISTANT, m, reasoning=m["reasoning"]))
        return said + _tool_steps(m, results)
    kind = first(m["kind"], STEP_MESSAGE)
    if role == TOOL:
        answered = m["tool_call_id"] in call_ids  # its call's step carries it
        return [] if answered else [_step(kind, role, m, first(m["content"], m["error"]))]
    return [_step(kind, role, m, m["content"], nonblank(m["reasoning"]))]


def _final_output(messages: list[dict]) -> str | None:
    """The last assistant message's text, when it answers rather than calls tools."""
    assistants = [m for m in messages if m["role"] == ASSISTANT]
    last = assistants[-1] if assistants else None
    return last["content"] if last is not None and has_text(last["content"]) and not last["tool_calls"] else None


def conversation_parts(messages: list[dict] | None) -> Parts:
    """The canonical parts of a list of MESSAGE dicts (see the module docstring for the rules)."""
    messages = messages or []
    leading = _leading_system(messages)
    input_at = next((i for i, m in enumerate(messages) if m["role"] == USER), None)
    results = [m for m in messages if m["role"] == TOOL]
    call_ids = {c["call_id"] for m in messages for c in m["tool_calls"] or () if c["call_id"] is not None}
    steps = [
        s for i, m in enumerate(messages) if i >= leading and i != input_at for s in _steps_of(m, results, call_ids)
    ]
    for index, s in enumerate(steps):
        s["index"] = index
    return Parts(
        _system_prompt(messages[:leading]),
        messages[input_at]["content"] if input_at is not None else None,
        steps,
        _final_output(messages),
    )
