"""`trajlake`: run a job in-process, list the lake's tables, query them with SQL.

    trajlake run <job> [--conf-file F] [--set k=v] [--verbose] [job options]
    trajlake tables    [--conf-file F] [--set k=v]
    trajlake sql "SELECT ... FROM silver.labels" [--limit N]
    trajlake generate --trajectories N --seed S --out DIR
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from jobs.errors import TrajlakeError
from jobs.registry import JOBS, job_module
from jobs.runtime import add_common_arguments, configure_logging, fail, run_job, settings_from_args, with_one_line_errors

COMMANDS = ("run", "tables", "sql")


def _session(args: argparse.Namespace):
    from jobs.lake import Lake
    from jobs.spark_session import build_spark

    settings = settings_from_args(args)
    spark = build_spark(settings, verbose=args.verbose)
    return spark, Lake(spark, settings)


def cmd_tables(args: argparse.Namespace) -> int:
    _, lake = _session(args)
    print(f"{'table':<28} {'rows':>10} {'version':>8}  location")
    for info in lake.describe():
        rows = f"{info.rows:,}" if info.exists else "-"
        version = str(info.version) if info.exists else "absent"
        print(f"{info.name:<28} {rows:>10} {version:>8}  {info.path}")
    return 0


def cmd_sql(args: argparse.Namespace) -> int:
    from pyspark.errors import PySparkException

    spark, lake = _session(args)
    lake.register()
    try:
        frame = spark.sql(args.query)
        frame.show(args.limit, truncate=args.truncate, vertical=args.vertical)
    except PySparkException as exc:
        first = str(exc).strip().splitlines()[0]
        raise TrajlakeError(f"query failed: {first}") from exc
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trajlake", description=__doc__.strip().splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a job in-process", add_help=False)
    run.add_argument("job", help=f"one of: {', '.join(sorted(JOBS))}")

    sub.add_parser("generate", help="write synthetic agent logs with ground truth (see --help)", add_help=False)

    tables = sub.add_parser("tables", help="list the Delta tables with row counts and versions")
    add_common_arguments(tables)

    sql = sub.add_parser("sql", help="run a SQL query against the tables")
    sql.add_argument("query")
    sql.add_argument("--limit", type=int, default=50)
    sql.add_argument("--truncate", type=int, default=60, help="cut cells to this width (0: no cut)")
    sql.add_argument("--vertical", action="store_true")
    add_common_arguments(sql)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "run":
        if len(argv) < 2 or argv[1].startswith("-"):
            return fail(f"usage: trajlake run <job> [options]; jobs: {', '.join(sorted(JOBS))}")
        try:
            module = job_module(argv[1])
        except TrajlakeError as exc:
            return fail(str(exc))
        return run_job(module, argv[2:], prog=f"trajlake run {argv[1]}")
    if argv and argv[0] == "generate":
        from benchmarks.synthetic.cli import main as generate_main

        return generate_main(argv[1:])
    args = build_parser().parse_args(argv)
    configure_logging(args.verbose)
    command = {"tables": cmd_tables, "sql": cmd_sql}[args.command]
    return with_one_line_errors(lambda: command(args), args.verbose)


if __name__ == "__main__":
    sys.exit(main())
