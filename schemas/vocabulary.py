"""Fixed words of the canonical schemas that code without Spark needs too.

The generator writes logs in these terms but never starts Spark; kept apart from the
StructTypes so that importing them does not import pyspark (about half a CPU-second a process).
"""

# The native JSONL format (`"format": "trajlake.v1"`) is TRAJECTORY_CONTENT_FIELDS as JSON,
# timestamps as ISO-8601 text.
NATIVE_FORMAT_TAG = "trajlake.v1"

# Where a feedback signal comes from, in the default labels.precedence order.
FEEDBACK_SOURCES = ("verifier", "human", "judge", "implicit")
