"""What a redact run has to do to the curated zone: redact the new, withdraw the gone.

Redaction is the expensive stage, so a run redacts only consented trajectories that are not in
the curated zone yet, or whose content changed since (by `content_hash`), and withdraws curated
trajectories whose consent is gone (or that left silver).
"""

from __future__ import annotations

from pyspark.sql import DataFrame

ID, CONTENT_HASH = "trajectory_id", "content_hash"


def to_redact(allowed: DataFrame, curated: DataFrame) -> DataFrame:
    """Rows of `allowed` missing from `curated` with the same content hash."""
    done = curated.select(ID, CONTENT_HASH)
    return allowed.join(
        done, (allowed[ID] == done[ID]) & allowed[CONTENT_HASH].eqNullSafe(done[CONTENT_HASH]), "left_anti"
    )


def to_withdraw(allowed: DataFrame, curated: DataFrame) -> DataFrame:
    """(trajectory_id) of curated trajectories no longer allowed."""
    return curated.select(ID).join(allowed.select(ID), ID, "left_anti")
