"""Source-format adapters, one module each, tried in this order on every bronze record.

Adding a built-in format: write a module with an `ADAPTER` (see `base.Adapter`) and list it
here. Any other messages-style log needs no code: describe it under `normalize.mappings` in
conf (see `mapped.py`).
"""

from __future__ import annotations

from transforms.adapters import native
from transforms.adapters.base import Adapter

BUILT_IN: list[Adapter] = [native.ADAPTER]


def adapters(mappings: list[dict] | None = None) -> list[Adapter]:
    """Built-in adapters, then one per declarative mapping from conf."""
    extra: list[Adapter] = []
    if mappings:
        from transforms.adapters.mapped import adapter_from_mapping

        extra = [adapter_from_mapping(m) for m in mappings]
    return BUILT_IN + extra
