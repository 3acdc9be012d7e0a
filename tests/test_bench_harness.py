"""The benchmark harness: its CPU accounting, what the trace-length benchmark times, and the
generator-rate benchmark."""

from __future__ import annotations

import os
import subprocess
import sys

from benchmarks.run import (
    SAMPLE_SECONDS,
    Measurement,
    ResourceSampler,
    _descendants,
    _program,
    compiler_thread_cpu,
    ingest_and_normalize,
    ingest_and_normalize_marginal,
)

# A process that ignores SIGCHLD, as pyspark's daemon does, starts a worker that burns CPU and
# exits; nobody's "children" CPU ever includes the worker's time.
_BURN_SECONDS = 2.0
_WORKER = f"import time\nt = time.process_time()\nwhile time.process_time() - t < {_BURN_SECONDS}: pass"
_DAEMON = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
    f"subprocess.Popen([sys.executable, '-c', {_WORKER!r}])\n"
    f"time.sleep({_BURN_SECONDS + 1.5})"
)
# The worker's time after the sampler's last look before it exits is lost: one interval, more
# when the host delays the sampler (a fresh-clone CI run lost 0.23 s of a 1 s worker).
_SEEN_AT_LEAST = _BURN_SECONDS - 3 * SAMPLE_SECONDS


def test_cpu_of_workers_that_exit_under_a_daemon_is_counted():
    with ResourceSampler() as sampled:
        subprocess.run([sys.executable, "-c", _DAEMON], check=True)
    assert sampled.cpu_seconds >= _SEEN_AT_LEAST
    # Both processes run Python: the worker's time is the Python part too.
    assert sampled.python_cpu_seconds >= _SEEN_AT_LEAST
    # A JVM below this process (the suite's Spark session) may be compiling meanwhile: its JIT
    # time is counted, never more than the whole.
    assert 0.0 <= sampled.jit_cpu_seconds <= sampled.cpu_seconds - sampled.python_cpu_seconds


def test_the_jit_compiler_threads_of_the_spark_jvm_are_found(spark):
    # Warm enough code that the JVM has compiled some (it has since it started).
    assert spark.range(200_000).selectExpr("sum(id * 3 % 7)").head()[0] > 0
    jvms = [pid for pid in _descendants(os.getpid()) if _program(pid) == "java"]
    assert jvms, "the session's JVM runs below the test process"
    compilers = {tid: cpu for pid in jvms for tid, cpu in compiler_thread_cpu(pid).items()}
    assert compilers and sum(compilers.values()) > 0
    assert compiler_thread_cpu(os.getpid()) == {}  # a Python process has none


def _measured(size: int, stage: str, seconds: float, baseline: float | None = None) -> Measurement:
    return Measurement(size=size, trajectories=size * 100, stage=stage, rows_in=0, rows_out=0, seconds=seconds,
                       cpu_seconds=2 * seconds, driver_peak_mib=0.0, workers_peak_mib=0.0, baseline_seconds=baseline,
                       baseline_cpu_seconds=None if baseline is None else 2 * baseline)


def test_the_per_trajectory_ratio_leaves_out_the_fixed_costs_the_per_size_ratio_carries():
    # the baseline costs 10 s + 5 s per size unit, ingest + normalize 12 s + 20 s per unit
    results = [m for size in (1, 2, 4) for m in (_measured(size, "ingest", 2 + 5 * size, baseline=10 + 5 * size),
                                                 _measured(size, "normalize", 10 + 15 * size))]
    assert ingest_and_normalize(results) == {"1x": 2.13, "2x": 2.6, "4x": 3.07}
    assert ingest_and_normalize_marginal(results) == {"1x-2x": 4.0, "1x-4x": 4.0}
    assert ingest_and_normalize_marginal(results, cpu=True) == {"1x-2x": 4.0, "1x-4x": 4.0}
    # a size without normalize, or one run alone, gives no slope
    assert ingest_and_normalize_marginal([m for m in results if not (m.size == 4 and m.stage == "normalize")]) == {"1x-2x": 4.0}
    assert ingest_and_normalize_marginal([m for m in results if m.size == 1]) == {}


def test_the_trace_length_benchmark_assembles_whole_traces_of_each_length(spark):
    """What benchmarks.trace_length times is the adapters' assembly of the traces it made: one
    candidate per trace, every model call and tool call a step (plus the final answer)."""
    from benchmarks.trace_length import FORMATS, measure

    for fmt in FORMATS:
        row = measure(spark, fmt, calls=3, traces=2, repeats=1)
        assert (row["format"], row["steps"], row["traces"]) == (fmt, 2 * 3 + 1, 2)
        assert row["assembly_ms"] > 0 and row["decode_ms"] > 0


def test_the_generator_rate_alternates_its_runs_and_reports_the_slowest_run_of_the_mix():
    """benchmarks.generator_rate: every kind runs once per round, in reverse order every other
    round; the verdict rests on the slowest run of the mix, not on a median."""
    from benchmarks.generator_rate import MIX, plan, summarize

    steps = plan([1, 2], base=100, rounds=2)
    first, second = [s[1:] for s in steps if s[0] == 0], [s[1:] for s in steps if s[0] == 1]
    assert first[:2] == [(MIX, 100), (MIX, 200)] and second == first[::-1]
    assert {kind for kind, _ in first} - {MIX} == {"langfuse", "langsmith", "native", "openai_chat", "otel_genai"}

    def run(kind: str, n: int, rate: float) -> dict:
        return {"kind": kind, "trajectories": n, "per_cpu_second": rate}

    runs = [run(MIX, 100, 2400), run(MIX, 100, 1900), run(MIX, 100, 2600), run(MIX, 200, 2100), run("native", 100, 4000)]
    summary = summarize(runs, base=100, goal=2000)
    assert summary["mix"] == [{"trajectories": 100, "per_cpu_second": 2400, "cost_growth": 1.0},
                              {"trajectories": 200, "per_cpu_second": 2100, "cost_growth": 2400 / 2100}]
    assert summary["formats"] == {"native": 4000}
    assert (summary["slowest_mix_run"], summary["meets_goal"]) == (1900, False)
    assert summarize([r for r in runs if r["per_cpu_second"] != 1900], base=100, goal=2000)["meets_goal"]


def test_the_generator_rate_times_real_generations_in_fresh_processes(capsys):
    from benchmarks.generator_rate import main

    assert main(["--base", "40", "--sizes", "1,2", "--rounds", "1", "--goal", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "[7/7] round 1" in out and "mix 80:" in out
    assert out.rstrip().endswith("per CPU-second: meets the goal of 1")
