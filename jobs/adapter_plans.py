"""The adapters' query plans, built on a driver thread while normalize prepares its tables and
the cluster detects formats.

A trace adapter's plan is thousands of py4j calls: seconds of driver time in which the cluster
has nothing to do. Normalize needs the plans only after it has created or checked its tables,
detected the batch's formats and looked for earlier records of its traces: seconds in which the
driver mostly waits on Delta and the cluster. So the plans are built in the background meanwhile,
in registry order, skipping the formats the batch turns out not to hold once that is known.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from pyspark.sql import DataFrame

from transforms.adapters.base import Adapter
from transforms.format_detection import adapter_candidates, union_candidates


class AdapterPlans:
    """Candidates plans of `adapters` over `tagged`, started at construction."""

    def __init__(self, tagged: DataFrame, adapters: list[Adapter]):
        self._tagged = tagged
        self._adapters = adapters
        self._present: set[str] | None = None  # None: not known yet, build every format
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="adapter-plans")
        self._built = self._pool.submit(self._build)

    def _build(self) -> dict[str, DataFrame]:
        plans = {}
        for adapter in self._adapters:
            with self._lock:
                present = self._present
            if present is None or adapter.name in present:
                plans[adapter.name] = adapter_candidates(self._tagged, adapter)
        return plans

    def only(self, formats: set[str]) -> None:
        """The batch holds only these formats: the plans of the others need not be built."""
        with self._lock:
            self._present = set(formats)

    def candidates(self, adapters: list[Adapter]) -> DataFrame:
        """The union of these adapters' candidates (waits for the background plans)."""
        plans = self._built.result()
        parts = [plans[a.name] if a.name in plans else adapter_candidates(self._tagged, a) for a in adapters]
        return union_candidates(self._tagged.sparkSession, parts)

    def close(self) -> None:
        """Wait for the background thread (it cannot be interrupted mid-plan); errors surface in candidates()."""
        self._pool.shutdown(wait=True, cancel_futures=True)
