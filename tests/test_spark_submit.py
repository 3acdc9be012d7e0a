"""Every job file runs under plain `spark-submit`, as it would on a cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from jobs.spark_session import PROJECT_ROOT
from tests.raw_files import line, native_record, write_lines


def test_spark_submit_runs_a_job_file(tmp_path):
    write_lines(tmp_path / "raw" / "logs" / "a.jsonl", [line(native_record("t-submit")), b"not json"])
    conf = tmp_path / "job.yaml"
    conf.write_text(
        "spark:\n  master: 'local[1]'\n  shuffle_partitions: 1\n"
        f"storage:\n  raw: {tmp_path / 'raw'}\n  operational: {tmp_path / 'op'}\n  curated: {tmp_path / 'cur'}\n"
    )
    bin_dir = Path(sys.executable).parent
    jars = ",".join(str(p) for p in sorted((PROJECT_ROOT / "jars" / "lib").glob("*.jar")))
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", PYSPARK_PYTHON=sys.executable)
    done = subprocess.run(
        [str(bin_dir / "spark-submit"), "--jars", jars,
         "--driver-java-options", f"-Dlog4j2.configurationFile=file:{PROJECT_ROOT / 'conf' / 'log4j2.properties'}",
         str(PROJECT_ROOT / "jobs" / "ingest.py"), "--conf-file", str(conf)],
        capture_output=True, text=True, env=env, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "[ingest] rows in 2  rows out 1" in done.stdout
    assert "quarantined=1" in done.stdout
    assert (tmp_path / "op" / "bronze" / "trajectories" / "_delta_log").is_dir()
