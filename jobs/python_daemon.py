"""pyspark's Python worker daemon, without the zip re-reads Python 3.10-3.11 add to every task.

Before each task a pyspark worker calls `importlib.invalidate_caches()`. On Python 3.10 and 3.11
that makes every `zipimporter` read its archive's whole directory again, in pure Python
(CPython gh-103200, fixed in 3.12; Spark's own fix, SPARK-54744, is not in 4.1). Spark puts
three archives on the workers' path: the spark-core jar (5,362 entries), pyspark.zip and py4j's
zip, and a zipimporter is cached for each package directory imported from them. A task paid
200-350 ms of CPU for it, measured in a worker: a mapInArrow task over a few records cost more
than its records did.

Here a zip archive's directory is read again only when the archive changed on disk (its size,
modification time or inode), which is the only way a fresh read could differ; every other
import cache is still reset as before. Spark starts this module in place of `pyspark.daemon`
(conf `spark.python_daemon_module` -> `spark.python.daemon.module`); the workers it forks
inherit the change.
"""

from __future__ import annotations

import importlib
import os
import sys
import zipimport

_reread = zipimport.zipimporter.invalidate_caches
_read_as: dict[str, tuple[int, int, int] | None] = {}  # archive -> its stat when last read


def _stamp(archive: str) -> tuple[int, int, int] | None:
    try:
        found = os.stat(archive)
    except OSError:
        return None
    return (found.st_size, found.st_mtime_ns, found.st_ino)


def invalidate_caches(importer: zipimport.zipimporter) -> None:
    """zipimporter.invalidate_caches, skipped for an archive unchanged since it was last read."""
    stamp = _stamp(importer.archive)
    if stamp is not None and _read_as.get(importer.archive) == stamp:
        return
    _reread(importer)
    _read_as[importer.archive] = stamp


def install() -> bool:
    """Patch zipimporter where the re-read is eager (Python < 3.12); True when it did."""
    if sys.version_info >= (3, 12) or zipimport.zipimporter.invalidate_caches is invalidate_caches:
        return False
    zipimport.zipimporter.invalidate_caches = invalidate_caches
    return True


if __name__ == "__main__":
    install()
    from pyspark import daemon  # resolves the worker module from sys.argv, as when run itself

    importlib.invalidate_caches()  # read once here, so the forked workers start with it done
    daemon.manager()
