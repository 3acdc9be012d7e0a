"""`make bench`: time each built pipeline stage at 1x, 2x and 4x data against its baseline.

Every number is a ratio measured side by side in one run (these machines are noisy): a stage's
seconds over its baseline's seconds on the same files, and each size's seconds over 1x's. Each
is also given in CPU-seconds of the whole process tree (driver, JVM, Python workers): work, not
waiting.
Baselines are plain Spark doing the least a stage must do; `BASELINES` maps a stage to its own.

    .venv/bin/python -m benchmarks.run [--base 10000] [--sizes 1,2,4] [--stages ingest,normalize]

A warm-up pass over a small generated set (`--warmup`, default 1/10 of 1x) runs every stage and
baseline first and is not reported: without it the first size pays the JVM's JIT and Delta's
first-use costs and every later size looks sublinear.

Results: a printed table and `benchmarks/results/bench-<time>.json`.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pyspark.sql import SparkSession

from jobs.lake import Lake
from jobs.registry import is_built, job_module
from jobs.runtime import job_parser
from jobs.settings import Settings, load_settings
from jobs.spark_session import build_spark

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
RESULTS = HERE / "results"


# -- memory ------------------------------------------------------------------------------------
def _stat(path: Path) -> tuple[str, list[str]] | None:
    """A /proc stat file (a process's or a thread's): its name, and the fields after it (state
    first, so field n of proc(5) is at n - 3); None once the process or thread is gone."""
    try:
        text = path.read_text()
    except OSError:
        return None
    return text[text.index("(") + 1 : text.rindex(")")], text.rsplit(")", 1)[1].split()


def _ticks_seconds(fields: list[str], first: int, end: int) -> float:
    """The sum of clock-tick fields [first, end) of a _stat, in seconds."""
    return sum(int(f) for f in fields[first:end]) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    try:
        for text in (Path(f"/proc/{pid}/status")).read_text().splitlines():
            if text.startswith("VmRSS:"):
                return int(text.split()[1])
    except OSError:
        pass
    return 0


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _processes() -> dict[int, tuple[int, float]]:
    """Every process now: pid -> (parent pid, user + system CPU of it and of the children it has
    reaped), from one read of /proc. (pyspark's daemon reaps its workers, so their time is
    counted when they end within a stage.)"""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(entry / "stat")
            if stat is not None:
                found[int(entry.name)] = (int(stat[1][1]), _ticks_seconds(stat[1], 11, 15))  # utime .. cstime
    return found


def _descendants(pid: int, processes: dict[int, tuple[int, float]] | None = None) -> list[int]:
    """The processes below `pid`, from `processes` (a _processes() reading; a new one if none)."""
    children: dict[int, list[int]] = {}
    for child, (parent, _) in (_processes() if processes is None else processes).items():
        children.setdefault(parent, []).append(child)
    found, stack = [], [pid]
    while stack:
        for child in children.get(stack.pop(), ()):
            found.append(child)
            stack.append(child)
    return found


def _program(pid: int) -> str:
    """The file name of the program a process runs (`java`, `python3.11`, `bash` ...)."""
    return _cmdline(pid).split(" ", 1)[0].rsplit("/", 1)[-1]


# HotSpot names its JIT compiler threads "C1 CompilerThread<n>" and "C2 CompilerThread<n>" (the
# kernel keeps the first 15 characters).
_COMPILER_THREADS = ("C1 CompilerThre", "C2 CompilerThre")


def compiler_thread_cpu(pid: int, named: dict[int, bool] | None = None) -> dict[int, float]:
    """CPU used so far by each JIT compiler thread of a JVM, by thread id (none for another process).

    `named` (thread id -> whether it is a compiler thread), kept by a caller that asks again and
    again, is filled as threads are first seen, so only the compiler threads' stat files are read
    after that: a JVM runs about a hundred threads, and reading each one's took 4.5 ms a call."""
    named = {} if named is None else named
    found = {}
    try:
        tids = [int(task) for task in os.listdir(f"/proc/{pid}/task")]
    except OSError:
        return found
    for tid in tids:
        if named.get(tid) is False:
            continue
        stat = _stat(Path(f"/proc/{pid}/task/{tid}/stat"))
        if stat is None:
            continue
        named[tid] = stat[0].startswith(_COMPILER_THREADS)  # HotSpot names them when it starts them
        if named[tid]:
            found[tid] = _ticks_seconds(stat[1], 11, 13)  # utime, stime
    return found


def _own_cpu_seconds() -> float:
    me = os.times()
    return me.user + me.system


SAMPLE_SECONDS = 0.25  # how often ResourceSampler reads the process tree


class ResourceSampler:
    """Peak RSS of the driver JVM and the sum over Python workers, sampled every SAMPLE_SECONDS,
    and the CPU-seconds the whole process tree used (work, where wall time also counts waiting),
    with two parts of it: the Python processes' (pyspark's daemon and workers) and the JVM's JIT
    compiler threads' (a cost of the JVM warming up, not of the records).

    CPU is summed per process from the samples: pyspark's daemon ignores SIGCHLD, so a Python
    worker that exits is reaped by no one who counts its time, and a before/after reading of the
    tree would lose it. Still missed: a worker living less than one interval, and the time a
    worker spends between the last sample and its exit."""

    def __init__(self):
        self.driver_peak = 0
        self.workers_peak = 0
        self.cpu_seconds = 0.0
        self.python_cpu_seconds = 0.0
        self.jit_cpu_seconds = 0.0
        self._cpu_first: dict[int, float] = {}  # per process: CPU when first seen (0 if started during)
        self._cpu_last: dict[int, float] = {}
        self._python: set[int] = set()  # the processes that run Python
        self._jvms: set[int] = set()
        self._jit_first: dict[tuple[int, int], float] = {}  # per (JVM, compiler thread), likewise
        self._jit_last: dict[tuple[int, int], float] = {}
        self._threads: dict[int, dict[int, bool]] = {}  # per JVM: compiler_thread_cpu's `named`
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample_cpu(self, first: bool = False) -> dict[int, tuple[int, float]]:
        """Read the CPU of every process below this one; returns the _processes() it read."""
        processes = _processes()
        for pid in _descendants(os.getpid(), processes):
            cpu = processes[pid][1]
            if pid not in self._cpu_last:
                self._cpu_first[pid] = cpu if first else 0.0
                program = _program(pid)
                if program.startswith("python"):
                    self._python.add(pid)
                elif program == "java":
                    self._jvms.add(pid)
            self._cpu_last[pid] = max(cpu, self._cpu_last.get(pid, 0.0))
        for pid in self._jvms:
            for tid, jit in compiler_thread_cpu(pid, self._threads.setdefault(pid, {})).items():
                self._jit_first.setdefault((pid, tid), jit if first else 0.0)
                self._jit_last[(pid, tid)] = max(jit, self._jit_last.get((pid, tid), 0.0))
        return processes

    def _loop(self):
        me = os.getpid()
        while not self._stop.is_set():
            processes = self._sample_cpu()
            jvms = [p for p in self._jvms if processes.get(p, (None,))[0] == me]  # the driver's JVM
            driver = sum(_rss_kib(p) for p in jvms)
            workers = sum(_rss_kib(p) for jvm in jvms for p in _descendants(jvm, processes) if p in self._python)
            self.driver_peak = max(self.driver_peak, driver)
            self.workers_peak = max(self.workers_peak, workers)
            self._stop.wait(SAMPLE_SECONDS)

    def __enter__(self):
        self._own_started = _own_cpu_seconds()
        self._sample_cpu(first=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self._sample_cpu()
        used = {pid: last - self._cpu_first[pid] for pid, last in self._cpu_last.items()}
        self.cpu_seconds = _own_cpu_seconds() - self._own_started + sum(used.values())
        self.python_cpu_seconds = sum(used[pid] for pid in self._python)
        self.jit_cpu_seconds = sum(last - self._jit_first[key] for key, last in self._jit_last.items())


# -- baselines ---------------------------------------------------------------------------------
def ingest_baseline(spark: SparkSession, settings: Settings, scratch: Path) -> int:
    """Plain `spark.read.json` of the same raw files + a Delta write: the floor for ingest."""
    raw = Lake(spark, settings).root("raw")
    sources = [f"{raw}/{settings[f'ingest.sources.{kind}']}" for kind in ("trajectories", "feedback", "consent")]
    total = 0
    for index, source in enumerate(sources):
        # ignoreCorruptFiles: the truncated gzip would fail the plain reader (ingest records it).
        frame = spark.read.option("recursiveFileLookup", "true").option("ignoreCorruptFiles", "true").json(source)
        frame.write.format("delta").mode("overwrite").save(str(scratch / f"baseline-{index}"))
        total += spark.read.format("delta").load(str(scratch / f"baseline-{index}")).count()
    return total


# A stage's baseline: plain Spark doing the least that stage must do, on the same data.
BASELINES: dict[str, Callable[[SparkSession, Settings, Path], int]] = {"ingest": ingest_baseline}


@dataclass
class Measurement:
    size: int
    trajectories: int
    stage: str
    rows_in: int
    rows_out: int
    seconds: float
    cpu_seconds: float
    driver_peak_mib: float
    workers_peak_mib: float
    baseline_seconds: float | None = None
    baseline_cpu_seconds: float | None = None
    detail: dict = field(default_factory=dict)
    python_cpu_seconds: float = 0.0  # of cpu_seconds: pyspark's Python daemon and workers
    jit_cpu_seconds: float = 0.0  # of cpu_seconds: the JVM's JIT compiler threads
    baseline_jit_cpu_seconds: float | None = None

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.baseline_seconds if self.baseline_seconds else None

    @property
    def cpu_ratio(self) -> float | None:
        return self.cpu_seconds / self.baseline_cpu_seconds if self.baseline_cpu_seconds else None


def generate(trajectories: int, seed: int) -> Path:
    """Generator output for this size, reused when its manifest says it is the same."""
    from benchmarks.synthetic.cli import main as generate_main

    out = DATA / f"raw-{trajectories}-{seed}"
    if not _generated_as_now(out / "_truth" / "manifest.json", trajectories, seed):
        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        generate_main(["--trajectories", str(trajectories), "--seed", str(seed), "--out", str(out)])
        print(f"generated {trajectories:,} trajectories in {time.perf_counter() - started:.1f}s -> {out}")
    return out


def _generated_as_now(manifest: Path, trajectories: int, seed: int) -> bool:
    """Whether this output is what the generator would write now (same version and settings):
    data left by an older generator or other settings would time something else."""
    from benchmarks.synthetic.config import GeneratorConfig
    from benchmarks.synthetic.generator import GENERATOR_VERSION, resolve_formats

    if not manifest.exists():
        return False
    written = json.loads(manifest.read_text(encoding="utf-8"))
    config = GeneratorConfig(trajectories=trajectories, seed=seed)
    expected = {**config.as_dict(), "formats": resolve_formats(config.formats)}
    return written.get("generator_version") == GENERATOR_VERSION and written.get("config") == expected


def timed(fn: Callable[[], object]) -> tuple[object, float, ResourceSampler]:
    with ResourceSampler() as resources:
        started = time.perf_counter()
        value = fn()
        seconds = time.perf_counter() - started
    return value, seconds, resources


def run_size(
    spark: SparkSession, base: Settings, size: int, trajectories: int, seed: int, stages: list[str], quiet: bool = False
) -> list[Measurement]:
    raw = generate(trajectories, seed)
    lake_dir = DATA / f"lake-{trajectories}"
    shutil.rmtree(lake_dir, ignore_errors=True)
    settings = base.with_overrides(
        {"storage.raw": str(raw), "storage.operational": str(lake_dir / "operational"), "storage.curated": str(lake_dir / "curated")}
    )
    results = []
    for stage in stages:
        module = job_module(stage)
        args = job_parser(module).parse_args([])
        baseline_seconds = baseline_cpu = baseline_jit = None
        if stage in BASELINES:
            _, baseline_seconds, baseline_use = timed(lambda: BASELINES[stage](spark, settings, lake_dir / "scratch"))
            baseline_cpu, baseline_jit = baseline_use.cpu_seconds, baseline_use.jit_cpu_seconds
        result, seconds, use = timed(lambda: module.run(spark, settings, args))
        results.append(
            Measurement(
                size, trajectories, stage, result.rows_in, result.rows_out, seconds, use.cpu_seconds,
                use.driver_peak / 1024, use.workers_peak / 1024, baseline_seconds, baseline_cpu,
                {k: v for k, v in result.detail.items() if isinstance(v, (int, float, str))},
                use.python_cpu_seconds, use.jit_cpu_seconds, baseline_jit,
            )
        )
        if not quiet:
            print(_row(results[-1]), flush=True)
    return results


HEADER = (
    f"{'size':>4} {'traj':>7} {'stage':<10} {'rows in':>9} {'rows/s':>9} {'sec':>7} {'base s':>7} {'x base':>7} "
    f"{'cpu s':>7} {'cpu x':>6} {'py cpu':>7} {'jit cpu':>7} {'drv MiB':>8} {'py MiB':>7}"
)


def _row(m: Measurement) -> str:
    rate = m.rows_in / m.seconds if m.seconds else 0
    base = f"{m.baseline_seconds:7.1f}" if m.baseline_seconds else f"{'-':>7}"
    ratio = f"{m.ratio:7.2f}" if m.ratio else f"{'-':>7}"
    cpu_ratio = f"{m.cpu_ratio:6.2f}" if m.cpu_ratio else f"{'-':>6}"
    return (
        f"{m.size:>3}x {m.trajectories:>7,} {m.stage:<10} {m.rows_in:>9,} {rate:>9,.0f} {m.seconds:>7.1f} "
        f"{base} {ratio} {m.cpu_seconds:>7.1f} {cpu_ratio} {m.python_cpu_seconds:>7.1f} {m.jit_cpu_seconds:>7.1f} "
        f"{m.driver_peak_mib:>8,.0f} {m.workers_peak_mib:>7,.0f}"
    )


def scaling(results: list[Measurement], cpu: bool = False) -> dict[str, dict[str, float]]:
    """Per stage: seconds (or CPU-seconds) at each size over those at the smallest (linear = the
    size ratio)."""
    out: dict[str, dict[str, float]] = {}
    for stage in dict.fromkeys(m.stage for m in results):
        rows = sorted((m for m in results if m.stage == stage), key=lambda m: m.size)
        cost = [m.cpu_seconds if cpu else m.seconds for m in rows]
        out[stage] = {f"{m.size}x": round(c / cost[0], 2) for m, c in zip(rows, cost)}
    return out


def _ingest_and_normalize_cost(results: list[Measurement], size: int, cpu: bool) -> tuple[float, float] | None:
    """(ingest + normalize, read.json + Delta write) at a size, in seconds or CPU-seconds; None
    when the run did not measure both stages and the baseline."""
    by_stage = {m.stage: m for m in results if m.size == size}
    ingest, normalize = by_stage.get("ingest"), by_stage.get("normalize")
    if ingest is None or normalize is None or not ingest.baseline_seconds:
        return None
    if cpu:
        return ingest.cpu_seconds + normalize.cpu_seconds, ingest.baseline_cpu_seconds
    return ingest.seconds + normalize.seconds, ingest.baseline_seconds


def ingest_and_normalize(results: list[Measurement], cpu: bool = False) -> dict[str, float]:
    """Issue 4's figure: (ingest + normalize seconds) / (read.json + Delta write seconds), per
    size; with `cpu`, the same over CPU-seconds of the whole process tree."""
    out = {}
    for size in sorted({m.size for m in results}):
        cost = _ingest_and_normalize_cost(results, size, cpu)
        if cost is not None:
            out[f"{size}x"] = round(cost[0] / cost[1], 2)
    return out


def ingest_and_normalize_marginal(results: list[Measurement], cpu: bool = False) -> dict[str, float]:
    """Issue 4's figure per added trajectory: what ingest + normalize add from the smallest size
    to each larger one, over what read.json + Delta write add. The per-size ratio also carries
    each run's fixed costs (job set-up, Delta commits, schema inference), whose share shrinks as
    the data grows; this is the ratio the per-size one tends to."""
    costs = {size: cost for size in sorted({m.size for m in results}) if (cost := _ingest_and_normalize_cost(results, size, cpu))}
    sizes = list(costs)
    out = {}
    for size in sizes[1:]:
        (total, floor), (first_total, first_floor) = costs[size], costs[sizes[0]]
        if floor > first_floor:  # a baseline that did not grow gives no slope to compare with
            out[f"{sizes[0]}x-{size}x"] = round((total - first_total) / (floor - first_floor), 2)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--base", type=int, default=10_000, help="trajectories at 1x")
    parser.add_argument("--sizes", default="1,2,4")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--stages", default="", help="comma-separated (default: every built stage)")
    parser.add_argument("--warmup", type=int, default=None, help="trajectories of the unreported warm-up pass (default: base/10, 0: none)")
    parser.add_argument("--conf-file")
    parser.add_argument("--set", dest="assignments", action="append", default=[])
    args = parser.parse_args(argv)

    base = load_settings(args.conf_file, args.assignments)
    stages = [s for s in (args.stages.split(",") if args.stages else base["pipeline.stages"]) if is_built(s)]
    sizes = [int(s) for s in args.sizes.split(",")]
    spark = build_spark(base)
    warmup = max(200, args.base // 10) if args.warmup is None else args.warmup
    if warmup:
        print(f"warm-up: every stage once on {warmup:,} trajectories (not reported)", flush=True)
        run_size(spark, base, 0, warmup, args.seed, stages, quiet=True)
    print(HEADER)
    results: list[Measurement] = []
    for size in sizes:
        results.extend(run_size(spark, base, size, args.base * size, args.seed, stages))
    combined, combined_cpu = ingest_and_normalize(results), ingest_and_normalize(results, cpu=True)
    marginal, marginal_cpu = ingest_and_normalize_marginal(results), ingest_and_normalize_marginal(results, cpu=True)
    report = {
        "when": datetime.now(timezone.utc).isoformat(),
        "base_trajectories": args.base,
        "sizes": sizes,
        "warmup_trajectories": warmup,
        "cores": os.cpu_count(),
        "measurements": [dict(asdict(m), ratio_to_baseline=m.ratio, cpu_ratio_to_baseline=m.cpu_ratio) for m in results],
        "scaling": scaling(results),
        "scaling_cpu": scaling(results, cpu=True),
        "ingest_plus_normalize_vs_read_json": combined,
        "ingest_plus_normalize_vs_read_json_cpu": combined_cpu,
        "ingest_plus_normalize_vs_read_json_marginal": marginal,
        "ingest_plus_normalize_vs_read_json_marginal_cpu": marginal_cpu,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"bench-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
    path.write_text(json.dumps(report, indent=2))
    print("\nscaling (seconds / seconds at smallest size; CPU-seconds likewise):")
    for stage, ratios in report["scaling"].items():
        by_cpu = report["scaling_cpu"][stage]
        print(f"  {stage:<10} " + "  ".join(f"{k}={v} (cpu {by_cpu[k]})" for k, v in ratios.items()))
    for size, ratio in combined.items():
        print(f"  ingest+normalize at {size}: {ratio}x the plain read.json + Delta write ({combined_cpu[size]}x in CPU-seconds)")
    for span, ratio in marginal.items():
        cpu_ratio = marginal_cpu.get(span, "-")
        print(f"  ingest+normalize per added trajectory ({span}): {ratio}x what read.json + Delta write add ({cpu_ratio}x in CPU-seconds)")
    print(f"\nresults: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
