"""Generate raw agent logs plus their ground truth under one output folder.

    <out>/logs/<format>/dt=YYYY-MM-DD/part-NNNNN.jsonl[.gz]
    <out>/feedback/dt=YYYY-MM-DD/part-NNNNN.jsonl[.gz]
    <out>/consent/dt=YYYY-MM-DD/part-NNNNN.jsonl
    <out>/_truth/...   (never read by the pipeline: ingest skips `_` folders)

Truth files (JSONL unless noted; paths are relative to <out>, lines 1-based):
  manifest.json      generator_version, seed, config (formats resolved), counts, files {path: lines
                     written; for a cut-short gzip the lines it was meant to hold}
  trajectories.jsonl one row per trajectory id: trajectory_id, format, task_type, difficulty,
                     language, user_id, user_segment, tenant, source_kind, true_outcome
                     (success|failure), true_quality (good|bad|lucky), duplicate_of, duplicate_kind
                     (exact|near|null), signal_mix, conflict, day, path, line, n_lines
  pii.jsonl          trajectory_id, entity_type, value, location: every planted value, verbatim in
                     the trajectory's lines (values a renderer dropped are left out and counted
                     per format in manifest counts.pii.dropped_by_renderer)
  malformed.jsonl    path, line (null for a whole-file fault), kind, log_kind, trajectory_id, detail;
                     truncated_gzip rows add complete_lines, total_lines, trajectory_ids
  feedback.jsonl     one row per event_id: trajectory_id, kind, source, value, orphan, late,
                     duplicate (re-emitted verbatim in another file), path, line
  consent.jsonl      user_id, tenant, status (final; null = never recorded), training_allowed, records
  reemits.jsonl      trajectory_id, path, line, of_path, of_line: a record logged again verbatim

Malformed lines are extra lines made from throw-away trajectories (absent from
trajectories.jsonl), so every trajectory id in the truth arrives intact at least once.

Independent random streams (ids, layout, trajectories, duplicates, faults, feedback, users) all
derive from the seed, so output is byte-identical per seed and config, and turning one knob
(say the malformed rate) leaves the trajectories themselves unchanged.
"""

from __future__ import annotations

import gc
import json
import random
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

from benchmarks.synthetic import catalog
from benchmarks.synthetic.config import (
    FEEDBACK_MALFORMED_KINDS,
    TRUNCATED_GZIP,
    GeneratorConfig,
    GeneratorError,
)
from benchmarks.synthetic.consent import consent_history, consent_record
from benchmarks.synthetic.fast_random import FastRandom
from benchmarks.synthetic.faults import RECORD_KINDS, FaultMaker, dumps, truncated_gzip
from benchmarks.synthetic.feedback import FeedbackModel, Signal, feedback_record, feedback_text
from benchmarks.synthetic.formats import RENDERERS
from benchmarks.synthetic.formats.native import NAME as NATIVE
from benchmarks.synthetic.json_text import boolean, optional, scalar, string
from benchmarks.synthetic.part_files import PartFiles
from benchmarks.synthetic.splice import Splicer
from benchmarks.synthetic.trajectories import DAY_MS, Built, Clock, TrajectoryBuilder, User, hex_id, uuid_text

GENERATOR_VERSION = "1"
TRUTH = "_truth"
LOGS, FEEDBACK, CONSENT = "logs", "feedback", "consent"
OWNED_DIRS = (LOGS, FEEDBACK, CONSENT, TRUTH)
TRUTH_FILES = ("trajectories", "pii", "malformed", "feedback", "consent", "reemits")
RESERVOIR_SIZE = 256  # originals kept for duplicating (uniform over history)

SEGMENTS = (("free", 0.5), ("pro", 0.3), ("enterprise", 0.15), ("internal", 0.05))
USER_LANGUAGES = (("en", 0.75), ("de", 0.1), ("fr", 0.08), ("es", 0.07))
ENTERPRISE_TENANTS = ("acme", "globex", "initech", "umbrella")
USER_ZIPF_EXPONENT = 0.8  # a few heavy users, a long tail


@dataclass(frozen=True)
class GenerationSummary:
    out: str
    trajectories: int
    files: int
    lines: int
    malformed: int
    feedback_events: int
    consent_records: int
    seconds: float  # wall clock
    cpu_seconds: float  # this process's CPU time: the per-core rate, whatever else runs

    @property
    def per_second(self) -> float:
        return self.trajectories / self.seconds if self.seconds > 0 else float("inf")

    @property
    def per_cpu_second(self) -> float:
        return self.trajectories / self.cpu_seconds if self.cpu_seconds > 0 else float("inf")

    def line(self) -> str:
        return (
            f"generated {self.trajectories:,} trajectories, {self.feedback_events:,} feedback events and "
            f"{self.consent_records:,} consent records: {self.lines:,} lines ({self.malformed:,} malformed) in "
            f"{self.files:,} files under {self.out} in {self.seconds:.2f}s: {self.per_second:,.0f} trajectories/s "
            f"({self.per_cpu_second:,.0f}/s per CPU-second)"
        )


# The JSON text of the truth rows written for every trajectory, without building and encoding a
# dict each time: `dumps` of the dict in the same key order (tests/test_generator.py checks).

def pii_row_text(trajectory_id: str, entity: str, value: str, location: str) -> str:
    return (f'{{"trajectory_id":{string(trajectory_id)},"entity_type":{string(entity)},"value":{string(value)},'
            f'"location":{string(location)}}}')


def trajectory_row_text(row: dict) -> str:
    """`row` as _Generation._emit_row makes it."""
    return (
        f'{{"trajectory_id":{string(row["trajectory_id"])},"format":{string(row["format"])},'
        f'"task_type":{string(row["task_type"])},"difficulty":{string(row["difficulty"])},'
        f'"language":{string(row["language"])},"user_id":{string(row["user_id"])},'
        f'"user_segment":{string(row["user_segment"])},"tenant":{string(row["tenant"])},'
        f'"source_kind":{string(row["source_kind"])},"true_outcome":{string(row["true_outcome"])},'
        f'"true_quality":{string(row["true_quality"])},"duplicate_of":{optional(row["duplicate_of"])},'
        f'"duplicate_kind":{optional(row["duplicate_kind"])},"signal_mix":{string(row["signal_mix"])},'
        f'"conflict":{boolean(row["conflict"])},"day":{string(row["day"])},"path":{string(row["path"])},'
        f'"line":{scalar(row["line"])},"n_lines":{scalar(row["n_lines"])}}}'
    )


def feedback_row_text(event_id: str, trajectory_id: str, signal: Signal, orphan: bool, late: bool, duplicate: bool,
                      path: str, line: int) -> str:
    return (
        f'{{"event_id":{string(event_id)},"trajectory_id":{string(trajectory_id)},"kind":{string(signal.kind)},'
        f'"source":{string(signal.source)},"value":{scalar(signal.value)},"orphan":{boolean(orphan)},'
        f'"late":{boolean(late)},"duplicate":{boolean(duplicate)},"path":{string(path)},"line":{scalar(line)}}}'
    )


def resolve_formats(weights: dict[str, float] | None) -> dict[str, float]:
    """The format mix: given weights (checked against the registry), else all registered, native x2."""
    if weights is None:
        return {name: (2.0 if name == NATIVE else 1.0) for name in sorted(RENDERERS)}
    unknown = sorted(set(weights) - set(RENDERERS))
    if unknown:
        raise GeneratorError(f"unknown format(s) {unknown}; registered: {', '.join(sorted(RENDERERS))}")
    mix = {name: w for name, w in weights.items() if w > 0}
    if not mix:
        raise GeneratorError("formats: at least one weight must be positive")
    return mix


def prepare_out(out: Path) -> None:
    """Clear a previous generation in `out` (only the folders the generator owns).

    A folder with `_truth/` was made by the generator (it is created first, so even a run that
    crashed left it); logs without it may be someone's real data, which is never deleted.
    """
    present = [d for d in OWNED_DIRS if (out / d).exists()]
    if present and not (out / TRUTH).is_dir():
        raise GeneratorError(
            f"{out} already holds {', '.join(present)} not made by the generator; choose an empty --out"
        )
    for d in present:
        shutil.rmtree(out / d)
    out.mkdir(parents=True, exist_ok=True)


@dataclass
class _Emitted:
    """An original trajectory as written, kept in the reservoir for later duplicates."""

    built: Built
    fmt: str
    row: dict
    pii: list[tuple[str, str, str]]
    data: bytes  # its lines, joined by newlines
    n_lines: int
    day: int
    path: str
    line: int

    @property
    def lines(self) -> list[bytes]:
        return self.data.split(b"\n")  # JSON text holds no raw newline


@dataclass
class _Counts:
    """What went where, for the manifest."""

    by_format: Counter = field(default_factory=Counter)
    by_task: Counter = field(default_factory=Counter)
    by_quality: Counter = field(default_factory=Counter)
    duplicates: Counter = field(default_factory=Counter)
    malformed: Counter = field(default_factory=Counter)
    feedback_malformed: Counter = field(default_factory=Counter)
    feedback_by_source: Counter = field(default_factory=Counter)
    feedback_by_kind: Counter = field(default_factory=Counter)
    feedback_flags: Counter = field(default_factory=Counter)
    pii_by_entity: Counter = field(default_factory=Counter)
    pii_by_location: Counter = field(default_factory=Counter)
    pii_dropped: Counter = field(default_factory=Counter)  # by format
    consent_status: Counter = field(default_factory=Counter)
    consent_records: int = 0
    # per event / kept value, counted into the Counters above by fold() (cheaper than 6 updates each)
    feedback_events: list[tuple[Signal, bool, bool, bool]] = field(default_factory=list)  # signal, orphan, late, duplicate
    pii_kept: list[tuple[str, str]] = field(default_factory=list)  # entity, location

    def fold(self) -> None:
        events = self.feedback_events
        self.feedback_by_source.update(e[0].source for e in events)
        self.feedback_by_kind.update(e[0].kind for e in events)
        self.feedback_flags.update(events=len(events), orphan=sum(e[1] for e in events), late=sum(e[2] for e in events),
                                   duplicate=sum(e[3] for e in events))
        self.pii_by_entity.update(entity for entity, _ in self.pii_kept)
        self.pii_by_location.update(location for _, location in self.pii_kept)
        events.clear()
        self.pii_kept.clear()


class _Generation:
    """One run: owns the random streams, the open part files and the truth files."""

    def __init__(self, config: GeneratorConfig, out: Path) -> None:
        self.config = config
        self.out = out
        self.formats = resolve_formats(config.formats)
        self._format_names = list(self.formats)
        self._format_cum = list(accumulate(self.formats.values()))
        seed = config.seed
        self.rng_ids = FastRandom(f"{seed}/ids")
        self.rng_layout = FastRandom(f"{seed}/layout")
        self.rng_dup = FastRandom(f"{seed}/duplicates")
        self.rng_fault = FastRandom(f"{seed}/faults")
        self.rng_fb = FastRandom(f"{seed}/feedback")
        self.clock = Clock(config.start_date)
        self.builder = TrajectoryBuilder(FastRandom(f"{seed}/trajectories"), self.clock, config.pii_rate, config.lucky_rate)
        self.fault_builder = TrajectoryBuilder(FastRandom(f"{seed}/fault-records"), self.clock, config.pii_rate, config.lucky_rate)
        self.faults = FaultMaker(self.rng_fault, config.max_record_bytes)
        self.feedback = FeedbackModel(
            self.rng_fb, config.verifier_rate, config.human_rate, config.judge_rate, config.implicit_rate,
            config.noise_rate, config.conflict_rate,
        )
        self.files = PartFiles(out, seed, config.gzip_rate, config.gzip_level)
        self.users = self._make_users(FastRandom(f"{seed}/users"), config.users)
        self.users_by_id = {u.user_id: u for u in self.users}
        self._user_cum = list(accumulate(1.0 / (rank**USER_ZIPF_EXPONENT) for rank in range(1, len(self.users) + 1)))
        kinds = {k: w for k, w in config.malformed_kinds.items() if w > 0}
        self._malformed_kinds, self._malformed_cum = list(kinds), list(accumulate(kinds.values()))
        self._fb_kinds, self._fb_cum = list(FEEDBACK_MALFORMED_KINDS), list(accumulate(FEEDBACK_MALFORMED_KINDS.values()))
        self.splicer = Splicer(dumps)
        self._prompt_tokens = {p: self.splicer.text(p) for p in catalog.SYSTEM_PROMPTS.values()}
        self.reservoir: list[_Emitted] = []
        self._originals = 0
        self.counts = _Counts()
        (out / TRUTH).mkdir(parents=True, exist_ok=True)
        self._truth = {name: open(out / TRUTH / f"{name}.jsonl", "w", encoding="utf-8") for name in TRUTH_FILES}  # noqa: SIM115
        self._truth_rows: dict[str, list[str]] = {name: [] for name in TRUTH_FILES}  # written in batches

    # -- set-up ---------------------------------------------------------------------------------

    @staticmethod
    def _make_users(rng: random.Random, n: int) -> list[User]:
        segments, segment_cum = [s for s, _ in SEGMENTS], list(accumulate(w for _, w in SEGMENTS))
        languages, language_cum = [lang for lang, _ in USER_LANGUAGES], list(accumulate(w for _, w in USER_LANGUAGES))
        users = []
        for _ in range(n):
            segment = rng.choices(segments, cum_weights=segment_cum)[0]
            tenant = {"enterprise": rng.choice(ENTERPRISE_TENANTS), "internal": "trajlake-internal"}.get(segment, "public")
            users.append(User(hex_id(rng, "u_", 12), segment, tenant, rng.choices(languages, cum_weights=language_cum)[0]))
        return users

    def _user(self) -> User:
        return self.rng_layout.choices(self.users, cum_weights=self._user_cum)[0]

    def _log_path(self, fmt: str, day: int) -> str:
        return self.files.path(f"{LOGS}/{fmt}", self.clock.day_text(day), self.rng_layout.randrange(self.config.log_files_per_day))

    def _truth_row(self, name: str, row: dict) -> None:
        self._truth_text(name, dumps(row))

    def _truth_text(self, name: str, text: str) -> None:
        """A truth row given as its JSON text (the hot rows: see the *_row_text functions)."""
        rows = self._truth_rows[name]
        rows.append(text)
        if len(rows) >= 2048:
            self._flush_truth(name)

    def _flush_truth(self, name: str) -> None:
        rows = self._truth_rows[name]
        if rows:
            rows.append("")
            self._truth[name].write("\n".join(rows))
            rows.clear()

    # -- trajectories ---------------------------------------------------------------------------

    def _render(self, fmt: str, trajectory: dict) -> tuple[bytes, int]:
        """The format's lines in UTF-8, joined by newlines, and how many. What they repeat (the
        shared system prompts, tool definitions, earlier messages ...) is encoded once and
        spliced in (see splice.py: the same bytes as encoding each record whole)."""
        token = self._prompt_tokens.get(trajectory["system_prompt"])
        if token is not None:
            trajectory = dict(trajectory, system_prompt=token)
        return self.splicer.render(RENDERERS[fmt], trajectory)

    def _write_pii(self, trajectory_id: str, fmt: str, planted: list[tuple[str, str, str]], data: bytes) -> list[tuple[str, str, str]]:
        """Record the planted values the rendered lines really hold (a renderer may drop a part).
        (Searched in the UTF-8: a value's UTF-8 is in it exactly where the value is in the text.)"""
        kept = []
        for entity, value, location in planted:
            if value.encode() in data:
                kept.append((entity, value, location))
                self.counts.pii_kept.append((entity, location))
                self._truth_text("pii", pii_row_text(trajectory_id, entity, value, location))
            else:
                self.counts.pii_dropped[fmt] += 1
        return kept

    def original(self) -> None:
        trajectory_id = uuid_text(self.rng_ids)
        user = self._user()
        day = self.rng_layout.randrange(self.config.days)
        start = self.clock.day_start(day) + self.rng_layout.randrange(DAY_MS - 3_600_000)
        built = self.builder.build(trajectory_id, user, start)
        fmt = self.rng_layout.choices(self._format_names, cum_weights=self._format_cum)[0]
        data, n_lines = self._render(fmt, built.trajectory)
        path = self._log_path(fmt, day)
        first = self.files.append_block(path, data, n_lines)
        pii = self._write_pii(trajectory_id, fmt, built.pii, data)
        row = self._emit_row(built, trajectory_id, user, fmt, day, path, first, n_lines, None, None)
        entry = _Emitted(built, fmt, row, pii, data, n_lines, day, path, first)
        self._originals += 1
        if len(self.reservoir) < RESERVOIR_SIZE:
            self.reservoir.append(entry)
        else:
            slot = self.rng_dup.randrange(self._originals)
            if slot < RESERVOIR_SIZE:
                self.reservoir[slot] = entry
        self._maybe_reemit(trajectory_id, fmt, day, path, first, data, n_lines)

    def duplicate(self, kind: str) -> None:
        """A content-identical copy (`exact`) or a lightly edited one (`near`) under a new id."""
        source = self.rng_dup.choice(self.reservoir)
        trajectory_id = uuid_text(self.rng_ids)
        base = source.built.trajectory
        trajectory = dict(base, trajectory_id=trajectory_id, session_id=hex_id(self.rng_dup, "sess_"))
        trajectory["metadata"] = dict(base["metadata"], extra=dict(base["metadata"]["extra"], request_id=hex_id(self.rng_dup, "req_", 12)))
        if kind == "near":
            trajectory["input"] = self._near_edit(base["input"])
            if self.rng_dup.random() < 0.5:
                output = self._near_edit(base["final_output"])
                trajectory["final_output"] = output
                trajectory["steps"] = base["steps"][:-1] + [dict(base["steps"][-1], content=output)]
        day = min(self.config.days - 1, source.day + self.rng_dup.randint(0, 1))
        data, n_lines = self._render(source.fmt, trajectory)
        path = self._log_path(source.fmt, day)
        first = self.files.append_block(path, data, n_lines)
        self._write_pii(trajectory_id, source.fmt, source.pii, data)
        user = self.users_by_id[base["user_id"]]
        self._emit_row(source.built, trajectory_id, user, source.fmt, day, path, first, n_lines,
                       source.row["trajectory_id"], kind)
        self.counts.duplicates[kind] += 1
        self._maybe_reemit(trajectory_id, source.fmt, day, path, first, data, n_lines)

    def _near_edit(self, text: str) -> str:
        rng = self.rng_dup
        for _ in range(rng.randint(1, 2)):
            op = rng.randrange(3)
            if op == 0:
                text += rng.choice(catalog.NEAR_DUP_SUFFIXES)
            elif op == 1:
                text = rng.choice(catalog.NEAR_DUP_PREFIXES) + text
            else:
                swaps = [s for s in catalog.NEAR_DUP_SWAPS if s[0] in text]
                if swaps:
                    old, new = rng.choice(swaps)
                    text = text.replace(old, new, 1)
                else:
                    text += rng.choice(catalog.NEAR_DUP_SUFFIXES)
        return text

    def _emit_row(self, built: Built, trajectory_id: str, user: User, fmt: str, day: int, path: str, line: int,
                  n_lines: int, duplicate_of: str | None, duplicate_kind: str | None) -> dict:
        signals = self.feedback.signals(built.quality, built.task.verifier)
        for signal in signals.events:
            self._feedback_event(trajectory_id, signal, day, built.end_ms, user.user_id if signal.source == "human" else None)
        trajectory = built.trajectory
        row = {
            "trajectory_id": trajectory_id, "format": fmt, "task_type": built.task.name, "difficulty": built.difficulty,
            "language": built.language, "user_id": user.user_id, "user_segment": user.segment, "tenant": user.tenant,
            "source_kind": trajectory["source_kind"], "true_outcome": built.outcome, "true_quality": built.quality,
            "duplicate_of": duplicate_of, "duplicate_kind": duplicate_kind, "signal_mix": signals.mix,
            "conflict": signals.conflict, "day": self.clock.day_text(day), "path": path, "line": line, "n_lines": n_lines,
        }
        self._truth_text("trajectories", trajectory_row_text(row))
        self.counts.by_format[fmt] += 1
        self.counts.by_task[built.task.name] += 1
        self.counts.by_quality[built.quality] += 1
        return row

    def _maybe_reemit(self, trajectory_id: str, fmt: str, day: int, path: str, first: int, data: bytes, n_lines: int) -> None:
        """The same record(s), same id, logged again in another file (a retried upload)."""
        rng = self.rng_dup
        if rng.random() >= self.config.reemit_rate:
            return
        parts = self.config.log_files_per_day
        again_day = min(self.config.days - 1, day + rng.randint(0, 1))
        again = self.files.path(f"{LOGS}/{fmt}", self.clock.day_text(again_day), rng.randrange(parts))
        if again == path and parts > 1:
            part = int(path.rsplit("part-", 1)[1][:5])
            again = self.files.path(f"{LOGS}/{fmt}", self.clock.day_text(again_day), (part + 1) % parts)
        line = self.files.append_block(again, data, n_lines)
        self._truth_row("reemits", {"trajectory_id": trajectory_id, "path": again, "line": line, "of_path": path, "of_line": first})
        self.counts.duplicates["reemit"] += 1

    # -- faults ---------------------------------------------------------------------------------

    def malformed(self) -> None:
        rng = self.rng_fault
        kind = rng.choices(self._malformed_kinds, cum_weights=self._malformed_cum)[0]
        day = rng.randrange(self.config.days)
        trajectory_id = record = None
        if kind in RECORD_KINDS:
            trajectory_id = uuid_text(rng)
            start = self.clock.day_start(day) + rng.randrange(DAY_MS - 3_600_000)
            built = self.fault_builder.build(trajectory_id, rng.choice(self.users), start)
            record = RENDERERS[NATIVE](built.trajectory)[0]
            fmt = NATIVE  # record faults are defined on the native format
        else:
            fmt = rng.choices(self._format_names, cum_weights=self._format_cum)[0]
        fault = self.faults.line(kind, record)
        if kind == "missing_id" or (kind == "not_an_object" and not fault.line.startswith(b"[")):
            trajectory_id = None
        path = self.files.path(f"{LOGS}/{fmt}", self.clock.day_text(day), rng.randrange(self.config.log_files_per_day))
        line = self.files.append(path, [fault.line])
        self._truth_row("malformed", {"path": path, "line": line, "kind": kind, "log_kind": "trajectories",
                                      "trajectory_id": trajectory_id, "detail": fault.detail})
        self.counts.malformed[kind] += 1

    def truncated_gzip_files(self) -> None:
        """Whole-file faults: re-emitted records in a gzip stream cut short (an interrupted upload)."""
        if not self.reservoir:
            return
        rng = self.rng_fault
        last_day = self.config.days - 1
        for k in range(self.config.truncated_gzip_files):
            fmt = NATIVE if any(e.fmt == NATIVE for e in self.reservoir) else self.reservoir[0].fmt
            pool = [e for e in self.reservoir if e.fmt == fmt]
            chosen = rng.sample(pool, min(len(pool), self.config.truncated_gzip_lines))
            lines = [line for e in chosen for line in e.lines]
            result = truncated_gzip(lines, self.config.gzip_level, keep=rng.uniform(0.4, 0.8))
            path = f"{LOGS}/{fmt}/dt={self.clock.day_text(last_day)}/part-{self.config.log_files_per_day + k:05d}.jsonl.gz"
            self.files.add_file(path, result.data, result.total_lines)
            self._truth_row("malformed", {
                "path": path, "line": None, "kind": TRUNCATED_GZIP, "log_kind": "trajectories", "trajectory_id": None,
                "detail": f"gzip stream cut short: {result.complete_lines} of {result.total_lines} lines complete",
                "complete_lines": result.complete_lines, "total_lines": result.total_lines,
                "trajectory_ids": [e.row["trajectory_id"] for e in chosen],
            })
            self.counts.malformed[TRUNCATED_GZIP] += 1
            line = 1
            for e in chosen:
                if line + e.n_lines - 1 > result.complete_lines:
                    break
                self._truth_row("reemits", {"trajectory_id": e.row["trajectory_id"], "path": path, "line": line,
                                            "of_path": e.path, "of_line": e.line})
                self.counts.duplicates["reemit_in_truncated_gzip"] += 1
                line += e.n_lines

    # -- feedback and consent -------------------------------------------------------------------

    def _feedback_event(self, trajectory_id: str, signal: Signal, day: int, end_ms: int, user_id: str | None,
                        orphan: bool = False) -> None:
        rng = self.rng_fb
        late = not orphan and rng.random() < self.config.late_rate
        if late:
            day += rng.randint(1, 3)
            created = self.clock.day_start(day) + rng.randrange(DAY_MS)
        else:
            created = end_ms + rng.randrange(1_000, 7_200_000)
        event_id = hex_id(rng, "fb_", 24)
        created_at = self.clock.iso(created)
        line = feedback_text(event_id, trajectory_id, signal, created_at, user_id).encode("utf-8")
        parts = self.config.feedback_files_per_day
        path = self.files.path(FEEDBACK, self.clock.day_text(day), rng.randrange(parts))
        number = self.files.append_block(path, line, 1)
        duplicate = rng.random() < self.config.feedback_duplicate_rate
        if duplicate:
            again = self.files.path(FEEDBACK, self.clock.day_text(day + rng.randint(0, 1)), rng.randrange(parts))
            self.files.append_block(again, line, 1)
        self._truth_text("feedback", feedback_row_text(event_id, trajectory_id, signal, orphan, late, duplicate, path, number))
        counts = self.counts
        counts.feedback_events.append((signal, orphan, late, duplicate))
        if rng.random() < self.config.feedback_malformed_rate:
            kind = rng.choices(self._fb_kinds, cum_weights=self._fb_cum)[0]
            record = feedback_record(event_id, trajectory_id, signal, created_at, user_id)
            fault = self.faults.feedback_line(kind, record)
            bad = self.files.append(path, [fault.line])
            self._truth_row("malformed", {"path": path, "line": bad, "kind": kind, "log_kind": "feedback",
                                          "trajectory_id": trajectory_id, "detail": fault.detail})
            counts.feedback_malformed[kind] += 1

    def orphan(self) -> None:
        """Feedback for a trajectory id that never arrives."""
        trajectory_id = uuid_text(self.rng_ids)
        day = self.rng_fb.randrange(self.config.days)
        end = self.clock.day_start(day) + self.rng_fb.randrange(DAY_MS - 7_200_000)
        for _ in range(self.rng_fb.randint(1, 2)):
            self._feedback_event(trajectory_id, self.feedback.orphan(), day, end, None, orphan=True)

    def consent(self) -> None:
        rng = FastRandom(f"{self.config.seed}/consent")
        c = self.config
        for user in self.users:
            records, final = consent_history(rng, c.days, self.clock.day_start, c.consent_refused_rate,
                                             c.consent_revoked_rate, c.consent_missing_rate)
            for rec in records:
                path = self.files.path(CONSENT, self.clock.day_text(rec.day_index), 0, allow_gzip=False)
                self.files.append(path, [dumps(consent_record(user.user_id, user.tenant, rec.status, self.clock.iso(rec.at_ms))).encode()])
            self._truth_row("consent", {"user_id": user.user_id, "tenant": user.tenant, "status": final,
                                        "training_allowed": final == "granted", "records": len(records)})
            self.counts.consent_status[final or "none"] += 1
            self.counts.consent_records += len(records)

    # -- the run --------------------------------------------------------------------------------

    def run(self) -> dict[str, int]:
        c = self.config
        exact, near = c.exact_duplicate_rate, c.exact_duplicate_rate + c.near_duplicate_rate
        for _ in range(c.trajectories):
            pick = self.rng_dup.random()
            if self.reservoir and pick < exact:
                self.duplicate("exact")
            elif self.reservoir and pick < near:
                self.duplicate("near")
            else:
                self.original()
            if self.rng_fault.random() < c.malformed_rate:
                self.malformed()
            if self.rng_fb.random() < c.orphan_rate:
                self.orphan()
        self.truncated_gzip_files()
        self.consent()
        self.counts.fold()
        for name, handle in self._truth.items():
            self._flush_truth(name)
            handle.close()
        return self.files.close()

    def manifest(self, files: dict[str, int]) -> dict:
        c, counts = self.config, self.counts
        config = c.as_dict()
        config["formats"] = self.formats
        return {
            "generator_version": GENERATOR_VERSION,
            "seed": c.seed,
            "config": config,
            "counts": {
                "trajectories": sum(counts.by_format.values()),
                "originals": self._originals,
                "users": len(self.users),
                "by_format": dict(counts.by_format),
                "by_task_type": dict(counts.by_task),
                "by_quality": dict(counts.by_quality),
                "files": len(files),
                "lines": sum(files.values()),
                "malformed": dict(counts.malformed),
                "malformed_lines": sum(v for k, v in counts.malformed.items() if k != TRUNCATED_GZIP),
                "feedback_malformed": dict(counts.feedback_malformed),
                "duplicates": dict(counts.duplicates),
                "feedback": {
                    "events": counts.feedback_flags["events"],
                    "orphans": counts.feedback_flags["orphan"],
                    "late": counts.feedback_flags["late"],
                    "duplicate": counts.feedback_flags["duplicate"],
                    "by_source": dict(counts.feedback_by_source),
                    "by_kind": dict(counts.feedback_by_kind),
                },
                "consent": {"records": counts.consent_records, "final_status": dict(counts.consent_status)},
                "pii": {
                    "values": sum(counts.pii_by_entity.values()),
                    "by_entity": dict(counts.pii_by_entity),
                    "by_location": dict(counts.pii_by_location),
                    "dropped_by_renderer": dict(counts.pii_dropped),
                },
            },
            "files": files,
        }


def generate(config: GeneratorConfig, out: str | Path) -> GenerationSummary:
    """Write logs, feedback, consent and truth for `config` under `out`; returns what was made."""
    started, cpu_started = time.perf_counter(), time.process_time()
    root = Path(out)
    prepare_out(root)
    # The cyclic garbage collector is paused for the run: it makes no reference cycles (records
    # are trees, freed as soon as written), so the collector's passes over the many young
    # objects would cost a few percent and free nothing.
    collecting = gc.isenabled()
    gc.disable()
    try:
        generation = _Generation(config, root)
        files = generation.run()
    finally:
        if collecting:
            gc.enable()
    manifest = generation.manifest(files)
    (root / TRUTH / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    counts = manifest["counts"]
    return GenerationSummary(
        out=str(root), trajectories=counts["trajectories"], files=counts["files"], lines=counts["lines"],
        malformed=counts["malformed_lines"] + sum(counts["feedback_malformed"].values()),
        feedback_events=counts["feedback"]["events"], consent_records=counts["consent"]["records"],
        seconds=time.perf_counter() - started, cpu_seconds=time.process_time() - cpu_started,
    )
