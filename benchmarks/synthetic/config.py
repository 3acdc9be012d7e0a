"""Every knob of the generator, with its default and what it means (the CLI is built from it)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import date

from jobs.errors import TrajlakeError

# Malformed line kinds, as recorded in _truth/malformed.jsonl, with their default weights.
# `wrong_type` and `missing_id` lines are valid JSON objects (normalize rejects them); the
# others fail at ingest. `truncated_gzip` is a whole-file fault (see truncated_gzip_files).
MALFORMED_KINDS: dict[str, float] = {
    "truncated_json": 3.0,
    "wrong_type": 2.0,
    "missing_id": 2.0,
    "empty_line": 1.0,
    "blank_line": 1.0,
    "invalid_utf8": 1.0,
    "not_an_object": 1.0,
    "nul_byte": 1.0,
    "oversized": 0.25,
}
TRUNCATED_GZIP = "truncated_gzip"
# Kinds that can show up in feedback files (a feedback line is small: no oversize, no schema).
FEEDBACK_MALFORMED_KINDS: dict[str, float] = {
    "truncated_json": 2.0,
    "empty_line": 1.0,
    "not_an_object": 1.0,
}


class GeneratorError(TrajlakeError):
    """A generator setting the user can fix (bad rate, unknown format, unusable --out)."""


def _help(text: str, **kwargs):
    return field(metadata={"help": text}, **kwargs)


@dataclass(frozen=True)
class GeneratorConfig:
    """Generator settings. Rates are probabilities per trajectory (or per feedback event)."""

    trajectories: int = _help("trajectory ids to generate (originals + duplicate copies)", default=1000)
    seed: int = _help("random seed; the same seed gives byte-identical output", default=0)
    start_date: str = _help("first dt=YYYY-MM-DD folder (UTC)", default="2026-11-01")
    days: int = _help("dated folders trajectories are spread over", default=4)
    log_files_per_day: int = _help("part files per format per day", default=3)
    feedback_files_per_day: int = _help("feedback part files per day", default=2)
    gzip_rate: float = _help("share of log and feedback part files written as .jsonl.gz", default=0.25)
    gzip_level: int = _help("gzip compression level (1 fastest .. 9 smallest; at 1 the files are about a hundredth larger than at 5)", default=1)
    formats: dict[str, float] | None = _help(
        "format weights, e.g. native=2,langfuse=1; default: every registered renderer weight 1, native 2",
        default=None,
    )
    trajectories_per_user: float = _help("mean trajectories per user (sets the number of users)", default=6.0)
    pii_rate: float = _help("share of trajectories that carry personal data or secrets", default=0.6)
    lucky_rate: float = _help("share of successful trajectories that only succeeded by luck", default=0.08)
    exact_duplicate_rate: float = _help("trajectories that are content-identical copies under a new id", default=0.02)
    near_duplicate_rate: float = _help("trajectories that are copies with a few words changed", default=0.03)
    reemit_rate: float = _help("records re-emitted verbatim (same id) in another file", default=0.02)
    malformed_rate: float = _help("malformed log lines added per trajectory", default=0.01)
    malformed_kinds: dict[str, float] = _help(
        "weights of malformed kinds, e.g. truncated_json=3,empty_line=1",
        default_factory=lambda: dict(MALFORMED_KINDS),
    )
    feedback_malformed_rate: float = _help("malformed feedback lines added per feedback event", default=0.002)
    truncated_gzip_files: int = _help("log files written as a gzip stream cut short (whole-file fault)", default=1)
    truncated_gzip_lines: int = _help("records re-emitted into each truncated gzip file", default=12)
    max_record_bytes: int = _help("size limit an `oversized` line exceeds (= conf ingest.max_record_bytes)", default=1_048_576)
    verifier_rate: float = _help("trajectories with a verifiable outcome (test or task check)", default=0.45)
    human_rate: float = _help("trajectories with human feedback (rating, thumbs, correction)", default=0.35)
    judge_rate: float = _help("trajectories with an LLM-judge score", default=0.5)
    implicit_rate: float = _help("trajectories with implicit signals (acceptance, escalation, retry ...)", default=0.6)
    noise_rate: float = _help("human/judge/verifier signals replaced by noise", default=0.06)
    conflict_rate: float = _help("trajectories whose human and implicit signals contradict", default=0.05)
    late_rate: float = _help("feedback events written to a later dt folder than their trajectory", default=0.1)
    orphan_rate: float = _help("orphan events (for ids that never arrive) per trajectory", default=0.03)
    feedback_duplicate_rate: float = _help("feedback events re-emitted verbatim in another file", default=0.02)
    consent_refused_rate: float = _help("users whose only consent record refuses", default=0.15)
    consent_revoked_rate: float = _help("users who grant, then revoke in a later record", default=0.1)
    consent_missing_rate: float = _help("users with no consent record at all", default=0.05)

    def __post_init__(self) -> None:
        if self.trajectories < 0:
            raise GeneratorError(f"trajectories must be >= 0, got {self.trajectories}")
        for name in ("days", "log_files_per_day", "feedback_files_per_day"):
            if getattr(self, name) < 1:
                raise GeneratorError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.gzip_level <= 9:
            raise GeneratorError(f"gzip_level must be 0..9, got {self.gzip_level}")
        if self.trajectories_per_user <= 0:
            raise GeneratorError("trajectories_per_user must be > 0")
        for f in dataclasses.fields(self):
            if f.name.endswith("_rate"):
                value = getattr(self, f.name)
                if not 0.0 <= value <= 1.0:
                    raise GeneratorError(f"{f.name} must be within [0, 1], got {value}")
        if self.exact_duplicate_rate + self.near_duplicate_rate > 1.0:
            raise GeneratorError("exact_duplicate_rate + near_duplicate_rate must be <= 1")
        consent = self.consent_refused_rate + self.consent_revoked_rate + self.consent_missing_rate
        if consent > 1.0:
            raise GeneratorError("consent_refused_rate + consent_revoked_rate + consent_missing_rate must be <= 1")
        unknown = sorted(set(self.malformed_kinds) - set(MALFORMED_KINDS))
        if unknown:
            raise GeneratorError(f"unknown malformed kind(s) {unknown}; known: {', '.join(MALFORMED_KINDS)}")
        _check_weights("malformed_kinds", self.malformed_kinds)
        if self.malformed_rate > 0 and not any(w > 0 for w in self.malformed_kinds.values()):
            raise GeneratorError("malformed_rate > 0 needs at least one malformed kind with a positive weight")
        if self.formats is not None:
            _check_weights("formats", self.formats)
        if self.max_record_bytes < 1024:
            raise GeneratorError("max_record_bytes must be >= 1024")
        try:
            date.fromisoformat(self.start_date)
        except ValueError as exc:
            raise GeneratorError(f"start_date must be YYYY-MM-DD, got {self.start_date!r}") from exc

    @property
    def users(self) -> int:
        return max(1, round(self.trajectories / self.trajectories_per_user))

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _check_weights(name: str, weights: dict[str, float]) -> None:
    if any(w < 0 for w in weights.values()) or (weights and sum(weights.values()) <= 0):
        raise GeneratorError(f"{name} weights must be >= 0 with a positive sum, got {weights}")
