"""Redact consented silver trajectories into the curated zone (the redaction boundary).

Writes `silver.consent` (latest decision per user, from bronze.consent), `curated.consent_exclusions`
(every silver trajectory kept out, with its reason), `curated.trajectories` (redacted) and
`curated.redaction_audit` (counts only). Incremental: only trajectories new to the curated zone
or whose content changed are redacted; trajectories whose consent is gone are deleted from it.
`--full` re-redacts everything (after changing recognizers or the redaction conf).
"""

from __future__ import annotations

import argparse
import os
from datetime import datetime, timezone

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.errors import AccountingError, ConfError
from jobs.lake import Lake
from jobs.runtime import StageResult, log, main_for
from jobs.settings import Settings
from jobs.spark_session import CACHE_LEVEL
from schemas.bronze import RAW_RECORD
from schemas.redaction import REDACTION_AUDIT
from schemas.trajectory import TRAJECTORY
from transforms.consent import gate_by_consent, latest_consent
from transforms.redaction.analyzer import model_installed
from transforms.redaction.config import RedactionConf
from transforms.redaction.increments import to_redact, to_withdraw
from transforms.redaction.redact_frame import AUDIT_COLUMN, audit_rows, curated_trajectories, redact_trajectories

NAME = "redact"
CURATED = "curated.trajectories"
AUDIT = "curated.redaction_audit"
EXCLUSIONS = "curated.consent_exclusions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--full", action="store_true",
        help="re-redact every consented trajectory, not only new or changed ones (after a conf change)",
    )


def redaction_conf(settings: Settings) -> RedactionConf:
    """The redaction conf, with the HMAC key read from the environment when hash mode is on."""
    section = settings["redaction"]
    key = os.environ.get(str(section["hash_key_env"]), "") if section["placeholder_mode"] == "hash" else ""
    conf = RedactionConf.from_section(section, key.encode() if key else None)
    if not model_installed(conf.analyzer.model):
        raise ConfError(
            f"redaction.model '{conf.analyzer.model}' is not an installed spaCy model package (pip install it)"
        )
    return conf


def _delete_trajectories(lake: Lake, name: str, ids: DataFrame) -> None:
    (
        lake.delta(name).alias("t")
        .merge(ids.alias("s"), "t.trajectory_id = s.trajectory_id")
        .whenMatchedDelete()
        .execute()
    )


def run(spark: SparkSession, settings: Settings, args: argparse.Namespace) -> StageResult:
    lake = Lake(spark, settings)
    conf = redaction_conf(settings)
    now = datetime.now(timezone.utc).replace(tzinfo=None)

    lake.overwrite(
        latest_consent(lake.read_or_empty("bronze.consent", RAW_RECORD), str(settings["redaction.consent_scope"])),
        "silver.consent",
    )
    silver = lake.read("silver.trajectories")
    gate = gate_by_consent(silver, lake.read("silver.consent"), now)
    lake.overwrite(gate.excluded, EXCLUSIONS)
    excluded = lake.read(EXCLUSIONS).count()
    lake.ensure(CURATED, TRAJECTORY)
    lake.ensure(AUDIT, REDACTION_AUDIT)

    full = bool(getattr(args, "full", False))
    curated = lake.read(CURATED)
    # Withdrawals first: a revoked consent takes effect even if redaction fails below.
    withdrawn = to_withdraw(gate.allowed, curated).persist(CACHE_LEVEL)
    withdrawn_count = withdrawn.count()
    if withdrawn_count and not full:
        _delete_trajectories(lake, AUDIT, withdrawn)
        _delete_trajectories(lake, CURATED, withdrawn)
    withdrawn.unpersist()

    todo = gate.allowed if full else to_redact(gate.allowed, lake.read(CURATED))
    redacted = todo.transform(redact_trajectories, conf).persist(CACHE_LEVEL)
    try:
        redacted_count = redacted.count()  # runs the redaction, once
        log.info(f"[redact] {redacted_count:,} redacted, {withdrawn_count:,} withdrawn, {excluded:,} excluded")
        entities = redacted.select(F.explode(AUDIT_COLUMN).alias("e")).agg(F.sum("e.count")).head()[0] or 0
        audit = audit_rows(redacted, conf.placeholder_mode, now)
        if full:
            lake.overwrite(audit, AUDIT)
            lake.overwrite(curated_trajectories(redacted), CURATED)
        else:
            if redacted_count:  # changed content: the old version goes, audit and all
                _delete_trajectories(lake, AUDIT, redacted.select("trajectory_id"))
                _delete_trajectories(lake, CURATED, redacted.select("trajectory_id"))
            lake.append(audit, AUDIT)
            lake.append(curated_trajectories(redacted), CURATED)
    finally:
        redacted.unpersist()

    silver_count = silver.count()
    curated_count = lake.read(CURATED).count()
    if curated_count + excluded != silver_count:
        raise AccountingError(
            f"redact accounting failed: curated {curated_count:,} + excluded {excluded:,} != silver {silver_count:,}"
        )
    return StageResult(
        silver_count,
        curated_count,
        {"redacted": redacted_count, "withdrawn": withdrawn_count, "excluded": excluded, "entities": entities,
         "mode": conf.placeholder_mode + (" full" if full else "")},
    )


if __name__ == "__main__":
    main_for(__name__)
