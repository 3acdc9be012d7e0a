"""Find PII spans in many texts at once: distinct pieces only, NER batched, structure skipped.

Agent trajectories repeat themselves: the same system prompt, tool descriptions and common tool
results appear verbatim in thousands of rows, often with one line changed. Texts are cut into
pieces (runs of lines, see `chunking`); the analysis of a piece (spans and entity types, never
placeholders, which are numbered per trajectory later) is cached in an LRU per worker, and each
batch sends only the pieces it has not seen through spaCy, in one `nlp.pipe`. Pieces without
letters (numbers, ids, JSON punctuation) and identifier-like tokens skip NER and get only the
regex recognizers; very short letter-free texts cannot hold PII and are not analysed at all.
Dates survive only as dates of birth (a DOB word shortly before them), judged on the whole text.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Iterable
from typing import NamedTuple

import regex as re
from presidio_analyzer import AnalyzerEngine, RecognizerResult

from transforms.redaction.chunking import piece_bounds
from transforms.redaction.config import AnalyzerConf
from transforms.surrogates import without_lone_surrogates

DATE_TIME = "DATE_TIME"
DATE_OF_BIRTH = "DATE_OF_BIRTH"

# When spans of different types overlap, the merged span takes the most specific type.
TYPE_PRIORITY = (
    "PRIVATE_KEY", "API_KEY", "BEARER_TOKEN", "PASSWORD", "CREDIT_CARD", "IBAN_CODE", "US_SSN",
    "EMAIL_ADDRESS", "IP_ADDRESS", "PHONE_NUMBER", "STREET_ADDRESS", DATE_OF_BIRTH, "PERSON",
    "POSTAL_CODE", "LOCATION",
)
_RANK = {entity: rank for rank, entity in enumerate(TYPE_PRIORITY)}

_LETTER = re.compile(r"\p{L}")
_WHITESPACE = re.compile(r"\s")
# A single token that reads as an identifier, path, code, number, or all-lower / all-upper case
# word (`user_id`, `src/app.py`, `JFK-LIS`, `enabled`): no NER for it, regexes only.
_IDENTIFIER = re.compile(r"^(?:\S*[\d_/=:\\@#]\S*|[\p{Ll}\-.]+|[\p{Lu}\-.]+)$")


class Span(NamedTuple):
    start: int
    end: int
    entity_type: str
    recognizer: str
    score: float


class AnalysisCache:
    """LRU of text digest -> spans; a digest keeps memory flat whatever the texts' size."""

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[Span, ...]] = OrderedDict()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def key(text: str) -> bytes:
        return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()

    def get(self, key: bytes) -> tuple[Span, ...] | None:
        spans = self._entries.get(key)
        if spans is None:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return spans

    def put(self, key: bytes, spans: tuple[Span, ...]) -> None:
        self._entries[key] = spans
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)


def triage(text: str, conf: AnalyzerConf) -> str:
    """`skip` (cannot hold PII), `regex` (no NER needed) or `ner`."""
    stripped = text.strip()
    if len(stripped) < conf.min_text_chars:
        return "skip"
    if not _LETTER.search(stripped):
        return "skip" if len(stripped) < conf.min_chars_without_letters else "regex"
    if not _WHITESPACE.search(stripped) and _IDENTIFIER.match(stripped):
        return "regex"
    return "ner"


class TextAnalyzer:
    """Spans per distinct text, for one engine and conf (one per Python worker)."""

    def __init__(self, engine: AnalyzerEngine, conf: AnalyzerConf):
        self.engine = engine
        self.conf = conf
        self.cache = AnalysisCache(conf.cache_entries)
        self.entities = list(conf.entities)
        self._dob_context = re.compile(
            r"(?i)(?:" + "|".join(re.escape(w) for w in conf.dob_context_words) + r")"
        ) if conf.dob_context_words else None
        self.repeated_texts = 0  # texts seen again within a batch (analysed once)
        self.pieces_analyzed = 0
        self.chars_through_ner = 0

    def analyze(self, texts: Iterable[str]) -> dict[str, tuple[Span, ...]]:
        """Spans of every text (merged, non-overlapping, sorted), analysing each distinct piece once."""
        found: dict[str, tuple[Span, ...]] = {}
        pieces_of: dict[str, list[tuple[int, str]]] = {}
        piece_spans: dict[str, tuple[Span, ...]] = {}
        pending: dict[str, bytes] = {}
        for text in texts:
            if text in found or text in pieces_of:
                self.repeated_texts += 1
                continue
            if triage(text, self.conf) == "skip":
                found[text] = ()
                continue
            readable = without_lone_surrogates(text)  # what spaCy can take, offsets unchanged
            pieces = [
                (start, readable[start:end])
                for start, end in piece_bounds(
                    readable, self.conf.piece_min_chars, self.conf.chunk_chars, self.conf.chunk_overlap_chars
                )
            ]
            pieces_of[text] = pieces
            for _, piece in pieces:
                if piece in piece_spans or piece in pending:
                    continue
                if triage(piece, self.conf) == "skip":
                    piece_spans[piece] = ()
                    continue
                key = self.cache.key(piece)
                cached = self.cache.get(key)
                if cached is None:
                    pending[piece] = key
                else:
                    piece_spans[piece] = cached
        for piece, spans in self._analyze_pieces(list(pending)).items():
            self.cache.put(pending[piece], spans)
            piece_spans[piece] = spans
        for text, pieces in pieces_of.items():
            spans = [
                span._replace(start=span.start + offset, end=span.end + offset)
                for offset, piece in pieces
                for span in piece_spans[piece]
            ]
            found[text] = merge_spans(self._dates_of_birth_only(text, spans))
        return found

    def _analyze_pieces(self, pieces: list[str]) -> dict[str, tuple[Span, ...]]:
        """Raw spans (dates still DATE_TIME, overlaps kept) of each piece: NER pieces in one nlp.pipe."""
        by_route: dict[str, list[str]] = {"ner": [], "regex": []}
        for piece in pieces:
            by_route[triage(piece, self.conf)].append(piece)
        spans: dict[str, tuple[Span, ...]] = {}
        for route, batch in by_route.items():
            if not batch:
                continue
            if route == "ner":
                self.chars_through_ner += sum(map(len, batch))
            artifacts = self.engine.nlp_engine.artifacts(
                batch, self.conf.language, with_ner=route == "ner", batch_size=self.conf.nlp_batch_size
            )
            for piece, nlp_artifacts in zip(batch, artifacts):
                results = self.engine.analyze(
                    text=piece,
                    language=self.conf.language,
                    entities=self.entities,
                    nlp_artifacts=nlp_artifacts,
                    score_threshold=self.conf.score_threshold,
                    allow_list=list(self.conf.allow_list) or None,
                )
                spans[piece] = tuple(_span(result) for result in results)
        self.pieces_analyzed += len(pieces)
        return spans

    def _dates_of_birth_only(self, text: str, spans: list[Span]) -> list[Span]:
        """Dates are kept only as dates of birth: a DOB word shortly before them, else not PII."""
        kept = []
        for span in spans:
            if span.entity_type != DATE_TIME:
                kept.append(span)
            elif self._dob_context is not None and self._dob_context.search(
                text, max(0, span.start - self.conf.dob_context_chars), span.start
            ):
                kept.append(span._replace(entity_type=DATE_OF_BIRTH))
        return kept


def _span(result: RecognizerResult) -> Span:
    metadata = result.recognition_metadata or {}
    recognizer = metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY) or "unknown"
    return Span(result.start, result.end, result.entity_type, recognizer, float(result.score))


def merge_spans(spans: Iterable[Span]) -> tuple[Span, ...]:
    """Overlapping spans become their union (no partial leak), typed by the most specific type."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, -s.end)):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            best = min((last, span), key=lambda s: (_RANK.get(s.entity_type, len(_RANK)), -s.score, -(s.end - s.start)))
            merged[-1] = Span(last.start, max(last.end, span.end), best.entity_type, best.recognizer, best.score)
        else:
            merged.append(span)
    return tuple(merged)


_TEXT_ANALYZERS: dict[AnalyzerConf, TextAnalyzer] = {}


def worker_text_analyzer(conf: AnalyzerConf) -> TextAnalyzer:
    """This Python worker's analyzer (engine + LRU) for this conf, built on first use."""
    from transforms.redaction.analyzer import worker_analyzer

    analyzer = _TEXT_ANALYZERS.get(conf)
    if analyzer is None:
        analyzer = _TEXT_ANALYZERS[conf] = TextAnalyzer(worker_analyzer(conf), conf)
    return analyzer
