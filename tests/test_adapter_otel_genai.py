"""OpenTelemetry GenAI adapter: detection, the documented fixtures, rejects and accounting,
and the round trip through the renderer."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, MapType, StringType, StructField, StructType

from benchmarks.synthetic.formats import otel_genai as renderer
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
from transforms.adapters import otel_genai
from transforms.adapters.base import NO_CONTENT, WRONG_TYPE

FORMATS = Path(__file__).parent / "fixtures" / "formats"
OWN = FORMATS / otel_genai.NAME
OWN_EXTRA = (otel_genai.EXTRA_RECORDS, otel_genai.EXTRA_SPANS, otel_genai.EXTRA_TRACE_ID)
TRACE_A = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACE_B = "0af7651916cd43dd8448eb211c80319c"


ROUND_TRIP = [
    sample_trajectory("rt-otel-1"),
    sample_trajectory("rt-otel-2", metadata={**sample_trajectory()["metadata"], "status": "timeout"}),
    *generated_trajectories(4, seed=11),
]
ROUND_TRIP_URI = "file:///rendered/otel_genai.jsonl"


@pytest.fixture(scope="module")
def all_candidates(spark):
    """One adapter run (planning it is the slow part) over the fixtures and the rendered trajectories."""
    lines = [line for t in ROUND_TRIP for line in renderer.render(t)] + renderer.render(ROUND_TRIP[0])  # the first, exported twice
    rendered = [(json.dumps(line), ROUND_TRIP_URI) for line in lines]
    rows = otel_genai.to_trajectories(fixture_frame(spark, OWN, extra_rows=rendered)).collect()
    return [r.asDict(recursive=True) for r in rows]


@pytest.fixture(scope="module")
def candidates(all_candidates):
    return [c for c in all_candidates if c["source_uri"] != ROUND_TRIP_URI]


def test_detects_its_own_records_and_no_others(spark):
    assert detection_by_folder(spark, otel_genai.detects) == only_own_folder(OWN.name)


def test_agent_trace_spread_over_two_requests_becomes_one_trajectory(candidates):
    traj = accepted(candidates, TRACE_A)
    assert traj["source_uri"].endswith("agent_traces.jsonl") and traj["source_line"] == 1
    assert traj["session_id"] == "conv_5j66UpCpwteGg4YSxUnt7lPY" and traj["user_id"] == "user-8842"
    assert traj["agent"] == {"name": "travel-assistant", "version": "2.3.1"}
    assert traj["model"] == {"provider": "openai", "name": "gpt-4o", "version": "2024-08-06"}
    assert traj["task"] == {"type": "travel_info", "difficulty": "easy", "language": "en", "tags": ["weather", "multi-tool"]}
    assert traj["tenant"] == "acme-travel" and traj["source_kind"] == "interaction_log"
    assert traj["system_prompt"] == "You are a travel assistant. Use the tools to answer."
    assert traj["input"] == "What's the weather in Paris, and what time is it there?"
    assert traj["final_output"].startswith("It is rainy in Paris at 57°F.")
    assert [s["kind"] for s in traj["steps"]] == ["reasoning", "tool", "tool", "llm"]
    assert [s["index"] for s in traj["steps"]] == [0, 1, 2, 3]
    reasoning, weather, clock, answer = traj["steps"]
    assert reasoning["reasoning"].startswith("I need the weather") and (reasoning["tokens_in"], reasoning["tokens_out"]) == (147, 41)
    assert weather["tool"]["call_id"] == "call_VSPygqKTWdrhaFErNvMV18Yl" and weather["tool"]["name"] == "get_weather"
    assert json.loads(weather["tool"]["arguments"]) == {"location": "Paris"}
    assert json.loads(weather["tool"]["result"]) == {"conditions": "rainy", "temperature_f": 57} and weather["tool"]["error"] is None
    assert clock["tool"]["call_id"] == "call_fW2Yx1tOqHpJ7cC9s3Qv0aBd" and clock["tool"]["result"] is None
    assert clock["tool"]["error"] == "time service did not answer within 500 ms"
    assert answer["content"] == traj["final_output"] and answer["started_at"] == datetime(2025, 11, 1, 12, 26, 41, 420000)
    assert [t["name"] for t in traj["tools_available"]] == ["get_weather", "get_local_time"]
    assert json.loads(traj["tools_available"][0]["parameters"])["required"] == ["location"]
    meta = traj["metadata"]
    assert (meta["latency_ms"], meta["tokens_in"], meta["tokens_out"], meta["cost_usd"], meta["status"]) == (2350, 383, 79, 0.00175, "completed")
    assert meta["extra"] == {"records": "1", "spans": "5", "user_segment": "pro"}


def test_legacy_attributes_and_a_request_shared_by_two_traces(candidates):
    traj = accepted(candidates, TRACE_B)
    assert traj["model"] == {"provider": "anthropic", "name": "claude-3-5-sonnet", "version": "20241022"}
    assert traj["session_id"] == "sess-77" and traj["agent"]["name"] == "explainer"
    assert traj["system_prompt"] == "Answer briefly." and traj["input"] == "Explain OpenTelemetry in one sentence."
    [step] = traj["steps"]
    assert step["kind"] == "llm" and step["reasoning"] == "Keep it to a single sentence."
    assert (traj["metadata"]["tokens_in"], traj["metadata"]["tokens_out"]) == (58, 112)
    # Line 1 carries spans of both traces; it is counted once, by the smaller trace id (this one).
    assert traj["metadata"]["extra"]["records"] == "2" and traj["metadata"]["extra"]["spans"] == "2"


def test_rejects_have_their_reasons_and_every_line_is_accounted_for(candidates):
    rejects = sorted((c["source_uri"].rsplit("/", 1)[-1], c["source_line"], c["reject_reason"]) for c in candidates if c["reject_reason"])
    assert rejects == [
        ("rejects.jsonl", 1, WRONG_TYPE),
        ("rejects.jsonl", 2, otel_genai.NO_SPANS),
        ("rejects.jsonl", 3, otel_genai.MISSING_TRACE_ID),
        ("rejects.jsonl", 4, otel_genai.MISSING_TRACE_ID),
        ("rejects.jsonl", 5, NO_CONTENT),
    ]
    counted = sum(int(c["metadata"]["extra"]["records"]) for c in candidates)  # what normalize sums
    lines = sum(len(fixture_lines(p)) for p in OWN.glob("*.jsonl"))
    assert counted == lines == 8
    shared = accepted(candidates, "5b8efff798038103d269b633813fc60c")  # line 4: a good span beside one without traceId
    assert shared["final_output"] == "Hi!" and shared["metadata"]["extra"]["records"] == "1"


def test_attribute_list_becomes_a_map_of_text_values(spark):
    kv = StructType([StructField("key", StringType()), StructField("value", otel_genai.ANY_VALUE)])
    attrs = [
        {"key": "s", "value": {"stringValue": "x"}},
        {"key": "i", "value": {"intValue": "42"}},
        {"key": "d", "value": {"doubleValue": "0.5"}},
        {"key": "b", "value": {"boolValue": "true"}},
        {"key": "a", "value": {"arrayValue": {"values": [{"stringValue": "stop"}, {"stringValue": "length"}]}}},
        {"key": "s", "value": {"stringValue": "repeated keys keep the first"}},
    ]
    frame = spark.createDataFrame([(attrs,)], StructType([StructField("attributes", ArrayType(kv))]))
    actual = frame.select(otel_genai.attribute_map(F.col("attributes")).alias("map"))
    expected = spark.createDataFrame(
        [({"s": "x", "i": "42", "d": "0.5", "b": "true", "a": '["stop","length"]'},)],
        StructType([StructField("map", MapType(StringType(), StringType()), False)]),
    )
    assert_df_equality(actual, expected, ignore_nullable=True)


def test_round_trip_through_the_renderer(all_candidates):
    assert len(renderer.render(ROUND_TRIP[0])) == 2  # children, then the root in its own request
    got = {c["trajectory_id"]: c for c in all_candidates if c["source_uri"] == ROUND_TRIP_URI}
    assert len(got) == len(ROUND_TRIP)
    for traj in ROUND_TRIP:
        back = got[traj["trajectory_id"]]
        assert back["reject_reason"] is None
        assert comparable(back, OWN_EXTRA) == comparable(traj, OWN_EXTRA), traj["trajectory_id"]
        assert set(step_times(traj)) <= set(step_times(back))
    twice = ROUND_TRIP[0]
    exported = len(renderer.render(twice))
    assert got[twice["trajectory_id"]]["metadata"]["extra"][otel_genai.EXTRA_RECORDS] == str(2 * exported)  # counted, not repeated
