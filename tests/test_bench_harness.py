"""The benchmark harness's CPU accounting."""

from __future__ import annotations

import subprocess
import sys

from benchmarks.run import ResourceSampler

# A process that ignores SIGCHLD, as pyspark's daemon does, starts a worker that burns CPU and
# exits; nobody's "children" CPU ever includes the worker's time.
_BURN_SECONDS = 1.0
_WORKER = f"import time\nt = time.process_time()\nwhile time.process_time() - t < {_BURN_SECONDS}: pass"
_DAEMON = (
    "import signal, subprocess, sys, time\n"
    "signal.signal(signal.SIGCHLD, signal.SIG_IGN)\n"
    f"subprocess.Popen([sys.executable, '-c', {_WORKER!r}])\n"
    "time.sleep(2.5)"
)


def test_cpu_of_workers_that_exit_under_a_daemon_is_counted():
    with ResourceSampler() as sampled:
        subprocess.run([sys.executable, "-c", _DAEMON], check=True)
    assert sampled.cpu_seconds >= 0.8 * _BURN_SECONDS
