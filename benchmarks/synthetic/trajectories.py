"""Build one canonical trajectory (the JSON form of schemas.trajectory TRAJECTORY_CONTENT_FIELDS)
together with its ground truth: task strata, true outcome and quality, and every planted value of
personal data with where it was planted.

The outcome is decided first and shapes the content: failures end in an apology or a wrong
answer and meet more tool errors; "lucky" successes reach a correct answer through errors and
sloppy reasoning (their verifier passes, a judge scores them low).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import accumulate

from benchmarks.synthetic import catalog
from benchmarks.synthetic.catalog import TASKS, TOOLS, TaskSpec
from benchmarks.synthetic.json_text import encoder
from benchmarks.synthetic.pii import PII_FIELDS, Persona

DAY_MS = 86_400_000

DIFFICULTIES = ("easy", "medium", "hard")
DIFFICULTY_WEIGHTS = (0.45, 0.35, 0.20)
SUCCESS_PROBABILITY = {"easy": 0.85, "medium": 0.65, "hard": 0.4}
TOOL_CALLS = {"easy": (1, 2), "medium": (2, 3), "hard": (3, 6)}
TOOL_ERROR_PROBABILITY = {"easy": 0.05, "medium": 0.12, "hard": 0.22}
SOURCE_KINDS = ("interaction_log", "demonstration", "synthetic")
SOURCE_KIND_WEIGHTS = (0.9, 0.05, 0.05)
ZIPF_EXPONENT = 1.1  # task-type popularity ~ 1 / rank^s

# (provider, name, version, USD per 1k input tokens, USD per 1k output tokens), weight
MODELS = (
    (("openai", "gpt-4o", "2024-08-06", 0.0025, 0.01), 5),
    (("openai", "gpt-4o-mini", "2024-07-18", 0.00015, 0.0006), 4),
    (("anthropic", "claude-3-5-sonnet", "20241022", 0.003, 0.015), 4),
    (("google", "gemini-1.5-pro", "002", 0.00125, 0.005), 2),
    (("meta", "llama-3.1-70b-instruct", "2024-07-23", 0.0009, 0.0009), 1),
    (("mistral", "mistral-large", "2407", 0.002, 0.006), 1),
)
CLIENTS = ("web", "mobile", "api", "slack")
REGIONS = ("us-east-1", "eu-west-1", "eu-central-1", "ap-southeast-2")

# Where in the text the output suffix that plants an email goes, per language.
OUTPUT_PII_SUFFIX = {
    "en": " A confirmation was sent to {email}.",
    "de": " Eine Bestätigung ging an {email}.",
    "fr": " Une confirmation a été envoyée à {email}.",
    "es": " Se envió una confirmación a {email}.",
}


def uuid_text(rng: random.Random) -> str:
    """A random (version 4, RFC 4122 variant) UUID in its text form, drawn from rng."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def hex_id(rng: random.Random, prefix: str, digits: int = 16) -> str:
    return "%s%0*x" % (prefix, digits, rng.getrandbits(4 * digits))


# "SS." and "mmmZ" texts: Clock.iso appends one of each to a cached minute.
_SECOND_TEXT = tuple(f"{second:02d}." for second in range(60))
_MILLI_TEXT = tuple(f"{milli:03d}Z" for milli in range(1000))


class Clock:
    """Epoch milliseconds -> ISO-8601 UTC text with milliseconds and Z, without datetime per call."""

    def __init__(self, start_date: str) -> None:
        start = datetime.combine(date.fromisoformat(start_date), datetime.min.time(), tzinfo=timezone.utc)
        self.start_ms = int(start.timestamp() * 1000)
        self._days: dict[int, str] = {}
        self._minutes: dict[int, str] = {}

    def day_start(self, day_index: int) -> int:
        return self.start_ms + day_index * DAY_MS

    def day_text(self, day_index: int) -> str:
        return self._prefix((self.start_ms // DAY_MS) + day_index)

    def _prefix(self, epoch_day: int) -> str:
        text = self._days.get(epoch_day)
        if text is None:
            text = datetime.fromtimestamp(epoch_day * 86_400, tz=timezone.utc).strftime("%Y-%m-%d")
            self._days[epoch_day] = text
        return text

    def iso(self, ms: int) -> str:
        minute, rest = divmod(ms, 60_000)
        head = self._minutes.get(minute) or self._minute(minute)
        return f"{head}{_SECOND_TEXT[rest // 1000]}{_MILLI_TEXT[rest % 1000]}"

    def iso_pair(self, start: int, end: int) -> tuple[str, str]:
        """(iso(start), iso(end)) for start <= end, sharing the minute when they are in the same one."""
        minute, rest = divmod(start, 60_000)
        head = self._minutes.get(minute) or self._minute(minute)
        first = f"{head}{_SECOND_TEXT[rest // 1000]}{_MILLI_TEXT[rest % 1000]}"
        rest += end - start
        if rest >= 60_000:
            return first, self.iso(end)
        return first, f"{head}{_SECOND_TEXT[rest // 1000]}{_MILLI_TEXT[rest % 1000]}"

    def _minute(self, minute: int) -> str:
        """One cached "YYYY-MM-DDTHH:MM:" per minute: a trajectory's steps share it."""
        day, rem = divmod(minute, 1440)
        head = f"{self._prefix(day)}T{rem // 60:02d}:{rem % 60:02d}:"
        if len(self._minutes) > 4096:
            self._minutes.clear()
        self._minutes[minute] = head
        return head


@dataclass(frozen=True)
class User:
    user_id: str
    segment: str
    tenant: str
    language: str


@dataclass
class Built:
    """A trajectory and its truth, before it is rendered and placed."""

    trajectory: dict
    task: TaskSpec
    difficulty: str
    language: str
    outcome: str  # success | failure
    quality: str  # good | bad | lucky
    pii: list[tuple[str, str, str]]  # (entity_type, value, location)
    end_ms: int


def _placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in string.Formatter().parse(template) if name)


class _Pools:
    """Templates split once into those without and those with personal-data placeholders."""

    def __init__(self) -> None:
        # keyed by id: the template tuples are module constants of the catalog, alive for good
        self._cache: dict[int, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def split(self, templates: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
        found = self._cache.get(id(templates))
        if found is None:
            clean = tuple(t for t in templates if not PII_FIELDS.keys() & _placeholders(t))
            with_pii = tuple(t for t in templates if PII_FIELDS.keys() & _placeholders(t))
            found = (clean, with_pii)
            self._cache[id(templates)] = found
        return found


class Filling(dict):
    """The trajectory being built (the catalog.Filling protocol): fills templates and tool
    payloads, and records every personal datum it plants with the location being filled.

    The harmless slot values are the dict's items, made on first use (so `format_map` finds
    them without a Python call); personal-data fields are never stored, so every use goes
    through `pii` and is recorded with its location."""

    __slots__ = ("rng", "with_pii", "location", "pii_rows", "_persona", "_seen")

    def __init__(self, rng: random.Random, with_pii: bool) -> None:
        super().__init__()
        self.rng = rng
        self.with_pii = with_pii
        self.location = "input"
        self.pii_rows: list[tuple[str, str, str]] = []
        self._persona = Persona(rng)
        self._seen: set[tuple[str, str]] = set()

    def pii(self, field: str) -> str:
        value = self._persona[field]
        key = (value, self.location)
        if key not in self._seen:
            self._seen.add(key)
            self.pii_rows.append((PII_FIELDS[field], value, self.location))
        return value

    def slot(self, name: str) -> str:
        value = self.get(name)
        if value is None:
            value = catalog.SLOT_MAKERS[name](self.rng)
            self[name] = value
        return value

    def __missing__(self, key: str) -> str:
        return self.pii(key) if key in PII_FIELDS else self.slot(key)

    def fill(self, template: str) -> str:
        return template.format_map(self)


class TrajectoryBuilder:
    """Makes trajectories from the catalog; all randomness comes from the rng it is given."""

    def __init__(self, rng: random.Random, clock: Clock, pii_rate: float, lucky_rate: float) -> None:
        self.rng = rng
        self.clock = clock
        self.pii_rate = pii_rate
        self.lucky_rate = lucky_rate
        self._pools = _Pools()
        self._task_cum = list(accumulate(1.0 / (rank**ZIPF_EXPONENT) for rank in range(1, len(TASKS) + 1)))
        self._difficulty_cum = list(accumulate(DIFFICULTY_WEIGHTS))
        self._source_cum = list(accumulate(SOURCE_KIND_WEIGHTS))
        self._models = [m for m, _ in MODELS]
        self._model_cum = list(accumulate(w for _, w in MODELS))
        self._tools_available = {t.name: [TOOLS[n].available for n in t.tools] for t in TASKS}

    def _text(self, templates: tuple[str, ...], filling: Filling, location: str, pii_preference: float) -> str:
        """A template drawn from `templates` (one with personal data with probability
        `pii_preference` when the trajectory carries some), filled at `location`."""
        filling.location = location
        clean, with_pii = self._pools._cache.get(id(templates)) or self._pools.split(templates)
        random = self.rng.random
        if with_pii and (not clean or (filling.with_pii and random() < pii_preference)):
            return with_pii[int(random() * len(with_pii))].format_map(filling)
        return clean[int(random() * len(clean))].format_map(filling)

    def build(self, trajectory_id: str, user: User, start_ms: int) -> Built:
        rng = self.rng
        task = rng.choices(TASKS, cum_weights=self._task_cum)[0]
        difficulty = rng.choices(DIFFICULTIES, cum_weights=self._difficulty_cum)[0]
        language = user.language if rng.random() < 0.9 else "en"
        source_kind = rng.choices(SOURCE_KINDS, cum_weights=self._source_cum)[0]
        success = source_kind == "demonstration" or rng.random() < SUCCESS_PROBABILITY[difficulty]
        quality = ("lucky" if rng.random() < self.lucky_rate else "good") if success else "bad"
        if source_kind == "demonstration":
            quality = "good"
        filling = Filling(rng, rng.random() < self.pii_rate)
        with_pii = filling.with_pii

        system_prompt = catalog.SYSTEM_PROMPTS[task.family]
        if with_pii and rng.random() < 0.06:
            filling.location = "system_prompt"
            system_prompt += filling.fill(rng.choice(catalog.PROMPT_SECRET_NOTES))
        user_input = self._text(task.inputs.get(language) or task.inputs["en"], filling, "input", 0.7)

        context_docs = []
        family_docs = catalog.DOCS[task.family]
        n_docs = rng.randrange(2, 5) if task.name == "doc_qa" else rng.randrange(0, 3)
        filling.location = "context"
        for rank in range(n_docs):
            source, text = rng.choice(family_docs)
            if "{" in text:
                if not with_pii:
                    continue
                text = filling.fill(text)
            context_docs.append(
                {"doc_id": filling.slot("doc") if rank == 0 else f"kb-{rng.randrange(1000, 9999)}", "source": source,
                 "content": text, "score": round(0.95 - 0.1 * rank - rng.random() * 0.08, 4)}
            )

        steps: list[dict] = []
        t = start_ms + rng.randrange(5, 60)
        model = rng.choices(self._models, cum_weights=self._model_cum)[0]
        tokens_in_total = tokens_out_total = 0

        iso_pair = self.clock.iso_pair
        # FastRandom.randrange(a, b) is a + int(random() * (b - a)): written out on the hot path
        random = rng.random

        def add(kind: str, role: str, duration: int, content=None, reasoning=None, tool=None, llm=False) -> None:
            """Append a step; an LLM call draws its token counts (after its duration and text)."""
            nonlocal t, tokens_in_total, tokens_out_total
            if llm:
                tokens_in = 700 + 180 * len(steps) + int(random() * 400)
                tokens_out = 15 + int(random() * 335)
                tokens_in_total += tokens_in
                tokens_out_total += tokens_out
            else:
                tokens_in = tokens_out = None
            started, ended = iso_pair(t, t + duration)
            steps.append({
                "index": len(steps), "kind": kind, "role": role, "content": content, "reasoning": reasoning,
                "tool": tool, "started_at": started, "ended_at": ended, "tokens_in": tokens_in, "tokens_out": tokens_out,
            })
            t += duration + 1 + int(random() * 39)

        if context_docs:
            add("retrieval", "tool", 20 + int(random() * 280),
                content="retrieved " + ", ".join(d["doc_id"] for d in context_docs))
        reasoning_pool = catalog.REASONING[task.family]
        add("reasoning", "assistant", 200 + int(random() * 2300),
            reasoning=self._text(reasoning_pool, filling, "reasoning", 0.4), llm=True)

        low, high = TOOL_CALLS[difficulty]
        error_p = TOOL_ERROR_PROBABILITY[difficulty] * (1.0 if quality == "good" else 2.0)
        step_texts = catalog.STEP_TEXT[task.family]
        for call in range(rng.randint(low, high)):
            tool_spec = TOOLS[task.plan[call % len(task.plan)]]
            if rng.random() < 0.5:
                add("llm", "assistant", 300 + int(random() * 2700),
                    content=self._text(step_texts, filling, "step_content", 0.3), llm=True)
            attempts = 0
            while True:
                attempts += 1
                filling.location = "tool_arguments"
                arguments = _json(tool_spec.args(filling))
                failed = rng.random() < error_p * (1.5 if attempts > 1 and quality == "bad" else 1.0)
                if failed:
                    tool = {"call_id": hex_id(rng, "call_", 12), "name": tool_spec.name, "arguments": arguments,
                            "result": None, "error": rng.choice(tool_spec.errors)}
                else:
                    filling.location = "tool_result"
                    tool = {"call_id": hex_id(rng, "call_", 12), "name": tool_spec.name, "arguments": arguments,
                            "result": _json(tool_spec.result(filling)), "error": None}
                add("tool", "assistant", 40 + int(random() * 2460), tool=tool)
                if not failed or attempts >= 3 or rng.random() < 0.2:
                    break
                if rng.random() < 0.5:
                    add("reasoning", "assistant", 100 + int(random() * 800),
                        reasoning="The tool call failed; retrying with the same arguments.", llm=True)
            if difficulty != "easy" and rng.random() < 0.25:
                add("reasoning", "assistant", 150 + int(random() * 1350),
                    reasoning=self._text(reasoning_pool, filling, "reasoning", 0.3), llm=True)

        outputs = task.ok_outputs if success else task.fail_outputs
        filling.location = "final_output"
        final_output = filling.fill(rng.choice(outputs.get(language) or outputs["en"]))
        if with_pii and rng.random() < 0.25:
            final_output += filling.fill(OUTPUT_PII_SUFFIX[language])
        add("message", "assistant", 300 + int(random() * 3700), content=final_output, llm=True)

        provider, name, version, price_in, price_out = model
        status = "completed"
        if quality == "bad":
            status = rng.choices(("completed", "error", "timeout"), cum_weights=(0.6, 0.85, 1.0))[0]
        tags = list(task.tags)
        if user.segment == "enterprise":
            tags.append("enterprise")
        trajectory = {
            "trajectory_id": trajectory_id,
            "session_id": hex_id(rng, "sess_"),
            "user_id": user.user_id,
            "tenant": user.tenant,
            "source_kind": source_kind,
            "agent": {"name": task.agent, "version": rng.choice(task.agent_versions)},
            "model": {"provider": provider, "name": name, "version": version},
            "task": {"type": task.name, "difficulty": difficulty, "language": language, "tags": tags},
            "system_prompt": system_prompt,
            "input": user_input,
            "context_docs": context_docs,
            "steps": steps,
            "tools_available": self._tools_available[task.name],
            "final_output": final_output,
            "metadata": {
                "latency_ms": t - start_ms,
                "tokens_in": tokens_in_total,
                "tokens_out": tokens_out_total,
                "cost_usd": round(tokens_in_total / 1000 * price_in + tokens_out_total / 1000 * price_out, 6),
                "status": status,
                "started_at": self.clock.iso(start_ms),
                "ended_at": self.clock.iso(t),
                "extra": {
                    "user_segment": user.segment,
                    "request_id": hex_id(rng, "req_", 12),
                    "client": rng.choice(CLIENTS),
                    "region": rng.choice(REGIONS),
                },
            },
        }
        return Built(
            trajectory, task, difficulty, language, "success" if success else "failure", quality,
            filling.pii_rows, t,
        )


# Tool arguments and results as the JSON text a model or tool would emit.
_json = encoder(", ", ": ")  # = json.dumps(value, ensure_ascii=False)
