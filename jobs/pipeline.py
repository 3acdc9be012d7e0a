"""Run the pipeline's stages in order (ingest, normalize, label, redact, curate, validate, publish, export).

Each stage is a job of its own; this one runs those that are built, in `pipeline.stages` order,
with `--only` / `--skip`, one progress line per stage and a summary of the tables at the end.
"""

from __future__ import annotations

import argparse

from pyspark.sql import SparkSession

from jobs.errors import TrajlakeError
from jobs.lake import Lake
from jobs.registry import is_built, job_module
from jobs.runtime import StageResult, main_for, run_timed
from jobs.settings import Settings

NAME = "pipeline"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", default="", help="comma-separated stages to run (default: all built)")
    parser.add_argument("--skip", default="", help="comma-separated stages to leave out")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def plan(settings: Settings, only: list[str], skip: list[str]) -> list[str]:
    """The stages to run, in order; naming a stage that does not exist (or is not built) is an error."""
    order = list(settings["pipeline.stages"])
    for stage in only + skip:
        if stage not in order:
            raise TrajlakeError(f"unknown stage '{stage}' (stages: {', '.join(order)})")
    for stage in only:
        if not is_built(stage):
            raise TrajlakeError(f"stage '{stage}' is not built yet")
    chosen = only or [s for s in order if is_built(s)]
    return [s for s in order if s in chosen and s not in skip]


def summary_lines(lake: Lake) -> list[str]:
    lines = ["", f"{'table':<28} {'rows':>10} {'version':>8}  location"]
    for info in lake.describe():
        if info.exists:
            lines.append(f"{info.name:<28} {info.rows:>10,} {info.version:>8}  {info.path}")
    return lines


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    stages = plan(settings, _names(args.only), _names(args.skip))
    if not stages:
        raise TrajlakeError("no stage to run (all skipped, or none built yet)")
    results = {}
    for stage in stages:
        module = job_module(stage)
        stage_args = module_args(module, args)
        results[stage] = run_timed(stage, lambda m=module, a=stage_args: m.run(spark, settings, a))
    for line in summary_lines(Lake(spark, settings)):
        print(line)
    first, last = results[stages[0]], results[stages[-1]]
    return StageResult(first.rows_in, last.rows_out, {"stages": "+".join(stages)})


def module_args(module, args: argparse.Namespace) -> argparse.Namespace:
    """The stage's own defaults, with the shared options of this run."""
    from jobs.runtime import job_parser

    stage_args = job_parser(module).parse_args([])
    for shared in ("conf_file", "assignments", "verbose"):
        setattr(stage_args, shared, getattr(args, shared))
    return stage_args


if __name__ == "__main__":
    main_for(__name__)
