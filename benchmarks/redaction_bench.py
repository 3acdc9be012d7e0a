"""Redaction throughput and leak rate: trajlake's transform vs the naive Presidio-on-Spark UDF.

    .venv/bin/python -m benchmarks.redaction_bench --sizes 1,2,4 --base 300
    .venv/bin/python -m benchmarks.redaction_bench --silver /path/to/silver/trajectories --truth /path/_truth

The naive baseline is the pattern of Presidio's own Spark sample: a row-wise Python UDF per
text field calling `AnalyzerEngine.analyze` then `AnonymizerEngine.anonymize` on each text,
engines built once per Python worker, full spaCy pipeline. It gets the same model, the same
recognizers (ours included) and the same entity list and threshold, so the comparison is about
how the work is done, not what is looked for. Both run on the same cached input in the same
session, after a warm-up that loads the engines in every worker (start-up is not measured).
Data: `benchmarks.redaction_corpus` rows (base N trajectories per size unit) or an existing
silver.trajectories Delta table with its `_truth/pii.jsonl`. Results: a table on stdout and
`benchmarks/results/redaction-<timestamp>.json`.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import ArrayType, StringType

from benchmarks.redaction_corpus import build_corpus
from jobs.settings import Settings, load_settings
from jobs.spark_session import build_spark
from schemas.redaction import PII_TRUTH
from schemas.trajectory import CONTEXT_DOC, STEP, TRAJECTORY
from transforms.redaction.config import AnalyzerConf, RedactionConf
from transforms.redaction.leak_scan import leak_rates
from transforms.redaction.redact_frame import curated_trajectories, redact_trajectories

RESULTS_DIR = Path(__file__).resolve().parent / "results"


# -- the naive baseline (Python worker side) ----------------------------------------------------

_NAIVE: dict[AnalyzerConf, tuple] = {}


def _naive_engines(conf: AnalyzerConf):
    """Full-pipeline AnalyzerEngine + AnonymizerEngine, once per Python worker."""
    engines = _NAIVE.get(conf)
    if engines is None:
        from presidio_analyzer import AnalyzerEngine
        from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
        from presidio_anonymizer import AnonymizerEngine

        from transforms.redaction.analyzer import IGNORED_LABELS, MODEL_TO_PRESIDIO, build_registry

        nlp_engine = SpacyNlpEngine(
            models=[{"lang_code": conf.language, "model_name": conf.model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(MODEL_TO_PRESIDIO), labels_to_ignore=list(IGNORED_LABELS)
            ),
        )
        nlp_engine.load()
        analyzer = AnalyzerEngine(
            registry=build_registry(nlp_engine, conf.language), nlp_engine=nlp_engine,
            supported_languages=[conf.language],
        )
        engines = _NAIVE[conf] = (analyzer, AnonymizerEngine())
    return engines


def _anonymize_text(conf: AnalyzerConf, text: str | None) -> str | None:
    if not text:
        return text
    analyzer, anonymizer = _naive_engines(conf)
    results = analyzer.analyze(
        text=text, language=conf.language, entities=list(conf.entities), score_threshold=conf.score_threshold
    )
    return anonymizer.anonymize(text=text, analyzer_results=results).text


def naive_redact(trajectories: DataFrame, conf: AnalyzerConf) -> DataFrame:
    """Every free-text field through a row-wise Python UDF (analyze + anonymize per text)."""

    def text(value):
        return _anonymize_text(conf, value)

    def docs(values):
        if values is None:
            return None
        return [dict(d.asDict(), content=_anonymize_text(conf, d.content)) for d in values]

    def steps(values):
        if values is None:
            return None
        out = []
        for step in values:
            record = step.asDict()
            for name in ("content", "reasoning"):
                record[name] = _anonymize_text(conf, record[name])
            if step.tool is not None:
                tool = step.tool.asDict()
                for name in ("arguments", "result", "error"):
                    tool[name] = _anonymize_text(conf, tool[name])
                record["tool"] = tool
            out.append(record)
        return out

    text_udf = F.udf(text, StringType())
    docs_udf = F.udf(docs, ArrayType(CONTEXT_DOC))
    steps_udf = F.udf(steps, ArrayType(STEP))
    replaced = {
        "system_prompt": text_udf("system_prompt"),
        "input": text_udf("input"),
        "context_docs": docs_udf("context_docs"),
        "steps": steps_udf("steps"),
        "final_output": text_udf("final_output"),
    }
    return trajectories.select(*[replaced.get(name, F.col(name)).alias(name) for name in TRAJECTORY.fieldNames()])


# -- the run -----------------------------------------------------------------------------------


def _input(spark: SparkSession, args, trajectories: int) -> tuple[DataFrame, DataFrame]:
    """`trajectories` silver rows and the PII truth: from --silver/--truth, or built."""
    if args.silver:
        silver = spark.read.format("delta").load(args.silver)
        truth = spark.read.schema(PII_TRUTH).json(f"{args.truth}/pii.jsonl")
        return silver.orderBy("trajectory_id").limit(trajectories), truth
    corpus = build_corpus(trajectories, seed=args.seed)
    return spark.createDataFrame(corpus.rows, TRAJECTORY), spark.createDataFrame(corpus.truth, PII_TRUTH)


def _timed_write(frame: DataFrame, path: str) -> float:
    start = time.perf_counter()
    frame.write.mode("overwrite").parquet(path)
    return time.perf_counter() - start


def _rates(spark: SparkSession, truth: DataFrame, path: str) -> dict:
    rows = leak_rates(truth, spark.read.parquet(path)).collect()
    seeded = sum(r.seeded for r in rows)
    leaked = sum(r.leaked for r in rows)
    return {
        "leak_rate": leaked / seeded if seeded else 0.0,
        "seeded": seeded,
        "leaked": leaked,
        "by_type": {r.entity_type: {"seeded": r.seeded, "leaked": r.leaked} for r in rows},
    }


def run(args: argparse.Namespace) -> dict:
    settings: Settings = load_settings(args.conf_file, args.assignments)
    spark = build_spark(settings)
    conf = RedactionConf.from_section(settings["redaction"])
    partitions = args.partitions or spark.sparkContext.defaultParallelism
    work = Path(tempfile.mkdtemp(prefix="trajlake-redaction-bench-"))
    results = []
    try:
        warm = _input(spark, args, partitions * 2)[0].repartition(partitions)
        _timed_write(warm.transform(redact_trajectories, conf).select("trajectory_id"), str(work / "warm-ours"))
        _timed_write(naive_redact(warm, conf.analyzer).select("trajectory_id", "input"), str(work / "warm-naive"))
        for size in args.sizes:
            frame, truth = _input(spark, args, size * args.base)
            frame = frame.repartition(partitions).persist(StorageLevel.MEMORY_AND_DISK)
            truth = truth.persist(StorageLevel.MEMORY_AND_DISK)
            rows = frame.count()
            truth.count()
            ours_path, naive_path = str(work / f"ours-{size}"), str(work / f"naive-{size}")
            ours_s = _timed_write(curated_trajectories(frame.transform(redact_trajectories, conf)), ours_path)
            naive_s = _timed_write(naive_redact(frame, conf.analyzer), naive_path)
            ours, naive = _rates(spark, truth, ours_path), _rates(spark, truth, naive_path)
            results.append({
                "size": f"{size}x", "trajectories": rows, "partitions": partitions,
                "ours_seconds": round(ours_s, 2), "naive_seconds": round(naive_s, 2),
                "ours_traj_per_s": round(rows / ours_s, 2), "naive_traj_per_s": round(rows / naive_s, 2),
                "speedup": round(naive_s / ours_s, 2),
                "ours_leak_rate": round(ours["leak_rate"], 4), "naive_leak_rate": round(naive["leak_rate"], 4),
                "ours_leaks": ours, "naive_leaks": naive,
            })
            frame.unpersist()
            truth.unpersist()
            _print_row(results[-1], header=len(results) == 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report = {
        "benchmark": "redaction",
        "started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "data": args.silver or f"benchmarks.redaction_corpus seed={args.seed}",
        "base": args.base,
        "spark_master": settings["spark.master"],
        "machine": {"python": platform.python_version(), "cpus": spark.sparkContext.defaultParallelism},
        "model": conf.analyzer.model,
        "entities": list(conf.analyzer.entities),
        "results": results,
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    out = RESULTS_DIR / f"redaction-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"\nresults: {out}")
    return report


def _print_row(row: dict, header: bool) -> None:
    if header:
        print(f"{'size':>5} {'traj':>6} {'ours s':>8} {'naive s':>8} {'ours t/s':>9} {'naive t/s':>9} {'speedup':>8} {'ours leak':>10} {'naive leak':>10}")
    print(
        f"{row['size']:>5} {row['trajectories']:>6} {row['ours_seconds']:>8.1f} {row['naive_seconds']:>8.1f} "
        f"{row['ours_traj_per_s']:>9.1f} {row['naive_traj_per_s']:>9.1f} {row['speedup']:>7.1f}x "
        f"{row['ours_leak_rate']:>10.2%} {row['naive_leak_rate']:>10.2%}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--sizes", default="1,2,4", help="comma-separated multiples of --base")
    parser.add_argument("--base", type=int, default=300, help="trajectories per size unit")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--partitions", type=int, default=0, help="input partitions (default: Spark's parallelism)")
    parser.add_argument("--silver", default="", help="a silver.trajectories Delta path instead of the built-in corpus")
    parser.add_argument("--truth", default="", help="the _truth folder matching --silver")
    parser.add_argument("--conf-file")
    parser.add_argument("--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args(argv)
    args.sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.silver and not args.truth:
        parser.error("--silver needs --truth")
    run(args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
