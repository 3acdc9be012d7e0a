"""Bronze: raw records as they were logged, the quarantine, and the log of processed files."""

from pyspark.sql.types import LongType, StringType, StructField, StructType, TimestampType

# bronze.trajectories, bronze.feedback and bronze.consent: one row per raw line that parsed.
RAW_RECORD = StructType(
    [
        StructField("record", StringType()),  # the line, verbatim (valid UTF-8 JSON object)
        StructField("record_bytes", LongType()),
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),  # 1-based line number in the (decompressed) file
        StructField("ingest_run_id", StringType()),
        StructField("ingested_at", TimestampType()),
    ]
)

# bronze.quarantine: everything that could not be taken, with why, and the bytes to retry it.
QUARANTINE = StructType(
    [
        StructField("stage", StringType()),  # ingest | normalize | label
        StructField("log_kind", StringType()),  # trajectories | feedback | consent
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),  # null when the whole file is unreadable
        StructField("reason", StringType()),  # a reason code, see transforms.quarantine_reasons
        StructField("detail", StringType()),
        StructField("raw", StringType()),
        StructField("raw_encoding", StringType()),  # utf-8 | base64 | none
        StructField("ingest_run_id", StringType()),
        StructField("quarantined_at", TimestampType()),
    ]
)

# bronze.ingest_log: one row per file fully processed (its accounting), so reruns skip it.
INGEST_LOG = StructType(
    [
        StructField("source_uri", StringType()),
        StructField("log_kind", StringType()),
        StructField("file_bytes", LongType()),
        StructField("modified_at", TimestampType()),
        StructField("lines_read", LongType()),
        StructField("bronze_rows", LongType()),
        StructField("quarantine_rows", LongType()),
        StructField("status", StringType()),  # ingested | unreadable
        StructField("ingest_run_id", StringType()),
        StructField("finished_at", TimestampType()),
    ]
)
