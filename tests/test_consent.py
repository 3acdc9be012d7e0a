"""Consent: latest decision per user, and the gate in front of the curated zone."""

from __future__ import annotations

import json
from datetime import datetime

from chispa import assert_df_equality

from schemas.bronze import RAW_RECORD
from schemas.consent import CONSENT
from schemas.redaction import CONSENT_EXCLUSION
from transforms.consent import gate_by_consent, latest_consent

DECIDED_AT = datetime(2026, 11, 20, 12, 0, 0)


def _bronze(spark, records: list[dict | str]):
    rows = [
        (r if isinstance(r, str) else json.dumps(r), 100, "file:///raw/consent/part-0.jsonl", i + 1, "run-1", datetime(2026, 11, 20))
        for i, r in enumerate(records)
    ]
    return spark.createDataFrame(rows, RAW_RECORD)


def _record(user: str, status: str, at: str, scope: str = "training", tenant: str = "acme") -> dict:
    return {"user_id": user, "tenant": tenant, "status": status, "scope": scope, "updated_at": at}


def test_latest_record_per_user_wins(spark):
    raw = _bronze(
        spark,
        [
            _record("granted", "granted", "2026-11-01T10:00:00Z"),
            _record("refused", "refused", "2026-11-01T10:00:00Z"),
            _record("revoked", "granted", "2026-10-01T10:00:00Z"),
            _record("revoked", "revoked", "2026-11-02T08:30:00+02:00"),
            _record("regranted", "revoked", "2026-10-01T00:00:00Z"),
            _record("regranted", "GRANTED ", "2026-10-05T00:00:00Z"),  # status is normalised
            _record("tie", "granted", "2026-11-03T00:00:00Z"),
            _record("tie", "refused", "2026-11-03T00:00:00Z"),  # same time: the restrictive one wins
            _record("other_scope", "granted", "2026-11-01T00:00:00Z", scope="analytics"),
            _record("bad_time", "granted", "not a time"),
            _record("bad_status", "maybe", "2026-11-01T00:00:00Z"),
            "{not json",
        ],
    )
    expected = spark.createDataFrame(
        [
            ("granted", "acme", "granted", True, datetime(2026, 11, 1, 10, 0)),
            ("refused", "acme", "refused", False, datetime(2026, 11, 1, 10, 0)),
            ("regranted", "acme", "granted", True, datetime(2026, 10, 5)),
            ("revoked", "acme", "revoked", False, datetime(2026, 11, 2, 6, 30)),
            ("tie", "acme", "refused", False, datetime(2026, 11, 3)),
        ],
        CONSENT,
    )
    assert_df_equality(latest_consent(raw, "training"), expected, ignore_row_order=True, ignore_nullable=True)


def test_gate_keeps_granted_and_records_every_other_trajectory(spark):
    raw = _bronze(
        spark,
        [
            _record("u_granted", "granted", "2026-11-01T00:00:00Z"),
            _record("u_refused", "refused", "2026-11-01T00:00:00Z"),
            _record("u_revoked", "granted", "2026-11-01T00:00:00Z"),
            _record("u_revoked", "revoked", "2026-11-02T00:00:00Z"),
        ],
    )
    consent = latest_consent(raw, "training")
    trajectories = spark.createDataFrame(
        [("t1", "u_granted", "x"), ("t2", "u_refused", "x"), ("t3", "u_revoked", "x"), ("t4", "u_unknown", "x"), ("t5", None, "x")],
        "trajectory_id STRING, user_id STRING, input STRING",
    )
    gate = gate_by_consent(trajectories, consent, DECIDED_AT)

    assert_df_equality(gate.allowed, trajectories.where("trajectory_id = 't1'"))
    expected = spark.createDataFrame(
        [
            ("t2", "u_refused", "consent_refused", DECIDED_AT),
            ("t3", "u_revoked", "consent_revoked", DECIDED_AT),
            ("t4", "u_unknown", "no_consent_record", DECIDED_AT),
            ("t5", None, "no_consent_record", DECIDED_AT),
        ],
        CONSENT_EXCLUSION,
    )
    assert_df_equality(gate.excluded, expected, ignore_row_order=True, ignore_nullable=True)
