"""How the Python assembly of one trace grows with its model calls, against decoding its records.

    .venv/bin/python -m benchmarks.trace_length [--calls 10,20,40,80] [--traces 5] [--repeats 3]

Each model call of a trace sends the messages of the calls before it again, so a trace of n
calls holds about n^2 messages and its records grow as n^2 bytes. Normalize must at least
decode those bytes; what it does per message on top of that should not grow faster.

For each format assembled in Python (LangSmith, Langfuse, OTel GenAI, OpenAI chat logs), the
generator's renderer writes traces whose every model call is followed by a tool call, at each
length. The adapter keys the records in Spark as normalize does (format detection, then its
keyed select, collected as the Arrow batch the Python worker gets), and its Python assembly of
that batch is timed in this process (CPU, best of --repeats). The baseline, measured beside
it, is `json.loads` of the same records: its ratio staying flat as calls grow means the
assembly costs what the bytes cost.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from datetime import datetime, timedelta, timezone
from unittest import mock

import pyarrow as pa
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from benchmarks.synthetic.fast_random import FastRandom
from benchmarks.synthetic.formats import RENDERERS
from benchmarks.synthetic.trajectories import Clock, TrajectoryBuilder, User
from schemas.bronze import RAW_RECORD
from transforms.adapters import python_assembly
from transforms.adapters.base import REJECT_REASON, SOURCE_FORMAT
from transforms.adapters.registry import adapters
from transforms.format_detection import detect_format

FORMATS = ("langsmith", "langfuse", "otel_genai", "openai_chat")
START = datetime(2026, 11, 2, 9, tzinfo=timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _template() -> dict:
    """A generated trajectory with a model-call step and a tool step to repeat."""
    builder = TrajectoryBuilder(FastRandom("trace-length"), Clock(START.date().isoformat()), pii_rate=0.0, lucky_rate=0.0)
    for n in range(1000):
        trajectory = builder.build(f"template-{n}", User("u_0001", "pro", "public", "en"), int(START.timestamp() * 1000)).trajectory
        kinds = {s["kind"] for s in trajectory["steps"]}
        if {"llm", "tool"} <= kinds:
            return trajectory
    raise RuntimeError("the generator made no trajectory with a model call and a tool call")


def long_trajectory(template: dict, trajectory_id: str, calls: int) -> dict:
    """`template` with `calls` model calls, each followed by a tool call, then its final answer."""
    llm = next(s for s in template["steps"] if s["kind"] == "llm")
    tool = next(s for s in template["steps"] if s["kind"] == "tool")
    steps: list[dict] = []
    for call in range(calls):
        for base in (llm, tool):
            at = START + timedelta(seconds=len(steps))
            step = dict(copy.deepcopy(base), index=len(steps), started_at=_iso(at), ended_at=_iso(at + timedelta(milliseconds=500)))
            if step["tool"] is not None:
                step["tool"]["call_id"] = f"call_{call:05d}"
            steps.append(step)
    end = START + timedelta(seconds=len(steps))
    steps.append(dict(template["steps"][-1], index=len(steps), started_at=_iso(end), ended_at=_iso(end)))
    metadata = dict(template["metadata"], started_at=_iso(START), ended_at=_iso(end), latency_ms=None)
    return dict(template, trajectory_id=trajectory_id, steps=steps, metadata=metadata)


def bronze_rows(spark: SparkSession, lines: list[str]):
    """The lines as bronze.trajectories rows of one ingest run."""
    rows = [(line, len(line.encode()), "file:/bench/trace-length.jsonl", n + 1, "trace-length", START.replace(tzinfo=None))
            for n, line in enumerate(lines)]
    return spark.createDataFrame(rows, RAW_RECORD)


def handed_over(spark: SparkSession, fmt: str, lines: list[str]):
    """What normalize's Python worker gets for these records: (Arrow table, the assembly function
    of one partition). The adapter's keyed select runs in Spark; its hand-over is captured."""
    adapter = next(a for a in adapters() if a.name == fmt)
    tagged = detect_format(bronze_rows(spark, lines), [adapter])
    captured = {}

    def capture(keyed, key, columns, assemble_group, source_format, owns=python_assembly._always):
        captured.update(keyed=keyed, key=key, columns=columns, assemble_group=assemble_group, owns=owns)
        return keyed

    with mock.patch.object(python_assembly, "assemble", capture):
        adapter.to_trajectories(tagged.where(F.col(SOURCE_FORMAT) == fmt).drop(SOURCE_FORMAT))
    key = captured["key"]
    table = captured["keyed"].select(*captured["columns"]).coalesce(1).sortWithinPartitions(key).toArrow()
    assemble = python_assembly._per_partition(key, captured["assemble_group"], fmt, captured["owns"])
    return table, assemble


def best_cpu(work, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def measure(spark: SparkSession, fmt: str, calls: int, traces: int, repeats: int) -> dict:
    template = _template()
    lines = [
        json.dumps(record, ensure_ascii=False, separators=(",", ":"))
        for n in range(traces)
        for record in RENDERERS[fmt](long_trajectory(template, f"00000000-0000-4000-8000-{calls:06d}{n:06d}", calls))
    ]
    table, assemble = handed_over(spark, fmt, lines)
    batches = table.to_batches()
    candidates = [row for batch in assemble(iter(batches)) for row in pa.Table.from_batches([batch]).to_pylist()]
    rejected = [c[REJECT_REASON] for c in candidates if c[REJECT_REASON] is not None]
    if len(candidates) != traces or rejected:
        raise RuntimeError(f"{fmt}, {calls} calls: {len(candidates)} candidates for {traces} traces, rejects {rejected}")
    steps = len(candidates[0]["steps"])
    assembly = best_cpu(lambda: sum(b.num_rows for b in assemble(iter(batches))), repeats)
    decode = best_cpu(lambda: [json.loads(line) for line in lines], repeats)
    return {"format": fmt, "calls": calls, "traces": traces, "records": len(lines), "mb": sum(map(len, lines)) / 1e6,
            "steps": steps, "assembly_ms": 1000 * assembly / traces, "decode_ms": 1000 * decode / traces,
            "ratio": assembly / decode}


def main(argv: list[str] | None = None) -> int:
    from jobs.settings import load_settings
    from jobs.spark_session import build_spark

    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--calls", default="10,20,40,80", help="model calls per trace, comma-separated")
    parser.add_argument("--traces", type=int, default=5, help="traces per length")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per measurement (best is kept)")
    parser.add_argument("--formats", default=",".join(FORMATS), help="formats, comma-separated")
    parser.add_argument("--conf-file", help="conf file (Spark settings)")
    args = parser.parse_args(argv)
    spark = build_spark(load_settings(args.conf_file))
    lengths = [int(c) for c in args.calls.split(",")]
    print(f"Python assembly of one trace vs json.loads of its records; CPU per trace, best of {args.repeats}")
    print(f"{'format':<12} {'calls':>5} {'steps':>5} {'MB/trace':>8} {'assembly_ms':>11} {'decode_ms':>9} {'ratio':>6}")
    for fmt in args.formats.split(","):
        for calls in lengths:
            r = measure(spark, fmt, calls, args.traces, args.repeats)
            print(f"{fmt:<12} {calls:>5} {r['steps']:>5} {r['mb'] / r['traces']:>8.2f} {r['assembly_ms']:>11.1f} "
                  f"{r['decode_ms']:>9.1f} {r['ratio']:>6.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
