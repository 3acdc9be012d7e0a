"""LangSmith adapter: detection, the documented fixtures (a nested LangGraph trace, a flat export
of a wrap_openai loop), rejects and accounting, and the round trip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.synthetic.formats import langsmith as renderer
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
from transforms.adapters import langsmith
from transforms.adapters.base import NO_CONTENT, RECORDS_KEY, WRONG_TYPE

FORMATS = Path(__file__).parent / "fixtures" / "formats"
OWN = FORMATS / langsmith.NAME
OWN_EXTRA = (RECORDS_KEY, langsmith.EXTRA_RUNS, langsmith.EXTRA_BEYOND_DEPTH, langsmith.EXTRA_PROJECT)
NESTED_TRACE = "1e0d8f2a-4b6c-4d7e-8f90-a1b2c3d4e5f6"
FLAT_TRACE = "a0b1c2d3-e4f5-4a6b-8c7d-8e9f0a1b2c3d"

ROUND_TRIP = [sample_trajectory("rt-langsmith-1"), sample_trajectory("rt-langsmith-2"), *generated_trajectories(4, seed=13)]
ROUND_TRIP_URI = "file:///rendered/langsmith.jsonl"
DEEP_URI = "file:///rendered/deep.jsonl"


def _deep_tree(levels: int) -> dict:
    """A nested export `levels` runs deep (root included), each run the only child of the one above."""
    run: dict = {"id": f"deep-{levels - 1}", "trace_id": "deep-0", "run_type": "tool", "name": "leaf", "inputs": {"x": 1},
                 "outputs": {"output": "ok"}, "start_time": "2026-10-30T12:00:01", "end_time": "2026-10-30T12:00:02", "child_runs": []}
    for level in range(levels - 2, -1, -1):
        run = {"id": f"deep-{level}", "trace_id": "deep-0", "parent_run_id": f"deep-{level - 1}" if level else None, "run_type": "chain",
               "name": f"level-{level}", "inputs": {"input": "go deep"}, "outputs": {"output": "done"},
               "start_time": "2026-10-30T12:00:00", "end_time": "2026-10-30T12:00:03", "child_runs": [run]}
    return run


def _rendered_lines() -> list[dict]:
    first, second, *rest = ROUND_TRIP
    once = renderer.render_nested(first) + renderer.render_flat(second) + [line for t in rest for line in renderer.render(t)]
    return once + renderer.render_flat(second)  # the second, exported twice


@pytest.fixture(scope="module")
def all_candidates(spark):
    """One adapter run (planning it is the slow part) over the fixtures and the rendered trajectories."""
    rendered = [(json.dumps(line), ROUND_TRIP_URI) for line in _rendered_lines()]
    rendered.append((json.dumps(_deep_tree(langsmith.NESTED_LEVELS + 1)), DEEP_URI))
    rows = langsmith.to_trajectories(fixture_frame(spark, OWN, extra_rows=rendered)).collect()
    return [r.asDict(recursive=True) for r in rows]


@pytest.fixture(scope="module")
def candidates(all_candidates):
    return [c for c in all_candidates if c["source_uri"] not in (ROUND_TRIP_URI, DEEP_URI)]


def test_detects_its_own_records_and_no_others(spark):
    assert detection_by_folder(spark, langsmith.detects) == only_own_folder(OWN.name)


def test_nested_langgraph_trace(candidates):
    traj = accepted(candidates, NESTED_TRACE)
    assert traj["source_uri"].endswith("runs_nested.jsonl") and traj["metadata"]["extra"][RECORDS_KEY] == "1"
    assert (traj["session_id"], traj["user_id"], traj["tenant"]) == ("thr-204", "dev-17", "oss-tools")
    assert traj["agent"] == {"name": "LangGraph", "version": "agent-2026.10.2"}
    assert traj["model"] == {"provider": "anthropic", "name": "claude-3-5-sonnet", "version": "20241022"}
    assert traj["task"] == {"type": "debugging", "difficulty": "hard", "language": "en", "tags": ["react-agent", "ci-triage"]}
    assert traj["system_prompt"] == "You are a coding assistant with access to the repository tools."
    assert traj["input"] == "Why does test_parse_dates fail on CI but not locally?"
    assert traj["final_output"].startswith("The test builds dates with the local timezone")
    assert [s["kind"] for s in traj["steps"]] == ["retrieval", "llm", "tool", "tool", "llm"]
    retrieval, first, read, tests, answer = traj["steps"]
    assert retrieval["content"] == "parse_dates timezone" and traj["context_docs"][0]["doc_id"] == "src/dates.py#L10"
    assert first["reasoning"].startswith("Timezone differences") and (first["tokens_in"], first["tokens_out"]) == (1204, 118)
    assert read["tool"]["call_id"] == "toolu_01Xk2" and read["tool"]["result"].startswith("def test_parse_dates")
    # The failing tool run logged no call id; it is linked to the request it executed.
    assert tests["tool"]["call_id"] == "toolu_01Yp7" and tests["tool"]["result"] is None
    assert tests["tool"]["error"].startswith("subprocess.TimeoutExpired")
    assert json.loads(tests["tool"]["arguments"]) == {"selector": "tests/test_dates.py::test_parse_dates"}
    assert answer["content"] == traj["final_output"] and answer["tokens_out"] == 74
    assert [t["name"] for t in traj["tools_available"]] == ["read_file", "run_tests"]
    meta = traj["metadata"]
    assert (meta["latency_ms"], meta["tokens_in"], meta["tokens_out"], meta["cost_usd"], meta["status"]) == (7030, 2837, 192, 0.011391, "completed")
    assert meta["extra"]["repo"] == "dateutils" and meta["extra"][langsmith.EXTRA_RUNS] == "9"
    assert "ls_run_depth" not in meta["extra"]


def test_flat_runs_are_grouped_by_trace(candidates):
    traj = accepted(candidates, FLAT_TRACE)
    assert traj["metadata"]["extra"][RECORDS_KEY] == "4" and traj["source_line"] == 1
    assert (traj["session_id"], traj["user_id"], traj["task"]["type"]) == ("c-88", "u-5", "currency")
    assert traj["model"] == {"provider": "openai", "name": "gpt-4o-mini", "version": "2024-07-18"}
    assert traj["input"] == "Convert 100 EUR to USD." and traj["final_output"] == "100 EUR is about 108.42 USD."
    assert traj["system_prompt"] == "You convert currencies with the fx tool."
    assert [s["kind"] for s in traj["steps"]] == ["tool", "llm"]
    fx = traj["steps"][0]["tool"]
    # The model's request ({"pair": ...}) is kept over what the string tool was handed ("EURUSD").
    assert (fx["call_id"], fx["name"], fx["arguments"], fx["result"]) == ("call_fx1", "fx_rate", '{"pair": "EURUSD"}', "1.0842")
    assert (traj["metadata"]["tokens_in"], traj["metadata"]["tokens_out"], traj["metadata"]["latency_ms"]) == (175, 29, 1250)


def test_rejects_have_their_reasons_and_every_line_is_accounted_for(candidates):
    rejects = sorted((c["source_line"], c["reject_reason"]) for c in candidates if c["reject_reason"])
    assert rejects == [(1, langsmith.MISSING_TRACE_ID), (2, WRONG_TYPE), (3, NO_CONTENT)]
    counted = sum(int(c["metadata"]["extra"][RECORDS_KEY]) for c in candidates)  # what normalize sums
    assert counted == sum(len(fixture_lines(p)) for p in OWN.glob("*.jsonl")) == 8


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


def test_runs_nested_deeper_than_read_are_counted_not_lost(all_candidates):
    [deep] = [c for c in all_candidates if c["source_uri"] == DEEP_URI]
    assert deep["reject_reason"] is None and deep["agent"]["name"] == "level-0"
    assert (deep["input"], deep["final_output"]) == ("go deep", "done")
    assert deep["metadata"]["extra"][langsmith.EXTRA_RUNS] == str(langsmith.NESTED_LEVELS)
    assert deep["metadata"]["extra"][langsmith.EXTRA_BEYOND_DEPTH] == "1"
