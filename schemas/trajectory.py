"""The canonical trajectory (silver.trajectories, curated.trajectories): one row per trajectory.

Steps are a nested array so a trajectory stays whole. A tool call is one step of kind `tool`
that carries both its call (name, arguments as JSON text) and its result or error, paired by
call id, so an exported example never has a call without its answer.
"""

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    IntegerType,
    LongType,
    MapType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

# Step kinds and the parts a trajectory may have captured (the `completeness` vocabulary).
STEP_KINDS = ("llm", "tool", "reasoning", "message", "retrieval")
SOURCE_KINDS = ("interaction_log", "demonstration", "synthetic")
COMPLETENESS_PARTS = (
    "input",
    "system_prompt",
    "context",
    "steps",
    "tool_results",
    "reasoning",
    "output",
    "model_version",
    "latency",
)

TOOL_CALL = StructType(
    [
        StructField("call_id", StringType()),
        StructField("name", StringType()),
        StructField("arguments", StringType()),  # JSON text, as the model emitted it
        StructField("result", StringType()),  # tool output text (often JSON)
        StructField("error", StringType()),
    ]
)

STEP = StructType(
    [
        StructField("index", IntegerType()),
        StructField("kind", StringType()),  # one of STEP_KINDS
        StructField("role", StringType()),  # system | user | assistant | tool
        StructField("content", StringType()),
        StructField("reasoning", StringType()),
        StructField("tool", TOOL_CALL),
        StructField("started_at", TimestampType()),
        StructField("ended_at", TimestampType()),
        StructField("tokens_in", LongType()),
        StructField("tokens_out", LongType()),
    ]
)

CONTEXT_DOC = StructType(
    [
        StructField("doc_id", StringType()),
        StructField("source", StringType()),
        StructField("content", StringType()),
        StructField("score", DoubleType()),
    ]
)

TOOL_SPEC = StructType(
    [
        StructField("name", StringType()),
        StructField("description", StringType()),
        StructField("parameters", StringType()),  # JSON Schema as text
    ]
)

AGENT = StructType([StructField("name", StringType()), StructField("version", StringType())])

MODEL = StructType(
    [
        StructField("provider", StringType()),
        StructField("name", StringType()),
        StructField("version", StringType()),
    ]
)

TASK = StructType(
    [
        StructField("type", StringType()),
        StructField("difficulty", StringType()),
        StructField("language", StringType()),
        StructField("tags", ArrayType(StringType())),
    ]
)

METADATA = StructType(
    [
        StructField("latency_ms", LongType()),
        StructField("tokens_in", LongType()),
        StructField("tokens_out", LongType()),
        StructField("cost_usd", DoubleType()),
        StructField("status", StringType()),  # completed | error | timeout | ...
        StructField("started_at", TimestampType()),
        StructField("ended_at", TimestampType()),
        StructField("extra", MapType(StringType(), StringType())),
    ]
)

# The content of a trajectory, as any adapter produces it (no lineage yet).
TRAJECTORY_CONTENT_FIELDS = [
    StructField("trajectory_id", StringType(), nullable=False),
    StructField("session_id", StringType()),
    StructField("user_id", StringType()),
    StructField("tenant", StringType()),
    StructField("source_kind", StringType()),
    StructField("agent", AGENT),
    StructField("model", MODEL),
    StructField("task", TASK),
    StructField("system_prompt", StringType()),
    StructField("input", StringType()),
    StructField("context_docs", ArrayType(CONTEXT_DOC)),
    StructField("steps", ArrayType(STEP)),
    StructField("tools_available", ArrayType(TOOL_SPEC)),
    StructField("final_output", StringType()),
    StructField("metadata", METADATA),
]

LINEAGE_FIELDS = [
    StructField("source_format", StringType()),
    StructField("source_uri", StringType()),
    StructField("source_line", LongType()),
    StructField("ingest_run_id", StringType()),
    StructField("ingested_at", TimestampType()),
]

TRAJECTORY = StructType(
    TRAJECTORY_CONTENT_FIELDS
    + LINEAGE_FIELDS
    + [
        StructField("completeness", ArrayType(StringType())),
        StructField("content_hash", StringType()),  # sha2 of the content, for exact dedup
    ]
)

# The native JSONL format (schemas.vocabulary.NATIVE_FORMAT_TAG): the content fields as JSON.
NATIVE_RECORD = StructType([StructField("format", StringType())] + TRAJECTORY_CONTENT_FIELDS)

# silver.duplicates: a record whose trajectory id was already taken, kept for the record.
DUPLICATE_ID = StructType(
    [
        StructField("trajectory_id", StringType()),
        StructField("reason", StringType()),  # duplicate_in_batch | already_in_silver
        StructField("same_content", BooleanType()),
        StructField("content_hash", StringType()),
        StructField("source_format", StringType()),
        StructField("source_uri", StringType()),
        StructField("source_line", LongType()),
        StructField("ingest_run_id", StringType()),
        StructField("recorded_at", TimestampType()),
    ]
)

# silver.normalize_log: bronze ingest runs already normalized (so reruns skip them). The counts
# are those of the normalize batch the run was part of (one batch may take several runs).
NORMALIZE_LOG = StructType(
    [
        StructField("ingest_run_id", StringType()),
        StructField("records", LongType()),
        StructField("trajectories", LongType()),
        StructField("duplicates", LongType()),
        StructField("quarantined", LongType()),
        StructField("normalized_at", TimestampType()),
    ]
)

# silver.trace_keys: which ingest runs brought records of which trace (group key) of a format
# whose trajectories span many records, so normalize reads only the earlier runs a new batch's
# traces continue (see transforms.regrouping).
TRACE_KEYS = StructType(
    [
        StructField("source_format", StringType()),
        StructField("group_key", StringType()),
        StructField("ingest_run_id", StringType()),
    ]
)
