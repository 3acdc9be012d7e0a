"""The synthetic log generator: determinism, planted rates, and a truth that matches the raw files."""

from __future__ import annotations

import gzip
import json
import math
import re
import time
import zlib
from collections import defaultdict
from pathlib import Path

import pytest
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, DoubleType, IntegerType, LongType, StringType, StructField, StructType

from benchmarks.synthetic import GeneratorConfig, generate
from benchmarks.synthetic.cli import main as generate_main
from benchmarks.synthetic.config import MALFORMED_KINDS, GeneratorError
from benchmarks.synthetic.formats import RENDERERS
from benchmarks.synthetic.pii import iban_valid, luhn_valid
from jobs.settings import load_settings
from schemas.consent import CONSENT_RECORD, CONSENT_STATUSES
from schemas.feedback import FEEDBACK_KINDS, FEEDBACK_RECORD, FEEDBACK_SOURCES
from schemas.trajectory import NATIVE_FORMAT_TAG, NATIVE_RECORD

ISO_MS_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
ALL_KINDS_EQUAL = {kind: 1.0 for kind in MALFORMED_KINDS}
# Elevated rates so a few hundred trajectories hold every kind of fault and duplicate.
FAULTY = dict(
    malformed_rate=0.08, malformed_kinds=ALL_KINDS_EQUAL, exact_duplicate_rate=0.05, near_duplicate_rate=0.05,
    reemit_rate=0.05, orphan_rate=0.05, feedback_malformed_rate=0.02, feedback_duplicate_rate=0.05,
)


def read_lines(path: Path) -> list[bytes]:
    """A raw file's lines as ingest splits them (gzip decompressed as far as it goes)."""
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data)
    pieces = data.split(b"\n")
    if pieces and pieces[-1] == b"":
        pieces.pop()
    return pieces


def truth(out: Path, name: str) -> list[dict]:
    with open(out / "_truth" / f"{name}.jsonl", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def manifest(out: Path) -> dict:
    return json.loads((out / "_truth" / "manifest.json").read_text())


def raw_files(out: Path) -> list[Path]:
    return sorted(p for folder in ("logs", "feedback", "consent") for p in (out / folder).rglob("*") if p.is_file())


def intact_lines(out: Path) -> list[tuple[str, int, bytes]]:
    """(relative path, line number, bytes) of every raw line the truth does not call malformed."""
    malformed = truth(out, "malformed")
    bad = {(e["path"], e["line"]) for e in malformed}
    cut = {e["path"]: e["complete_lines"] for e in malformed if e["kind"] == "truncated_gzip"}
    found = []
    for path in raw_files(out):
        relative = str(path.relative_to(out))
        lines = read_lines(path)
        lines = lines[: cut[relative]] if relative in cut else lines
        found.extend((relative, n, raw) for n, raw in enumerate(lines, start=1) if (relative, n) not in bad)
    return found


def within(observed: int, expected: float) -> bool:
    """Binomial-ish tolerance: 4 standard deviations (plus one) around the expectation."""
    return abs(observed - expected) <= 4 * math.sqrt(max(expected, 1.0)) + 1


@pytest.fixture(scope="module")
def out(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated")
    generate(GeneratorConfig(trajectories=600, seed=11, **FAULTY), root)
    return root


def test_same_seed_gives_byte_identical_output_and_another_seed_does_not(tmp_path):
    config = GeneratorConfig(trajectories=200, seed=5, malformed_rate=0.05)  # every registered format
    first, second, other = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(config, first)
    generate(config, second)
    generate(GeneratorConfig(trajectories=200, seed=6, malformed_rate=0.05), other)

    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert any(str(p).endswith(".jsonl.gz") for p in files)
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative
    assert (first / "_truth/trajectories.jsonl").read_bytes() != (other / "_truth/trajectories.jsonl").read_bytes()
    ids = {r["trajectory_id"] for r in truth(first, "trajectories")}
    assert not ids & {r["trajectory_id"] for r in truth(other, "trajectories")}


def test_planted_rates_are_within_tolerance(tmp_path):
    n = 2000
    rates = dict(malformed_rate=0.03, exact_duplicate_rate=0.04, near_duplicate_rate=0.05, reemit_rate=0.03, orphan_rate=0.04)
    generate(GeneratorConfig(trajectories=n, seed=3, formats={"native": 1.0}, **rates), tmp_path)
    rows = truth(tmp_path, "trajectories")
    malformed = [r for r in truth(tmp_path, "malformed") if r["log_kind"] == "trajectories" and r["line"] is not None]
    orphan_ids = {r["trajectory_id"] for r in truth(tmp_path, "feedback") if r["orphan"]}
    cut_files = {r["path"] for r in truth(tmp_path, "malformed") if r["kind"] == "truncated_gzip"}
    reemits = [r for r in truth(tmp_path, "reemits") if r["path"] not in cut_files]

    assert len(rows) == n == manifest(tmp_path)["counts"]["trajectories"]
    assert within(len(malformed), n * rates["malformed_rate"])
    assert within(sum(r["duplicate_kind"] == "exact" for r in rows), n * rates["exact_duplicate_rate"])
    assert within(sum(r["duplicate_kind"] == "near" for r in rows), n * rates["near_duplicate_rate"])
    assert within(len(orphan_ids), n * rates["orphan_rate"])
    assert within(len(reemits), n * rates["reemit_rate"])
    assert not orphan_ids & {r["trajectory_id"] for r in rows}
    qualities = {q: sum(r["true_quality"] == q for r in rows) for q in ("good", "bad", "lucky")}
    assert all(count > 0 for count in qualities.values()), qualities


def test_every_planted_value_is_verbatim_in_its_trajectory_lines(out):
    rows = {r["trajectory_id"]: r for r in truth(out, "trajectories")}
    cache: dict[str, list[bytes]] = {}
    pii = truth(out, "pii")
    assert {r["entity_type"] for r in pii} == {
        "PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
        "IP_ADDRESS", "DATE_OF_BIRTH", "API_KEY", "BEARER_TOKEN", "PASSWORD",
    }
    assert {r["location"] for r in pii} == {
        "system_prompt", "input", "context", "step_content", "reasoning", "tool_arguments", "tool_result", "final_output",
    }
    for entry in pii:
        row = rows[entry["trajectory_id"]]
        lines = cache.setdefault(row["path"], read_lines(out / row["path"]))
        text = b"\n".join(lines[row["line"] - 1: row["line"] - 1 + row["n_lines"]]).decode("utf-8")
        assert entry["value"] in text, entry
        assert entry["trajectory_id"] in text
    assert "native" not in manifest(out)["counts"]["pii"]["dropped_by_renderer"]  # native keeps every value


def test_planted_values_are_valid_of_their_kind(out):
    by_type = defaultdict(set)
    for entry in truth(out, "pii"):
        by_type[entry["entity_type"]].add(entry["value"])
    assert all(luhn_valid(v) for v in by_type["CREDIT_CARD"])
    assert all(iban_valid(v) for v in by_type["IBAN_CODE"])
    assert all(re.fullmatch(r"\d{3}-\d{2}-\d{4}", v) for v in by_type["US_SSN"])
    assert all(v.startswith(("AKIA", "sk-", "ghp_", "xoxb-")) for v in by_type["API_KEY"])
    assert any(v.count(".") == 2 and v.startswith("eyJ") for v in by_type["BEARER_TOKEN"])  # JWTs among them
    assert all("@" in v for v in by_type["EMAIL_ADDRESS"])
    for value in set().union(*by_type.values()):  # safe inside any JSON string, unescaped
        assert value.isascii() and not set(value) & {'"', "\\"} and value.isprintable(), value


def _is_wrong_type(record: dict) -> bool:
    """Some field of a native record holds a JSON type its NATIVE_RECORD field cannot take."""
    def fits(value, data_type) -> bool:
        if value is None:
            return True
        if isinstance(data_type, StructType):
            return isinstance(value, dict) and all(fits(value.get(f.name), f.dataType) for f in data_type.fields)
        if isinstance(data_type, ArrayType):
            return isinstance(value, list) and all(fits(v, data_type.elementType) for v in value)
        if isinstance(data_type, (LongType, IntegerType)):
            return isinstance(value, int) and not isinstance(value, bool)
        if isinstance(data_type, DoubleType):
            return isinstance(value, (int, float)) and not isinstance(value, bool)
        return True  # strings, maps, timestamps as text
    return not fits(record, NATIVE_RECORD)


def test_every_malformed_entry_is_malformed_at_its_path_and_line(out):
    entries = truth(out, "malformed")
    assert {e["kind"] for e in entries if e["log_kind"] == "trajectories"} == set(MALFORMED_KINDS) | {"truncated_gzip"}
    limit = GeneratorConfig().max_record_bytes
    for entry in entries:
        path = out / entry["path"]
        if entry["kind"] == "truncated_gzip":
            with pytest.raises(EOFError):
                gzip.decompress(path.read_bytes())
            assert len(read_lines(path)) >= entry["complete_lines"]
            continue
        raw = read_lines(path)[entry["line"] - 1]
        kind = entry["kind"]
        if kind == "empty_line":
            assert raw == b""
        elif kind == "blank_line":
            assert raw and not raw.strip()
        elif kind == "invalid_utf8":
            with pytest.raises(UnicodeDecodeError):
                raw.decode("utf-8")
        elif kind == "nul_byte":
            assert b"\x00" in raw
        elif kind == "oversized":
            assert len(raw) > limit
        elif kind == "truncated_json":
            with pytest.raises(json.JSONDecodeError):
                json.loads(raw.decode("utf-8"))
        elif kind == "not_an_object":
            assert not isinstance(json.loads(raw), dict)
        elif kind == "missing_id":
            record = json.loads(raw)
            assert isinstance(record, dict) and not str(record.get("trajectory_id") or "").strip()
        elif kind == "wrong_type":
            record = json.loads(raw)
            assert record["format"] == NATIVE_FORMAT_TAG and _is_wrong_type(record), entry
        else:
            pytest.fail(f"unexpected kind {kind}")


def test_every_line_not_recorded_as_malformed_is_a_json_object(out):
    checked = 0
    for relative, number, raw in intact_lines(out):
        record = json.loads(raw.decode("utf-8"))
        assert isinstance(record, dict), (relative, number)
        if relative.startswith("logs/native/"):
            assert record["format"] == NATIVE_FORMAT_TAG and record["trajectory_id"]
            assert not _is_wrong_type(record), (relative, number)
        checked += 1
    assert checked >= 600


def test_duplicates_match_their_originals(out):
    rows = {r["trajectory_id"]: r for r in truth(out, "trajectories")}
    content = ("system_prompt", "input", "context_docs", "tools_available", "final_output")

    def record(row: dict) -> dict:
        return json.loads(read_lines(out / row["path"])[row["line"] - 1])

    copies = [r for r in rows.values() if r["duplicate_of"] and r["format"] == "native"]
    assert {r["duplicate_kind"] for r in copies} == {"exact", "near"}
    for row in copies:
        copy, original = record(row), record(rows[row["duplicate_of"]])
        assert copy["trajectory_id"] != original["trajectory_id"]
        same = [copy[k] == original[k] for k in content] + [
            [(s["kind"], s["content"], s["reasoning"], s["tool"]) for s in copy["steps"]]
            == [(s["kind"], s["content"], s["reasoning"], s["tool"]) for s in original["steps"]]
        ]
        if row["duplicate_kind"] == "exact":
            assert all(same), row
        else:
            assert not all(same) and copy["input"] != original["input"], row
    for reemit in truth(out, "reemits"):
        again = read_lines(out / reemit["path"])[reemit["line"] - 1]
        assert again == read_lines(out / reemit["of_path"])[reemit["of_line"] - 1]
        assert (reemit["path"], reemit["line"]) != (reemit["of_path"], reemit["of_line"])


def test_feedback_and_consent_lines_follow_their_schemas_and_truth(out):
    rows = {r["trajectory_id"]: r for r in truth(out, "trajectories")}
    bad = {(e["path"], e["line"]) for e in truth(out, "malformed")}
    events = {}
    for path in sorted((out / "feedback").rglob("*.jsonl*")):
        relative = str(path.relative_to(out))
        for number, raw in enumerate(read_lines(path), start=1):
            if (relative, number) in bad:
                continue
            record = json.loads(raw)
            assert set(record) <= set(FEEDBACK_RECORD.fieldNames())
            assert {"event_id", "trajectory_id", "kind", "value", "text", "source", "created_at"} <= set(record)
            assert record["kind"] in FEEDBACK_KINDS and record["source"] in FEEDBACK_SOURCES
            assert ISO_MS_Z.match(record["created_at"])
            assert events.setdefault(record["event_id"], (record, relative))[0] == record  # re-emits identical
    expected = truth(out, "feedback")
    assert set(events) == {e["event_id"] for e in expected}
    for event in expected:
        folder = events[event["event_id"]][1].split("/")[1]
        if event["orphan"]:
            assert event["trajectory_id"] not in rows
        else:
            trajectory_folder = "dt=" + rows[event["trajectory_id"]]["day"]
            assert (folder > trajectory_folder) if event["late"] else (folder == trajectory_folder)
    lucky = [r for r in rows.values() if r["true_quality"] == "lucky"]
    judged = [e for e in expected if e["kind"] == "judge_score" and e["trajectory_id"] in {r["trajectory_id"] for r in lucky}]
    assert judged and sum(e["value"] < 0.5 for e in judged) >= 0.8 * len(judged)
    bad_ratings = [e["value"] for e in expected if e["kind"] == "rating" and not e["orphan"]
                   and rows[e["trajectory_id"]]["true_quality"] == "bad"]
    assert bad_ratings and sum(v <= 3 for v in bad_ratings) >= 0.8 * len(bad_ratings)

    latest: dict[str, tuple[str, str]] = {}
    for path in sorted(p for p in (out / "consent").rglob("*") if p.is_file()):
        assert path.name.endswith(".jsonl")
        for raw in read_lines(path):
            record = json.loads(raw)
            assert list(record) == CONSENT_RECORD.fieldNames()
            assert record["status"] in CONSENT_STATUSES and record["scope"] == "training"
            assert ISO_MS_Z.match(record["updated_at"])
            if record["updated_at"] > latest.get(record["user_id"], ("", ""))[0]:
                latest[record["user_id"]] = (record["updated_at"], record["status"])
    final = {c["user_id"]: c for c in truth(out, "consent")}
    assert {r["user_id"] for r in rows.values()} <= set(final)
    for user_id, consent in final.items():
        assert consent["status"] == latest.get(user_id, (None, None))[1]
        assert consent["training_allowed"] == (consent["status"] == "granted")
    assert {c["status"] for c in final.values()} == {"granted", "refused", "revoked", None}


def test_feedback_and_native_lines_parse_with_the_pipeline_schemas(spark, out):
    wrong_type = [e for e in truth(out, "malformed") if e["kind"] == "wrong_type"]
    feedback_lines, native_lines = [], []
    for relative, number, raw in intact_lines(out):
        if relative.startswith("feedback/"):
            feedback_lines.append((relative, number, raw.decode("utf-8"), False))
        elif relative.startswith("logs/native/") and len(native_lines) < 200:
            native_lines.append((relative, number, raw.decode("utf-8"), False))
    for entry in wrong_type:
        raw = read_lines(out / entry["path"])[entry["line"] - 1]
        native_lines.append((entry["path"], entry["line"], raw.decode("utf-8"), True))
    schema = "path STRING, line INT, value STRING, wrong_type BOOLEAN"

    feedback = spark.createDataFrame(feedback_lines, schema).select(F.from_json("value", FEEDBACK_RECORD).alias("r"))
    parsed = feedback.select(
        F.count("*").alias("n"),
        F.count("r.event_id").alias("event_ids"),
        F.count("r.trajectory_id").alias("trajectory_ids"),
        F.count(F.to_timestamp("r.created_at")).alias("timestamps"),
        F.sum(F.col("r.kind").isin(*FEEDBACK_KINDS).cast("int")).alias("known_kinds"),
    ).first()
    assert parsed.n == len(feedback_lines) > 0
    assert parsed.event_ids == parsed.trajectory_ids == parsed.timestamps == parsed.known_kinds == parsed.n

    corrupt = StructType(NATIVE_RECORD.fields + [StructField("_corrupt", StringType())])
    native = spark.createDataFrame(native_lines, schema).select(
        "wrong_type", F.from_json("value", corrupt, {"columnNameOfCorruptRecord": "_corrupt"}).alias("r")
    )
    is_corrupt = F.col("r._corrupt").isNotNull()
    counts = native.select(
        F.sum((~F.col("wrong_type")).cast("int")).alias("intact"),
        F.sum((~F.col("wrong_type") & is_corrupt).cast("int")).alias("intact_corrupt"),
        F.sum(F.col("wrong_type").cast("int")).alias("wrong"),
        F.sum((F.col("wrong_type") & is_corrupt).cast("int")).alias("wrong_corrupt"),
    ).first()
    assert counts.intact == 200 and counts.intact_corrupt == 0
    assert counts.wrong == counts.wrong_corrupt > 0  # Spark rejects every wrong-type record


def test_generation_speed(tmp_path):
    """>= 2000 trajectories per CPU-second is the target; asserted generously (CPU time, not wall)."""
    n = 2000
    started = time.process_time()
    summary = generate(GeneratorConfig(trajectories=n, seed=9, formats={"native": 1.0}), tmp_path)
    rate = n / (time.process_time() - started)
    assert summary.trajectories == n
    assert rate >= 1000, f"{rate:.0f} trajectories per CPU-second"


def test_config_limit_matches_the_ingest_conf_and_bad_settings_fail():
    assert GeneratorConfig().max_record_bytes == load_settings(environ={})["ingest.max_record_bytes"]
    with pytest.raises(GeneratorError, match="malformed_rate"):
        GeneratorConfig(malformed_rate=1.5)
    with pytest.raises(GeneratorError, match="unknown malformed kind"):
        GeneratorConfig(malformed_kinds={"gibberish": 1.0})


def test_cli_prints_a_summary_and_refuses_unknown_formats_and_foreign_folders(tmp_path, capsys):
    assert generate_main(["--trajectories", "50", "--seed", "2", "--out", str(tmp_path / "g"), "--formats", "native=1"]) == 0
    line = capsys.readouterr().out.strip()
    assert line.startswith("generated 50 trajectories") and "trajectories/s" in line and "\n" not in line
    assert manifest(tmp_path / "g")["config"]["formats"] == {"native": 1.0}
    # rerunning into the same folder replaces the earlier generation
    assert generate_main(["--trajectories", "20", "--seed", "2", "--out", str(tmp_path / "g"), "--formats", "native=1"]) == 0
    assert len(truth(tmp_path / "g", "trajectories")) == 20

    assert generate_main(["--trajectories", "5", "--out", str(tmp_path / "x"), "--formats", "nope=1"]) == 2
    assert "unknown format" in capsys.readouterr().err
    foreign = tmp_path / "foreign"
    (foreign / "logs").mkdir(parents=True)
    (foreign / "logs" / "real.jsonl").write_text("{}\n")
    assert generate_main(["--trajectories", "5", "--out", str(foreign)]) == 2
    assert (foreign / "logs" / "real.jsonl").exists()


def test_default_mix_works_with_only_the_native_renderer_registered(tmp_path, monkeypatch):
    for name in [n for n in RENDERERS if n != "native"]:
        monkeypatch.delitem(RENDERERS, name)
    generate(GeneratorConfig(trajectories=30, seed=1), tmp_path)
    assert manifest(tmp_path)["config"]["formats"] == {"native": 2.0}
    assert {r["format"] for r in truth(tmp_path, "trajectories")} == {"native"}
    assert sorted(p.name for p in (tmp_path / "logs").iterdir()) == ["native"]
