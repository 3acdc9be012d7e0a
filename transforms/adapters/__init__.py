"""Source-format adapters, one module each; `registry` lists them in the order they are tried.

Nothing is imported here, so the plain-text modules (openai_conventions) load without pyspark.
"""
