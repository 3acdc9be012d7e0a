"""Layered configuration: shipped defaults < --conf-file < environment < --set.

Every key a user may set exists in `conf/local.yaml`; anything else is a typo and fails loudly,
so a misspelt `storage.rwa` never silently falls back to a default. `spark.extra` is the one
free-form map (passed through to Spark).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from jobs.errors import ConfError

ENV_PREFIX = "TRAJLAKE__"
FREE_FORM_KEYS = ("spark.extra",)


def _default_conf() -> dict[str, Any]:
    text = resources.files("conf").joinpath("local.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def _is_free_form(dotted: str) -> bool:
    return any(dotted == k or dotted.startswith(k + ".") for k in FREE_FORM_KEYS)


def _set_dotted(tree: dict[str, Any], dotted: str, value: Any, origin: str) -> None:
    for free in FREE_FORM_KEYS:
        if dotted.startswith(free + "."):  # spark.extra.spark.sql.x=1 -> extra["spark.sql.x"]
            section = tree
            for part in free.split("."):
                section = section.setdefault(part, {})
            section[dotted[len(free) + 1:]] = value
            return
    parts = dotted.split(".")
    node = tree
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            raise ConfError(f"unknown conf key '{dotted}' (from {origin}); {_suggest(tree, dotted)}")
        node = child
    leaf = parts[-1]
    if leaf not in node and not _is_free_form(dotted):
        raise ConfError(f"unknown conf key '{dotted}' (from {origin}); {_suggest(tree, dotted)}")
    if isinstance(node.get(leaf), dict) and not isinstance(value, dict):
        raise ConfError(f"conf key '{dotted}' (from {origin}) is a section, not a value")
    node[leaf] = value


def _suggest(tree: Mapping[str, Any], dotted: str) -> str:
    keys = sorted(flatten(tree))
    head = dotted.split(".")[0]
    close = [k for k in keys if k.startswith(head + ".")] or keys
    return "known keys: " + ", ".join(close[:12]) + (" ..." if len(close) > 12 else "")


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted key -> leaf value (free-form maps count as leaves)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict) and value and not _is_free_form(dotted):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _merge_file(tree: dict[str, Any], path: str) -> None:
    file = Path(path)
    if not file.is_file():
        raise ConfError(f"conf file not found: {path}")
    try:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfError(f"conf file {path} is not valid YAML: {exc}".splitlines()[0]) from exc
    if not isinstance(loaded, dict):
        raise ConfError(f"conf file {path} must hold a mapping at the top level")
    for dotted, value in flatten(loaded).items():
        _set_dotted(tree, dotted, value, path)


def _parse_assignment(text: str, origin: str) -> tuple[str, Any]:
    if "=" not in text:
        raise ConfError(f"expected key=value, got '{text}' (from {origin})")
    key, raw = text.split("=", 1)
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError:
        value = raw
    return key.strip(), value


class Settings(Mapping[str, Any]):
    """Read-only view of the merged configuration, addressed with dotted keys."""

    def __init__(self, tree: dict[str, Any]):
        self._tree = tree

    def __getitem__(self, dotted: str) -> Any:
        node: Any = self._tree
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise ConfError(f"unknown conf key '{dotted}'")
            node = node[part]
        return copy.deepcopy(node)

    def __iter__(self):
        return iter(flatten(self._tree))

    def __len__(self) -> int:
        return len(flatten(self._tree))

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._tree)

    def with_overrides(self, assignments: Mapping[str, Any]) -> "Settings":
        tree = copy.deepcopy(self._tree)
        for dotted, value in assignments.items():
            _set_dotted(tree, dotted, value, "override")
        return Settings(tree)


def load_settings(
    conf_file: str | None = None,
    assignments: Iterable[str] = (),
    environ: Mapping[str, str] | None = None,
) -> Settings:
    """Merge the layers; raises ConfError with a one-line message on any bad key or file."""
    environ = os.environ if environ is None else environ
    tree = _default_conf()
    conf_file = conf_file or environ.get("TRAJLAKE_CONF_FILE")
    if conf_file:
        _merge_file(tree, conf_file)
    for name, raw in sorted(environ.items()):
        if name.startswith(ENV_PREFIX):
            dotted = name[len(ENV_PREFIX):].lower().replace("__", ".")
            _, value = _parse_assignment(f"{dotted}={raw}", f"environment {name}")
            _set_dotted(tree, dotted, value, f"environment {name}")
    for text in assignments:
        key, value = _parse_assignment(text, "--set")
        _set_dotted(tree, key, value, "--set")
    return Settings(tree)
