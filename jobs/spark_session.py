"""The one SparkSession factory used by every job, the CLI and the tests.

It wires Delta (SQL extension + catalog, jars), reads every Spark setting from conf, keeps the
JVM quiet unless asked, and turns the JVM's start-up failures into one-line errors that say what
is missing. It also names the storage level jobs cache DataFrames at (CACHE_LEVEL).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

from pyspark import StorageLevel
from pyspark.sql import SparkSession

from jobs.errors import EnvironmentProblem
from jobs.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DELTA_JAR_PREFIX = "delta-spark_"

# Where a job caches a DataFrame it reads more than once: in memory as Spark's cached column
# batches, spilling to disk. PySpark's StorageLevel.MEMORY_AND_DISK is the serialized level (made
# for RDDs of pickled rows): with it Spark also serializes every cached batch and reads it back
# on each scan. A 10k normalize took 12% less wall time and 13% less CPU with this level, Spark's
# default for DataFrame.persist (four rounds alternating in one JVM, 2026-12-08).
CACHE_LEVEL = StorageLevel.MEMORY_AND_DISK_DESER


def _java_available() -> bool:
    java_home = os.environ.get("JAVA_HOME")
    if java_home and (Path(java_home) / "bin" / "java").exists():
        return True
    return shutil.which("java") is not None


def delta_jars(settings: Settings) -> list[str]:
    """Explicit Delta jar files from spark.jars_dir (relative to the project), or [] if none."""
    jars_dir = Path(str(settings["spark.jars_dir"] or ""))
    if not jars_dir.is_absolute():
        jars_dir = PROJECT_ROOT / jars_dir
    if not jars_dir.is_dir():
        return []
    jars = sorted(str(p) for p in jars_dir.glob("*.jar"))
    return jars if any(Path(j).name.startswith(DELTA_JAR_PREFIX) for j in jars) else []


def _log4j_conf() -> str:
    return str(resources.files("conf").joinpath("log4j2.properties"))


def driver_java_options(settings: Settings, verbose: bool = False) -> str:
    """The driver JVM's options: the quiet logging config (unless verbose), then
    spark.driver_java_options. They apply when this process starts the JVM (`trajlake run`, the
    tests, the benchmarks); under spark-submit pass them with --driver-java-options."""
    options = [] if verbose else [f"-Dlog4j2.configurationFile=file:{_log4j_conf()}"]
    configured = str(settings["spark.driver_java_options"] or "").strip()
    return " ".join(options + ([configured] if configured else []))


def build_spark(settings: Settings, verbose: bool = False) -> SparkSession:
    """Create (or return the running) SparkSession configured from settings."""
    if not _java_available():
        raise EnvironmentProblem(
            "Java not found: install Java 17 and put `java` on PATH or set JAVA_HOME"
        )
    builder = (
        SparkSession.builder.master(str(settings["spark.master"]))
        .appName(str(settings["spark.app_name"]))
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.sql.shuffle.partitions", str(settings["spark.shuffle_partitions"]))
        .config("spark.default.parallelism", str(settings["spark.shuffle_partitions"]))
        .config("spark.databricks.delta.snapshotPartitions", str(settings["spark.shuffle_partitions"]))
        .config("spark.sql.catalogImplementation", "in-memory")
        .config("spark.sql.warehouse.dir", os.path.join(tempfile.gettempdir(), "trajlake-warehouse"))
        .config("spark.driver.memory", str(settings["spark.driver_memory"]))
        .config("spark.sql.codegen.cache.maxEntries", str(settings["spark.codegen_cache_entries"]))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        # A JSON object that repeats a key is read as Python's json, JavaScript and Spark's own
        # struct fields read it: the last value wins. Spark's defaults fail a map field on such
        # an object (one OpenAI log line failed the whole normalize) and put a variant field's
        # record in the corrupt column (a wrong_type quarantine); the adapters' Python
        # assembly, which reads the same records with json.loads, already keeps the last.
        .config("spark.sql.mapKeyDedupPolicy", "LAST_WIN")
        .config("spark.sql.variant.allowDuplicateKeys", "true")
        # Cached frames (ingest's lines, normalize's tagged records and candidates) are mostly
        # long, distinct texts, which the columnar cache's schemes (dictionary, run-length) do
        # not shrink: the 10k benchmark lake's tagged bronze took 39.8 MB compressed and 40.1 MB
        # not. Trying them cost CPU: building that cache at 4x took about 10% longer compressed.
        .config("spark.sql.inMemoryColumnarStorage.compressed", "false")
        .config("spark.ui.showConsoleProgress", "true" if verbose else "false")
        .config("spark.ui.enabled", "false")
        # PySpark's DataFrame debugging records the Python call site of every Column and
        # function call in the JVM: about five py4j round trips each, three in five of all the
        # calls an adapter's plan makes. Off, building the adapters' plans on the main thread
        # takes half the time (normalize builds them on a background thread, where the wrapper
        # does less); errors lose only the Python line in Spark's query context. spark.extra
        # can turn it on.
        .config("spark.python.sql.dataFrameDebugging.enabled", "false")
    )
    java_options = driver_java_options(settings, verbose)
    if java_options:
        builder = builder.config("spark.driver.extraJavaOptions", java_options)
    jars = delta_jars(settings)
    package = str(settings["spark.delta_package"] or "")
    if jars:
        builder = builder.config("spark.jars", ",".join(jars))
    elif package:
        builder = builder.config("spark.jars.packages", package)
    else:
        raise EnvironmentProblem(
            "Delta jars unavailable: spark.jars_dir holds no delta-spark jar and "
            "spark.delta_package is empty; run `make jars`"
        )
    daemon = str(settings["spark.python_daemon_module"] or "").strip()
    if daemon:
        builder = builder.config("spark.python.daemon.module", daemon)
    for key, value in (settings["spark.extra"] or {}).items():
        builder = builder.config(str(key), str(value))
    if str(settings["spark.master"]).startswith("local"):
        # Python workers (mapInPandas, UDFs) must run this interpreter (the venv with pyarrow,
        # Presidio), not whatever `python3` is first on PATH; clusters set PYSPARK_PYTHON.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    try:
        spark = builder.getOrCreate()
    except Exception as exc:  # the JVM died before it could talk: say why in one line
        if "JAVA_GATEWAY_EXITED" in str(exc) or "Java gateway" in str(exc):
            where = ", ".join(jars) if jars else f"package {package} (from ~/.m2 or Maven Central)"
            raise EnvironmentProblem(
                f"Spark could not start: Delta jars unavailable or unusable ({where}); "
                "run `make jars` while online, or check spark.jars_dir / spark.delta_package"
            ) from exc
        raise
    spark.sparkContext.setLogLevel("INFO" if verbose else "ERROR")
    return spark
