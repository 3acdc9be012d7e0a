"""Langfuse adapter: detection, the documented fixtures (nested trace, flat export across two
files, a trace without its trace line), rejects and accounting, and the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.synthetic.formats import langfuse as renderer
from tests.trace_roundtrip import (
    accepted,
    comparable,
    detection_by_folder,
    fixture_frame,
    fixture_lines,
    generated_trajectories,
    only_own_folder,
    sample_trajectory,
    step_times,
)
from transforms.adapters import langfuse
from transforms.adapters import variant_values as vv
from transforms.adapters.base import MISSING_TRAJECTORY_ID, NO_CONTENT, RECORDS_KEY, WRONG_TYPE

FORMATS = Path(__file__).parent / "fixtures" / "formats"
OWN = FORMATS / langfuse.NAME
OWN_EXTRA = (RECORDS_KEY, langfuse.EXTRA_OBSERVATIONS, langfuse.EXTRA_ENVIRONMENT)
NESTED_TRACE = "b1c2d3e4f5a64b7c8d9e0f1a2b3c4d5e"
FLAT_TRACE = "9f8e7d6c5b4a49382716a5b4c3d2e1f0"

ROUND_TRIP = [sample_trajectory("rt-langfuse-1"), sample_trajectory("rt-langfuse-2"), *generated_trajectories(4, seed=12)]
ROUND_TRIP_URI = "file:///rendered/langfuse.jsonl"


def _rendered_lines() -> list[dict]:
    first, second, *rest = ROUND_TRIP
    once = renderer.render_nested(first) + renderer.render_flat(second) + [line for t in rest for line in renderer.render(t)]
    return once + renderer.render_flat(second)  # the second, exported twice


@pytest.fixture(scope="module")
def all_candidates(spark):
    """One adapter run (planning it is the slow part) over the fixtures and the rendered trajectories."""
    rendered = [(json.dumps(line), ROUND_TRIP_URI) for line in _rendered_lines()]
    rows = langfuse.to_trajectories(fixture_frame(spark, OWN, extra_rows=rendered)).collect()
    return [r.asDict(recursive=True) for r in rows]


@pytest.fixture(scope="module")
def candidates(all_candidates):
    return [c for c in all_candidates if c["source_uri"] != ROUND_TRIP_URI]


def test_detects_its_own_records_and_no_others(spark):
    assert detection_by_folder(spark, langfuse.detects) == only_own_folder(OWN.name)


def test_nested_trace_with_its_observations(candidates):
    traj = accepted(candidates, NESTED_TRACE)
    assert traj["source_uri"].endswith("trace_full.jsonl") and traj["source_line"] == 1
    assert (traj["session_id"], traj["user_id"], traj["tenant"]) == ("chat-5521", "cust-0932", "shopco")
    assert traj["agent"] == {"name": "support-agent", "version": "v3.2.0"}
    assert traj["model"] == {"provider": "anthropic", "name": "claude-3-5-sonnet", "version": "20241022"}
    assert traj["task"] == {"type": "returns", "difficulty": "medium", "language": "en", "tags": ["returns", "prod"]}
    assert traj["system_prompt"].startswith("You are ShopCo's support agent")
    assert traj["input"] == "My order A-1042 arrived damaged. Can I get a replacement?"
    assert traj["final_output"].startswith("I'm sorry about the damage.")
    assert [d["doc_id"] for d in traj["context_docs"]] == ["kb-returns-3", "kb-ship-1"] and traj["context_docs"][0]["score"] == 0.91
    assert [s["kind"] for s in traj["steps"]] == ["retrieval", "llm", "tool", "tool", "llm"]
    retrieval, first, order, stock, answer = traj["steps"]
    assert retrieval["content"] == "damaged item replacement policy"
    assert first["content"] == "Let me check your order and our stock." and first["reasoning"].startswith("Check the order first")
    assert (first["tokens_in"], first["tokens_out"]) == (812, 96)
    assert order["tool"]["call_id"] == "toolu_01A9q4ZfXcW" and json.loads(order["tool"]["arguments"]) == {"order_id": "A-1042"}
    assert json.loads(order["tool"]["result"])["status"] == "delivered" and order["tool"]["error"] is None
    assert stock["tool"]["call_id"] == "toolu_01B7m2VyRtK" and stock["tool"]["result"] is None
    assert stock["tool"]["error"] == "InventoryServiceError: upstream returned 503"
    assert answer["content"] == traj["final_output"]
    meta = traj["metadata"]
    assert (meta["latency_ms"], meta["tokens_in"], meta["tokens_out"], meta["cost_usd"], meta["status"]) == (4210, 1856, 157, 0.007923, "completed")
    assert meta["extra"] == {"channel": "web", "ab_bucket": "2", "environment": "production", "records": "1", "observations": "7"}


def test_flat_export_is_grouped_by_trace_across_files(candidates):
    traj = accepted(candidates, FLAT_TRACE)
    assert traj["metadata"]["extra"][RECORDS_KEY] == "4"  # the trace line and three observation lines
    assert traj["source_uri"].endswith("observations_list.jsonl") and traj["source_line"] == 1
    assert traj["agent"] == {"name": "calc-bot", "version": "7"} and traj["user_id"] == "u-311" and traj["task"]["type"] == "math"
    assert [s["kind"] for s in traj["steps"]] == ["reasoning", "tool", "llm"]
    reasoning, calc, answer = traj["steps"]
    assert reasoning["reasoning"] == "15% means multiply by 0.15." and (reasoning["tokens_in"], reasoning["tokens_out"]) == (88, 22)
    assert calc["tool"]["call_id"] == "call_Qm3x9" and calc["tool"]["arguments"] == '{"expression": "2340 * 0.15"}'
    assert calc["tool"]["result"] == "351.0"
    assert answer["content"] == traj["final_output"] == "15% of 2,340 is 351."
    assert [t["name"] for t in traj["tools_available"]] == ["calculator"]
    assert (traj["metadata"]["latency_ms"], traj["metadata"]["cost_usd"]) == (1420, 0.000858)
    lone = accepted(candidates, "lone-7d1e")  # its trace line was never exported
    assert lone["input"] == "Translate 'good morning' to French." and lone["final_output"] == "Bonjour."


def test_rejects_have_their_reasons_and_every_line_is_accounted_for(candidates):
    rejects = sorted((c["source_line"], c["reject_reason"]) for c in candidates if c["reject_reason"])
    assert rejects == [(1, langfuse.MISSING_TRACE_ID), (2, WRONG_TYPE), (3, MISSING_TRAJECTORY_ID), (4, NO_CONTENT)]
    counted = sum(int(c["metadata"]["extra"][RECORDS_KEY]) for c in candidates)  # what normalize sums
    assert counted == sum(len(fixture_lines(p)) for p in OWN.glob("*.jsonl")) == 10


def test_nested_observations_read_back_as_from_json_reads_them():
    """A nested trace's observations reach from_json as the JSON text Jackson copied them to
    (fractions as Java doubles), then parse as VARIANT: the values Spark 4.1 gave."""
    copied = vv.jackson_copy(vv.loads('{"output": 1.50, "metadata": {"y": 1e5, "x": 100.0, "z": 0.1000, "w": 12345678901234567890.5}}'))
    assert vv.to_json(copied["output"]) == "1.5"
    assert vv.to_json(copied["metadata"]) == '{"w":1.2345678901234567E19,"x":100,"y":100000,"z":0.1}'
    assert vv.loads_object("{bad json") == {} and vv.loads_object(' {"id": "s"}') == {"id": "s"}
    assert [vv.json_double(v) for v in (2, 1.5, "Infinity", "1.5", True, None)] == [2.0, 1.5, float("inf"), None, None, None]
    assert [vv.round_half_up(x) for x in (2.5, -2.5, 284.99999999999997, 12.0)] == [3.0, -3.0, 285.0, 12.0]


def test_round_trip_through_the_renderer(all_candidates):
    assert len(renderer.render_nested(ROUND_TRIP[0])) == 1 and len(renderer.render_flat(ROUND_TRIP[1])) > 1
    got = {c["trajectory_id"]: c for c in all_candidates if c["source_uri"] == ROUND_TRIP_URI}
    assert len(got) == len(ROUND_TRIP)
    for traj in ROUND_TRIP:
        back = got[traj["trajectory_id"]]
        assert back["reject_reason"] is None
        assert comparable(back, OWN_EXTRA) == comparable(traj, OWN_EXTRA), traj["trajectory_id"]
        assert set(step_times(traj)) <= set(step_times(back))
    twice = ROUND_TRIP[1]
    exported = len(renderer.render_flat(twice))
    assert got[twice["trajectory_id"]]["metadata"]["extra"][RECORDS_KEY] == str(2 * exported)  # counted, not repeated
