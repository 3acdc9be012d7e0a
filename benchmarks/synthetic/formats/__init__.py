"""Renderers: one canonical trajectory dict -> the JSON objects (lines) of a log format.

A renderer takes the canonical trajectory (the JSON form of schemas.trajectory
TRAJECTORY_CONTENT_FIELDS, timestamps as ISO-8601 text; every step carries all STEP keys, absent
values null) and returns the records that format would log for it, in file order. It must not
mutate its argument (duplicates reuse it) and must keep text values verbatim, since the truth
of planted personal data is checked by substring search in the written lines.

Registering a format: add a module to this package defining `NAME` (the format's folder name
under logs/) and `render`; it is picked up here. A module may also be added to RENDERERS by
hand. The generator's format mix is a config option over whatever is registered.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable

from benchmarks.synthetic.formats import native

Renderer = Callable[[dict], list[dict]]

RENDERERS: dict[str, Renderer] = {native.NAME: native.render}


def _discover() -> None:
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.startswith("_") or module_info.name == native.__name__.rsplit(".", 1)[-1]:
            continue
        module = importlib.import_module(f"{__name__}.{module_info.name}")
        name, render = getattr(module, "NAME", None), getattr(module, "render", None)
        if isinstance(name, str) and callable(render):
            RENDERERS.setdefault(name, render)


_discover()
