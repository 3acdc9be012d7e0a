"""The `trajlake` command: tables, sql, and one-line errors instead of stack traces."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from jobs import cli

TRAJLAKE = str(Path(sys.executable).parent / "trajlake")


def _roots(settings) -> list[str]:
    """The test's storage roots, and the suite's shuffle partitions (in-process runs share its session)."""
    roots = [arg for key in ("raw", "operational", "curated") for arg in ("--set", f"storage.{key}={settings[f'storage.{key}']}")]
    return roots + ["--set", f"spark.shuffle_partitions={settings['spark.shuffle_partitions']}"]


def _one_line_error(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip() and "incubator" not in line]
    assert len(lines) == 1, text
    assert lines[0].startswith("trajlake: error: ")
    assert "Traceback" not in text and "at org." not in text
    return lines[0]


def test_tables_lists_row_counts_and_versions(spark, lake, fresh_settings, capsys):
    frame = spark.createDataFrame([(1,), (2,)], "n INT")
    lake.overwrite(frame, "silver.labels")
    lake.overwrite(frame.union(frame), "silver.labels")
    assert cli.main(["tables", *_roots(fresh_settings)]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("silver.labels"))
    assert row.split()[1:3] == ["4", "1"]
    assert next(line for line in out.splitlines() if line.startswith("gold.exclusions")).split()[1:3] == ["-", "absent"]


def test_sql_addresses_tables_by_design_names(spark, lake, fresh_settings, capsys):
    lake.overwrite(spark.createDataFrame([("a", 3), ("b", 4)], "k STRING, n INT"), "bronze.quarantine")
    assert cli.main(["sql", "SELECT sum(n) AS total FROM bronze.quarantine", *_roots(fresh_settings)]) == 0
    assert re.search(r"^\|\s+7\|$", capsys.readouterr().out, re.M)


def test_sql_error_is_one_line(spark, lake, fresh_settings, capsys):
    assert cli.main(["sql", "SELECT * FROM silver.nope", *_roots(fresh_settings)]) == 2
    assert "query failed" in _one_line_error(capsys.readouterr().err)


def test_unknown_job(capsys):
    assert cli.main(["run", "frobnicate"]) == 2
    message = _one_line_error(capsys.readouterr().err)
    assert "unknown job 'frobnicate'" in message and "ingest" in message


def test_bad_conf_key(capsys):
    assert cli.main(["tables", "--set", "storage.rwa=/x"]) == 2
    assert "unknown conf key 'storage.rwa'" in _one_line_error(capsys.readouterr().err)


def test_missing_raw_root(spark, fresh_settings, capsys):
    args = ["run", "ingest", *_roots(fresh_settings), "--set", "storage.raw=/no/such/raw/root"]
    assert cli.main(args) == 2
    assert "raw storage root does not exist: file:///no/such/raw/root" in _one_line_error(capsys.readouterr().err)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("nosuchfs://bucket/raw", 'storage error (UnsupportedFileSystemException): No FileSystem for scheme "nosuchfs"'),
        # the suite's session has no hadoop-aws: the user is told what to add
        ("s3a://bucket/raw", "S3AFileSystem not found; s3a:// needs the hadoop-aws jar"),
    ],
)
def test_unreachable_storage_is_one_line(spark, fresh_settings, capsys, raw, expected):
    assert cli.main(["run", "ingest", *_roots(fresh_settings), "--set", f"storage.raw={raw}"]) == 2
    assert expected in _one_line_error(capsys.readouterr().err)


def test_tables_on_unreachable_storage_is_one_line(spark, fresh_settings, capsys):
    assert cli.main(["tables", *_roots(fresh_settings), "--set", "storage.operational=nosuchfs://bucket/lake"]) == 2
    assert 'No FileSystem for scheme "nosuchfs"' in _one_line_error(capsys.readouterr().err)


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([TRAJLAKE, *args], capture_output=True, text=True, env=env, timeout=300)


def test_missing_java_is_named():
    env = {k: v for k, v in os.environ.items() if k != "JAVA_HOME"}
    env["PATH"] = str(Path(sys.executable).parent)
    done = _run(["tables"], env)
    assert done.returncode == 2
    assert "Java not found" in _one_line_error(done.stderr)


def test_delta_jars_unavailable_without_jars_or_package():
    done = _run(["tables", "--set", "spark.jars_dir=/nowhere", "--set", "spark.delta_package="], dict(os.environ))
    assert done.returncode == 2
    assert "Delta jars unavailable" in _one_line_error(done.stderr)


@pytest.mark.skipif(os.environ.get("TRAJLAKE_OFFLINE") == "1", reason="asks Maven Central for a missing artifact")
def test_delta_jars_unresolvable_package_is_named():
    package = "io.delta:delta-spark_4.1_2.13:0.0.0-missing"
    done = _run(["tables", "--set", "spark.jars_dir=/nowhere", "--set", f"spark.delta_package={package}"], dict(os.environ))
    assert done.returncode == 2
    # Ivy's resolution report comes first on stderr; the last line is ours.
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("trajlake: error: ") and "Delta jars unavailable" in last and package in last


def test_generate_help_lists_every_setting(capsys):
    """argparse formats help texts with %: one stray % in a setting's text breaks --help."""
    with pytest.raises(SystemExit) as done:
        cli.main(["generate", "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "--gzip-level" in text and "--trajectories" in text
