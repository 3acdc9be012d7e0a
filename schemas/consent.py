"""Consent: whether a user's trajectories may be used for training.

Raw consent lines (bronze.consent.record) are JSON objects:
  {"user_id": str, "tenant": str|null, "status": "granted"|"refused"|"revoked",
   "scope": "training", "updated_at": ISO-8601}
"""

from pyspark.sql.types import BooleanType, StringType, StructField, StructType, TimestampType

CONSENT_STATUSES = ("granted", "refused", "revoked")

CONSENT_RECORD = StructType(
    [
        StructField("user_id", StringType()),
        StructField("tenant", StringType()),
        StructField("status", StringType()),
        StructField("scope", StringType()),
        StructField("updated_at", StringType()),
    ]
)

# silver.consent: the latest decision per user.
CONSENT = StructType(
    [
        StructField("user_id", StringType(), nullable=False),
        StructField("tenant", StringType()),
        StructField("status", StringType()),
        StructField("training_allowed", BooleanType()),
        StructField("updated_at", TimestampType()),
    ]
)
