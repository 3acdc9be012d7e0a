"""Presidio's AnalyzerEngine as trajlake runs it: built once per Python worker, NER-only spaCy.

Building an engine loads the spaCy model and a few hundred regexes (about 2 s); a Python worker
serves many tasks, so `worker_analyzer` keeps one per worker and conf. The spaCy pipeline keeps
only the pipes NER needs: in the `sm` models NER has its own tok2vec, so the tagger, parser,
attribute ruler and lemmatizer (most of the CPU time of a full pipeline) are excluded. Presidio's
context enhancer wants lemmas; lower-cased token text stands in for them.
"""

from __future__ import annotations

import spacy
from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
from presidio_analyzer.nlp_engine import NerModelConfiguration, NlpArtifacts, SpacyNlpEngine
from spacy.tokens import Doc

from transforms.redaction.config import AnalyzerConf
from transforms.redaction.recognizers import GatedPhoneRecognizer, OfflineEmailRecognizer, custom_recognizers

# spaCy labels Presidio maps to its entities; everything else is noise for redaction
# (ORG has many false positives on product and tool names).
MODEL_TO_PRESIDIO = {
    "PERSON": "PERSON",
    "PER": "PERSON",
    "GPE": "LOCATION",
    "LOC": "LOCATION",
    "FAC": "LOCATION",
    "DATE": "DATE_TIME",
}
IGNORED_LABELS = [
    "ORG", "ORGANIZATION", "NORP", "TIME", "CARDINAL", "EVENT", "LANGUAGE", "LAW", "MONEY",
    "ORDINAL", "PERCENT", "PRODUCT", "QUANTITY", "WORK_OF_ART",
]


class NerOnlySpacyNlpEngine(SpacyNlpEngine):
    """A SpacyNlpEngine loading only `pipes` of the model, able to skip NER for letter-free text."""

    def __init__(self, model: str, language: str, pipes: tuple[str, ...]):
        super().__init__(
            models=[{"lang_code": language, "model_name": model}],
            ner_model_configuration=NerModelConfiguration(
                model_to_presidio_entity_mapping=dict(MODEL_TO_PRESIDIO),
                labels_to_ignore=list(IGNORED_LABELS),
            ),
        )
        self.pipes = tuple(pipes)

    def load(self) -> None:
        self.nlp = {}
        for model in self.models:
            name = model["model_name"]
            meta = spacy.util.get_model_meta(spacy.util.get_package_path(name))
            components = meta.get("components") or meta.get("pipeline") or []
            excluded = [component for component in components if component not in self.pipes]
            self.nlp[model["lang_code"]] = spacy.load(name, exclude=excluded)

    def _doc_to_nlp_artifact(self, doc: Doc, language: str) -> NlpArtifacts:
        artifacts = super()._doc_to_nlp_artifact(doc, language)
        artifacts.lemmas = [token.lemma_ or token.lower_ for token in doc]
        return artifacts

    def artifacts(self, texts: list[str], language: str, with_ner: bool, batch_size: int):
        """NlpArtifacts per text, in order, through one `nlp.pipe`; without NER only the tokenizer runs."""
        nlp = self.nlp[language]
        disable = [] if with_ner else list(nlp.pipe_names)
        for doc in nlp.pipe(texts, batch_size=batch_size, disable=disable):
            yield self._doc_to_nlp_artifact(doc, language)


def build_registry(nlp_engine: SpacyNlpEngine, language: str) -> RecognizerRegistry:
    """Presidio's predefined recognizers (email made offline, phone gated) plus ours."""
    registry = RecognizerRegistry(supported_languages=[language])
    registry.load_predefined_recognizers(languages=[language], nlp_engine=nlp_engine)
    registry.remove_recognizer("EmailRecognizer")
    registry.add_recognizer(OfflineEmailRecognizer(language))
    registry.remove_recognizer("PhoneRecognizer")
    registry.add_recognizer(GatedPhoneRecognizer(language))
    for recognizer in custom_recognizers(language):
        registry.add_recognizer(recognizer)
    return registry


def build_analyzer(conf: AnalyzerConf) -> AnalyzerEngine:
    nlp_engine = NerOnlySpacyNlpEngine(conf.model, conf.language, conf.nlp_pipes)
    nlp_engine.load()
    return AnalyzerEngine(
        registry=build_registry(nlp_engine, conf.language),
        nlp_engine=nlp_engine,
        supported_languages=[conf.language],
        default_score_threshold=conf.score_threshold,
    )


_ENGINES: dict[AnalyzerConf, AnalyzerEngine] = {}


def worker_analyzer(conf: AnalyzerConf) -> AnalyzerEngine:
    """The engine of this Python worker for this conf, built on first use (workers are reused)."""
    engine = _ENGINES.get(conf)
    if engine is None:
        engine = _ENGINES[conf] = build_analyzer(conf)
    return engine


def model_installed(model: str) -> bool:
    return spacy.util.is_package(model)
