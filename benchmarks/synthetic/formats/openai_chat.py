"""OpenAI chat-completions logs: the inverse of transforms/adapters/openai_chat.py.

An interaction is logged as a gateway would log an agent loop: one line per LLM call (each
assistant message), `{"request": {model, messages so far, tools, metadata, user}, "response":
<chat.completion>, start_time, end_time, latency_ms, status, metadata}`. A demonstration is one
fine-tuning example, `{"messages", "tools", "metadata"}`. What the format has no field for goes
where the adapter reads it back: short identity/task values in `request.metadata` (OpenAI's
string map, <= 16 keys), trajectory-level totals, context documents and metadata.extra in the
gateway `metadata` of the last call; retrieval steps as system messages named `retrieval`, tool
errors as a tool result `{"error": ...}`, reasoning as `reasoning_content`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime

from benchmarks.synthetic.splice import content_key, reused, shared, so_far
from transforms.adapters.openai_conventions import (
    CANONICAL_META_KEYS,
    COMPUTED_EXTRA_KEYS,
    META_AGENT_NAME,
    META_AGENT_VERSION,
    META_CONTEXT_DOCS,
    META_COST_USD,
    META_ENDED_AT,
    META_LATENCY_MS,
    META_MODEL_NAME,
    META_MODEL_PROVIDER,
    META_MODEL_VERSION,
    META_SESSION_ID,
    META_SOURCE_KIND,
    META_STARTED_AT,
    META_STATUS,
    META_TAGS,
    META_TASK_DIFFICULTY,
    META_TASK_LANGUAGE,
    META_TASK_TYPE,
    META_TENANT,
    META_TOKENS_IN,
    META_TOKENS_OUT,
    META_TRAJECTORY_ID,
    META_USER_ID,
    OPENAI_MODEL_NAMES,
    PROVIDER,
    RETRIEVAL_NAME,
)

NAME = "openai_chat"
DEMONSTRATION = "demonstration"
ASSISTANT_KINDS = ("llm", "reasoning")
GATEWAY_STATUS = {"completed": "success"}  # anything else is a failed call
_OPENAI_MODEL = re.compile(OPENAI_MODEL_NAMES)


def _epoch_seconds(iso: str | None) -> int | None:
    return int(datetime.fromisoformat(iso).timestamp()) if iso else None


def _millis(start: str | None, end: str | None) -> int | None:
    if not start or not end:
        return None
    return round((datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() * 1000)


def _tags(tags: list[str] | None) -> str | None:
    if not tags:
        return None
    return json.dumps(tags) if any("," in t for t in tags) else ",".join(tags)


def _conversation(traj: dict) -> tuple[list[dict], dict[int, dict]]:
    """The messages, and for each assistant message position the step that timed its call."""
    messages: list[dict] = []
    timed: dict[int, dict] = {}
    if traj.get("system_prompt") is not None:
        messages.append({"role": "system", "content": traj["system_prompt"]})
    if traj.get("input") is not None:
        messages.append({"role": "user", "content": traj["input"]})
    open_call: dict | None = None  # the assistant message later tool steps attach to
    results: list[dict] = []

    def close() -> None:
        nonlocal open_call
        messages.extend(results)
        results.clear()
        open_call = None

    for position, step in enumerate(traj.get("steps") or []):
        kind, role = step.get("kind"), step.get("role")
        if kind == "tool":
            tool = step.get("tool") or {}
            if open_call is None:
                open_call = {"role": "assistant", "content": None}
                messages.append(open_call)
            call_id = tool.get("call_id") or f"call_{position}"
            open_call.setdefault("tool_calls", []).append({
                "id": call_id, "type": "function",
                "function": {"name": tool.get("name"), "arguments": tool.get("arguments") or "{}"},
            })
            if tool.get("error") is not None:
                results.append({"role": "tool", "tool_call_id": call_id, "content": json.dumps({"error": tool["error"]})})
            elif tool.get("result") is not None:
                results.append({"role": "tool", "tool_call_id": call_id, "content": tool["result"]})
            continue
        close()
        if kind in ASSISTANT_KINDS or role == "assistant":
            reply = {"role": "assistant", "content": step.get("content")}
            if step.get("reasoning"):
                reply["reasoning_content"] = step["reasoning"]
            timed[len(messages)] = step
            messages.append(reply)
            open_call = reply
        elif kind == "retrieval":
            messages.append({"role": "system", "name": RETRIEVAL_NAME, "content": step.get("content")})
        else:
            messages.append({"role": role or "user", "content": step.get("content")})
    close()
    final = traj.get("final_output")
    last = messages[-1] if messages else {}
    if final is not None and not (last.get("role") == "assistant" and last.get("content") == final and not last.get("tool_calls")):
        messages.append({"role": "assistant", "content": final})
    return messages, timed


def _request_metadata(traj: dict) -> dict[str, str]:
    agent, task, model = traj.get("agent") or {}, traj.get("task") or {}, traj.get("model") or {}
    provider = model.get("provider")
    named_openai = provider == PROVIDER and _OPENAI_MODEL.match(model.get("name") or "")
    values = {
        META_TRAJECTORY_ID: traj.get("trajectory_id"),
        META_SESSION_ID: traj.get("session_id"),
        META_TENANT: traj.get("tenant"),
        META_AGENT_NAME: agent.get("name"),
        META_AGENT_VERSION: agent.get("version"),
        META_TASK_TYPE: task.get("type"),
        META_TASK_DIFFICULTY: task.get("difficulty"),
        META_TASK_LANGUAGE: task.get("language"),
        META_TAGS: _tags(task.get("tags")),
        META_MODEL_PROVIDER: None if named_openai else provider,
    }
    if traj.get("source_kind") not in (None, "interaction_log", DEMONSTRATION):
        values[META_SOURCE_KIND] = traj["source_kind"]
    return {k: v for k, v in values.items() if v is not None}


def _trajectory_metadata(traj: dict) -> dict:
    """Trajectory-level values, context documents and extra: the gateway metadata."""
    meta = traj.get("metadata") or {}
    values = {
        META_STARTED_AT: meta.get("started_at"), META_ENDED_AT: meta.get("ended_at"),
        META_LATENCY_MS: meta.get("latency_ms"), META_TOKENS_IN: meta.get("tokens_in"),
        META_TOKENS_OUT: meta.get("tokens_out"), META_COST_USD: meta.get("cost_usd"), META_STATUS: meta.get("status"),
        META_CONTEXT_DOCS: traj.get("context_docs") or None,
    }
    reserved = set(CANONICAL_META_KEYS) | set(COMPUTED_EXTRA_KEYS)
    extra = {k: v for k, v in (meta.get("extra") or {}).items() if k not in reserved}
    return {**{k: v for k, v in values.items() if v is not None}, **extra}


def _schema(parameters: str | None):
    """The JSON Schema as the object the API takes (text kept as is if it does not parse)."""
    if not parameters:
        return {"type": "object", "properties": {}}
    try:
        return json.loads(parameters)
    except ValueError:
        return parameters


def _tools(traj: dict) -> list[dict] | None:
    available = traj.get("tools_available") or []

    def make() -> list[dict] | None:
        tools = [
            {"type": "function", "function": {
                "name": t.get("name"), "description": t.get("description"),
                "parameters": _schema(t.get("parameters")),
            }}
            for t in available
        ]
        return tools or None

    return shared(("openai_chat.tools", content_key(available)), make)


def _example(traj: dict, messages: list[dict], tools: list[dict] | None) -> dict:
    model = traj.get("model") or {}
    metadata = {**_request_metadata(traj), **_trajectory_metadata(traj)}
    for key, value in ((META_USER_ID, traj.get("user_id")), (META_MODEL_NAME, model.get("name")),
                       (META_MODEL_VERSION, model.get("version")), (META_MODEL_PROVIDER, model.get("provider"))):
        if value is not None:
            metadata[key] = value
    line: dict = {"messages": messages}
    if tools:
        line["tools"] = tools
    line["metadata"] = metadata
    return line


def _usage(step: dict | None) -> dict | None:
    if not step or step.get("tokens_in") is None and step.get("tokens_out") is None:
        return None
    prompt, completion = step.get("tokens_in") or 0, step.get("tokens_out") or 0
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def render(traj: dict) -> list[dict]:
    messages, timed = _conversation(traj)
    tools = _tools(traj)
    if traj.get("source_kind") == DEMONSTRATION:
        return [_example(traj, messages, tools)]
    model = traj.get("model") or {}
    name, version = model.get("name"), model.get("version")
    served = f"{name}-{version}" if name and version else name
    request_meta = reused(_request_metadata(traj))  # the same in every call's request
    trajectory_id = str(traj.get("trajectory_id"))
    started = (traj.get("metadata") or {}).get("started_at")
    status = (traj.get("metadata") or {}).get("status")
    replies = [i for i, m in enumerate(messages) if m["role"] == "assistant"] or [None]
    lines = []
    for n, position in enumerate(replies):
        last = n == len(replies) - 1
        request = {"model": name, "messages": so_far(messages, position) if position is not None else messages}
        if tools:
            request["tools"] = tools
        request["metadata"] = request_meta
        if traj.get("user_id") is not None:
            request["user"] = traj["user_id"]
        line: dict = {"id": f"log_{hashlib.blake2s(f'{trajectory_id}:{n}'.encode(), digest_size=8).hexdigest()}"}
        step = timed.get(position) if position is not None else None
        if step and step.get("started_at"):
            line["start_time"] = step["started_at"]
            started = step["started_at"]
        if step and step.get("ended_at"):
            line["end_time"] = step["ended_at"]
            line["latency_ms"] = _millis(step.get("started_at"), step["ended_at"])
        line["request"] = request
        if position is not None:
            reply = messages[position]
            response = {
                "id": f"chatcmpl-{hashlib.blake2s(f'{trajectory_id}/{n}'.encode(), digest_size=12).hexdigest()}",
                "object": "chat.completion",
                "created": _epoch_seconds(started),
                "model": served,
                "choices": [{"index": 0, "message": reply, "logprobs": None,
                             "finish_reason": "tool_calls" if reply.get("tool_calls") else "stop"}],
            }
            usage = _usage(step)
            if usage:
                response["usage"] = usage
            line["response"] = response
        line["status"] = GATEWAY_STATUS.get(status, "failure") if last and status else "success"
        if last:
            line["metadata"] = _trajectory_metadata(traj)
        lines.append(line)
    return lines
