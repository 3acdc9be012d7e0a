"""One SparkSession for the whole suite, built by the same factory the jobs use."""

from __future__ import annotations

import pytest

from jobs.lake import Lake
from jobs.settings import Settings, load_settings
from jobs.spark_session import build_spark


@pytest.fixture(scope="session")
def lake_root(tmp_path_factory) -> str:
    return str(tmp_path_factory.mktemp("lakehouse"))


@pytest.fixture(scope="session")
def base_settings(lake_root) -> Settings:
    return load_settings(
        assignments=[
            f"storage.raw={lake_root}/raw",
            f"storage.operational={lake_root}/operational",
            f"storage.curated={lake_root}/curated",
            "spark.master=local[2]",
            "spark.shuffle_partitions=2",
            "spark.driver_memory=2g",
        ],
        environ={},
    )


@pytest.fixture(scope="session")
def spark(base_settings):
    session = build_spark(base_settings)
    yield session
    session.stop()


@pytest.fixture
def fresh_settings(tmp_path, base_settings) -> Settings:
    """Settings whose storage roots are empty folders of this test alone."""
    return base_settings.with_overrides(
        {
            "storage.raw": str(tmp_path / "raw"),
            "storage.operational": str(tmp_path / "operational"),
            "storage.curated": str(tmp_path / "curated"),
        }
    )


@pytest.fixture
def lake(spark, fresh_settings) -> Lake:
    return Lake(spark, fresh_settings)
