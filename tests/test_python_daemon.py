"""The Python worker daemon: a zip on the path is read again only when it changed."""

from __future__ import annotations

import importlib
import sys
import time
import zipfile
import zipimport

import pytest

from jobs import python_daemon

pytestmark = pytest.mark.skipif(sys.version_info >= (3, 12), reason="Python 3.12 reads zip directories lazily itself")


@pytest.fixture
def patched(monkeypatch):
    monkeypatch.setattr(zipimport.zipimporter, "invalidate_caches", python_daemon._reread)
    monkeypatch.setattr(python_daemon, "_read_as", {})
    assert python_daemon.install()
    assert not python_daemon.install()  # once


def _write_zip(path, modules: dict[str, str]) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        for name, source in modules.items():
            archive.writestr(f"{name}.py", source)


def test_unchanged_archive_is_not_read_again(patched, tmp_path, monkeypatch):
    archive = tmp_path / "mods.zip"
    _write_zip(archive, {"first_mod": "X = 1"})
    importer = zipimport.zipimporter(str(archive))
    reads = []
    monkeypatch.setattr(python_daemon, "_reread", lambda imp: reads.append(imp.archive))
    importer.invalidate_caches()
    importer.invalidate_caches()
    importer.invalidate_caches()
    assert reads == [str(archive)]


def test_changed_archive_is_read_again_and_its_new_module_imports(patched, tmp_path, monkeypatch):
    archive = tmp_path / "mods.zip"
    _write_zip(archive, {"daemon_test_a": "X = 1"})
    monkeypatch.syspath_prepend(str(archive))
    importlib.invalidate_caches()
    assert importlib.import_module("daemon_test_a").X == 1
    _write_zip(archive, {"daemon_test_a": "X = 1", "daemon_test_b": "Y = 2"})  # a larger file: a new stamp
    importlib.invalidate_caches()
    try:
        assert importlib.import_module("daemon_test_b").Y == 2
    finally:
        sys.modules.pop("daemon_test_a", None)
        sys.modules.pop("daemon_test_b", None)


def test_spark_workers_run_the_patched_daemon(spark):
    """The session starts its Python workers from jobs.python_daemon (conf spark.python_daemon_module)."""
    import pandas as pd

    def probe(batches):
        for _ in batches:
            pass
        started = time.perf_counter()
        importlib.invalidate_caches()
        took = time.perf_counter() - started
        # zipimport's own method is "zipimporter.invalidate_caches"; the daemon's is a function.
        patched = zipimport.zipimporter.invalidate_caches.__qualname__ == "invalidate_caches"
        yield pd.DataFrame({"patched": [patched], "ms": [took * 1000]})

    assert spark.conf.get("spark.python.daemon.module") == "jobs.python_daemon"
    rows = spark.range(4).repartition(2).mapInPandas(probe, "patched boolean, ms double").collect()
    assert rows and all(r.patched for r in rows)
    # Unpatched, the spark-core jar alone took 200-350 ms; read once, it is a few stat calls.
    assert max(r.ms for r in rows) < 50
