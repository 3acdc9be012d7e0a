"""Ingest and normalize with raw logs and the lake on s3a://, against a local S3 (moto).

The same generated logs go through the jobs twice: from a local folder in the suite's session,
and from a bucket in a `trajlake run` process that has hadoop-aws (resolved as `--packages`
would: Ivy, from ~/.m2 or Maven Central). Both must account for every line the same way, and a
rerun on S3 must add nothing.

Opt-in: hadoop-aws pulls the 600 MB AWS SDK bundle and each job on moto takes about a minute, so
`make test-s3a` runs it (it sets TRAJLAKE_S3A_TEST=1 and installs the `s3` extra); `make test`
skips it.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from benchmarks.synthetic.config import GeneratorConfig
from benchmarks.synthetic.generator import generate
from jobs import cli

pytestmark = pytest.mark.skipif(
    os.environ.get("TRAJLAKE_S3A_TEST") != "1", reason="s3a round trip is opt-in: make test-s3a"
)

TRAJLAKE = str(Path(sys.executable).parent / "trajlake")
ACCESS_KEY = SECRET_KEY = "testing"  # moto accepts any
RESULT_LINE = re.compile(r"^\[(\w+)\] rows in ([\d,]+)  rows out ([\d,]+)  [\d.]+s(.*)$", re.M)


def hadoop_version() -> str:
    """The Hadoop that pyspark ships: hadoop-aws must be the same version."""
    import pyspark

    jars = sorted((Path(pyspark.__file__).parent / "jars").glob("hadoop-client-api-*.jar"))
    assert jars, "pyspark ships no hadoop-client-api jar"
    return jars[0].name.removeprefix("hadoop-client-api-").removesuffix(".jar")


@pytest.fixture(scope="module")
def s3_endpoint():
    from moto.server import ThreadedMotoServer

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


def _s3(endpoint: str):
    import boto3

    return boto3.client(
        "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY, region_name="us-east-1"
    )


def _results(output: str) -> dict[str, tuple[str, str, str]]:
    """stage -> (rows in, rows out, detail without the run id) from the jobs' result lines."""
    found = {}
    for stage, rows_in, rows_out, detail in RESULT_LINE.findall(output):
        found[stage] = (rows_in, rows_out, re.sub(r"\s*run=\S+", "", detail).strip())
    return found


def test_ingest_and_normalize_on_s3a_match_local(spark, fresh_settings, tmp_path, s3_endpoint, capsys):
    generated = tmp_path / "generated"
    generate(GeneratorConfig(trajectories=200, seed=21), generated)

    s3 = _s3(s3_endpoint)
    for bucket in ("raw", "lake"):
        s3.create_bucket(Bucket=bucket)
    uploaded = 0
    for path in sorted(generated.rglob("*")):
        relative = path.relative_to(generated)
        if path.is_file() and relative.parts[0] != "_truth":  # the truth is never the pipeline's input
            s3.upload_file(str(path), "raw", f"agent-logs/{relative.as_posix()}")
            uploaded += 1
    assert uploaded > 10

    # Local: the suite's session, the same files.
    local = ["--set", f"storage.raw={generated}", "--set", f"storage.operational={fresh_settings['storage.operational']}",
             "--set", f"storage.curated={fresh_settings['storage.curated']}",
             "--set", f"spark.shuffle_partitions={fresh_settings['spark.shuffle_partitions']}"]
    for stage in ("ingest", "normalize"):
        assert cli.main(["run", stage, *local]) == 0
    expected = _results(capsys.readouterr().out)

    conf = tmp_path / "s3a.yaml"
    conf.write_text(yaml.safe_dump({
        "spark": {
            "master": "local[2]",
            "shuffle_partitions": 2,
            "extra": {
                "spark.jars.packages": f"org.apache.hadoop:hadoop-aws:{hadoop_version()}",
                "spark.hadoop.fs.s3a.endpoint": s3_endpoint,
                "spark.hadoop.fs.s3a.endpoint.region": "us-east-1",
                "spark.hadoop.fs.s3a.path.style.access": "true",
                "spark.hadoop.fs.s3a.connection.ssl.enabled": "false",
                "spark.hadoop.fs.s3a.access.key": ACCESS_KEY,
                "spark.hadoop.fs.s3a.secret.key": SECRET_KEY,
            },
        },
        "storage": {"raw": "s3a://raw/agent-logs", "operational": "s3a://lake/operational", "curated": "s3a://lake/curated"},
    }))

    def run(stage: str) -> tuple[str, str, str]:
        done = subprocess.run([TRAJLAKE, "run", stage, "--conf-file", str(conf)], capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return _results(done.stdout)[stage]

    on_s3 = {stage: run(stage) for stage in ("ingest", "normalize")}
    assert on_s3 == expected
    assert int(on_s3["normalize"][1].replace(",", "")) > 150  # trajectories reached silver on S3

    rerun = run("ingest")
    assert rerun[:2] == ("0", "0") and "new_files=0" in rerun[2]

    # What the jobs wrote is in the bucket, as Delta tables.
    keys = {o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket="lake") for o in page.get("Contents", [])}
    for table in ("bronze/trajectories", "bronze/quarantine", "bronze/ingest_log", "silver/trajectories"):
        assert any(k.startswith(f"operational/{table}/_delta_log/") for k in keys), table
