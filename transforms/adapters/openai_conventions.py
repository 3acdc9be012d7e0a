"""OpenAI chat-completions logs: where trajlake's values sit in what the format has no field for.

The contract between the adapter (transforms/adapters/openai_chat.py, which reads them) and the
generator's renderer (benchmarks/synthetic/formats/openai_chat.py, which writes them); without
pyspark, so the generator does not import it.
"""

PROVIDER = "openai"

# Metadata keys (gateway `metadata` or `request.metadata`) read into canonical fields.
META_TRAJECTORY_ID = "trajectory_id"
META_SESSION_ID = "session_id"
META_USER_ID = "user_id"
META_TENANT = "tenant"
META_SOURCE_KIND = "source_kind"
META_AGENT_NAME = "agent_name"
META_AGENT_VERSION = "agent_version"
META_MODEL_PROVIDER = "model_provider"
META_MODEL_NAME = "model_name"
META_MODEL_VERSION = "model_version"
META_TASK_TYPE = "task_type"
META_TASK_DIFFICULTY = "task_difficulty"
META_TASK_LANGUAGE = "task_language"
META_TAGS = "tags"
META_CONTEXT_DOCS = "context_docs"
META_LATENCY_MS = "latency_ms"
META_TOKENS_IN = "tokens_in"
META_TOKENS_OUT = "tokens_out"
META_COST_USD = "cost_usd"
META_STATUS = "status"
META_STARTED_AT = "started_at"
META_ENDED_AT = "ended_at"
CANONICAL_META_KEYS = (
    META_TRAJECTORY_ID, META_SESSION_ID, META_USER_ID, META_TENANT, META_SOURCE_KIND,
    META_AGENT_NAME, META_AGENT_VERSION, META_MODEL_PROVIDER, META_MODEL_NAME, META_MODEL_VERSION,
    META_TASK_TYPE, META_TASK_DIFFICULTY, META_TASK_LANGUAGE, META_TAGS, META_CONTEXT_DOCS,
    META_LATENCY_MS, META_TOKENS_IN, META_TOKENS_OUT, META_COST_USD, META_STATUS,
    META_STARTED_AT, META_ENDED_AT,
)

# metadata.extra keys this adapter fills ("records" is what normalize counts, RECORDS_KEY there).
EXTRA_RECORDS = "records"
EXTRA_FINISH_REASON = "finish_reason"
EXTRA_REASONING_TOKENS = "reasoning_tokens"
EXTRA_ERROR = "error"
COMPUTED_EXTRA_KEYS = (EXTRA_RECORDS, EXTRA_FINISH_REASON, EXTRA_REASONING_TOKENS, EXTRA_ERROR)

# A message named this (`{"role": "system", "name": "retrieval", ...}`) records a retrieval step.
RETRIEVAL_NAME = "retrieval"

# Model names that are OpenAI's own (the provider when metadata does not name one); other
# models logged in this format (through gateways) get no guessed provider.
OPENAI_MODEL_NAMES = r"^(gpt-|o\d|chatgpt-|ft:gpt-|ft:o\d|codex-|computer-use-)"
