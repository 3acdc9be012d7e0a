"""Declarative mappings: a conf-described source (tests/fixtures/conf/acme_mapping.yaml) end to end."""

from __future__ import annotations

import argparse
import copy
import json
from datetime import datetime
from pathlib import Path

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs import ingest, normalize
from jobs.errors import ConfError
from jobs.settings import load_settings
from tests.format_fixtures import FORMATS_DIR, OVERWRITTEN, bronze, detected_candidates, fixture_lines, other_formats_lines, with_repeated_keys
from tests.raw_files import native_record, write_lines
from transforms.adapters.base import TopFields
from transforms.adapters.registry import adapters
from transforms.adapters.mapped import adapter_from_mapping, parse_path

FORMAT = "acme_bot"
CONF = Path(__file__).parent / "fixtures" / "conf" / "acme_mapping.yaml"


def _local(epoch_ms: int) -> datetime:
    """What Spark hands back to Python for an epoch instant (a naive local datetime)."""
    return datetime.fromtimestamp(epoch_ms / 1000)


@pytest.fixture(scope="module")
def mapping() -> dict:
    return load_settings(conf_file=str(CONF), environ={})["normalize.mappings"][0]


@pytest.fixture(scope="module")
def candidates(spark, mapping):
    rows = adapter_from_mapping(mapping).to_trajectories(bronze(spark, fixture_lines(FORMAT))).collect()
    return {r["source_line"]: r.asDict(recursive=True) for r in rows}


def test_conf_file_adds_the_source_after_the_built_ins(mapping):
    names = [a.name for a in adapters([mapping])]
    assert names[:2] == ["native", "openai_chat"] and names[-1] == FORMAT


def test_detects_its_own_records_only(spark, mapping):
    adapter = adapter_from_mapping(mapping)
    own = [text for text, _, _ in fixture_lines(FORMAT)]
    others = other_formats_lines(FORMAT) + [json.dumps(native_record("t-native"))]
    df = spark.createDataFrame([(t, True) for t in own] + [(t, False) for t in others], "record string, expected boolean")
    got = df.select(adapter.detects(TopFields(F.col("record"))).alias("detected"), "expected").collect()
    assert len(others) >= 13
    assert [r.detected for r in got] == [r.expected for r in got]


def test_maps_every_configured_part(candidates):
    t = candidates[1]
    assert t["reject_reason"] is None and t["source_format"] == FORMAT
    assert (t["trajectory_id"], t["session_id"], t["user_id"], t["tenant"]) == ("acme-c-1001", "s-9", "cust-77", "acme")
    assert t["agent"] == {"name": "acme-helper", "version": "2.3.1"}
    assert t["model"] == {"provider": "mistral", "name": "mistral-large", "version": "2407"}
    assert t["task"] == {"type": "billing", "difficulty": "medium", "language": "de", "tags": ["billing", "vip"]}
    assert t["system_prompt"] == "Du bist der Abrechnungsassistent von Acme."
    assert t["input"] == "Warum wurde ich zweimal belastet?"
    assert [(s["index"], s["kind"]) for s in t["steps"]] == [(0, "reasoning"), (1, "tool"), (2, "llm"), (3, "tool"), (4, "llm")]
    reasoning, lookup, said, refund, final = t["steps"]
    assert reasoning["reasoning"] == "Erst die Rechnungen prüfen." and reasoning["started_at"] == _local(1793534401000)
    assert lookup["tool"]["name"] == "get_invoice" and json.loads(lookup["tool"]["arguments"]) == {"month": "2026-10"}
    assert json.loads(lookup["tool"]["result"]) == {"charges": ["ch_1", "ch_2"]}  # result inline in the call
    assert refund["tool"]["call_id"] == "a2" and refund["tool"]["error"] == "refund service unavailable"
    assert refund["tool"]["result"] is None  # the failed tool message, paired by reply_to
    assert said["content"] == "Ich erstatte die doppelte Belastung."
    assert t["final_output"] == final["content"] == "Die Erstattung ist vorgemerkt und kommt in 3 Tagen."
    assert t["context_docs"] == [
        {"doc_id": "kb-12", "source": None, "content": "Duplicate charges are refunded within 3 days.", "score": 0.91}
    ]
    assert [(x["name"], x["description"]) for x in t["tools_available"]] == [
        ("get_invoice", "Fetch the invoices of a month"), ("refund", "Refund one charge"),
    ]
    assert json.loads(t["tools_available"][1]["parameters"])["properties"] == {"charge_id": {"type": "string"}}
    meta = t["metadata"]
    assert (meta["latency_ms"], meta["tokens_in"], meta["tokens_out"], meta["status"]) == (4500, 900, 120, "completed")
    assert meta["cost_usd"] == pytest.approx(0.0031)
    assert (meta["started_at"], meta["ended_at"]) == (_local(1793534400000), _local(1793534404500))
    assert meta["extra"] == {"reward": "0.8", "resolved": "true", "customer_tier": "gold"}


def test_rejects_name_their_reason(spark, candidates):
    got = spark.createDataFrame(
        [(line, c["trajectory_id"], c["reject_reason"], c["reject_detail"]) for line, c in sorted(candidates.items())],
        "line long, trajectory_id string, reason string, detail string",
    )
    expected = spark.createDataFrame(
        [
            (1, "acme-c-1001", None, None),
            (2, None, "missing_trajectory_id", "nothing at $.conversation.id"),
            (3, "acme-c-1002", "wrong_type", "wrong JSON type for: metadata.latency_ms"),
            (4, "acme-c-1003", "wrong_type", "wrong JSON type for: messages"),
            (5, "acme-c-1004", "no_content", "no input, steps or final output"),
        ],
        "line long, trajectory_id string, reason string, detail string",
    )
    assert_df_equality(got, expected)


def test_an_epoch_too_large_for_a_timestamp_is_null_not_an_error(spark, mapping):
    """decimal(38,6) times the unit overflowed under ANSI: one such record failed the whole job.
    Now a message's time is null and a trajectory field's is a wrong_type reject, as for text."""
    text, number, uri = fixture_lines(FORMAT)[0]
    huge = "123456789012345678901234567890"
    assert '"started": 1793534400000' in text and '"at": 1793534401000' in text  # the run; its first step
    line = text.replace('"started": 1793534400000', f'"started": {huge}').replace('"at": 1793534401000', f'"at": {huge}')
    (got,) = adapter_from_mapping(mapping).to_trajectories(bronze(spark, [(line, number, uri)])).collect()
    assert (got["trajectory_id"], got["reject_reason"], got["reject_detail"]) == ("acme-c-1001", "wrong_type", "wrong JSON type for: metadata.started_at")
    assert got["steps"][0]["started_at"] is None and got["metadata"]["ended_at"] is not None


def _with(mapping: dict, **changes) -> dict:
    changed = copy.deepcopy(mapping)
    for dotted, value in changes.items():
        node = changed
        *parents, leaf = dotted.split("__")
        for part in parents:
            node = node.setdefault(part, {})
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return changed


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"colour": "blue"}, "unknown key(s) colour"),
        ({"id": None}, "missing required key(s) id"),
        ({"name": "Acme Bot"}, "name must be lower_snake_case"),
        ({"detect": {"path": "$.source"}}, "exactly one of"),
        ({"messages": "$.turns[[0]"}, "is not a JSON path"),
        ({"message__content": None}, "message needs paths for content"),
        ({"message__colour": "c"}, "unknown message key(s) colour"),
        ({"roles": {"bot": "robot"}}, "roles must map to"),
        ({"fields__task.mood": "$.mood"}, "unknown fields key(s) task.mood"),
        ({"source_kind": "scraped"}, "source_kind must be one of"),
        ({"epoch_unit": "days"}, "epoch_unit must be one of"),
        ({"extra": {"records": "$.n"}}, "extra key(s) records are reserved"),
        ({"tools": "$[0]"}, "must start with a key"),
    ],
)
def test_bad_mappings_fail_with_one_line(mapping, changes, message):
    with pytest.raises(ConfError) as error:
        adapter_from_mapping(_with(mapping, **changes))
    assert message in str(error.value) and "\n" not in str(error.value)
    assert "acme_bot" in str(error.value) or "name" in changes


def test_mapping_names_must_be_unique(mapping):
    with pytest.raises(ConfError, match="acme_bot"):
        adapters([mapping, mapping])
    with pytest.raises(ConfError, match="openai_chat"):
        adapters([_with(mapping, name="openai_chat")])


def test_a_repeated_key_reads_as_its_last_value_at_every_level(spark, mapping):
    lines = fixture_lines(FORMAT)
    repeated = [(with_repeated_keys(text), number, uri) for text, number, uri in lines]
    assert all(text.startswith(f'{{"source": "{OVERWRITTEN}", "source": "acme-bot"') for text, _, _ in repeated)
    assert sum(text.count(OVERWRITTEN) for text, _, _ in repeated) > 2 * len(lines)  # nested objects too
    both = adapters([mapping])

    def candidates(rows) -> list[dict]:
        """A tool's parameters are the source's JSON text, kept as written: compared as read."""
        found = detected_candidates(spark, rows, both)
        for tool in (t for c in found for t in c["tools_available"] or []):
            tool["parameters"] = json.loads(tool["parameters"]) if tool["parameters"] else None
        return found

    expected = candidates(lines)
    assert {c["source_format"] for c in expected} == {FORMAT} and len(expected) == len(lines)
    assert candidates(repeated) == expected


def test_paths_accept_the_usual_spellings():
    short, full = parse_path("a.b[0]", "w"), parse_path("$.a.b[0]", "w")
    assert (short.first, short.rest) == (full.first, full.rest) == ("a", ("b", 0))
    quoted = parse_path("$['a b'].c", "w")
    assert (quoted.first, quoted.rest) == ("a b", ("c",))


def test_normalize_takes_mapped_and_openai_records_with_every_line_accounted(spark, lake, fresh_settings, mapping):
    settings = fresh_settings.with_overrides({"normalize.mappings": [mapping]})
    logs = Path(settings["storage.raw"]) / "logs"
    for fmt in (FORMAT, "openai_chat"):
        for path in sorted((FORMATS_DIR / fmt).glob("*.jsonl")):
            write_lines(logs / fmt / path.name, path.read_bytes().splitlines())
    ingest.run(spark, settings, argparse.Namespace(run_id=None))
    result = normalize.run(spark, settings, argparse.Namespace())

    silver = {r.trajectory_id: r.source_format for r in lake.read("silver.trajectories").select("trajectory_id", "source_format").collect()}
    assert silver["acme-c-1001"] == FORMAT and silver["traj-refund-001"] == "openai_chat"
    assert len(silver) == 7  # 1 acme + 6 openai_chat trajectories (3 agent-loop lines are one)
    reasons = sorted(r.reason for r in lake.read("bronze.quarantine").where(F.col("stage") == "normalize").collect())
    acme_rejects = ["missing_trajectory_id", "wrong_type", "wrong_type", "no_content"]
    openai_rejects = ["missing_trajectory_id", "missing_trajectory_id", "wrong_type", "wrong_type", "no_content"]
    assert reasons == sorted(acme_rejects + openai_rejects)
    lines = len(fixture_lines(FORMAT)) + len(fixture_lines("openai_chat"))
    assert result.rows_in == lines and result.rows_out == 7
