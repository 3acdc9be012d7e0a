"""The redaction settings as one frozen value: shipped to every Python worker with the task.

Built from the `redaction:` section of conf (plain values), so the transforms never see the
Settings object; frozen and hashable, so a worker keys its engine and cache on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from jobs.errors import ConfError

PLACEHOLDER_MODES = ("placeholder", "hash")


@dataclass(frozen=True)
class AnalyzerConf:
    """What decides the analysis of one text (and so the key of the per-worker engine and cache)."""

    model: str
    language: str
    nlp_pipes: tuple[str, ...]
    entities: tuple[str, ...]
    score_threshold: float
    allow_list: tuple[str, ...]
    dob_context_words: tuple[str, ...]
    dob_context_chars: int
    min_text_chars: int
    min_chars_without_letters: int
    piece_min_chars: int
    chunk_chars: int
    chunk_overlap_chars: int
    nlp_batch_size: int
    cache_entries: int


@dataclass(frozen=True)
class RedactionConf:
    analyzer: AnalyzerConf
    placeholder_mode: str
    placeholder_format: str
    hash_chars: int
    sensitive_json_keys: tuple[tuple[str, str], ...]  # (normalised key substring, entity type)
    sensitive_number_min_digits: int
    rows_per_batch: int
    hash_key: bytes | None = field(default=None, repr=False)  # never printed, never logged

    @classmethod
    def from_section(cls, section: Mapping[str, Any], hash_key: bytes | None = None) -> "RedactionConf":
        """From `settings["redaction"]`; the HMAC key is passed apart (it comes from the environment)."""
        mode = str(section["placeholder_mode"])
        if mode not in PLACEHOLDER_MODES:
            raise ConfError(f"redaction.placeholder_mode must be one of {', '.join(PLACEHOLDER_MODES)}, got '{mode}'")
        if mode == "hash" and not hash_key:
            raise ConfError(
                f"redaction.placeholder_mode is hash but the key env var {section['hash_key_env']} is unset or empty"
            )
        if int(section["chunk_overlap_chars"]) * 2 >= int(section["chunk_chars"]):
            raise ConfError("redaction.chunk_overlap_chars must be less than half of redaction.chunk_chars")
        pairs = []
        for entry in section["sensitive_json_keys"]:
            if not (isinstance(entry, (list, tuple)) and len(entry) == 2):
                raise ConfError(f"redaction.sensitive_json_keys entries are [key_substring, ENTITY_TYPE], got {entry!r}")
            pairs.append((normalise_key(str(entry[0])), str(entry[1])))
        analyzer = AnalyzerConf(
            model=str(section["model"]),
            language=str(section["language"]),
            nlp_pipes=tuple(section["nlp_pipes"]),
            entities=tuple(section["entities"]),
            score_threshold=float(section["score_threshold"]),
            allow_list=tuple(str(term) for term in section["allow_list"]),
            dob_context_words=tuple(str(w).lower() for w in section["dob_context_words"]),
            dob_context_chars=int(section["dob_context_chars"]),
            min_text_chars=int(section["min_text_chars"]),
            min_chars_without_letters=int(section["min_chars_without_letters"]),
            piece_min_chars=int(section["piece_min_chars"]),
            chunk_chars=int(section["chunk_chars"]),
            chunk_overlap_chars=int(section["chunk_overlap_chars"]),
            nlp_batch_size=int(section["nlp_batch_size"]),
            cache_entries=int(section["cache_entries"]),
        )
        return cls(
            analyzer=analyzer,
            placeholder_mode=mode,
            placeholder_format=str(section["placeholder_format"]),
            hash_chars=int(section["hash_chars"]),
            sensitive_json_keys=tuple(pairs),
            sensitive_number_min_digits=int(section["sensitive_number_min_digits"]),
            rows_per_batch=int(section["rows_per_batch"]),
            hash_key=hash_key,
        )


def normalise_key(key: str) -> str:
    """`API-Key`, `api_key` and `apiKey` all become `apikey`, so one conf entry matches them all."""
    return "".join(ch for ch in key.lower() if ch.isalnum())
