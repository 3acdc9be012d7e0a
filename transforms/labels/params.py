"""The labelling rules' parameters, read from the `labels:` conf section and checked once.

The values live in conf/local.yaml only (no defaults here), so a test or a job run sees exactly
the documented settings; a bad value raises ValueError with a one-line message the job turns
into a ConfError.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.feedback import FEEDBACK_KINDS
from schemas.vocabulary import FEEDBACK_SOURCES

CONFLICT_AMBIGUOUS = "ambiguous"
CONFLICT_PRECEDENCE = "precedence"
CONFLICT_POLICIES = (CONFLICT_AMBIGUOUS, CONFLICT_PRECEDENCE)


@dataclass(frozen=True)
class LabelParams:
    precedence: tuple[str, ...]  # sources, strongest first
    conflict_policy: str
    success_min: float
    failure_max: float
    rating_min: float
    rating_max: float
    followup_edit_distance_full: float
    latest_per_user: bool
    weights: Mapping[str, float]  # kind -> weight within its source
    source_confidence: Mapping[str, float]
    quality_weights: Mapping[str, float]

    @classmethod
    def from_conf(cls, conf: Mapping[str, Any]) -> "LabelParams":
        try:
            params = cls(
                precedence=tuple(str(s) for s in conf["precedence"]),
                conflict_policy=str(conf["conflict_policy"]),
                success_min=float(conf["success_min"]),
                failure_max=float(conf["failure_max"]),
                rating_min=float(conf["rating_min"]),
                rating_max=float(conf["rating_max"]),
                followup_edit_distance_full=float(conf["followup_edit_distance_full"]),
                latest_per_user=_boolean(conf["latest_per_user"], "latest_per_user"),
                weights=_numbers(conf["weights"], "weights"),
                source_confidence=_numbers(conf["source_confidence"], "source_confidence"),
                quality_weights=_numbers(conf["quality_weights"], "quality_weights"),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"labels section incomplete or malformed: {exc}") from exc
        params.check()
        return params

    def check(self) -> None:
        if sorted(self.precedence) != sorted(FEEDBACK_SOURCES):
            raise ValueError(f"labels.precedence must order exactly {', '.join(FEEDBACK_SOURCES)}, got {list(self.precedence)}")
        if self.conflict_policy not in CONFLICT_POLICIES:
            raise ValueError(f"labels.conflict_policy must be one of {', '.join(CONFLICT_POLICIES)}, got '{self.conflict_policy}'")
        if not 0.0 <= self.failure_max < self.success_min <= 1.0:
            raise ValueError(
                f"labels needs 0 <= failure_max < success_min <= 1, got failure_max={self.failure_max} success_min={self.success_min}"
            )
        if self.rating_max <= self.rating_min:
            raise ValueError(f"labels.rating_max ({self.rating_max}) must exceed rating_min ({self.rating_min})")
        if self.followup_edit_distance_full <= 0:
            raise ValueError("labels.followup_edit_distance_full must be > 0")
        _cover(self.weights, FEEDBACK_KINDS, "weights", upper=None)
        _cover(self.source_confidence, FEEDBACK_SOURCES, "source_confidence", upper=1.0)
        _cover(self.quality_weights, FEEDBACK_SOURCES, "quality_weights", upper=None)

    def rank(self, source: str) -> int:
        return self.precedence.index(source)


def _boolean(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"labels.{key} must be true or false, got {value!r}")
    return value


def _numbers(section: Any, key: str) -> dict[str, float]:
    if not isinstance(section, Mapping):
        raise ValueError(f"labels.{key} must be a mapping")
    try:
        return {str(k): float(v) for k, v in section.items()}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"labels.{key} values must be numbers: {exc}") from exc


def _cover(values: Mapping[str, float], names: tuple[str, ...], key: str, upper: float | None) -> None:
    missing = [n for n in names if n not in values]
    extra = [k for k in values if k not in names]
    if missing or extra:
        raise ValueError(f"labels.{key} must name exactly {', '.join(names)} (missing {missing}, unknown {extra})")
    for name, value in values.items():
        if value < 0 or (upper is not None and value > upper):
            bound = f"[0, {upper}]" if upper is not None else ">= 0"
            raise ValueError(f"labels.{key}.{name} must be {bound}, got {value}")
