"""The redaction boundary: our recognizers, JSON-preserving redaction, placeholders, the job.

Real Presidio and the real spaCy model throughout. The pure-Python parts run in the test process
(one engine, built once); the Spark parts run on tiny frames with two partitions, so the two
Python workers each build their engine once for the whole session.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
from datetime import datetime

import pandas as pd
import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from benchmarks.redaction_corpus import build_corpus
from jobs import leakscan as leakscan_job
from jobs import redact as redact_job
from jobs.errors import ConfError
from schemas.bronze import RAW_RECORD
from schemas.redaction import CONSENT_EXCLUSION, LEAK_RATE, PII_TRUTH, REDACTION_AUDIT
from schemas.trajectory import TRAJECTORY
from transforms.redaction import recognizers as ours
from transforms.redaction.chunking import chunk_bounds, piece_bounds
from transforms.redaction.config import RedactionConf
from transforms.redaction.increments import to_redact, to_withdraw
from transforms.redaction.json_values import collect_leaves, parse_container
from transforms.redaction.leak_scan import leak_rates, over_redaction_sample
from transforms.redaction.redact_frame import AUDIT_COLUMN, REDACTED, audit_rows, redact_frame, redact_trajectories
from transforms.redaction.text_analysis import TextAnalyzer, triage, worker_text_analyzer

STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "API_KEY", "BEARER_TOKEN", "PASSWORD")
FUZZY = ("PERSON", "STREET_ADDRESS", "DATE_OF_BIRTH")
HASH_KEY = b"test-key-not-a-secret"


@pytest.fixture(scope="module")
def conf(base_settings) -> RedactionConf:
    return RedactionConf.from_section(base_settings["redaction"])


@pytest.fixture(scope="module")
def analyzer(conf) -> TextAnalyzer:
    return worker_text_analyzer(conf.analyzer)


def _found(recognizer, text: str) -> list[str]:
    return [text[r.start : r.end] for r in recognizer.analyze(text, recognizer.supported_entities)]


# -- our recognizers: each finds what it should, and leaves look-alikes alone --------------------

RECOGNIZER_CASES = [
    (ours.StreetAddressRecognizer, "Ship it to 742 Evergreen Terrace, Springfield, IL 62704 please.", "742 Evergreen Terrace, Springfield, IL 62704"),
    (ours.StreetAddressRecognizer, "Lieferung an 12 Hauptstrasse, 10115 Berlin bitte.", "12 Hauptstrasse, 10115 Berlin"),
    (ours.StreetAddressRecognizer, "Office: 5 rue de Rivoli, 75001 Paris.", "5 rue de Rivoli, 75001 Paris"),
    (ours.StreetAddressRecognizer, "Send mail to P.O. Box 1234 today", "P.O. Box 1234"),
    (ours.PostalCodeRecognizer, "Postcode SW1A 1AA is in Westminster", "SW1A 1AA"),
    (ours.PostalCodeRecognizer, "The ZIP is CA 94105-1234.", "CA 94105-1234"),
    (ours.InternationalPhoneRecognizer, "Call +44 20 7946 0958 after six.", "+44 20 7946 0958"),
    (ours.InternationalPhoneRecognizer, "Ring 0049 30 901820 now", "0049 30 901820"),
    (ours.InternationalPhoneRecognizer, "US line (415) 555-0132 works", "(415) 555-0132"),
    (ours.PaymentCardRecognizer, "card 2221 0000 0000 0009 on file", "2221 0000 0000 0009"),
    (ours.ApiKeyRecognizer, "aws key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE"),
    (ours.ApiKeyRecognizer, "export OPENAI_API_KEY=sk-proj-abcdefghijklmnopqrstuvwxyz0123", "sk-proj-abcdefghijklmnopqrstuvwxyz0123"),
    (ours.ApiKeyRecognizer, "token ghp_abcdefghijklmnopqrstuvwxyz0123456789 in CI", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
    (ours.ApiKeyRecognizer, "slack xoxb-12345678901-1234567890123-abcdefghijklmnopqrstuvwx ok", "xoxb-12345678901-1234567890123-abcdefghijklmnopqrstuvwx"),
    (ours.BearerTokenRecognizer, "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9P"),
    (ours.BearerTokenRecognizer, "Authorization: Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", "9f8e7d6c5b4a39281706f5e4d3c2b1a0"),
    (ours.BearerTokenRecognizer, "Our admin token is Xq7LmP2wRt9ZkA4vB8nC1dE6fG3hJ5sY if needed", "Xq7LmP2wRt9ZkA4vB8nC1dE6fG3hJ5sY"),
    (ours.PrivateKeyRecognizer, "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAbc==\n-----END RSA PRIVATE KEY-----\nend", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nAbc==\n-----END RSA PRIVATE KEY-----"),
    (ours.PasswordRecognizer, "dsn postgres://app:S3cr3t!pw@db.internal:5432/orders", "S3cr3t!pw"),
    (ours.PasswordRecognizer, "Server=db;User Id=sa;Password=Tr0ub4dor;Encrypt=true", "Tr0ub4dor"),
    (ours.PasswordRecognizer, "I forgot my password. I think it was Winter6041*38ny, can you check?", "Winter6041*38ny"),
    (ours.OfflineEmailRecognizer, "Reply to ops.team@example.org please", "ops.team@example.org"),
    (ours.PersonCueRecognizer, "Name on card: Priya Rodriguez. Charge it again.", "Priya Rodriguez"),
    (ours.PersonCueRecognizer, "Kind regards,\nKwame Mensah", "Kwame Mensah"),
]
NEGATIVE_CASES = [
    (ours.StreetAddressRecognizer, "I have 3 cats and 2 dogs on the street."),
    (ours.StreetAddressRecognizer, "Step 2 Run the tests, then step 3 Drive the rollout."),
    (ours.PostalCodeRecognizer, "Use model GPT4 1AB and ids like AB12CD."),
    (ours.InternationalPhoneRecognizer, "Version 2.14.1 was released on 2024-05-01 with build 1234."),
    (ours.PaymentCardRecognizer, "order 4111111111111112 is not a valid card number"),
    (ours.ApiKeyRecognizer, "the sk- prefix and AKIA prefix alone are harmless; sk-short"),
    (ours.BearerTokenRecognizer, "the bearer of bad news; token refresh failed"),
    (ours.PrivateKeyRecognizer, "-----BEGIN PUBLIC KEY-----\nMIIBIjAN\n-----END PUBLIC KEY-----"),
    (ours.PasswordRecognizer, "see https://example.com/docs and mailto:ops@example.com"),
    (ours.PasswordRecognizer, "I sent a password reset link; it expires in 30 minutes."),
    (ours.OfflineEmailRecognizer, "postgres://etl:Falcon116-Fcdf@orders-db.example.com/orders"),  # a password, not an email
    (ours.PersonCueRecognizer, "product name: MacBook Pro, tool name: search_kb, Dear team"),
]


@pytest.mark.parametrize(("recognizer", "text", "value"), RECOGNIZER_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_recognizer_finds_its_entity(recognizer, text, value):
    assert value in _found(recognizer(), text)


@pytest.mark.parametrize(("recognizer", "text"), NEGATIVE_CASES, ids=lambda v: getattr(v, "__name__", None))
def test_recognizer_ignores_look_alikes(recognizer, text):
    assert _found(recognizer(), text) == []


def test_email_validation_never_touches_the_network(monkeypatch):
    attempts = []

    def refuse(self, address):
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    extractor = ours.OFFLINE_TLD_EXTRACTOR
    extractor._extractor = None  # force the suffix list to be loaded again, now
    assert _found(ours.OfflineEmailRecognizer(), "write to jane.doe@example.co.uk today") == ["jane.doe@example.co.uk"]
    assert extractor.suffix_list_urls == () and attempts == []


# -- pieces, triage and the analysis cache ------------------------------------------------------


def test_long_texts_are_cut_into_overlapping_chunks_on_whitespace():
    text = " ".join(f"word{i}" for i in range(2000))
    bounds = chunk_bounds(text, 500, 50)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(text)
    for (_, end), (start, next_end) in zip(bounds, bounds[1:]):
        assert end - start >= 50 and next_end - start <= 500 and text[start - 1] == " "
    lines = piece_bounds("short line\n" * 3 + "x" * 30 + "\n", 20, 1000, 10)
    assert lines == [(0, 22), (22, 64)]  # runs of whole lines of at least 20 chars


def test_an_entity_on_a_chunk_boundary_is_still_found(base_settings, analyzer):
    small = RedactionConf.from_section({**base_settings["redaction"], "chunk_chars": 300, "chunk_overlap_chars": 60})
    tiny = TextAnalyzer(analyzer.engine, small.analyzer)
    filler = "lorem ipsum dolor sit amet " * 10
    text = filler[:290] + " mail jane.doe@example.org now " + filler
    spans = tiny.analyze([text])[text]
    assert [text[s.start : s.end] for s in spans if s.entity_type == "EMAIL_ADDRESS"] == ["jane.doe@example.org"]


@pytest.mark.parametrize(("text", "route"), [("42", "skip"), ("{}", "skip"), ("  true ", "regex"), ("1234567890", "regex"),
                                              ("user_id", "regex"), ("JFK-LIS", "regex"), ("Maria Garcia", "ner")])
def test_pure_structure_never_reaches_ner(conf, text, route):
    assert triage(text, conf.analyzer) == route


def test_repeated_texts_are_analysed_once(conf, analyzer):
    texts = ["Contact Jane Roe about the refund.", "Contact Jane Roe about the refund.", "Nothing to see here at all."]
    before = analyzer.pieces_analyzed
    analyzer.analyze(texts)
    analyzer.analyze(texts)
    assert analyzer.pieces_analyzed - before <= 2


# -- JSON, placeholders, modes ------------------------------------------------------------------


def _trajectory(**parts) -> dict:
    row = {name: None for name in REDACTED.fieldNames() if name in parts or name in TRAJECTORY.fieldNames()}
    row.update(parts)
    return row


def _step(index: int, content=None, reasoning=None, tool=None) -> dict:
    return {"index": index, "kind": "tool" if tool else "message", "role": "assistant", "content": content,
            "reasoning": reasoning, "tool": tool, "started_at": None, "ended_at": None, "tokens_in": None, "tokens_out": None}


def _tool(arguments: str, result: str | None = None, error: str | None = None) -> dict:
    return {"call_id": "c1", "name": "crm", "arguments": arguments, "result": result, "error": error}


def test_json_stays_json_with_keys_kept_and_sensitive_values_replaced(conf, analyzer):
    arguments = json.dumps({
        "email": "not even an address",
        "query": "write to maria.lopez@example.com",
        "auth": {"api_key": "short", "Password": 12345678},
        "notes": ["call +44 20 7946 0958"],
        "limit": 25,
        "active": True,
    })
    row = _trajectory(trajectory_id="t1", steps=[_step(0, tool=_tool(arguments, "[1, 2, 3]", "timeout"))])
    tool = redact_frame(pd.DataFrame([row]), analyzer, conf).iloc[0]["steps"][0]["tool"]
    out = json.loads(tool["arguments"])
    assert list(out) == ["email", "query", "auth", "notes", "limit", "active"]
    assert list(out["auth"]) == ["api_key", "Password"]
    assert out["email"] == "<EMAIL_ADDRESS_1>" and out["auth"] == {"api_key": "<API_KEY_1>", "Password": "<PASSWORD_1>"}
    assert out["query"] == "write to <EMAIL_ADDRESS_2>"
    assert out["notes"] == ["call <PHONE_NUMBER_1>"]
    assert (out["limit"], out["active"]) == (25, True)
    assert (tool["result"], tool["error"]) == ("[1, 2, 3]", "timeout")


def test_a_redacted_json_text_keeps_a_lone_surrogate_escape(conf, analyzer):
    """Half an emoji ("\\ud83d" alone) has no UTF-8 form: the rewritten JSON keeps it escaped."""
    arguments = '{"note": "cut \\ud83d", "query": "write to maria.lopez@example.com", "ok": "\\ud83d\\ude00 ü"}'
    row = _trajectory(trajectory_id="t1", steps=[_step(0, tool=_tool(arguments))])
    out = redact_frame(pd.DataFrame([row]), analyzer, conf).iloc[0]["steps"][0]["tool"]["arguments"]
    out.encode("utf-8")  # Arrow's conversion of the task's output needs this
    assert json.loads(out) == {"note": "cut \ud83d", "query": "write to <EMAIL_ADDRESS_1>", "ok": "\U0001f600 ü"}
    assert '"cut \\ud83d"' in out and "\U0001f600 ü" in out


def test_json_too_deep_for_the_parser_is_redacted_as_text(conf, analyzer):
    arguments = '{"to": "maria.lopez@example.com", "deep": ' + "[" * 1500 + "]" * 1500 + "}"
    row = _trajectory(trajectory_id="t1", steps=[_step(0, tool=_tool(arguments))])
    out = redact_frame(pd.DataFrame([row]), analyzer, conf).iloc[0]["steps"][0]["tool"]["arguments"]
    assert out == arguments.replace("maria.lopez@example.com", "<EMAIL_ADDRESS_1>")


def test_json_values_are_analysed_behind_their_key(conf, analyzer):
    result = json.dumps({"items": [{"name": "mechanical keyboard"}], "customer": {"name": "Amara Sato", "note": "Call Amara today"}})
    row = _trajectory(trajectory_id="t1", steps=[_step(0, tool=_tool("{}", result))])
    out = json.loads(redact_frame(pd.DataFrame([row]), analyzer, conf).iloc[0]["steps"][0]["tool"]["result"])
    assert out == {"items": [{"name": "mechanical keyboard"}], "customer": {"name": "<PERSON_1>", "note": "Call <PERSON_1> today"}}


def test_sensitive_keys_match_by_substring_case_insensitively(conf):
    leaves = collect_leaves(parse_container('{"userEmail": "a", "X-API-Key": "b", "profile": {"home_address": {"city": "c"}}, "n": 7}'),
                            conf.sensitive_json_keys, conf.sensitive_number_min_digits)
    assert [(leaf.text, leaf.sensitive_type) for leaf in leaves] == [("a", "EMAIL_ADDRESS"), ("b", "API_KEY"), ("c", "STREET_ADDRESS")]
    assert parse_container('"just a string"') is None and parse_container("{broken") is None


def test_placeholders_are_consistent_across_steps_and_fields(conf, analyzer):
    row = _trajectory(
        trajectory_id="t1",
        input="Hi, I am Maria Garcia and my email is maria.garcia@example.com.",
        steps=[
            _step(0, reasoning="Maria Garcia wants a refund; John Smith approved it."),
            _step(1, tool=_tool(json.dumps({"customer": "maria.garcia@example.com"}), json.dumps({"owner": "John Smith"}))),
            _step(2, content="Thanks Maria, John Smith will follow up."),
        ],
        final_output="Refunded Maria Garcia.",
    )
    out = redact_frame(pd.DataFrame([row]), analyzer, conf).iloc[0]
    steps = out["steps"]
    assert out["input"] == "Hi, I am <PERSON_1> and my email is <EMAIL_ADDRESS_1>."
    assert steps[0]["reasoning"] == "<PERSON_1> wants a refund; <PERSON_2> approved it."
    assert json.loads(steps[1]["tool"]["arguments"]) == {"customer": "<EMAIL_ADDRESS_1>"}
    assert json.loads(steps[1]["tool"]["result"]) == {"owner": "<PERSON_2>"}
    assert steps[2]["content"] == "Thanks <PERSON_1>, <PERSON_2> will follow up."
    assert out["final_output"] == "Refunded <PERSON_1>."


def test_numbering_is_per_trajectory_although_analysis_is_shared(conf, analyzer):
    shared = "Please call Maria Garcia back."
    rows = [_trajectory(trajectory_id="a", input=shared),
            _trajectory(trajectory_id="b", system_prompt="Escalate to John Smith.", input=shared)]
    out = redact_frame(pd.DataFrame(rows), analyzer, conf)
    assert list(out["input"]) == ["Please call <PERSON_1> back.", "Please call <PERSON_2> back."]


def test_keyed_hash_mode_gives_stable_pseudonyms(base_settings, analyzer):
    section = {**base_settings["redaction"], "placeholder_mode": "hash"}
    keyed = RedactionConf.from_section(section, HASH_KEY)
    other_key = RedactionConf.from_section(section, b"another-key")
    rows = [_trajectory(trajectory_id=t, input="Contact Maria Garcia at maria.garcia@example.com.") for t in ("a", "b")]
    first, second = redact_frame(pd.DataFrame(rows), analyzer, keyed)["input"]
    assert first == second
    assert re.fullmatch(r"Contact <PERSON_[0-9a-f]{8}> at <EMAIL_ADDRESS_[0-9a-f]{8}>\.", first)
    assert redact_frame(pd.DataFrame(rows[:1]), analyzer, other_key)["input"][0] != first
    with pytest.raises(ConfError, match="TRAJLAKE_REDACTION_KEY"):
        RedactionConf.from_section(section, None)


# -- on Spark -----------------------------------------------------------------------------------


def test_redact_transform_on_spark(spark, conf):
    steps = [_step(0, content="The reply went to ops@example.org.", tool=_tool('{"to": "ops@example.org", "cc": []}', "sent"))]
    frame = spark.createDataFrame([_trajectory(trajectory_id="t1", input="Server at 52.14.200.7 is down.", steps=steps)], TRAJECTORY)
    redacted = frame.transform(redact_trajectories, conf)
    expected_steps = [_step(0, content="The reply went to <EMAIL_ADDRESS_1>.", tool=_tool('{"to": "<EMAIL_ADDRESS_1>", "cc": []}', "sent"))]
    expected = spark.createDataFrame(
        [_trajectory(trajectory_id="t1", input="Server at <IP_ADDRESS_1> is down.", steps=expected_steps)], TRAJECTORY
    )
    assert_df_equality(redacted.drop(AUDIT_COLUMN), expected, ignore_nullable=True)
    audit = redacted.select(F.explode(AUDIT_COLUMN).alias("a")).select("a.*").orderBy("field").collect()
    assert [(a.field, a.entity_type, a.recognizer, a["count"]) for a in audit] == [
        ("input", "IP_ADDRESS", "IpRecognizer", 1),
        ("steps.content", "EMAIL_ADDRESS", "EmailRecognizer", 1),
        ("steps.tool.arguments", "EMAIL_ADDRESS", "EmailRecognizer", 1),
    ]


def test_leak_rate_on_a_seeded_corpus_is_within_limits(spark, conf, base_settings):
    corpus = build_corpus(24, seed=101)
    frame = spark.createDataFrame(corpus.rows, TRAJECTORY).repartition(2)
    curated = frame.transform(redact_trajectories, conf).drop(AUDIT_COLUMN).cache()
    truth = spark.createDataFrame(corpus.truth, PII_TRUTH)
    rates = {r.entity_type: r for r in leak_rates(truth, curated).collect()}
    assert set(rates) == set(STRUCTURED + FUZZY)
    for entity_type, row in rates.items():
        limit = leakscan_job.leak_limit(base_settings, entity_type)
        assert limit == (0.05 if entity_type in FUZZY else 0.01)
        assert row.seeded > 0 and row.leak_rate <= limit, f"{entity_type}: {row.leaked} of {row.seeded} leaked"
    sample = over_redaction_sample(truth, frame, curated, 20, 5)
    replaced = sample.where(~F.col("kept")).count()
    assert sample.count() > 100 and replaced / sample.count() < 0.1
    curated.unpersist()


def test_leak_rates_count_verbatim_survivors_anywhere_in_curated_rows(spark):
    metadata = {"latency_ms": 1, "tokens_in": 1, "tokens_out": 1, "cost_usd": 0.0, "status": "ok",
                "started_at": None, "ended_at": None, "extra": {"note": "call 212-555-0147"}}
    curated = spark.createDataFrame(
        [_trajectory(trajectory_id="t1", input="Hi <PERSON_1>, mail bob@example.org"),
         _trajectory(trajectory_id="t2", input="nothing here", metadata=metadata)],
        TRAJECTORY,
    )
    truth = spark.createDataFrame(
        [("t1", "PERSON", "Ann Lee", "input"), ("t1", "EMAIL_ADDRESS", "bob@example.org", "input"),
         ("t1", "EMAIL_ADDRESS", "bob@example.org", "final_output"), ("t2", "PHONE_NUMBER", "212-555-0147", "input"),
         ("t9", "PERSON", "Zed Quinn", "input")],  # t9 never reached the curated zone
        PII_TRUTH,
    )
    expected = spark.createDataFrame(
        [("EMAIL_ADDRESS", 1, 1, 1.0), ("PERSON", 1, 0, 0.0), ("PHONE_NUMBER", 1, 1, 1.0)], LEAK_RATE
    )
    assert_df_equality(leak_rates(truth, curated), expected, ignore_row_order=True, ignore_nullable=True)


def test_over_redaction_sample_marks_non_pii_words_that_vanished(spark):
    original = spark.createDataFrame([_trajectory(trajectory_id="t1", input="Alpha gamma delta Ann Leeson")], TRAJECTORY)
    curated = spark.createDataFrame([_trajectory(trajectory_id="t1", input="Alpha <LOCATION_1> delta <PERSON_1>")], TRAJECTORY)
    truth = spark.createDataFrame([("t1", "PERSON", "Ann Leeson", "input")], PII_TRUTH)
    expected = spark.createDataFrame(
        [("t1", "Alpha", True), ("t1", "gamma", False), ("t1", "delta", True)], "trajectory_id STRING, word STRING, kept BOOLEAN"
    )
    sample = over_redaction_sample(truth, original, curated, words_per_trajectory=10, min_word_chars=5)
    assert_df_equality(sample, expected, ignore_row_order=True, ignore_nullable=True)


def test_audit_rows_explode_counts_only(spark):
    entries = [{"field": "input", "entity_type": "PERSON", "recognizer": "SpacyRecognizer", "count": 2}]
    redacted = spark.createDataFrame([_trajectory(trajectory_id="t1", redaction_audit=entries),
                                      _trajectory(trajectory_id="t2", redaction_audit=[])], REDACTED)
    at = datetime(2026, 11, 20, 8, 0)
    expected = spark.createDataFrame([("t1", "input", "PERSON", "SpacyRecognizer", 2, "placeholder", at)], REDACTION_AUDIT)
    assert_df_equality(audit_rows(redacted, "placeholder", at), expected, ignore_nullable=True)


def test_only_new_or_changed_trajectories_are_redacted_and_the_unconsented_withdrawn(spark):
    allowed = spark.createDataFrame([("t1", "h1"), ("t2", "h2-new"), ("t3", "h3"), ("t5", None)], "trajectory_id STRING, content_hash STRING")
    curated = spark.createDataFrame([("t1", "h1"), ("t2", "h2"), ("t4", "h4"), ("t5", None)], "trajectory_id STRING, content_hash STRING")
    assert_df_equality(to_redact(allowed, curated), allowed.where("trajectory_id IN ('t2', 't3')"), ignore_row_order=True)
    assert_df_equality(to_withdraw(allowed, curated), curated.where("trajectory_id = 't4'").select("trajectory_id"))


# -- the jobs, end to end through Lake ----------------------------------------------------------


def _consent_lines(spark, decisions: dict[str, str]):
    rows = [
        (json.dumps({"user_id": user, "tenant": "acme", "status": status, "scope": "training", "updated_at": "2026-11-01T00:00:00Z"}),
         80, "file:///raw/consent/c.jsonl", i + 1, "run-1", datetime(2026, 11, 2))
        for i, (user, status) in enumerate(decisions.items())
    ]
    return spark.createDataFrame(rows, RAW_RECORD)


def _columns(schema) -> list[tuple]:
    return [(f.name, f.dataType) for f in schema.fields]


def test_redact_job_end_to_end(spark, lake, fresh_settings, tmp_path):
    corpus = build_corpus(8, seed=5, users=4)  # trajectory i belongs to user i % 4
    rows = corpus.rows + [dict(corpus.rows[0], trajectory_id="no-user", user_id=None)]
    ids = [row["trajectory_id"] for row in rows]
    of_user = lambda u: {ids[u], ids[u + 4]}  # noqa: E731
    lake.overwrite(spark.createDataFrame(rows, TRAJECTORY), "silver.trajectories")
    lake.overwrite(_consent_lines(spark, {"user-00000": "granted", "user-00001": "refused", "user-00003": "granted"}), "bronze.consent")
    args = argparse.Namespace(full=False)

    first = redact_job.run(spark, fresh_settings, args)
    assert (first.rows_in, first.rows_out, first.detail["redacted"]) == (9, 4, 4)
    reasons = {r.trajectory_id: r.reason for r in lake.read("curated.consent_exclusions").collect()}
    assert reasons == {**dict.fromkeys(of_user(1), "consent_refused"), **dict.fromkeys(of_user(2), "no_consent_record"),
                       "no-user": "no_consent_record"}
    assert _columns(lake.read("curated.consent_exclusions").schema) == _columns(CONSENT_EXCLUSION)
    assert [r.status for r in lake.read("silver.consent").orderBy("user_id").collect()] == ["granted", "refused", "granted"]

    audit = lake.read("curated.redaction_audit")
    assert _columns(audit.schema) == _columns(REDACTION_AUDIT)
    audit_text = "\n".join(str(v) for row in audit.collect() for v in row)
    assert audit.count() > 0 and not [t["value"] for t in corpus.truth if t["value"] in audit_text]

    curated_ids = of_user(0) | of_user(3)
    curated_text = "\n".join(r[0] for r in lake.read("curated.trajectories").select(F.to_json(F.struct("*"))).collect())
    assert not [t["value"] for t in corpus.truth if t["trajectory_id"] in curated_ids and t["value"] in curated_text]

    # The leak scan job reads the truth beside the raw logs; only curated trajectories count.
    truth_dir = tmp_path / "raw" / "_truth"
    truth_dir.mkdir(parents=True)
    (truth_dir / "pii.jsonl").write_text("\n".join(json.dumps(t) for t in corpus.truth))
    scan = leakscan_job.run(spark, fresh_settings, argparse.Namespace(truth=None, json_out=None, strict=True))
    seeded = {(t["trajectory_id"], t["entity_type"], t["value"]) for t in corpus.truth if t["trajectory_id"] in curated_ids}
    assert (scan.rows_in, scan.rows_out, scan.detail["over_limit"]) == (len(seeded), 0, "none")

    # User 0 revokes and user 2 grants: only user 2's trajectories are redacted, user 0's leave.
    later = [("user-00000", "revoked"), ("user-00002", "granted")]
    lake.append(
        spark.createDataFrame([(json.dumps({"user_id": u, "tenant": "acme", "status": s, "scope": "training",
                                            "updated_at": "2026-11-05T00:00:00Z"}), 80, "file:///raw/consent/d.jsonl", i + 1,
                                "run-2", datetime(2026, 11, 6)) for i, (u, s) in enumerate(later)], RAW_RECORD),
        "bronze.consent",
    )
    second = redact_job.run(spark, fresh_settings, args)
    assert (second.rows_out, second.detail["redacted"], second.detail["withdrawn"]) == (4, 2, 2)
    assert {r.trajectory_id for r in lake.read("curated.redaction_audit").select("trajectory_id").distinct().collect()} == of_user(2) | of_user(3)
    assert {r.trajectory_id for r in lake.read("curated.consent_exclusions").where("reason = 'consent_revoked'").collect()} == of_user(0)


def test_hash_mode_without_its_key_is_a_one_line_error(spark, fresh_settings, monkeypatch):
    monkeypatch.delenv("TRAJLAKE_REDACTION_KEY", raising=False)
    settings = fresh_settings.with_overrides({"redaction.placeholder_mode": "hash"})
    with pytest.raises(ConfError) as err:
        redact_job.run(spark, settings, argparse.Namespace(full=False))
    assert "\n" not in str(err.value)
