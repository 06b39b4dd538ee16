"""spaCy pipelines for PII detection, built offline, wrapped as a Presidio NLP engine.

* English: the verified NER package loaded from its directory with every component except
  ``ner`` excluded (no tagger, parser, lemmatizer: they cost time and Presidio does not need
  them), or ``spacy.blank("en")`` in degraded mode.
* Chinese: ``spacy.blank("zh")`` with the jieba word segmenter (no model, nothing to download);
  jieba keeps its dictionary cache in the temp directory and logs at WARNING only.
* Both get ``pii_lower_lemma``, which sets each token's lemma to its lower-cased text: Presidio
  matches context words against lemmas, and without a lemmatizer they would be empty.
"""

from __future__ import annotations

import logging

import spacy
from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine
from spacy.language import Language
from spacy.tokens import Doc

from governance.services.pii.detection.catalogue import NER_LABELS
from governance.services.pii.detection.model import ModelCheck

LEMMA_COMPONENT = "pii_lower_lemma"
_EXCLUDE = ["tok2vec", "tagger", "parser", "senter", "attribute_ruler", "lemmatizer"]


@Language.component(LEMMA_COMPONENT)
def lower_lemma(doc: Doc) -> Doc:
    """Set each token's lemma to its lower-cased text so context words can match."""
    for token in doc:
        token.lemma_ = token.lower_
    return doc


def english_pipeline(check: ModelCheck) -> Language:
    """The verified NER-only English pipeline, or a blank one when the model was refused."""
    if check.verified and check.path is not None:
        nlp = spacy.load(check.path, exclude=_EXCLUDE)
    else:
        nlp = spacy.blank("en")
    nlp.add_pipe(LEMMA_COMPONENT, last=True)
    return nlp


def chinese_pipeline() -> Language:
    """A blank Chinese pipeline segmented by jieba, quietly and offline."""
    import jieba

    jieba.setLogLevel(logging.WARNING)
    nlp = spacy.blank("zh", config={"nlp": {"tokenizer": {"segmenter": "jieba"}}})
    nlp.add_pipe(LEMMA_COMPONENT, last=True)
    return nlp


def ner_configuration(enabled_ner_entities: set[str], score: float) -> NerModelConfiguration:
    """Map spaCy labels to Presidio entities and ignore every label whose entity is off."""
    mapping = {label: ent for label, ent in NER_LABELS.items() if ent in enabled_ner_entities}
    ignore = [
        "ORG",
        "ORGANIZATION",
        "CARDINAL",
        "EVENT",
        "LANGUAGE",
        "LAW",
        "MONEY",
        "ORDINAL",
        "PERCENT",
        "PRODUCT",
        "QUANTITY",
        "WORK_OF_ART",
        *[label for label in NER_LABELS if label not in mapping],
        *[ent for ent in set(NER_LABELS.values()) if ent not in enabled_ner_entities],
    ]
    return NerModelConfiguration(
        model_to_presidio_entity_mapping=mapping or {"PERSON": "PERSON"},
        labels_to_ignore=ignore,
        default_score=score,
    )


class PreloadedNlpEngine(SpacyNlpEngine):
    """Presidio's spaCy engine over pipelines we built ourselves: ``load()`` never downloads."""

    def __init__(self, pipelines: dict[str, Language], ner: NerModelConfiguration) -> None:
        models = [{"lang_code": lang, "model_name": f"preloaded-{lang}"} for lang in pipelines]
        super().__init__(models=models, ner_model_configuration=ner)
        self.nlp = dict(pipelines)  # type: ignore[assignment]  # base class types it None

    def load(self) -> None:
        """Nothing to load: the pipelines were passed in."""
