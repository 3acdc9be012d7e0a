"""One canonical trajectory from the operations of one trace, in Python.

Tracing formats (OpenTelemetry GenAI, Langfuse, LangSmith) log an agent run as many timed
operations: model calls, tool executions, retrievals. Each trace adapter maps its records to
Operation objects; the rules that turn the time-ordered operations into canonical steps and
trace-level values live here once, so the three formats agree on them:

- a model call becomes an `llm` step (its answer text, with any reasoning), or a `reasoning`
  step when it produced reasoning but no text; the tool calls it requested that no tool
  operation executed become `tool` steps right after it, answered from the tool messages of
  later model calls (paired by call id);
- a tool operation becomes one `tool` step carrying both the call and its result or error; the
  arguments are the model's request when the call id links one, the result falls back to a
  later tool message; a tool operation without a call id is linked to the request for its tool
  that nothing else executed (link_tool_calls);
- a retrieval that logged its query becomes a `retrieval` step (its documents go to
  context_docs either way);
- user messages that first appear at the end of a later model call's input are new user turns:
  `message` steps just before that call's own steps.

Times are microseconds since the epoch; messages, tool calls, documents and tool definitions are
dicts with the fields of their Spark structs (message_shapes).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import cmp_to_key

from transforms.adapters.message_shapes import ROLE_ASSISTANT, ROLE_SYSTEM, ROLE_TOOL, ROLE_USER, first, nonblank

# Operation kinds.
OP_LLM = "llm"
OP_TOOL = "tool"
OP_RETRIEVAL = "retrieval"
OP_OTHER = "other"

# Step kinds produced here (schemas.trajectory.STEP_KINDS).
STEP_LLM = "llm"
STEP_TOOL = "tool"
STEP_REASONING = "reasoning"
STEP_MESSAGE = "message"
STEP_RETRIEVAL = "retrieval"

EPOCH = 0

NO_CONTENT_DETAIL = "the trace has no input, model call, tool call or output"


@dataclass(slots=True)
class Operation:
    """One timed operation of a trace."""

    kind: str
    at: int  # start (the sort key); the end, else the epoch, when the start is unknown
    ended: int | None = None
    order: str = ""  # tie-break among equal starts (span id, dotted order)
    inputs: list | None = None  # llm: the messages sent (their role, content, tool_call_id and is_error are read)
    output: dict | None = None  # llm: the (first) answer
    system: str | None = None  # llm: instructions given apart from the messages
    tokens_in: int | None = None
    tokens_out: int | None = None
    tool: dict | None = None  # tool: TOOL_CALL (call_id, name, arguments, result, error)
    query: str | None = None  # retrieval
    docs: list | None = None  # retrieval
    # Tool definitions offered to the model, or a function giving them: only the first operation
    # that offers any is read, and a model call carries its tools every time.
    tools: list | Callable[[], list | None] | None = None
    model: dict | None = None  # llm: MODEL (provider, name, version)


def operation(kind: str, at: int | None, ended: int | None = None, order: str | None = None, **parts) -> Operation:
    """An Operation whose start falls back to its end, then the epoch."""
    return Operation(kind, first(at, ended, EPOCH), ended, first(order, ""), **parts)


def tool_call(call_id, name, arguments, result=None, error=None) -> dict:
    return {"call_id": call_id, "name": name, "arguments": arguments, "result": result, "error": error}


def step(kind: str, role: str | None, content=None, reasoning=None, tool=None, started=None, ended=None, tokens_in=None, tokens_out=None) -> dict:
    """A canonical STEP (index filled by `steps`)."""
    return {"index": None, "kind": kind, "role": role, "content": content, "reasoning": reasoning, "tool": tool,
            "started_at": started, "ended_at": ended, "tokens_in": tokens_in, "tokens_out": tokens_out}


def sort_operations(ops: list[Operation]) -> list[Operation]:
    """Operations in start order; equal starts keep a stable order by their `order` key."""
    return sorted(ops, key=lambda o: (o.at, o.order))


def root_first(items: list, is_root, at, tie_break) -> list:
    """Items whose is_root(item) is true first, then by at(item), then by tie_break(item): the
    order in which trace-level values (identity, agent, totals) are looked up. The start is
    skipped when either is unknown (None), as the Spark comparator did."""

    def compare(left, right) -> int:
        left_root, right_root = is_root(left), is_root(right)
        if left_root != right_root:
            return -1 if left_root else 1
        left_at, right_at = at(left), at(right)
        if left_at is not None and right_at is not None and left_at != right_at:
            return -1 if left_at < right_at else 1
        left_tie, right_tie = tie_break(left), tie_break(right)
        return (left_tie > right_tie) - (left_tie < right_tie)

    return sorted(items, key=cmp_to_key(compare))


def _of_kind(ops: list[Operation], kind: str) -> list[Operation]:
    return [o for o in ops if o.kind == kind]


def _with_role(messages: list | None, role: str) -> list:
    return [m for m in messages or () if m["role"] == role]


def _requested_calls(ops: list[Operation]) -> list[dict]:
    return [call for o in _of_kind(ops, OP_LLM) for call in ((o.output or {}).get("tool_calls") or ())]


def _executed_ids(ops: list[Operation]) -> list[str]:
    return [o.tool["call_id"] for o in _of_kind(ops, OP_TOOL) if o.tool["call_id"] is not None]


def _unnamed(op: Operation) -> bool:
    return op.kind == OP_TOOL and op.tool["call_id"] is None


def link_tool_calls(ops: list[Operation]) -> list[Operation]:
    """Tool operations without a call id get the id of the request they executed: the k-th such
    operation of a tool takes the k-th request for that tool that no operation names by id (a
    tool that raised often logs no id, LangSmith's error runs for one)."""
    explicit = set(_executed_ids(ops))
    pending = [r for r in _requested_calls(ops) if r["id"] is not None and r["id"] not in explicit]
    linked, seen_per_tool = [], {}
    for op in ops:
        if _unnamed(op) and op.tool["name"] is not None:
            name = op.tool["name"]
            earlier = seen_per_tool.get(name, 0)
            seen_per_tool[name] = earlier + 1
            candidates = [r for r in pending if r["name"] == name]
            if earlier < len(candidates):
                op = _with_call_id(op, candidates[earlier]["id"])
        linked.append(op)
    return linked


def _with_call_id(op: Operation, call_id: str) -> Operation:
    return replace(op, tool={**op.tool, "call_id": call_id})


def steps(ops: list[Operation]) -> list[dict]:
    """Canonical steps of a sorted operation list (see the module docstring for the rules)."""
    ops = link_tool_calls(ops)
    context = _StepContext(
        executed=set(_executed_ids(ops)),
        replies=_first_by((m for o in _of_kind(ops, OP_LLM) for m in _with_role(o.inputs, ROLE_TOOL)), "tool_call_id"),
        requested=_first_by(_requested_calls(ops), "id"),
    )
    out: list[dict] = []
    previous_llm: Operation | None = None
    for op in ops:
        if op.kind == OP_LLM:
            out += context.llm_steps(op, previous_llm)
            previous_llm = op
        elif op.kind == OP_TOOL:
            out.append(context.tool_step(op))
        elif op.kind == OP_RETRIEVAL and nonblank(op.query) is not None:
            out.append(step(STEP_RETRIEVAL, ROLE_TOOL, content=op.query, started=op.at, ended=op.ended))
    for i, s in enumerate(out):
        s["index"] = i
    return out


def _first_by(items, key: str) -> dict:
    """item[key] -> the first item with it (a None key included, never looked up)."""
    found: dict = {}
    for item in items:
        found.setdefault(item[key], item)
    return found


@dataclass(slots=True)
class _StepContext:
    """What the step rules look up by call id. Each model call re-sends the tool replies before
    it, so a trace holds about the square of its calls in replies: they are indexed (the first
    per id), not scanned for every tool step."""

    executed: set  # call ids that a tool operation executed
    replies: dict  # call id -> the first tool message sent to a model call with it
    requested: dict  # call id -> the first tool call a model call requested with it

    def answer(self, call_id: str | None) -> dict | None:
        return self.replies.get(call_id) if call_id is not None else None

    def request(self, call_id: str | None) -> dict | None:
        return self.requested.get(call_id) if call_id is not None else None

    def llm_steps(self, op: Operation, previous: Operation | None) -> list[dict]:
        out = op.output or {}
        content, reasoning = nonblank(out.get("content")), nonblank(out.get("reasoning"))
        found = _new_user_turns(op, previous)
        if content is not None or reasoning is not None:
            kind = STEP_LLM if content is not None else STEP_REASONING
            found.append(step(kind, ROLE_ASSISTANT, content, reasoning, None, op.at, op.ended, op.tokens_in, op.tokens_out))
        for call in out.get("tool_calls") or ():
            if call["id"] is None or call["id"] not in self.executed:
                found.append(self._unexecuted_call(op, call))
        return found

    def _unexecuted_call(self, op: Operation, call: dict) -> dict:
        reply = self.answer(call["id"]) or {}
        failed = bool(reply.get("is_error"))
        text = reply.get("content")
        outcome = tool_call(call["id"], call["name"], call["arguments"], None if failed else text, text if failed else None)
        return step(STEP_TOOL, ROLE_ASSISTANT, tool=outcome, started=op.ended)

    def tool_step(self, op: Operation) -> dict:
        call = op.tool
        reply = self.answer(call["call_id"]) or {}
        asked = self.request(call["call_id"]) or {}
        failed = bool(reply.get("is_error"))
        no_outcome = call["result"] is None and call["error"] is None
        outcome = tool_call(
            call["call_id"],
            first(call["name"], asked.get("name")),
            first(asked.get("arguments"), call["arguments"]),  # as the model emitted them
            reply.get("content") if no_outcome and not failed else call["result"],
            reply.get("content") if no_outcome and failed else call["error"],
        )
        return step(STEP_TOOL, ROLE_ASSISTANT, tool=outcome, started=op.at, ended=op.ended)


def _new_user_turns(op: Operation, previous: Operation | None) -> list[dict]:
    seen = len(previous.inputs) if previous is not None and previous.inputs is not None else 0
    if seen <= 0:
        return []
    fresh = (op.inputs or ())[seen:]
    return [step(STEP_MESSAGE, ROLE_USER, content=m["content"]) for m in fresh if m["role"] == ROLE_USER]


def first_user_text(ops: list[Operation]) -> str | None:
    """The first user message of the first model call that had one."""
    for o in _of_kind(ops, OP_LLM):
        users = _with_role(o.inputs, ROLE_USER)
        found = nonblank(users[0]["content"]) if users else None
        if found is not None:
            return found
    return None


def system_prompt(ops: list[Operation]) -> str | None:
    """Separate instructions, else the first system message, of the first model call having either."""
    for o in _of_kind(ops, OP_LLM):
        systems = _with_role(o.inputs, ROLE_SYSTEM)
        found = first(nonblank(o.system), nonblank(systems[0]["content"]) if systems else None)
        if found is not None:
            return found
    return None


def last_answer(ops: list[Operation]) -> str | None:
    """The text of the last model answer that had text."""
    for o in reversed(_of_kind(ops, OP_LLM)):
        found = nonblank((o.output or {}).get("content"))
        if found is not None:
            return found
    return None


def context_docs(ops: list[Operation]) -> list[dict]:
    return [doc for o in _of_kind(ops, OP_RETRIEVAL) for doc in o.docs or ()]


def tools_available(ops: list[Operation]) -> list[dict] | None:
    """The tool definitions of the first operation that offered any."""
    for o in ops:
        tools = o.tools() if callable(o.tools) else o.tools
        if tools:
            return tools
    return None


def first_model(ops: list[Operation]) -> dict | None:
    return next((o.model for o in _of_kind(ops, OP_LLM) if o.model is not None and o.model["name"] is not None), None)


def total(values) -> float | None:
    """Sum of the non-None values, in order from 0.0; None when there are none."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    acc = 0.0
    for v in present:
        acc += v
    return acc


def token_total(ops: list[Operation], name: str) -> int | None:
    """Sum of a token field over model calls; None when no call reported it."""
    values = [getattr(o, name) for o in _of_kind(ops, OP_LLM) if getattr(o, name) is not None]
    return sum(values) if values else None


def model_of(provider: str | None, name: str | None, reported: str | None) -> dict | None:
    """MODEL from the requested name and the snapshot the response reported: the version is the
    snapshot's suffix when it extends the name (gpt-4o + gpt-4o-2024-08-06 -> 2024-08-06), else
    the snapshot itself when it differs."""
    if provider is None and name is None and reported is None:
        return None
    version = None
    if name is not None and reported is not None:
        if reported.startswith(name + "-"):
            version = reported[len(name) + 1:]
        elif reported != name:
            version = reported
    return {"provider": provider, "name": first(name, reported), "version": version}


def unique_by(items: list, key, newest) -> list:
    """One item per key(item): the one with the greatest newest(item) (a re-exported span or run
    counts once, in its latest version), in key order; items without a key are all kept, first."""
    keyless = [i for i in items if key(i) is None]
    latest: dict = {}
    for item in items:
        k = key(item)
        if k is not None and (k not in latest or newest(item) > newest(latest[k])):
            latest[k] = item
    return keyless + [latest[k] for k in sorted(latest)]


def latency_ms(started: int | None, ended: int | None) -> int | None:
    if started is None or ended is None:
        return None
    return int((ended - started) / 1000)


def no_content(input_text: str | None, steps_list: list | None, output_text: str | None) -> bool:
    """True when a trajectory has neither input, steps nor output."""
    return input_text is None and not steps_list and output_text is None


def extra_map(custom: dict | None, bookkeeping: dict) -> list[tuple[str, str]]:
    """metadata.extra entries: the format's custom metadata plus the adapter's bookkeeping keys
    (which win; None values dropped), as (key, text) pairs in map order."""
    kept = [(k, v) for k, v in (custom or {}).items() if k not in bookkeeping and v is not None]
    return kept + [(k, str(v)) for k, v in bookkeeping.items() if v is not None]
