"""Payload shapes the tracing SDKs log, shared by the langfuse and langsmith renderers:
OpenAI-style tool definitions, LangChain Documents, and the model snapshot a response reports."""

from __future__ import annotations

from benchmarks.synthetic.formats.trace_timeline import json_or_text
from benchmarks.synthetic.splice import content_key, shared


def openai_tools(traj: dict) -> list[dict]:
    """tools_available as OpenAI chat `tools` ({type: function, function: {...}})."""
    available = traj.get("tools_available") or []
    return shared(("sdk.openai_tools", content_key(available)), lambda: [
        {"type": "function", "function": {"name": t.get("name"), "description": t.get("description"), "parameters": json_or_text(t.get("parameters"))}}
        for t in available
    ])


def langchain_documents(docs: list[dict]) -> list[dict]:
    """context_docs as LangChain Documents (page_content + metadata), as retrievers return them."""
    return [
        {"page_content": d.get("content"), "metadata": {"id": d.get("doc_id"), "source": d.get("source"), "score": d.get("score")}, "type": "Document"}
        for d in docs
    ]


def model_snapshot(model: dict) -> str | None:
    """The model name a response reports: the requested name with its version (gpt-4o-2024-08-06)."""
    name, version = model.get("name"), model.get("version")
    return f"{name}-{version}" if name and version else (version or name)
