"""The source-format adapters, tried in this order on every bronze record.

Adding a built-in format: write a module with an `ADAPTER` (see `base.Adapter`) and list it
here. Any other messages-style log needs no code: describe it under `normalize.mappings` in
conf (see `mapped.py`).
"""

from __future__ import annotations

from jobs.errors import ConfError
from transforms.adapters import langfuse, langsmith, native, openai_chat, otel_genai
from transforms.adapters.base import Adapter

BUILT_IN: list[Adapter] = [native.ADAPTER, openai_chat.ADAPTER, otel_genai.ADAPTER, langfuse.ADAPTER, langsmith.ADAPTER]


def adapters(mappings: list[dict] | None = None) -> list[Adapter]:
    """Built-in adapters, then one per declarative mapping from conf."""
    extra: list[Adapter] = []
    if mappings:
        from transforms.adapters.mapped import adapter_from_mapping

        extra = [adapter_from_mapping(m) for m in mappings]
    names = [a.name for a in BUILT_IN + extra]
    taken = sorted({n for n in names if names.count(n) > 1})
    if taken:
        raise ConfError(f"normalize.mappings: name(s) {', '.join(taken)} already used by another format")
    return BUILT_IN + extra
