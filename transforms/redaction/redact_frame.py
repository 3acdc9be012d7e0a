"""Redact every free-text part of trajectories: one mapInPandas pass, one engine per worker.

Per Arrow batch (re-sliced to `rows_per_batch` trajectories): collect every text of every
trajectory (plain fields, and the leaves of JSON tool arguments/results), analyse the distinct
ones in one batched pass (`text_analysis`), then walk each trajectory in document order giving
each found value its placeholder, so numbering is per trajectory even though analysis is shared.
The output is the trajectory with the same schema plus `redaction_audit` (counts by field, type
and recognizer), which the job splits into `curated.trajectories` and `curated.redaction_audit`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any

import pandas as pd
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StructField, StructType

from schemas.redaction import AUDIT_ENTRY, REDACTION_AUDIT
from schemas.trajectory import TRAJECTORY
from transforms.redaction import json_values, propagation
from transforms.redaction.config import RedactionConf
from transforms.redaction.placeholders import Placeholders
from transforms.redaction.text_analysis import Span, TextAnalyzer, triage, worker_text_analyzer

AUDIT_COLUMN = "redaction_audit"
REDACTED = StructType(TRAJECTORY.fields + [StructField(AUDIT_COLUMN, ArrayType(AUDIT_ENTRY))])

# The columns that hold free text; every other column passes through untouched.
SYSTEM_PROMPT, INPUT, CONTEXT_DOCS, STEPS, FINAL_OUTPUT = (
    "system_prompt", "input", "context_docs", "steps", "final_output",
)
TEXT_COLUMNS = (SYSTEM_PROMPT, INPUT, CONTEXT_DOCS, STEPS, FINAL_OUTPUT)
STEP_TEXTS = ("content", "reasoning")
TOOL_TEXTS = ("arguments", "result", "error")
JSON_TOOL_TEXTS = ("arguments", "result")  # error is plain text
SENSITIVE_KEY_RECOGNIZER = "SensitiveJsonKey"


def redact_trajectories(trajectories: DataFrame, conf: RedactionConf) -> DataFrame:
    """TRAJECTORY rows -> the same rows redacted, plus their `redaction_audit` (REDACTED schema)."""
    return trajectories.select(*TRAJECTORY.fieldNames()).mapInPandas(partial(redact_batches, conf), REDACTED)


def curated_trajectories(redacted: DataFrame) -> DataFrame:
    return redacted.select(*TRAJECTORY.fieldNames())


def audit_rows(redacted: DataFrame, placeholder_mode: str, redacted_at: datetime) -> DataFrame:
    entry = F.explode(AUDIT_COLUMN).alias("entry")
    return redacted.select("trajectory_id", entry).select(
        "trajectory_id",
        *[F.col(f"entry.{name}").alias(name) for name in AUDIT_ENTRY.fieldNames()],
        F.lit(placeholder_mode).alias("placeholder_mode"),
        F.lit(redacted_at).cast("timestamp").alias("redacted_at"),
    ).select(*REDACTION_AUDIT.fieldNames())


# -- Python worker side -----------------------------------------------------------------------


def redact_batches(conf: RedactionConf, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
    analyzer = worker_text_analyzer(conf.analyzer)
    for frame in batches:
        for start in range(0, len(frame), conf.rows_per_batch):
            yield redact_frame(frame.iloc[start : start + conf.rows_per_batch], analyzer, conf)


@dataclass
class Unit:
    """One string to redact, and where its redacted form goes."""

    label: str  # the audit's `field`, e.g. steps.tool.arguments
    text: str
    target: Any  # the dict or list holding it
    key: Any
    sensitive_type: str | None = None  # set: replace the whole value as this type
    context: str = ""  # analysed in front of text: a JSON value's key ("name: Amara Sato")

    @property
    def analysed(self) -> str:
        return self.context + self.text


@dataclass
class JsonDocument:
    """A parsed JSON field; dumped back into target[key] only if one of its leaves changed."""

    target: dict
    key: str
    document: Any
    changed: bool = False


@dataclass
class TrajectoryTexts:
    """The free-text columns of one trajectory, copied so they can be rewritten in place."""

    columns: dict[str, Any]
    units: list[Unit] = field(default_factory=list)
    documents: list[tuple[JsonDocument, list[Unit]]] = field(default_factory=list)

    @classmethod
    def collect(cls, record: dict[str, Any], conf: RedactionConf) -> "TrajectoryTexts":
        columns = {
            SYSTEM_PROMPT: record[SYSTEM_PROMPT],
            INPUT: record[INPUT],
            CONTEXT_DOCS: _copy_structs(record[CONTEXT_DOCS]),
            STEPS: [_copy_step(step) for step in record[STEPS]] if _present(record[STEPS]) else record[STEPS],
            FINAL_OUTPUT: record[FINAL_OUTPUT],
        }
        texts = cls(columns)
        texts._add(SYSTEM_PROMPT, columns, SYSTEM_PROMPT)
        texts._add(INPUT, columns, INPUT)
        for doc in columns[CONTEXT_DOCS] or ():
            texts._add("context_docs.content", doc, "content")
        for step in columns[STEPS] or ():
            for name in STEP_TEXTS:
                texts._add(f"steps.{name}", step, name)
            tool = step.get("tool")
            for name in TOOL_TEXTS if tool else ():
                texts._add(f"steps.tool.{name}", tool, name, conf if name in JSON_TOOL_TEXTS else None)
        texts._add(FINAL_OUTPUT, columns, FINAL_OUTPUT)
        return texts

    def _add(self, label: str, target: dict, key: str, json_conf: RedactionConf | None = None) -> None:
        text = target.get(key)
        if not isinstance(text, str) or not text:
            return
        document = json_values.parse_container(text) if json_conf else None
        if document is None:
            self.units.append(Unit(label, text, target, key))
            return
        leaves = json_values.collect_leaves(
            document, json_conf.sensitive_json_keys, json_conf.sensitive_number_min_digits
        )
        units = [
            Unit(label, leaf.text, leaf.container, leaf.key, leaf.sensitive_type, _key_context(leaf, json_conf))
            for leaf in leaves
        ]
        self.units.extend(units)
        self.documents.append((JsonDocument(target, key, document), units))

    def texts_to_analyse(self) -> Iterator[str]:
        return (unit.analysed for unit in self.units if unit.sensitive_type is None)

    def redact(self, spans: dict[str, tuple[Span, ...]], placeholders: Placeholders) -> Counter:
        """Rewrite every unit in document order; returns counts by (field, entity type, recognizer)."""
        found = {id(unit): _unit_spans(unit, spans) for unit in self.units if unit.sensitive_type is None}
        known = propagation.known_values(
            [(span.entity_type, unit.text[span.start : span.end]) for unit in self.units for span in found.get(id(unit), ())]
            + [(unit.sensitive_type, unit.text) for unit in self.units if unit.sensitive_type is not None],
            placeholders,
        )
        audit: Counter = Counter()
        json_units = {id(unit): doc for doc, units in self.documents for unit in units}
        for unit in self.units:
            if unit.sensitive_type is not None:
                new = placeholders.token(unit.sensitive_type, unit.text)
                audit[(unit.label, unit.sensitive_type, SENSITIVE_KEY_RECOGNIZER)] += 1
            else:
                unit_spans = known.extend(unit.text, found[id(unit)])
                if not unit_spans:
                    continue
                new = replace_spans(unit.text, unit_spans, placeholders)
                for span in unit_spans:
                    audit[(unit.label, span.entity_type, span.recognizer)] += 1
            unit.target[unit.key] = new
            doc = json_units.get(id(unit))
            if doc is not None:
                doc.changed = True
        for doc, _ in self.documents:
            if doc.changed:
                doc.target[doc.key] = json_values.dump(doc.document)
        return audit


def replace_spans(text: str, spans: tuple[Span, ...], placeholders: Placeholders) -> str:
    """text with each (sorted, non-overlapping) span replaced by its value's placeholder."""
    parts = []
    cursor = 0
    for span in spans:
        parts.append(text[cursor : span.start])
        parts.append(placeholders.token(span.entity_type, text[span.start : span.end]))
        cursor = span.end
    parts.append(text[cursor:])
    return "".join(parts)


def redact_frame(frame: pd.DataFrame, analyzer: TextAnalyzer, conf: RedactionConf) -> pd.DataFrame:
    """One batch of trajectories (pandas, TRAJECTORY columns) redacted, plus AUDIT_COLUMN."""
    records = frame[list(TEXT_COLUMNS)].to_dict("records")
    trajectories = [TrajectoryTexts.collect(record, conf) for record in records]
    spans = analyzer.analyze(text for texts in trajectories for text in texts.texts_to_analyse())
    audits = []
    for texts in trajectories:
        placeholders = Placeholders(conf.placeholder_mode, conf.placeholder_format, conf.hash_key, conf.hash_chars)
        counts = texts.redact(spans, placeholders)
        audits.append(
            [{"field": f, "entity_type": e, "recognizer": r, "count": n} for (f, e, r), n in sorted(counts.items())]
        )
    out = frame.copy()
    for column in TEXT_COLUMNS:  # same dtype back: Arrow cannot take a float NaN column as strings
        out[column] = pd.Series([texts.columns[column] for texts in trajectories], index=frame.index, dtype=frame[column].dtype)
    out[AUDIT_COLUMN] = pd.Series(audits, index=frame.index, dtype=object)
    return out


def _key_context(leaf: json_values.Leaf, conf: RedactionConf) -> str:
    """NER reads a bare "Amara Sato" poorly and "name: Amara Sato" well: prose-like JSON values
    are analysed behind their key (values for the regexes alone are analysed bare)."""
    if leaf.sensitive_type is None and isinstance(leaf.key, str) and triage(leaf.text, conf.analyzer) == "ner":
        return f"{leaf.key}: "
    return ""


def _unit_spans(unit: Unit, spans: dict[str, tuple[Span, ...]]) -> tuple[Span, ...]:
    """The spans of a unit's own text (those found in its analysed form, minus the key context)."""
    found = spans.get(unit.analysed, ())
    if not unit.context:
        return found
    shift = len(unit.context)
    return tuple(
        span._replace(start=max(0, span.start - shift), end=span.end - shift) for span in found if span.end > shift
    )


def _present(value: Any) -> bool:
    return value is not None and not (isinstance(value, float) and pd.isna(value))


def _copy_structs(values: Any) -> Any:
    return [dict(value) for value in values] if _present(values) else values


def _copy_step(step: dict) -> dict:
    copy = dict(step)
    if copy.get("tool") is not None:
        copy["tool"] = dict(copy["tool"])
    return copy
