"""Scan the curated zone for seeded PII that survived redaction (not a pipeline stage).

Reads the generator's truth (`<truth>/pii.jsonl`), `curated.trajectories` and, for the
over-redaction sample, `silver.trajectories`; prints per entity type how many seeded values of
curated trajectories still appear verbatim, against the limits in `redaction.leakscan`, and the
share of sampled non-PII words that redaction removed. `--strict` fails the run over a limit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from jobs.errors import StorageError, TrajlakeError
from jobs.lake import Lake
from jobs.runtime import StageResult, main_for
from jobs.settings import Settings
from schemas.redaction import PII_TRUTH
from transforms.redaction.leak_scan import leak_rates, over_redaction_sample

NAME = "leakscan"
TRUTH_FILE = "pii.jsonl"


class LeakLimitExceeded(TrajlakeError):
    """Seeded PII leaked into the curated zone above the configured rate."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--truth", default=None, help="folder holding pii.jsonl (default: <storage.raw>/_truth)")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the report to this JSON file")
    parser.add_argument("--strict", action="store_true", help="fail when a type leaks above its limit")


def leak_limit(settings: Settings, entity_type: str) -> float:
    """The highest acceptable leak rate of a type: lenient for the fuzzy (NER-found) ones."""
    if entity_type in settings["redaction.leakscan.fuzzy_types"]:
        return float(settings["redaction.leakscan.max_leak_rate_fuzzy"])
    return float(settings["redaction.leakscan.max_leak_rate"])


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    lake = Lake(spark, settings)
    truth_dir = (args.truth or f"{lake.root('raw')}/_truth").rstrip("/")
    truth_path = f"{truth_dir}/{TRUTH_FILE}"
    if not lake.path_exists(truth_path):
        raise StorageError(f"no PII truth at {truth_path} (generate data with `trajlake generate`, or pass --truth)")
    truth = spark.read.schema(PII_TRUTH).json(truth_path)
    curated = lake.read("curated.trajectories")

    rates = leak_rates(truth, curated).orderBy("entity_type").collect()
    sample = over_redaction_sample(
        truth, lake.read("silver.trajectories"), curated,
        int(settings["redaction.leakscan.sample_words_per_trajectory"]),
        int(settings["redaction.leakscan.min_word_chars"]),
    )
    over = sample.agg(F.count(F.lit(1)).alias("sampled"), F.sum((~F.col("kept")).cast("long")).alias("replaced")).head()
    sampled, replaced = int(over.sampled or 0), int(over.replaced or 0)

    print(f"{'entity_type':<16} {'seeded':>8} {'leaked':>8} {'rate':>8} {'limit':>7}")
    over_limit = []
    for row in rates:
        limit = leak_limit(settings, row.entity_type)
        flag = "" if row.leak_rate <= limit else "  OVER"
        if flag:
            over_limit.append(row.entity_type)
        print(f"{row.entity_type:<16} {row.seeded:>8,} {row.leaked:>8,} {row.leak_rate:>8.2%} {limit:>7.1%}{flag}")
    seeded = sum(r.seeded for r in rates)
    leaked = sum(r.leaked for r in rates)
    over_rate = replaced / sampled if sampled else 0.0
    print(f"over-redaction: {replaced:,} of {sampled:,} sampled non-PII words replaced ({over_rate:.2%})")

    if args.json_out:
        report = {
            "truth": truth_path,
            "by_type": [r.asDict() | {"limit": leak_limit(settings, r.entity_type)} for r in rates],
            "over_redaction": {"sampled": sampled, "replaced": replaced, "rate": over_rate},
        }
        Path(args.json_out).write_text(json.dumps(report, indent=2))
    if args.strict and over_limit:
        raise LeakLimitExceeded(f"leak rate over the limit for {', '.join(over_limit)}")
    return StageResult(
        seeded, leaked,
        {"leak_rate": f"{(leaked / seeded if seeded else 0.0):.4f}", "over_redaction": f"{over_rate:.4f}",
         "over_limit": ",".join(over_limit) or "none"},
    )


if __name__ == "__main__":
    main_for(__name__)
