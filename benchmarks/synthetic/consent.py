"""Consent records per user: granted, refused, or granted and revoked later (a later record).

Raw lines follow schemas.consent; the truth is each user's final decision (status null when the
user never recorded one: such users' trajectories are not consented for training).
"""

from __future__ import annotations

import random
from dataclasses import dataclass

GRANTED, REFUSED, REVOKED = "granted", "refused", "revoked"
SCOPE = "training"


@dataclass(frozen=True)
class ConsentRecord:
    day_index: int  # the dt folder it is written to
    at_ms: int
    status: str


def consent_history(rng: random.Random, days: int, day_start, refused_rate: float, revoked_rate: float,
                    missing_rate: float) -> tuple[list[ConsentRecord], str | None]:
    """(records to write, final status) for one user; day_start(i) is day i's first millisecond."""
    pick = rng.random()
    first_day = rng.randrange(days)
    first = day_start(first_day) + rng.randrange(86_400_000)
    if pick < missing_rate:
        return [], None
    if pick < missing_rate + refused_rate:
        return [ConsentRecord(first_day, first, REFUSED)], REFUSED
    records = [ConsentRecord(first_day, first, GRANTED)]
    if pick < missing_rate + refused_rate + revoked_rate:
        later_day = first_day + rng.randint(1, 2)  # may go past the last log day: a later batch
        records.append(ConsentRecord(later_day, day_start(later_day) + rng.randrange(86_400_000), REVOKED))
        return records, REVOKED
    if rng.random() < 0.1:  # re-affirmed later: a second, identical decision
        again = first_day + 1
        records.append(ConsentRecord(again, day_start(again) + rng.randrange(86_400_000), GRANTED))
    return records, GRANTED


def consent_record(user_id: str, tenant: str | None, status: str, updated_at: str) -> dict:
    return {"user_id": user_id, "tenant": tenant, "status": status, "scope": SCOPE, "updated_at": updated_at}
