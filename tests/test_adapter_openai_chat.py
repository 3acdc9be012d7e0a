"""openai_chat adapter: detection, the mapping of real-shaped logs, rejects, and the renderer round trip."""

from __future__ import annotations

import copy
import json
from datetime import datetime

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType, StructField, StructType

from benchmarks.synthetic.formats import RENDERERS
from benchmarks.synthetic.formats.openai_chat import render
from schemas.trajectory import STEP
from tests.format_fixtures import bronze, fixture_lines, other_formats_lines
from tests.raw_files import native_record
from transforms.adapters import conversation_rules, openai_chat
from transforms.adapters.base import TopFields
from transforms.adapters.conversation import MESSAGE, conversation_parts, message, tool_call

FORMAT = "openai_chat"
RENDERED = "rendered.jsonl"


def _local(iso: str | None) -> datetime | None:
    """What Spark hands back to Python for an ISO-8601 UTC instant (a naive local datetime)."""
    return datetime.fromisoformat(iso).astimezone().replace(tzinfo=None) if iso else None


@pytest.fixture(scope="module")
def candidates(spark):
    """One adapter run over the fixture files and the rendered round-trip lines (one plan to build)."""
    rendered = [(json.dumps(line), i, RENDERED) for i, line in enumerate(_rendered(), 1)]
    rows = openai_chat.to_trajectories(bronze(spark, fixture_lines(FORMAT) + rendered)).collect()
    return [r.asDict(recursive=True) for r in rows]


@pytest.fixture(scope="module")
def accepted(candidates):
    return {c["trajectory_id"]: c for c in candidates if c["reject_reason"] is None}


def test_detects_its_own_lines_only(spark):
    own = [text for text, _, _ in fixture_lines(FORMAT)]
    others = other_formats_lines(FORMAT) + [json.dumps(native_record("t-native"))]
    df = spark.createDataFrame([(t, True) for t in own] + [(t, False) for t in others], "record string, expected boolean")
    got = df.select(openai_chat.detects(TopFields(F.col("record"))).alias("detected"), "expected").collect()
    assert len(own) == 14 and len(others) >= 2
    assert [r.detected for r in got] == [r.expected for r in got]


def test_agent_loop_lines_become_one_trajectory(accepted):
    t = accepted["traj-refund-001"]
    assert (t["session_id"], t["user_id"], t["tenant"], t["source_kind"]) == ("sess-42", "user-7f3a", "acme", "interaction_log")
    assert t["agent"] == {"name": "support-bot", "version": "1.4.0"}
    assert t["model"] == {"provider": "openai", "name": "gpt-4o", "version": "2024-08-06"}
    assert t["task"] == {"type": "refund", "difficulty": "medium", "language": "en", "tags": ["billing", "refund"]}
    assert t["system_prompt"].startswith("You are a support agent for Acme.")
    assert t["input"] == "My order A-1001 arrived broken. Can I get a refund?"
    steps = t["steps"]
    assert [(s["index"], s["kind"]) for s in steps] == [(0, "tool"), (1, "tool"), (2, "tool"), (3, "llm")]
    assert [(s["tool"]["call_id"], s["tool"]["name"]) for s in steps[:3]] == [
        ("call_lookup", "lookup_order"), ("call_policy", "get_refund_policy"), ("call_policy_retry", "get_refund_policy"),
    ]
    assert json.loads(steps[0]["tool"]["arguments"]) == {"order_id": "A-1001"}
    assert json.loads(steps[0]["tool"]["result"])["status"] == "delivered" and steps[0]["tool"]["error"] is None
    assert steps[1]["tool"] == {**steps[1]["tool"], "result": None, "error": "policy service timed out"}
    assert steps[2]["tool"]["result"] == "Damaged items: full refund within 30 days."  # content parts -> text
    assert (steps[3]["tokens_in"], steps[3]["tokens_out"]) == (410, 35)
    assert steps[3]["started_at"] == _local("2026-11-01T12:00:04Z")
    assert t["final_output"] == steps[3]["content"] and "full refund" in t["final_output"]
    meta = t["metadata"]
    assert (meta["tokens_in"], meta["tokens_out"], meta["latency_ms"], meta["status"]) == (940, 105, 5500, "completed")
    assert meta["cost_usd"] == pytest.approx(0.0037)
    assert (meta["started_at"], meta["ended_at"]) == (_local("2026-11-01T12:00:00Z"), _local("2026-11-01T12:00:05.500Z"))
    # 4 lines: 3 calls, one of them shipped twice (agent_loop_reshipped.jsonl) and counted once
    assert meta["extra"] == {"records": "4", "finish_reason": "stop", "reasoning_tokens": "0", "user_segment": "smb", "environment": "prod"}
    assert [tool["name"] for tool in t["tools_available"]] == ["lookup_order", "get_refund_policy"]
    assert json.loads(t["tools_available"][0]["parameters"])["required"] == ["order_id"]
    assert (t["source_uri"], t["source_line"]) == ("agent_loop.jsonl", 1)


def test_single_calls_reasoning_parts_and_refusal(accepted):
    math = accepted["chatcmpl-9d1c2b7e"]  # no metadata: the response id
    assert math["system_prompt"] == "You are a concise math tutor." and math["input"] == "What is 17 * 24?"
    assert [(s["kind"], s["role"], s["content"]) for s in math["steps"]] == [
        ("llm", "assistant", "17 * 24 = 408."), ("message", "user", "And divided by 8?"), ("llm", "assistant", "408 / 8 = 51."),
    ]
    assert math["steps"][2]["reasoning"].startswith("408 divided by 8")
    assert math["model"] == {"provider": None, "name": "deepseek-reasoner", "version": None}
    assert math["metadata"]["latency_ms"] == 3500 and math["metadata"]["started_at"] == _local("2026-11-02T09:30:00.250Z")
    assert math["metadata"]["extra"]["reasoning_tokens"] == "78"
    refusal = accepted["traj-refusal-9"]
    assert refusal["final_output"] == "I can't help with that."
    assert refusal["model"] == {"provider": "openai", "name": "gpt-4o-mini", "version": "2024-07-18"}


def test_fine_tuning_examples_are_demonstrations(accepted):
    weather, capital = accepted["demo-weather-001"], accepted["demo-capital-002"]
    assert weather["source_kind"] == capital["source_kind"] == "demonstration"
    assert weather["steps"][0]["tool"]["result"] == "21.0" and weather["steps"][0]["tool"]["call_id"] == "call_id"
    assert weather["final_output"] == "It is 21 C in San Francisco, CA"
    assert json.loads(weather["tools_available"][0]["parameters"])["required"] == ["location", "format"]
    assert weather["task"]["type"] == "weather" and capital["input"] == "What's the capital of France?"


def test_rejects_and_accounting(candidates, accepted):
    lines = fixture_lines(FORMAT)
    candidates = [c for c in candidates if c["source_uri"] != RENDERED]
    rejected = {(c["source_uri"], c["source_line"]): c["reject_reason"] for c in candidates if c["reject_reason"]}
    assert rejected == {
        ("finetune_examples.jsonl", 3): "missing_trajectory_id",
        ("rejects.jsonl", 1): "wrong_type",
        ("rejects.jsonl", 2): "wrong_type",
        ("rejects.jsonl", 3): "missing_trajectory_id",
        ("rejects.jsonl", 5): "no_content",
    }
    failed = accepted["traj-ratelimited"]
    assert failed["metadata"]["status"] == "error" and failed["metadata"]["extra"]["error"].startswith("Rate limit")
    assert failed["metadata"]["latency_ms"] == 250
    consumed = sum(int((c["metadata"] or {}).get("extra", {}).get("records", 1)) for c in candidates)
    assert consumed == len(lines)


def test_conversation_parts_on_a_tiny_conversation(spark):
    none = F.lit(None).cast("string")
    conversation = F.array(
        message(F.lit("system"), F.lit("Be brief.")),
        message(F.lit("user"), F.lit("Weather in Oslo?")),
        message(F.lit("assistant"), none, tool_calls=F.array(tool_call(F.lit("c1"), F.lit("weather"), F.lit('{"city":"Oslo"}')))),
        message(F.lit("tool"), F.lit("-3C"), tool_call_id=F.lit("c1")),
        message(F.lit("assistant"), F.lit("It is -3C."), reasoning=F.lit("Read the tool.")),
    )
    frame = spark.range(1).select(conversation.cast(ArrayType(MESSAGE)).alias("m"))
    parts = conversation_parts(F.col("m"))
    got = frame.select(
        parts.system_prompt.alias("system_prompt"), parts.input.alias("input"),
        parts.steps.alias("steps"), parts.final_output.alias("final_output"),
    )
    def step(i, kind, content=None, reasoning=None, tool=None):
        return (i, kind, "assistant", content, reasoning, tool, None, None, None, None)

    expected = spark.createDataFrame(
        [("Be brief.", "Weather in Oslo?", [
            step(0, "tool", tool=("c1", "weather", '{"city":"Oslo"}', "-3C", None)),
            step(1, "llm", "It is -3C.", "Read the tool."),
        ], "It is -3C.")],
        StructType([
            StructField("system_prompt", StringType()), StructField("input", StringType()),
            StructField("steps", ArrayType(STEP)), StructField("final_output", StringType()),
        ]),
    )
    assert_df_equality(got, expected, ignore_nullable=True)


def test_conversation_rules_in_python_on_the_same_conversation():
    """conversation_rules (the Python assembly's copy of conversation_parts) on the conversation above."""
    def m(role, content=None, **fields):
        return conversation_rules.message(role=role, content=content, **fields)

    weather = {"call_id": "c1", "name": "weather", "arguments": '{"city":"Oslo"}', "result": None, "error": None}
    parts = conversation_rules.conversation_parts([
        m("system", "Be brief."), m("user", "Weather in Oslo?"), m("assistant", tool_calls=[weather]),
        m("tool", "-3C", tool_call_id="c1"), m("assistant", "It is -3C.", reasoning="Read the tool.", started_at=5, tokens_out=2),
    ])
    timed = {"started_at": None, "ended_at": None, "tokens_in": None, "tokens_out": None}
    assert (parts.system_prompt, parts.input, parts.final_output) == ("Be brief.", "Weather in Oslo?", "It is -3C.")
    assert parts.steps == [
        {"index": 0, "kind": "tool", "role": "assistant", "content": None, "reasoning": None, "tool": {**weather, "result": "-3C"}, **timed},
        {"index": 1, "kind": "llm", "role": "assistant", "content": "It is -3C.", "reasoning": "Read the tool.", "tool": None,
         **timed, "started_at": 5, "tokens_out": 2},
    ]


def test_a_line_python_cannot_read_becomes_an_assembly_failed_reject(spark):
    """Spark's JSON reader takes `+INF` for a number, Python's does not: the trajectory's lines go
    to quarantine as assembly_failed (one reject per line), the other trajectories go on."""
    unreadable = '{"request": {"messages": [{"role": "user", "content": "hi"}]}, "trajectory_id": "t-inf", "latency_ms": +INF}'
    fine = json.dumps({"request": {"messages": [{"role": "user", "content": "hi"}]}, "trajectory_id": "t-ok"})
    rows = openai_chat.to_trajectories(bronze(spark, [(unreadable, 1, "odd.jsonl"), (fine, 2, "odd.jsonl")])).collect()
    got = {r["trajectory_id"]: (r["reject_reason"], r["metadata"]["extra"]["records"]) for r in rows}
    assert got == {"t-inf": ("assembly_failed", "1"), "t-ok": (None, "1")}
    failed = next(r for r in rows if r["trajectory_id"] == "t-inf")
    assert failed["reject_detail"].startswith("JSONDecodeError") and failed["source_line"] == 1


def _step(index, kind, role="assistant", content=None, reasoning=None, tool=None, start=None, end=None, tokens=(None, None)):
    return {"index": index, "kind": kind, "role": role, "content": content, "reasoning": reasoning, "tool": tool,
            "started_at": start, "ended_at": end, "tokens_in": tokens[0], "tokens_out": tokens[1]}


def _tool(call_id, name, arguments, result=None, error=None):
    return {"call_id": call_id, "name": name, "arguments": arguments, "result": result, "error": error}


def _canonical(trajectory_id: str, **overrides) -> dict:
    final = "Refund approved: 59.90 EUR back within 5 days."
    steps = [
        _step(0, "retrieval", role="tool", content="retrieved kb-7"),
        _step(1, "reasoning", reasoning="Need the order first.", start="2026-11-01T12:00:00.100Z",
              end="2026-11-01T12:00:00.600Z", tokens=(300, 40)),
        _step(2, "tool", tool=_tool("c1", "lookup_order", '{"order_id": "A-1"}', '{"total": 59.9}')),
        _step(3, "llm", content="Checking the policy.", start="2026-11-01T12:00:00.900Z",
              end="2026-11-01T12:00:01.200Z", tokens=(420, 30)),
        _step(4, "tool", tool=_tool("c2", "get_policy", '{"region": "EU"}', error="policy service timed out")),
        _step(5, "tool", tool=_tool("c3", "get_policy", '{"region": "EU"}', "30 days")),
        _step(6, "message", role="user", content="Please hurry."),
        _step(7, "llm", content=final, reasoning="Policy allows it.", start="2026-11-01T12:00:01.500Z",
              end="2026-11-01T12:00:02.000Z", tokens=(610, 25)),
    ]
    trajectory = {
        "trajectory_id": trajectory_id, "session_id": "sess-1", "user_id": "user-1", "tenant": "acme",
        "source_kind": "interaction_log", "agent": {"name": "support-bot", "version": "1.4.0"},
        "model": {"provider": "openai", "name": "gpt-4o", "version": "2024-08-06"},
        "task": {"type": "refund", "difficulty": "hard", "language": "de", "tags": ["billing", "enterprise"]},
        "system_prompt": "You are a refund agent.", "input": "Refund order A-1, please.",
        "context_docs": [{"doc_id": "kb-7", "source": "kb", "content": "Refunds within 30 days.", "score": 0.87}],
        "steps": steps,
        "tools_available": [
            {"name": "lookup_order", "description": "Find an order",
             "parameters": '{"type": "object", "properties": {"order_id": {"type": "string"}}}'},
            {"name": "get_policy", "description": "Refund policy", "parameters": '{"type": "object"}'},
        ],
        "final_output": final,
        "metadata": {"latency_ms": 2000, "tokens_in": 1330, "tokens_out": 95, "cost_usd": 0.0042, "status": "completed",
                     "started_at": "2026-11-01T12:00:00.000Z", "ended_at": "2026-11-01T12:00:02.000Z",
                     "extra": {"user_segment": "smb", "client": "web"}},
    }
    trajectory.update(overrides)
    return trajectory


ROUND_TRIPS = [
    _canonical("rt-openai"),
    _canonical("rt-anthropic", model={"provider": "anthropic", "name": "claude-3-5-sonnet", "version": "20241022"},
               metadata={**_canonical("x")["metadata"], "status": "timeout"}),
    _canonical("rt-demo", source_kind="demonstration"),
]


def _expected(trajectory: dict, carried_step_times: bool) -> dict:
    """The canonical values the format carries, in the form Spark returns them."""
    steps = []
    for s in trajectory["steps"]:
        timed = carried_step_times and s["kind"] in ("llm", "reasoning")
        steps.append({**s, "started_at": _local(s["started_at"]) if timed else None,
                      "ended_at": _local(s["ended_at"]) if timed else None,
                      "tokens_in": s["tokens_in"] if timed else None, "tokens_out": s["tokens_out"] if timed else None})
    meta = trajectory["metadata"]
    return {
        **{k: trajectory[k] for k in ("trajectory_id", "session_id", "user_id", "tenant", "source_kind", "agent", "model",
                                      "task", "system_prompt", "input", "context_docs", "final_output")},
        "steps": steps,
        "tools_available": [{**t, "parameters": json.loads(t["parameters"])} for t in trajectory["tools_available"]],
        "metadata": {**meta, "started_at": _local(meta["started_at"]), "ended_at": _local(meta["ended_at"])},
    }


def _rendered() -> list[dict]:
    return [line for trajectory in ROUND_TRIPS for line in render(trajectory)]


def test_round_trip_through_the_renderer(accepted):
    assert RENDERERS[FORMAT] is render
    assert len(_rendered()) == 3 + 3 + 1  # one line per LLM call; a demonstration is one example
    for trajectory in ROUND_TRIPS:
        actual = copy.deepcopy(accepted[trajectory["trajectory_id"]])
        expected = _expected(trajectory, carried_step_times=trajectory["source_kind"] != "demonstration")
        actual["tools_available"] = [{**t, "parameters": json.loads(t["parameters"])} for t in actual["tools_available"]]
        extra = actual["metadata"].pop("extra")
        assert extra.items() >= expected["metadata"].pop("extra").items()
        assert {k: actual[k] for k in expected} == expected, trajectory["trajectory_id"]
