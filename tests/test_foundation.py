"""The skeleton: conf layering, the session factory, Delta time travel through Lake."""

from __future__ import annotations

import pytest
from chispa import assert_df_equality
from pyspark.sql import functions as F

from jobs.errors import ConfError
from jobs.settings import load_settings
from jobs.spark_session import build_spark, driver_java_options
from schemas.bronze import QUARANTINE
from schemas.trajectory import TRACE_KEYS, TRAJECTORY


def test_conf_layers_in_order(tmp_path):
    conf_file = tmp_path / "my.yaml"
    conf_file.write_text("storage:\n  raw: /from/file\nspark:\n  shuffle_partitions: 9\n")
    settings = load_settings(
        str(conf_file),
        ["storage.raw=/from/set"],
        environ={"TRAJLAKE__SPARK__SHUFFLE_PARTITIONS": "3", "TRAJLAKE__STORAGE__CURATED": "/env/c"},
    )
    assert settings["storage.raw"] == "/from/set"
    assert settings["spark.shuffle_partitions"] == 3
    assert settings["storage.curated"] == "/env/c"
    assert settings["tables.silver.labels"] == "operational:silver/labels"


@pytest.mark.parametrize(
    "assignment", ["storage.rwa=/x", "nope=1", "tables.bronze=flat", "storage.raw.deeper=1"]
)
def test_bad_conf_key_is_a_one_line_error(assignment):
    with pytest.raises(ConfError) as err:
        load_settings(assignments=[assignment], environ={})
    assert "\n" not in str(err.value)
    assert assignment.split("=")[0].split(".")[0] in str(err.value)


def test_spark_extra_is_free_form():
    settings = load_settings(assignments=["spark.extra.spark.sql.ansi.enabled=false"], environ={})
    assert settings["spark.extra"] == {"spark.sql.ansi.enabled": False}


def test_session_has_delta_and_conf(spark, base_settings):
    spark = build_spark(base_settings)  # the factory (re)applies conf to the running session
    assert spark.conf.get("spark.sql.shuffle.partitions") == "2"
    assert "DeltaSparkSessionExtension" in spark.conf.get("spark.sql.extensions")


def test_generated_code_is_compiled_once_per_session(spark):
    """Spark keeps more compiled classes than its default 100 (spark.codegen_cache_entries): one
    normalize compiles about 250, so at 100 each run and each stage after it compiled all of them
    again. More distinct queries than 100 classes, then the first again: nothing is compiled."""
    compilations = spark._jvm.org.apache.spark.metrics.source.CodegenMetrics.METRIC_COMPILATION_TIME()
    # A literal is written into the generated code, so each query compiles its own classes.
    queries = [spark.range(1).select((F.col("id") + F.lit(7_000_000 + i)).alias("x")) for i in range(60)]
    start = compilations.getCount()
    for query in queries:
        query.collect()
    before = compilations.getCount()
    assert before - start > 100
    assert queries[0].collect() == [(7_000_000,)]
    assert compilations.getCount() == before


def test_driver_jvm_gets_the_configured_java_options(spark, base_settings):
    """spark.driver_java_options reach the JVM the session runs in (after the logging config),
    and verbose sessions leave the logging config out."""
    arguments = list(spark._jvm.java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments())
    configured = base_settings["spark.driver_java_options"].split()
    assert configured and all(option in arguments for option in configured)
    assert any(a.startswith("-Dlog4j2.configurationFile=") for a in arguments)
    assert driver_java_options(base_settings, verbose=True) == base_settings["spark.driver_java_options"]
    assert driver_java_options(base_settings.with_overrides({"spark.driver_java_options": ""}), verbose=True) == ""


def test_delta_write_and_time_travel(spark, lake):
    first = spark.createDataFrame([(1, "a"), (2, "b")], "id INT, v STRING")
    second = spark.createDataFrame([(3, "c")], "id INT, v STRING")
    lake.overwrite(first, "silver.labels")
    lake.overwrite(second, "silver.labels")
    assert lake.version("silver.labels") == 1
    assert_df_equality(lake.read("silver.labels", version=0), first, ignore_row_order=True)
    assert_df_equality(lake.read("silver.labels"), second)
    assert lake.path("silver.labels").startswith("file:")
    assert lake.path("curated.trajectories").startswith(lake.root("curated"))


def test_registered_tables_answer_sql(spark, lake):
    lake.overwrite(spark.createDataFrame([(1,), (2,), (3,)], "n INT"), "gold.exclusions")
    assert "gold.exclusions" in lake.register()
    assert spark.sql("SELECT sum(n) AS s FROM gold.exclusions").head()["s"] == 6


def test_ensure_stores_the_schema_a_dataframe_write_would(spark, lake, tmp_path):
    """ensure() creates tables by a metadata-only commit; their schema must be the one an empty
    DataFrame write gives (all nullable, nested too), or later appends and merges would differ."""
    assert not TRAJECTORY["trajectory_id"].nullable  # declared NOT NULL: the case that matters
    for name, schema in [("silver.trajectories", TRAJECTORY), ("bronze.quarantine", QUARANTINE), ("silver.trace_keys", TRACE_KEYS)]:
        lake.ensure(name, schema)
        written = str(tmp_path / name)
        spark.createDataFrame([], schema).write.format("delta").save(written)
        assert lake.read(name).schema == spark.read.format("delta").load(written).schema
        assert lake.version(name) == 0
        lake.ensure(name, schema)  # already there: no new version
        assert lake.version(name) == 0
