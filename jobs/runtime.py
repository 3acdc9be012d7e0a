"""What every job shares: its command-line options, its result line, and one-line errors.

A job module defines `run(spark, settings, args) -> StageResult` and optionally
`add_arguments(parser)`; `main_for(module)` turns it into a `spark-submit`-able script and the
CLI's `trajlake run <job>` calls the same function in-process.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from jobs.errors import TrajlakeError
from jobs.settings import Settings, load_settings

log = logging.getLogger("trajlake")


@dataclass
class StageResult:
    """What a stage reports: rows it read, rows it wrote, and anything else worth a line."""

    rows_in: int
    rows_out: int
    detail: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def line(self, name: str) -> str:
        extra = "".join(f"  {k}={v}" for k, v in self.detail.items())
        return f"[{name}] rows in {self.rows_in:,}  rows out {self.rows_out:,}  {self.seconds:.1f}s{extra}"


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--conf-file", help="YAML file overriding conf/local.yaml")
    parser.add_argument(
        "--set", dest="assignments", action="append", default=[], metavar="KEY=VALUE",
        help="override one conf key, e.g. --set storage.raw=/data/logs (repeatable)",
    )
    parser.add_argument("--verbose", action="store_true", help="show Spark's logs and progress bars")


def settings_from_args(args: argparse.Namespace) -> Settings:
    return load_settings(args.conf_file, args.assignments)


def configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        stream=sys.stdout,
    )
    for noisy in ("py4j", "presidio-analyzer", "presidio-anonymizer", "great_expectations", "tldextract"):
        logging.getLogger(noisy).setLevel(logging.INFO if verbose else logging.ERROR)
    # PySpark logs every failed query as JSON with the Java stack; the CLI says it in one line.
    logging.getLogger("SQLQueryContextLogger").setLevel(logging.INFO if verbose else logging.CRITICAL)


def run_timed(name: str, fn: Callable[[], StageResult]) -> StageResult:
    start = time.perf_counter()
    result = fn()
    result.seconds = time.perf_counter() - start
    print(result.line(name), flush=True)
    return result


def fail(message: str) -> int:
    print(f"trajlake: error: {message}", file=sys.stderr, flush=True)
    return 2


# Storage the JVM cannot reach is a set-up problem the user fixes in conf, not a bug: the first
# IOException in the Java cause chain says what (no FileSystem for a scheme, refused
# credentials, an unknown host), as does a Hadoop FileSystem class that is not on the classpath
# (s3a:// without hadoop-aws). The CLI prints that line instead of Spark's stack.
_S3A_HINT = "; s3a:// needs the hadoop-aws jar (README: Object storage)"


def storage_failure(exc: BaseException) -> str | None:
    """The one-line storage error behind a failed JVM call, or None when it is not one (or the
    JVM can no longer say)."""
    throwable = getattr(exc, "java_exception", None) or getattr(exc, "_origin", None)
    if throwable is None:
        return None
    from py4j.java_gateway import is_instance_of
    from py4j.protocol import Py4JError
    from pyspark import SparkContext

    gateway = SparkContext._gateway
    if gateway is None:
        return None
    try:
        for _ in range(20):  # a cause chain can loop
            if throwable is None:
                return None
            lines = str(throwable.getMessage() or "").strip().splitlines()
            message = lines[0] if lines else "no message"
            missing_filesystem = is_instance_of(gateway, throwable, "java.lang.ClassNotFoundException") and "org.apache.hadoop.fs." in message
            if missing_filesystem or is_instance_of(gateway, throwable, "java.io.IOException"):
                text = f"storage error ({throwable.getClass().getSimpleName()}): {message}"
                no_s3a = (missing_filesystem and "s3a" in message.lower()) or 'scheme "s3a"' in message
                return text + (_S3A_HINT if no_s3a else "")
            throwable = throwable.getCause()
    except Py4JError:  # the JVM is gone: the original error tells more
        return None
    return None


def with_one_line_errors(command: Callable[[], int], verbose: bool) -> int:
    """command()'s exit code; a TrajlakeError, or (unless verbose) a JVM error whose cause is
    storage, is printed as one line and gives 2. Every CLI command runs through it."""
    try:
        return command()
    except TrajlakeError as exc:
        return fail(str(exc))
    except Exception as exc:
        message = None if verbose else storage_failure(exc)
        if message is None:
            raise
        return fail(message)


def job_parser(module: ModuleType, prog: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=(module.__doc__ or "").strip().splitlines()[0])
    add_common_arguments(parser)
    if hasattr(module, "add_arguments"):
        module.add_arguments(parser)
    return parser


def run_job(module: ModuleType, argv: Sequence[str] | None, prog: str | None = None) -> int:
    """Parse options, build the session, run the job, print its line; errors become one line."""
    from jobs.spark_session import build_spark  # keep `--help` free of the JVM import cost

    args = job_parser(module, prog).parse_args(argv)
    configure_logging(args.verbose)
    name = getattr(module, "NAME", module.__name__.rsplit(".", 1)[-1])

    def job() -> int:
        settings = settings_from_args(args)
        spark = build_spark(settings, verbose=args.verbose)
        run_timed(name, lambda: module.run(spark, settings, args))
        return 0

    return with_one_line_errors(job, args.verbose)


def main_for(module_name: str) -> None:
    """`if __name__ == "__main__": main_for(__name__)` at the foot of every job file."""
    module = sys.modules[module_name]
    sys.exit(run_job(module, sys.argv[1:]))
