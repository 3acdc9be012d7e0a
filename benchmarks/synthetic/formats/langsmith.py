"""Render a canonical trajectory as LangSmith runs (a LangChain agent traced to LangSmith).

The inverse of transforms/adapters/langsmith.py. A root `chain` run (name = agent; inputs
{input}, outputs {output}; totals; extra.metadata with thread_id, user_id, tenant, task_*,
source_kind, revision_id = agent version, trajectory_id, status when not completed, and the
extra keys) with, as children: one `llm` run (ChatOpenAI) per llm/reasoning step - LangChain
serialized input messages so far, an LLMResult whose AIMessage carries thinking/text content
blocks, the tool calls of the tool steps that follow, the reported model snapshot and usage;
one `tool` run per tool step (inputs = arguments, outputs.output = a ToolMessage with the call
id, `error` on failure); one `retriever` run per retrieval step.

Half the trajectories (by a hash of their id) come out nested (the root with `child_runs`), the
others flat (one run per line with trace_id, parent_run_id and dotted_order).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from benchmarks.synthetic.formats.sdk_payloads import langchain_documents, model_snapshot, openai_tools
from benchmarks.synthetic.formats.trace_timeline import Timeline, json_or_text, naive_span, naive_text, stamp_text
from benchmarks.synthetic.splice import active, shared, so_far

NAME = "langsmith"
PROJECT_ID = "0b9a5c3e-6f1d-4c2a-9e77-3d1f0a2b4c5d"
RUNTIME = {"sdk": "langsmith-py", "sdk_version": "0.3.45", "library": "langchain-core", "runtime": "python"}
_CANONICAL_META = (
    "trajectory_id", "thread_id", "user_id", "tenant", "source_kind", "revision_id", "task_type", "task_difficulty", "task_language", "status",
)


def nested_form(traj: dict) -> bool:
    return hashlib.sha256(str(traj["trajectory_id"]).encode("utf-8")).digest()[1] % 2 == 0


def _stamp(moment: datetime) -> str:
    """%Y%m%dT%H%M%S%fZ (the dotted_order form)."""
    return stamp_text(moment)


def _time(moment: datetime) -> str:
    """LangSmith writes naive UTC times with microseconds: %Y-%m-%dT%H:%M:%S.%f."""
    return naive_text(moment)


_RUN_EXTRA = ("langsmith.run_extra",)
_UNPARSED = object()


def _run_extra() -> dict:
    return {"metadata": {"ls_run_depth": 1}, "runtime": RUNTIME}


def _lc(class_name: str, **kwargs) -> dict:
    return {"lc": 1, "type": "constructor", "id": ["langchain", "schema", "messages", class_name], "kwargs": kwargs}


def _tool_calls(calls: list[dict], parsed: list) -> list[dict]:
    """The calls' tool_calls entries; `parsed` holds each call's arguments as json_or_text gives them."""
    out = []
    for call, args in zip(calls, parsed):
        tool = call.get("tool") or {}
        out.append({"name": tool.get("name"), "args": args if args is not None else {}, "id": tool.get("call_id"), "type": "tool_call"})
    return out


class _Runs:
    def __init__(self, traj: dict) -> None:
        self.timeline = Timeline(traj, id_length=32)
        self.root_id = self._uuid()
        self.root_dotted = f"{_stamp(self.timeline.start)}{self.root_id}"
        self.runs: list[dict] = []
        # every run's default extra: while splicing one token for all (else a new dict per run)
        self.extra_token = shared(_RUN_EXTRA, _run_extra) if active() else None

    def _uuid(self) -> str:
        h = self.timeline.new_id()
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-8{h[17:20]}-{h[20:]}"  # h is 32 hex digits

    def add(self, run_type: str, name: str | None, step: dict | None, **fields) -> dict:
        start_text, start_stamp, end_text = naive_span(*self.timeline.times(step))
        run_id = self._uuid()
        run = {
            "id": run_id,
            "trace_id": self.root_id,
            "parent_run_id": self.root_id,
            "dotted_order": f"{self.root_dotted}.{start_stamp}{run_id}",
            "name": name,
            "run_type": run_type,
            "inputs": {},
            "outputs": {},
            "error": None,
            "start_time": start_text,
            "end_time": end_text,
            "extra": self.extra_token or _run_extra(),
            "tags": [],
            "session_id": PROJECT_ID,
            "status": "success",
        }
        run.update(fields)
        self.runs.append(run)
        return run


def _children(traj: dict, runs: _Runs) -> None:
    model = traj.get("model") or {}
    name, snapshot = model.get("name"), model_snapshot(model)
    tools = openai_tools(traj)

    def llm_extra() -> dict:
        return {
            "invocation_params": {"model": name, "tools": tools, "_type": "openai-chat"},
            "metadata": {"ls_provider": model.get("provider"), "ls_model_name": name, "ls_model_type": "chat", "ls_run_depth": 1},
            "runtime": RUNTIME,
        }

    # the same for every model call: while splicing one token (else a new dict per call)
    llm_extra_token = shared(("langsmith.llm_extra", name, model.get("provider"), tools), llm_extra) if active() else None
    history: list[dict] = []
    if traj.get("system_prompt"):
        history.append(_lc("SystemMessage", content=traj["system_prompt"], type="system"))
    if traj.get("input"):
        history.append(_lc("HumanMessage", content=traj["input"], type="human"))
    docs = list(traj.get("context_docs") or [])
    steps = runs.timeline.steps
    if docs and not any(s.get("kind") == "retrieval" for s in steps):
        runs.add("retriever", "Retriever", None, outputs={"documents": langchain_documents(docs)})
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
            blocks = []
            if step.get("reasoning"):
                blocks.append({"type": "thinking", "thinking": step["reasoning"]})
            if step.get("content"):
                blocks.append({"type": "text", "text": step["content"]})
            usage = {"input_tokens": step.get("tokens_in"), "output_tokens": step.get("tokens_out")}
            parsed = [json_or_text((call.get("tool") or {}).get("arguments")) for call in calls]  # parsed once
            tool_calls = _tool_calls(calls, parsed)
            ai = _lc(
                "AIMessage", content=blocks, tool_calls=tool_calls, invalid_tool_calls=[], type="ai",
                response_metadata={"model_name": snapshot, "finish_reason": "tool_calls" if calls else "stop"},
                usage_metadata=usage if step.get("tokens_in") is not None or step.get("tokens_out") is not None else None,
            )
            runs.add(
                "llm", "ChatOpenAI", step,
                inputs={"messages": [so_far(history)]},
                outputs={
                    "generations": [[{"text": step.get("content") or "", "generation_info": {"finish_reason": ai["kwargs"]["response_metadata"]["finish_reason"]},
                                      "type": "ChatGeneration", "message": ai}]],
                    "llm_output": {"model_name": snapshot},
                    "run": None,
                    "type": "LLMResult",
                },
                extra=llm_extra_token or llm_extra(),
                prompt_tokens=step.get("tokens_in"),
                completion_tokens=step.get("tokens_out"),
            )
            history.append(_lc("AIMessage", content=step.get("content") or "", tool_calls=tool_calls, type="ai"))
            for call, args in zip(calls, parsed):
                _tool(runs, call, args)
                tool = call.get("tool") or {}
                failed = tool.get("error") is not None
                history.append(_lc("ToolMessage", content=tool.get("error") if failed else tool.get("result"), tool_call_id=tool.get("call_id"),
                                   status="error" if failed else "success", type="tool"))
            i = j
            continue
        if kind == "tool":
            _tool(runs, step)
        elif kind == "retrieval":
            runs.add("retriever", "Retriever", step, inputs={"query": step.get("content")}, outputs={"documents": langchain_documents(docs)})
            docs = []
        elif kind == "message":
            history.append(_lc("HumanMessage", content=step.get("content"), type="human"))
        i += 1


def _tool(runs: _Runs, step: dict, args: Any = _UNPARSED) -> None:
    tool = step.get("tool") or {}
    failed = tool.get("error") is not None
    if args is _UNPARSED:
        args = json_or_text(tool.get("arguments"))
    inputs = args if isinstance(args, dict) else {"input": tool.get("arguments")}
    message = _lc("ToolMessage", content=tool.get("error") if failed else tool.get("result"), tool_call_id=tool.get("call_id"),
                  name=tool.get("name"), status="error" if failed else "success", type="tool")
    runs.add(
        "tool", tool.get("name"), step, inputs=inputs, outputs={"output": message},
        error=tool.get("error"), status="error" if failed else "success",
    )


def _root_metadata(traj: dict) -> dict:
    task = traj.get("task") or {}
    meta = traj.get("metadata") or {}
    status = meta.get("status")
    canonical = {
        "trajectory_id": traj.get("trajectory_id"),
        "thread_id": traj.get("session_id"),
        "user_id": traj.get("user_id"),
        "tenant": traj.get("tenant"),
        "source_kind": traj.get("source_kind"),
        "revision_id": (traj.get("agent") or {}).get("version"),
        "task_type": task.get("type"),
        "task_difficulty": task.get("difficulty"),
        "task_language": task.get("language"),
        "status": status if status not in (None, "completed") else None,
    }
    extra = {k: v for k, v in (meta.get("extra") or {}).items() if k not in _CANONICAL_META}
    return {**{k: v for k, v in canonical.items() if v is not None}, **extra, "ls_run_depth": 0}


def render(traj: dict) -> list[dict]:
    """One canonical trajectory -> LangSmith run lines (nested or flat, see the module docstring)."""
    meta = traj.get("metadata") or {}
    runs = _Runs(traj)
    _children(traj, runs)
    start, end = runs.timeline.start, runs.timeline.end(traj)
    status = meta.get("status")
    failed = status not in (None, "completed")
    tokens_in, tokens_out = meta.get("tokens_in"), meta.get("tokens_out")
    root = {
        "id": runs.root_id,
        "trace_id": runs.root_id,
        "parent_run_id": None,
        "dotted_order": runs.root_dotted,
        "name": (traj.get("agent") or {}).get("name"),
        "run_type": "chain",
        "inputs": {"input": traj.get("input")},
        "outputs": {"output": traj.get("final_output")},
        "error": status if failed else None,
        "start_time": _time(start),
        "end_time": _time(end),
        "extra": {"metadata": _root_metadata(traj), "runtime": RUNTIME},
        "tags": (traj.get("task") or {}).get("tags") or [],
        "session_id": PROJECT_ID,
        "status": "error" if failed else "success",
        "prompt_tokens": tokens_in,
        "completion_tokens": tokens_out,
        "total_tokens": (tokens_in or 0) + (tokens_out or 0) if tokens_in is not None or tokens_out is not None else None,
        "total_cost": meta.get("cost_usd"),
    }
    if nested_form(traj):
        return [{**root, "child_runs": runs.runs}]
    return [root] + runs.runs


def render_flat(traj: dict) -> list[dict]:
    lines = render(traj)
    if len(lines) > 1 or not lines[0].get("child_runs"):
        return lines
    root = dict(lines[0])
    children = root.pop("child_runs")
    return [root] + children


def render_nested(traj: dict) -> list[dict]:
    root, *children = render_flat(traj)
    return [{**root, "child_runs": children}]
