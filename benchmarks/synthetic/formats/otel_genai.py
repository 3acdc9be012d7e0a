"""Render a canonical trajectory as OpenTelemetry GenAI spans in OTLP/JSON export requests.

The inverse of transforms/adapters/otel_genai.py: one `invoke_agent` root span (the run's input,
output, agent, conversation, usage totals and the trajlake.* attributes), one `chat` span per
llm/reasoning step (its reasoning, text and the tool calls of the tool steps that follow it),
one `execute_tool` span per tool step, one `retrieval` span per retrieval step (the context
documents ride on the first one). A user `message` step becomes a new user message at the end
of the next chat span's input. Like a batch span processor, the children are exported in one
request and the root, which ends last, in a second one.
"""

from __future__ import annotations

from typing import Any

from benchmarks.synthetic.formats.sdk_payloads import model_snapshot
from benchmarks.synthetic.formats.trace_timeline import Timeline, json_or_text, unix_nanos
from benchmarks.synthetic.json_text import encoder
from benchmarks.synthetic.splice import active, content_key, shared, shared_items

NAME = "otel_genai"
SCOPE = {"name": "opentelemetry.instrumentation.genai", "version": "0.3b0"}
SPAN_KIND_INTERNAL = 1
SPAN_KIND_CLIENT = 3
STATUS_ERROR = 2


# JSON text for message attributes (json.dumps(value, ensure_ascii=False), one encoder instance);
# non-ASCII kept as is, so text stays verbatim in the line.
_json = encoder(", ", ": ")


class _History:
    """The messages so far, each encoded once: `json()` is `_json(messages)`, built from the
    parts (json.dumps joins list items with ", "), not re-encoded for every model call. While
    the generator splices (see splice.py), a token for that text, whose escaped form (as it
    reads inside the record) is built from the parts' escaped forms, each escaped once."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.splicer = active()
        self.escaped: list[bytes] = []

    def append(self, message: dict) -> None:
        self.parts.append(_json(message))

    def json(self) -> str:
        splicer = self.splicer
        if splicer is None:
            return f"[{', '.join(self.parts)}]"
        escaped, parts = self.escaped, self.parts
        while len(escaped) < len(parts):
            escaped.append(splicer.escaped(parts[len(escaped)]))
        return splicer.local_text(b"[" + b", ".join(escaped) + b"]")


def _value(value: Any) -> dict:
    kind = value.__class__  # exact types first: most values are plain str or int
    if kind is str:
        return {"stringValue": value}
    if kind is int:
        return {"intValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_value(v) for v in value]}}
    return {"stringValue": str(value)}


def _attributes(pairs: dict[str, Any]) -> list[dict]:
    return [{"key": k, "value": {"stringValue": v} if v.__class__ is str else _value(v)} for k, v in pairs.items() if v is not None]


def _text_message(role: str, text: str) -> dict:
    return {"role": role, "parts": [{"type": "text", "content": text}]}


class _Trace:
    """Span factory for one trace: its trace id (from the trajectory id) and the timeline."""

    def __init__(self, traj: dict) -> None:
        self.timeline = Timeline(traj)
        self.trace_id = self.timeline.seed[:32]

    def span_id(self) -> str:
        return self.timeline.new_id()

    def times(self, step: dict | None) -> tuple[int, int]:
        start, end = self.timeline.times(step)
        return unix_nanos(start), unix_nanos(end)

    def span(self, name: str, kind: int, parent: str | None, start: int, end: int, attributes: dict, span_id: str | None = None,
             error: str | None = None, lead: list | None = None) -> dict:
        """`lead`: attributes (already as a list) that come before `attributes`."""
        span = {
            "traceId": self.trace_id,
            "spanId": span_id or self.span_id(),
            "parentSpanId": parent or "",
            "name": name,
            "kind": kind,
            "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(end),
            "attributes": lead + _attributes(attributes) if lead else _attributes(attributes),
            "status": {},
        }
        if error is not None:
            span["status"] = {"code": STATUS_ERROR, "message": error}
            span["events"] = [
                {"timeUnixNano": str(end), "name": "exception", "attributes": _attributes({"exception.type": "ToolError", "exception.message": error})}
            ]
        return span


def _model_attributes(model: dict) -> dict:
    return {
        "gen_ai.provider.name": model.get("provider"),
        "gen_ai.request.model": model.get("name"),
        "gen_ai.response.model": model_snapshot(model),
    }


def _tool_definitions(traj: dict) -> str | None:
    tools = traj.get("tools_available") or []
    if not tools:
        return None
    return shared(("otel.tool_definitions", content_key(tools)), lambda: _json(
        [{"type": "function", "name": t.get("name"), "description": t.get("description"), "parameters": json_or_text(t.get("parameters"))} for t in tools]
    ))


def _trajlake_attributes(traj: dict) -> dict:
    task = traj.get("task") or {}
    extra = (traj.get("metadata") or {}).get("extra") or {}
    attrs = {
        "trajlake.trajectory_id": traj.get("trajectory_id"),
        "trajlake.tenant": traj.get("tenant"),
        "trajlake.source_kind": traj.get("source_kind"),
        "trajlake.task.type": task.get("type"),
        "trajlake.task.difficulty": task.get("difficulty"),
        "trajlake.task.language": task.get("language"),
        "trajlake.task.tags": task.get("tags") or None,
    }
    attrs.update({f"trajlake.extra.{k}": v for k, v in extra.items() if v is not None})
    return attrs


def render(traj: dict) -> list[dict]:
    """One canonical trajectory -> OTLP/JSON export requests (one dict per output line)."""
    meta = traj.get("metadata") or {}
    agent = traj.get("agent") or {}
    model = traj.get("model") or {}
    trace = _Trace(traj)
    steps = trace.timeline.steps
    start = unix_nanos(trace.timeline.start)
    root_id = trace.span_id()
    system = traj.get("system_prompt")
    instructions = _json([{"type": "text", "content": system}]) if system else None
    definitions = _tool_definitions(traj)
    history = _History()
    if traj.get("input"):
        history.append(_text_message("user", traj["input"]))
    children: list[dict] = []
    docs_pending = list(traj.get("context_docs") or [])
    retrievals = [s for s in steps if s.get("kind") == "retrieval"]
    if docs_pending and not retrievals:
        children.append(_retrieval_span(trace, root_id, None, docs_pending, {}))
        docs_pending = []

    i = 0
    while i < len(steps):
        step = steps[i]
        kind = step.get("kind")
        if kind in ("llm", "reasoning") or (kind == "message" and step.get("role") != "user"):
            calls = []
            j = i + 1
            while j < len(steps) and steps[j].get("kind") == "tool":
                calls.append(steps[j])
                j += 1
            children.append(_chat_span(trace, root_id, step, calls, history, model, instructions, definitions))
            for call in calls:
                children.append(_tool_span(trace, root_id, call))
                tool = call.get("tool") or {}
                reply = tool.get("result") if tool.get("result") is not None else tool.get("error")
                history.append({"role": "tool", "parts": [{"type": "tool_call_response", "id": tool.get("call_id"), "response": reply}]})
            i = j
            continue
        if kind == "tool":
            children.append(_tool_span(trace, root_id, step))
        elif kind == "retrieval":
            children.append(_retrieval_span(trace, root_id, step, docs_pending, step))
            docs_pending = []
        elif kind == "message":
            history.append(_text_message("user", step.get("content") or ""))
        i += 1

    end = unix_nanos(trace.timeline.end(traj))
    status = meta.get("status")
    root_lead = {
        "gen_ai.operation.name": "invoke_agent",
        "gen_ai.agent.name": agent.get("name"),
        "gen_ai.agent.version": agent.get("version"),
        **_model_attributes(model),
    }
    lead = shared_items(("otel.root", *root_lead.values()), lambda: _attributes(root_lead))
    root_attrs = {
        "gen_ai.conversation.id": traj.get("session_id"),
        "user.id": traj.get("user_id"),
        "gen_ai.usage.input_tokens": meta.get("tokens_in"),
        "gen_ai.usage.output_tokens": meta.get("tokens_out"),
        "gen_ai.usage.cost": meta.get("cost_usd"),
        "gen_ai.system_instructions": instructions,
        "gen_ai.input.messages": _json([_text_message("user", traj["input"])]) if traj.get("input") else None,
        "gen_ai.output.messages": _json([{**_text_message("assistant", traj["final_output"]), "finish_reason": "stop"}]) if traj.get("final_output") else None,
        "gen_ai.tool.definitions": definitions if not any(s.get("kind") in ("llm", "reasoning") for s in steps) else None,
        "error.type": status if status not in (None, "completed") else None,
        **_trajlake_attributes(traj),
    }
    root = trace.span(
        f"invoke_agent {agent.get('name') or ''}".strip(), SPAN_KIND_INTERNAL, None, start, end, root_attrs, span_id=root_id, lead=lead,
    )
    if status not in (None, "completed"):
        root["status"] = {"code": STATUS_ERROR, "message": status}
    resource = shared(("otel.resource", agent.get("name"), agent.get("version")), lambda: {
        "attributes": _attributes({"service.name": agent.get("name"), "service.version": agent.get("version")})})

    def request(spans: list[dict]) -> dict:
        return {"resourceSpans": [{"resource": resource, "scopeSpans": [{"scope": SCOPE, "spans": spans}]}]}

    return ([request(children)] if children else []) + [request([root])]


def _chat_span(trace: _Trace, parent: str, step: dict, calls: list[dict], history: _History, model: dict,
               instructions: str | None, definitions: str | None) -> dict:
    start, end = trace.times(step)
    parts = []
    if step.get("reasoning"):
        parts.append({"type": "reasoning", "content": step["reasoning"]})
    if step.get("content"):
        parts.append({"type": "text", "content": step["content"]})
    for call in calls:
        tool = call.get("tool") or {}
        parts.append({"type": "tool_call", "id": tool.get("call_id"), "name": tool.get("name"), "arguments": json_or_text(tool.get("arguments"))})
    answer = {"role": "assistant", "parts": parts, "finish_reason": "tool_call" if calls else "stop"}
    model_attrs = _model_attributes(model)
    lead = shared_items(("otel.chat", *model_attrs.values()), lambda: _attributes({"gen_ai.operation.name": "chat", **model_attrs}))
    attrs = {
        "gen_ai.usage.input_tokens": step.get("tokens_in"),
        "gen_ai.usage.output_tokens": step.get("tokens_out"),
        "gen_ai.response.finish_reasons": [answer["finish_reason"]],
        "gen_ai.system_instructions": instructions,
        "gen_ai.input.messages": history.json(),
        "gen_ai.output.messages": _json([answer]),
        "gen_ai.tool.definitions": definitions,
    }
    span = trace.span(f"chat {model.get('name') or ''}".strip(), SPAN_KIND_CLIENT, parent, start, end, attrs, lead=lead)
    history.append({"role": "assistant", "parts": [p for p in parts if p["type"] != "reasoning"]})
    return span


def _tool_span(trace: _Trace, parent: str, step: dict) -> dict:
    start, end = trace.times(step)
    tool = step.get("tool") or {}
    name = tool.get("name")
    lead = shared_items(("otel.tool", name), lambda: _attributes(
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name, "gen_ai.tool.type": "function"}))
    attrs = {
        "gen_ai.tool.call.id": tool.get("call_id"),
        "gen_ai.tool.call.arguments": tool.get("arguments"),
        "gen_ai.tool.call.result": tool.get("result"),
        "error.type": "ToolError" if tool.get("error") is not None else None,
    }
    return trace.span(f"execute_tool {name or ''}".strip(), SPAN_KIND_INTERNAL, parent, start, end, attrs, error=tool.get("error"), lead=lead)


def _retrieval_span(trace: _Trace, parent: str, step: dict | None, docs: list[dict], timing: dict) -> dict:
    start, end = trace.times(timing)
    documents = [{"id": d.get("doc_id"), "score": d.get("score"), "content": d.get("content"), "source": d.get("source")} for d in docs]
    attrs = {
        "gen_ai.operation.name": "retrieval",
        "gen_ai.retrieval.query.text": (step or {}).get("content"),
        "gen_ai.retrieval.documents": _json(documents) if documents else None,
    }
    return trace.span("retrieval", SPAN_KIND_CLIENT, parent, start, end, attrs)
