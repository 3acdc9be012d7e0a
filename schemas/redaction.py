"""The redaction boundary's tables: what was redacted (counts only), who was left out and why."""

from pyspark.sql.types import DoubleType, LongType, StringType, StructField, StructType, TimestampType

# Why a trajectory did not cross into the curated zone.
CONSENT_EXCLUSION_REASONS = ("no_consent_record", "consent_refused", "consent_revoked")

# One count of one kind of redaction in one part of a trajectory; never the value itself.
AUDIT_ENTRY = StructType(
    [
        StructField("field", StringType()),  # e.g. steps.tool.arguments
        StructField("entity_type", StringType()),  # e.g. PERSON, API_KEY
        StructField("recognizer", StringType()),  # e.g. SpacyRecognizer, SensitiveJsonKey
        StructField("count", LongType()),
    ]
)

# curated.redaction_audit: AUDIT_ENTRY rows per trajectory.
REDACTION_AUDIT = StructType(
    [StructField("trajectory_id", StringType(), nullable=False)]
    + AUDIT_ENTRY.fields
    + [
        StructField("placeholder_mode", StringType()),  # placeholder | hash
        StructField("redacted_at", TimestampType()),
    ]
)

# curated.consent_exclusions: every silver trajectory kept out for want of consent.
CONSENT_EXCLUSION = StructType(
    [
        StructField("trajectory_id", StringType(), nullable=False),
        StructField("user_id", StringType()),
        StructField("reason", StringType()),  # one of CONSENT_EXCLUSION_REASONS
        StructField("decided_at", TimestampType()),
    ]
)

# <raw>/_truth/pii.jsonl, written by the synthetic generator: the PII it seeded, for leak scans.
PII_TRUTH = StructType(
    [
        StructField("trajectory_id", StringType()),
        StructField("entity_type", StringType()),
        StructField("value", StringType()),
        StructField("location", StringType()),  # where it was put, e.g. steps[2].tool.arguments
    ]
)

# What the leak scan reports per entity type.
LEAK_RATE = StructType(
    [
        StructField("entity_type", StringType()),
        StructField("seeded", LongType()),
        StructField("leaked", LongType()),
        StructField("leak_rate", DoubleType()),
    ]
)
