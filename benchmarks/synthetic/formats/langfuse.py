"""Render a canonical trajectory as a Langfuse trace export.

The inverse of transforms/adapters/langfuse.py. A trace (id = trajectory id, name = agent,
release = agent version, userId, sessionId, tags, input, output, metadata with tenant / task_* /
source_kind / status and the extra keys, latency, totalCost) whose observations are: an AGENT
root; one GENERATION per llm/reasoning step (OpenAI-style input messages so far, with the tool
definitions; the answer with reasoning_content, tool_calls and the reported model snapshot);
one TOOL per tool step (input = arguments, output = result, level ERROR + statusMessage on
failure, metadata.tool_call_id); one RETRIEVER per retrieval step (query in, documents out).

Half the trajectories (by a hash of their id) come out nested, as `GET /api/public/traces/{id}`
returns them (one line), the others flat: a trace line as `GET /api/public/traces` lists it
(observation ids) and one line per observation as `GET /api/public/observations` returns them.
"""

from __future__ import annotations

import hashlib

from benchmarks.synthetic.formats.sdk_payloads import langchain_documents, model_snapshot, openai_tools
from benchmarks.synthetic.formats.trace_timeline import Timeline, iso_span, json_or_text
from benchmarks.synthetic.splice import so_far

NAME = "langfuse"
PROJECT = "cm0trajlake"
ENVIRONMENT = "production"
_CANONICAL_META = ("tenant", "task_type", "task_difficulty", "task_language", "source_kind", "status")


def nested_form(traj: dict) -> bool:
    return hashlib.sha256(str(traj["trajectory_id"]).encode("utf-8")).digest()[0] % 2 == 0


def _usage(step: dict) -> dict | None:
    tokens_in, tokens_out = step.get("tokens_in"), step.get("tokens_out")
    if tokens_in is None and tokens_out is None:
        return None
    total = (tokens_in or 0) + (tokens_out or 0)
    return {k: v for k, v in {"input": tokens_in, "output": tokens_out, "total": total}.items() if v is not None}


def _trace_metadata(traj: dict) -> dict:
    task = traj.get("task") or {}
    meta = traj.get("metadata") or {}
    status = meta.get("status")
    canonical = {
        "tenant": traj.get("tenant"),
        "task_type": task.get("type"),
        "task_difficulty": task.get("difficulty"),
        "task_language": task.get("language"),
        "source_kind": traj.get("source_kind"),
        "status": status if status not in (None, "completed") else None,
    }
    extra = {k: v for k, v in (meta.get("extra") or {}).items() if k not in _CANONICAL_META}
    return {**{k: v for k, v in canonical.items() if v is not None}, **extra}


class _Observations:
    def __init__(self, traj: dict) -> None:
        self.traj = traj
        self.timeline = Timeline(traj)
        self.items: list[dict] = []
        self.root_id = self.timeline.new_id()

    def add(self, kind: str, name: str | None, step: dict | None, **fields) -> dict:
        start_time, end_time, latency = iso_span(*self.timeline.times(step))
        observation = {
            "id": self.timeline.new_id(),
            "traceId": self.traj["trajectory_id"],
            "type": kind,
            "name": name,
            "startTime": start_time,
            "endTime": end_time,
            "completionStartTime": None,
            "model": None,
            "modelParameters": None,
            "input": None,
            "output": None,
            "metadata": {},
            "usage": None,
            "usageDetails": {},
            "costDetails": {},
            "level": "DEFAULT",
            "statusMessage": None,
            "parentObservationId": self.root_id,
            "version": None,
            "environment": ENVIRONMENT,
            "latency": latency,
        }
        observation.update(fields)
        self.items.append(observation)
        return observation


def _observations(traj: dict) -> tuple[list[dict], _Observations]:
    obs = _Observations(traj)
    model = traj.get("model") or {}
    name, snapshot = model.get("name"), model_snapshot(model)
    tools = openai_tools(traj)
    history: list[dict] = []
    if traj.get("system_prompt"):
        history.append({"role": "system", "content": traj["system_prompt"]})
    if traj.get("input"):
        history.append({"role": "user", "content": traj["input"]})
    docs = list(traj.get("context_docs") or [])
    steps = obs.timeline.steps
    if docs and not any(s.get("kind") == "retrieval" for s in steps):
        obs.add("RETRIEVER", "retriever", None, input=None, output=langchain_documents(docs))
        docs = []
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
            answer = {"role": "assistant", "content": step.get("content")}
            if step.get("reasoning"):
                answer["reasoning_content"] = step["reasoning"]
            if calls:
                answer["tool_calls"] = [
                    {"id": (c.get("tool") or {}).get("call_id"), "type": "function",
                     "function": {"name": (c.get("tool") or {}).get("name"), "arguments": (c.get("tool") or {}).get("arguments")}}
                    for c in calls
                ]
            answer["response_metadata"] = {"model_name": snapshot, "finish_reason": "tool_calls" if calls else "stop"}
            sent = {"messages": so_far(history), "tools": tools} if tools else so_far(history)
            usage = _usage(step)
            obs.add(
                "GENERATION", "ChatOpenAI", step, model=name, modelParameters={"temperature": 0}, input=sent, output=answer,
                metadata={"ls_provider": model.get("provider"), "ls_model_name": name},
                usage={**usage, "unit": "TOKENS"} if usage else None, usageDetails=usage or {},
            )
            history.append({k: v for k, v in answer.items() if k in ("role", "content", "tool_calls")})
            for call in calls:
                _tool(obs, call)
                tool = call.get("tool") or {}
                history.append({"role": "tool", "tool_call_id": tool.get("call_id"),
                                "content": tool.get("result") if tool.get("result") is not None else tool.get("error")})
            i = j
            continue
        if kind == "tool":
            _tool(obs, step)
        elif kind == "retrieval":
            obs.add("RETRIEVER", "retriever", step, input={"query": step.get("content")}, output=langchain_documents(docs))
            docs = []
        elif kind == "message":
            history.append({"role": "user", "content": step.get("content")})
        i += 1
    return obs.items, obs


def _tool(obs: _Observations, step: dict) -> None:
    tool = step.get("tool") or {}
    failed = tool.get("error") is not None
    obs.add(
        "TOOL", tool.get("name"), step,
        input=json_or_text(tool.get("arguments")),
        output=None if failed else json_or_text(tool.get("result")),
        level="ERROR" if failed else "DEFAULT",
        statusMessage=tool.get("error"),
        metadata={"tool_call_id": tool.get("call_id")},
    )


def render(traj: dict) -> list[dict]:
    """One canonical trajectory -> Langfuse export lines (nested or flat, see the module docstring)."""
    meta = traj.get("metadata") or {}
    agent = traj.get("agent") or {}
    children, obs = _observations(traj)
    start_time, end_time, root_latency = iso_span(obs.timeline.start, obs.timeline.end(traj))
    root = {
        "id": obs.root_id, "traceId": traj["trajectory_id"], "type": "AGENT", "name": agent.get("name"),
        "startTime": start_time, "endTime": end_time, "completionStartTime": None, "model": None, "modelParameters": None,
        "input": traj.get("input"), "output": traj.get("final_output"), "metadata": {}, "usage": None, "usageDetails": {},
        "costDetails": {}, "level": "ERROR" if meta.get("status") not in (None, "completed") else "DEFAULT",
        "statusMessage": None, "parentObservationId": None, "version": agent.get("version"), "environment": ENVIRONMENT,
        "latency": root_latency,
    }
    observations = [root] + children
    latency = meta.get("latency_ms")
    trace = {
        "id": traj["trajectory_id"],
        "timestamp": start_time,
        "name": agent.get("name"),
        "input": traj.get("input"),
        "output": traj.get("final_output"),
        "sessionId": traj.get("session_id"),
        "release": agent.get("version"),
        "version": None,
        "userId": traj.get("user_id"),
        "metadata": _trace_metadata(traj),
        "tags": (traj.get("task") or {}).get("tags") or [],
        "public": False,
        "environment": ENVIRONMENT,
        "htmlPath": f"/project/{PROJECT}/traces/{traj['trajectory_id']}",
        "latency": latency / 1000 if latency is not None else None,
        "totalCost": meta.get("cost_usd"),
        "scores": [],
    }
    if nested_form(traj):
        return [{**trace, "observations": observations}]
    return [{**trace, "observations": [o["id"] for o in observations]}] + observations


def render_nested(traj: dict) -> list[dict]:
    return [{**render_flat(traj)[0], "observations": render_flat(traj)[1:]}]


def render_flat(traj: dict) -> list[dict]:
    lines = render(traj)
    if len(lines) > 1:
        return lines
    trace = dict(lines[0])
    observations = trace.pop("observations")
    return [{**trace, "observations": [o["id"] for o in observations]}] + observations
