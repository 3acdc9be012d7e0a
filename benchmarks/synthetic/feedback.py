"""Feedback events for a trajectory, drawn from its true quality with realistic noise.

Sources speak independently (schemas.vocabulary.FEEDBACK_SOURCES): a verifier (tests, task
checks) is right except for rare noise; humans mostly agree with the truth but sometimes rate at
random, and in a `conflict` they contradict the implicit signals; an LLM judge scores "lucky"
successes low, because their reasoning is poor even though the outcome passed.
"""

from __future__ import annotations

import random
from typing import NamedTuple

from benchmarks.synthetic.json_text import optional, scalar, string
from schemas.vocabulary import FEEDBACK_SOURCES

CORRECTIONS = (
    "The right answer: the refund window is 30 days, not 90.",
    "Wrong order number; the customer meant the second order.",
    "The patch hides the bug; the discount must default to 0 in the caller too.",
    "The query double-counts rows; use count(distinct id).",
    "Should have escalated to a supervisor instead of refusing.",
    "The flight is on the wrong date; the user asked for the 14th.",
)
TASK_CHECK_TEXT = {True: "expected end state reached", False: "end state does not match the request"}


class Signal(NamedTuple):  # a tuple: made ~3 times per trajectory, cheaper than a frozen dataclass
    kind: str
    source: str
    value: object  # number | bool | str | None, as it goes into the raw line
    text: str | None


class Signals(NamedTuple):
    events: list[Signal]
    mix: str  # the sources that spoke, e.g. "verifier+human+implicit" ("none" when silent)
    conflict: bool


class FeedbackModel:
    def __init__(self, rng: random.Random, verifier_rate: float, human_rate: float, judge_rate: float,
                 implicit_rate: float, noise_rate: float, conflict_rate: float) -> None:
        self.rng = rng
        self.verifier_rate = verifier_rate
        self.human_rate = human_rate
        self.judge_rate = judge_rate
        self.implicit_rate = implicit_rate
        self.noise_rate = noise_rate
        self.conflict_rate = conflict_rate

    def signals(self, quality: str, verifier_kind: str) -> Signals:
        rng = self.rng
        success = quality != "bad"
        events: list[Signal] = []
        verifier_rate = min(1.0, self.verifier_rate * (1.6 if verifier_kind == "test_outcome" else 0.8))
        if rng.random() < verifier_rate:
            passed = success if rng.random() >= self.noise_rate / 3 else not success
            if verifier_kind == "test_outcome":
                total = rng.randrange(8, 240)
                failed = 0 if passed else rng.randrange(1, 6)
                events.append(Signal("test_outcome", "verifier", passed, f"{total - failed}/{total} tests passed"))
            else:
                events.append(Signal("task_check", "verifier", passed, TASK_CHECK_TEXT[passed]))

        human = rng.random() < self.human_rate
        implicit = rng.random() < self.implicit_rate
        conflict = human and implicit and rng.random() < self.conflict_rate
        if human:
            events.extend(self._human(quality, flip=conflict))
        if rng.random() < self.judge_rate:
            events.append(Signal("judge_score", "judge", self._judge(quality), None))
        if implicit:
            events.extend(self._implicit(quality))
        spoke = {e.source for e in events}
        mix = "+".join(s for s in FEEDBACK_SOURCES if s in spoke) or "none"
        return Signals(events, mix, conflict)

    def _human(self, quality: str, flip: bool) -> list[Signal]:
        rng = self.rng
        positive = (quality != "bad") != flip
        out = []
        if rng.random() < 0.65:
            if rng.random() < self.noise_rate:
                rating = rng.randint(1, 5)
            elif flip:  # the human contradicts the truth (and the implicit signals)
                rating = rng.choice((4, 5)) if positive else rng.choice((1, 2))
            else:
                rating = rng.choice({"good": (4, 5, 5), "lucky": (3, 4, 4), "bad": (1, 1, 2, 2, 3)}[quality])
            out.append(Signal("rating", "human", rating, None))
        if not out or rng.random() < 0.4:
            up = positive if rng.random() >= self.noise_rate else not positive
            out.append(Signal("thumbs", "human", up, None))
        if not positive and rng.random() < 0.5:
            out.append(Signal("correction", "human", None, rng.choice(CORRECTIONS)))
        return out

    def _judge(self, quality: str) -> float:
        rng = self.rng
        if rng.random() < self.noise_rate:
            return round(rng.random(), 3)
        low, high = {"good": (0.7, 0.98), "lucky": (0.1, 0.45), "bad": (0.05, 0.4)}[quality]
        return round(rng.uniform(low, high), 3)

    def _implicit(self, quality: str) -> list[Signal]:
        rng = self.rng
        if quality != "bad":
            out = [Signal("acceptance", "implicit", True, None)]
            if rng.random() < 0.3:
                out.append(Signal("followup_edit_distance", "implicit", round(rng.uniform(0.0, 0.15), 3), None))
            return out
        pick = rng.random()
        if pick < 0.3:
            out = [Signal("escalation", "implicit", True, "handed over to a human agent")]
        elif pick < 0.6:
            out = [Signal("retry", "implicit", rng.randint(1, 3), None)]
        elif pick < 0.8:
            out = [Signal("abandonment", "implicit", True, None)]
        else:
            out = [Signal("acceptance", "implicit", False, None)]
        if rng.random() < 0.3:
            out.append(Signal("followup_edit_distance", "implicit", round(rng.uniform(0.4, 1.0), 3), None))
        return out

    def orphan(self) -> Signal:
        """A plausible event for a trajectory that never arrives."""
        rng = self.rng
        return rng.choice((
            Signal("rating", "human", rng.randint(1, 5), None),
            Signal("thumbs", "human", rng.random() < 0.6, None),
            Signal("judge_score", "judge", round(rng.random(), 3), None),
            Signal("acceptance", "implicit", True, None),
        ))


def feedback_text(event_id: str, trajectory_id: str, signal: Signal, created_at: str, user_id: str | None) -> str:
    """The compact JSON text of feedback_record(...) (the same bytes), without building the dict."""
    head = (
        f'{{"event_id":{string(event_id)},"trajectory_id":{string(trajectory_id)},"kind":{string(signal.kind)},'
        f'"value":{scalar(signal.value)},"text":{optional(signal.text)},"source":{string(signal.source)},'
        f'"created_at":{string(created_at)}'
    )
    return f'{head},"user_id":{string(user_id)}}}' if user_id is not None else head + "}"


def feedback_record(event_id: str, trajectory_id: str, signal: Signal, created_at: str, user_id: str | None) -> dict:
    """A raw feedback line, as schemas.feedback documents it (user_id only when a human spoke)."""
    record = {
        "event_id": event_id, "trajectory_id": trajectory_id, "kind": signal.kind, "value": signal.value,
        "text": signal.text, "source": signal.source, "created_at": created_at,
    }
    if user_id is not None:
        record["user_id"] = user_id
    return record
