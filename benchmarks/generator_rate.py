"""The generator's rate, in trajectories per CPU-second, at 1x, 2x and 4x and per source format.

    .venv/bin/python -m benchmarks.generator_rate [--base 10000] [--sizes 1,2,4] [--rounds 2] [--goal 2000]

The generator must not dominate a benchmark: the goal is at least 2,000 trajectories per
CPU-second of its one process (its one core). Each run is a `trajlake generate` of the default
mix in a fresh process, into a scratch folder, timed by the generator itself (CPU time of the
generation, not of starting Python). Beside it, in the same rounds, each source format alone at
the base size: what each costs, and so what the mix's weights make of them. The rounds
alternate the order of the runs, so a host that speeds up or slows down during the run weighs
on every kind alike; a rate is the median over rounds. Cost growth is each size's CPU per
trajectory over the base size's: 1.0 is linear.

The rate moves with the host, not only with the code: on these shared 2-core machines the same
command has measured 1,100-2,400 per CPU-second on different hours. So the per-format rates,
measured in the same rounds, are the figures to compare across runs.

Results: a printed table and `benchmarks/results/generator-<time>.json`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from multiprocessing import get_context
from pathlib import Path

from benchmarks.synthetic.config import GeneratorConfig
from benchmarks.synthetic.formats import RENDERERS
from benchmarks.synthetic.generator import GenerationSummary, generate, resolve_formats

RESULTS = Path(__file__).resolve().parent / "results"
MIX = "mix"  # the default format mix


def _generate_in_fresh_process(config: GeneratorConfig, out: str) -> GenerationSummary:
    """One generation in a new interpreter, as `trajlake generate` runs it (nothing cached from
    an earlier run in this one)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(generate, config, out).result()


def plan(sizes: list[int], base: int, rounds: int) -> list[tuple[int, str, int]]:
    """(round, kind, trajectories) in run order: the mix at every size, each format alone at the
    base size; every other round in reverse order."""
    kinds = [(MIX, base * size) for size in sizes] + [(name, base) for name in sorted(RENDERERS)]
    return [(r, kind, n) for r in range(rounds) for kind, n in (kinds if r % 2 == 0 else kinds[::-1])]


def summarize(runs: list[dict], base: int, goal: float) -> dict:
    """Median rate per (kind, trajectories), the mix's cost growth over the base size, and
    whether every run of the mix reached the goal."""
    medians: dict[tuple[str, int], float] = {}
    for kind, n in sorted({(r["kind"], r["trajectories"]) for r in runs}):
        medians[(kind, n)] = statistics.median(r["per_cpu_second"] for r in runs if (r["kind"], r["trajectories"]) == (kind, n))
    mix_sizes = sorted(n for kind, n in medians if kind == MIX)
    base_rate = medians.get((MIX, base))
    mix_runs = [r["per_cpu_second"] for r in runs if r["kind"] == MIX]
    return {
        "mix": [
            {"trajectories": n, "per_cpu_second": medians[(MIX, n)],
             "cost_growth": base_rate / medians[(MIX, n)] if base_rate else None}
            for n in mix_sizes
        ],
        "formats": {kind: rate for (kind, n), rate in medians.items() if kind != MIX},
        "goal": goal,
        "slowest_mix_run": min(mix_runs) if mix_runs else None,
        "meets_goal": bool(mix_runs) and min(mix_runs) >= goal,
    }


def table(summary: dict) -> str:
    lines = ["mix (default formats)   trajectories   per CPU-second   cost per trajectory x base"]
    lines += [f"                        {m['trajectories']:>12,}   {m['per_cpu_second']:>14,.0f}   {m['cost_growth']:>26.2f}"
              for m in summary["mix"]]
    lines.append("format alone, base size                  per CPU-second")
    lines += [f"  {name:<22}                 {rate:>14,.0f}" for name, rate in sorted(summary["formats"].items())]
    verdict = "meets" if summary["meets_goal"] else "is below"
    lines.append(f"slowest run of the mix: {summary['slowest_mix_run']:,.0f} per CPU-second: {verdict} the goal of {summary['goal']:,.0f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--base", type=int, default=10_000, help="trajectories at 1x (default 10,000)")
    parser.add_argument("--sizes", default="1,2,4", help="multiples of --base for the mix, comma-separated")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of all runs, alternating their order (default 2)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--goal", type=float, default=2000.0, help="trajectories per CPU-second the mix must reach")
    parser.add_argument("--no-save", action="store_true", help="print only; write no results file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.base < 1 or args.rounds < 1 or not sizes or min(sizes) < 1:
        parser.error("--base, --rounds and every size must be at least 1")
    runs = []
    steps = plan(sizes, args.base, args.rounds)
    with tempfile.TemporaryDirectory(prefix="trajlake-generator-rate-") as scratch:
        for i, (round_, kind, n) in enumerate(steps, 1):
            formats = None if kind == MIX else {kind: 1.0}
            config = GeneratorConfig(trajectories=n, seed=args.seed, formats=formats)
            summary = _generate_in_fresh_process(config, str(Path(scratch) / "out"))
            runs.append({"round": round_, "kind": kind, "trajectories": n, "seconds": summary.seconds,
                         "cpu_seconds": summary.cpu_seconds, "per_cpu_second": summary.per_cpu_second})
            print(f"[{i}/{len(steps)}] round {round_ + 1} {kind} {n:,}: {summary.per_cpu_second:,.0f} per CPU-second", flush=True)
    summary = summarize(runs, args.base * min(sizes), args.goal)
    print(table(summary))
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        path = RESULTS / f"generator-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}.json"
        config = GeneratorConfig(trajectories=args.base, seed=args.seed).as_dict()
        config["formats"] = resolve_formats(None)
        path.write_text(json.dumps({"args": vars(args), "config_at_base": config, "runs": runs, "summary": summary},
                                   indent=2, default=str) + "\n", encoding="utf-8")
        print(f"results: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
