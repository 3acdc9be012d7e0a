"""The jobs that exist, by name: what `trajlake run <job>` and the pipeline can call.

A stage joins the pipeline by being listed here once it is built; `pipeline.stages` in conf
gives the order.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from jobs.errors import TrajlakeError

JOBS: dict[str, str] = {
    "pipeline": "jobs.pipeline",
    "ingest": "jobs.ingest",
    "normalize": "jobs.normalize",
    "label": "jobs.label",
    "redact": "jobs.redact",
    "leakscan": "jobs.leakscan",
}


def job_module(name: str) -> ModuleType:
    if name not in JOBS:
        raise TrajlakeError(f"unknown job '{name}' (jobs: {', '.join(sorted(JOBS))})")
    return importlib.import_module(JOBS[name])


def is_built(stage: str) -> bool:
    return stage in JOBS and stage != "pipeline"
