"""The PII detection engine: Presidio's ``AnalyzerEngine`` built offline from ``policies/pii.yaml``.

Built once per process (``governance.services.pii.detection.get_engine``): verify the NER package,
build the spaCy pipelines, instantiate exactly the recognisers ``catalogue.plan`` lists, then answer
``analyze`` calls with findings filtered by the policy's per-entity thresholds and with overlaps
resolved (``findings.resolve_overlaps``). Importing this module imports Presidio and spaCy.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Sequence
from typing import Any

from presidio_analyzer import AnalyzerEngine, EntityRecognizer, RecognizerRegistry
from presidio_analyzer import predefined_recognizers as builtin
from presidio_analyzer.context_aware_enhancers import (
    ContextAwareEnhancer,
    LemmaContextAwareEnhancer,
)

from governance.services.pii.detection import catalogue, pipelines, recognizers
from governance.services.pii.detection.errors import (
    NerModelRefused,
    PiiAnalysisError,
    UnsupportedLanguageError,
)
from governance.services.pii.detection.model import ModelCheck, check_ner_model, log_model_check
from governance.services.pii.detection.policy import PiiPolicy
from governance.services.pii.detection.results import (
    NAME_TYPES,
    Finding,
    fold_width,
    resolve_overlaps,
)
from governance.services.pii.detection.status import describe, rss_mb

log = logging.getLogger(__name__)
_DIGIT = re.compile(r"\d")
# Presidio logs surrounding words at DEBUG; keep it quiet so no matched value reaches a log.
logging.getLogger("presidio-analyzer").setLevel(logging.WARNING)


class _PerLanguageEnhancer(ContextAwareEnhancer):
    """Context words: whole-word match in English, substring match in Chinese.

    Chinese has no spaces, so jieba may glue a context word to its neighbour ("客户王");
    English substrings would let "id" match "paid".
    """

    def __init__(self, before: int, after: int) -> None:
        super().__init__(0.35, 0.4, before, after)
        self._modes = {
            mode: LemmaContextAwareEnhancer(
                context_prefix_count=before, context_suffix_count=after, context_matching_mode=mode
            )
            for mode in ("substring", "whole_word")
        }

    def enhance_using_context(self, text, raw_results, nlp_artifacts, recognizers, context=None):  # type: ignore[no-untyped-def]  # noqa: E501
        """Delegate to the enhancer suited to the text's language."""
        doc = getattr(nlp_artifacts, "tokens", None)
        zh = getattr(doc, "lang_", "") == "zh"
        enhancer = self._modes["substring" if zh else "whole_word"]
        return enhancer.enhance_using_context(
            text, raw_results, nlp_artifacts, recognizers, context
        )


_BUILTIN = {
    "IbanRecognizer": builtin.IbanRecognizer,
    "IpRecognizer": builtin.IpRecognizer,
    "UsSsnRecognizer": builtin.UsSsnRecognizer,
    "UsLicenseRecognizer": builtin.UsLicenseRecognizer,
    "UsBankRecognizer": builtin.UsBankRecognizer,
    "UsPassportRecognizer": builtin.UsPassportRecognizer,
    "UsItinRecognizer": builtin.UsItinRecognizer,
    "NhsRecognizer": builtin.NhsRecognizer,
    "CryptoRecognizer": builtin.CryptoRecognizer,
    "MedicalLicenseRecognizer": builtin.MedicalLicenseRecognizer,
}
_PROJECT = {
    "CnMobileRecognizer": recognizers.CnMobileRecognizer,
    "PaymentCardRecognizer": recognizers.PaymentCardRecognizer,
    "CnBankCardRecognizer": recognizers.CnBankCardRecognizer,
    "CnResidentIdRecognizer": recognizers.CnResidentIdRecognizer,
    "CnUsccRecognizer": recognizers.CnUsccRecognizer,
    "BoundedUrlRecognizer": recognizers.BoundedUrlRecognizer,
}


def _build(spec: catalogue.RecognizerSpec, lang: str, policy: PiiPolicy) -> EntityRecognizer:
    rule = policy.entities[spec.entity]
    ctx = list(rule.context.get(lang, ()))
    if spec.name in _PROJECT:
        return _PROJECT[spec.name](lang, ctx)
    if spec.name == "ZhPersonRecognizer":
        return recognizers.ZhPersonRecognizer(ctx)
    if spec.name == "OfflineEmailRecognizer":
        rec: EntityRecognizer = recognizers.OfflineEmailRecognizer(
            context=ctx, supported_language=lang
        )
    elif spec.name == "RegionPhoneRecognizer":
        rec = recognizers.RegionPhoneRecognizer(
            context=ctx, supported_language=lang, supported_regions=rule.regions or ("US",)
        )
    elif spec.name == "IbanRecognizer":
        rec = builtin.IbanRecognizer(
            context=ctx, supported_language=lang, regex_flags=recognizers.REGEX_FLAGS
        )
    else:
        rec = _BUILTIN[spec.name](context=ctx, supported_language=lang)
    if hasattr(rec, "global_regex_flags"):
        rec.global_regex_flags = recognizers.REGEX_FLAGS
    return rec


class PiiEngine:
    """One loaded analyzer: pipelines, recognisers and thresholds from one policy."""

    def __init__(self, policy: PiiPolicy, model_check: ModelCheck | None = None) -> None:
        started = time.perf_counter()
        self.policy = policy
        self.model_check = model_check or check_ner_model(policy.ner)
        log_model_check(self.model_check)
        if not self.model_check.verified and policy.ner.on_failure == "error":
            raise NerModelRefused(f"NER model refused: {self.model_check.reason}")
        ner_langs = policy.ner.languages if self.model_check.verified else ()
        self.plan = catalogue.plan(policy.enabled(), ner_langs)
        self.analyzer = self._analyzer(ner_langs)
        self.entities = {
            lang: sorted({s.entity for s in specs}) for lang, specs in self.plan.items()
        }
        self.thresholds = {name: rule.threshold for name, rule in policy.entities.items()}
        self.startup_seconds = time.perf_counter() - started
        self.rss_mb = rss_mb()
        log.info("PII engine ready in %.2f s (%s)", self.startup_seconds, self.summary())

    def _analyzer(self, ner_langs: Sequence[str]) -> AnalyzerEngine:
        langs = list(self.policy.languages)
        nlp = {
            lang: pipelines.chinese_pipeline()
            if lang == "zh"
            else pipelines.english_pipeline(self.model_check if lang in ner_langs else _REFUSED)
            for lang in langs
        }
        for lang, pipeline in nlp.items():
            self._keep_context_words(pipeline, lang)
        ner_entities = {
            s.entity for specs in self.plan.values() for s in specs if s.source == "ner"
        }
        engine = pipelines.PreloadedNlpEngine(
            nlp, pipelines.ner_configuration(ner_entities, self.policy.ner.score)
        )
        registry = RecognizerRegistry(recognizers=[], supported_languages=langs)
        for lang, specs in self.plan.items():
            ner_specs = [s.entity for s in specs if s.source == "ner"]
            if ner_specs:
                registry.add_recognizer(
                    builtin.SpacyRecognizer(
                        supported_language=lang,
                        supported_entities=ner_specs,
                        ner_strength=self.policy.ner.score,
                    )
                )
            for spec in specs:
                if spec.source != "ner":
                    registry.add_recognizer(_build(spec, lang, self.policy))
        enhancer = _PerLanguageEnhancer(self.policy.context_before, self.policy.context_after)
        return AnalyzerEngine(
            registry=registry,
            nlp_engine=engine,
            supported_languages=langs,
            context_aware_enhancer=enhancer,
        )

    def _keep_context_words(self, pipeline: Any, lang: str) -> None:
        """Make no context word a stop word: Presidio drops stop words before matching context,
        and spaCy's English list holds "call" and "back" ("call back on 179...")."""
        for rule in self.policy.entities.values():
            for word in rule.context.get(lang, ()):
                pipeline.vocab[word.lower()].is_stop = False

    def summary(self) -> str:
        """One line for the start-up log: NER model and active entity types per language."""
        parts = [f"{lang}: {', '.join(ents)}" for lang, ents in sorted(self.entities.items())]
        return f"NER {self.model_check.describe()}; " + "; ".join(parts)

    def _check_language(self, language: str) -> None:
        if language not in self.policy.languages:
            raise UnsupportedLanguageError(
                f"language must be one of {', '.join(self.policy.languages)}"
            )

    def _findings(self, text: str, results: Sequence[Any]) -> list[Finding]:
        kept = (
            Finding(r.entity_type, r.start, r.end, float(r.score))
            for r in results
            if r.score >= self.thresholds.get(r.entity_type, 0.5)
            # Names and places hold no digits: the NER's "SKU-00147" is not a person.
            and not (r.entity_type in NAME_TYPES and _DIGIT.search(text, r.start, r.end))
        )
        return resolve_overlaps(kept)

    def analyze(self, text: str, language: str) -> list[Finding]:
        """Findings in ``text`` sorted by start; raises UnsupportedLanguageError."""
        self._check_language(language)
        entities = self.entities.get(language)
        if not text or not entities:
            return []
        folded = fold_width(text)
        return self._findings(folded, self._run(folded, language, entities, None))

    def _run(self, text: str, language: str, entities: list[str], artifacts: Any) -> list[Any]:
        # Presidio puts matched words in some exception messages ("Did not find word '...'");
        # keep them out of tracebacks and logs: report the exception type only.
        try:
            return list(
                self.analyzer.analyze(text, language, entities=entities, nlp_artifacts=artifacts)
            )
        except Exception as exc:
            log.error("PII analysis failed with %s", type(exc).__name__)
            raise PiiAnalysisError(f"PII analysis failed ({type(exc).__name__})") from None

    def analyze_batch(
        self, texts: Sequence[str], language: str, batch_size: int = 64
    ) -> list[list[Finding]]:
        """Like ``analyze`` for many texts of one language, running spaCy with ``nlp.pipe``."""
        self._check_language(language)
        entities = self.entities.get(language)
        if not entities:
            return [[] for _ in texts]
        out: list[list[Finding]] = []
        folded = [fold_width(t) for t in texts]
        docs = self.analyzer.nlp_engine.process_batch(folded, language, batch_size=batch_size)
        for text, artifacts in docs:
            if not text:
                out.append([])
                continue
            out.append(self._findings(text, self._run(text, language, entities, artifacts)))
        return out

    def status(self) -> dict[str, Any]:
        """What this engine detects, with which NER model, start-up time and memory."""
        report = describe(self.policy, self.model_check, self.plan)
        report.update(
            loaded=True,
            startup_seconds=round(self.startup_seconds, 3),
            rss_mb=round(rss_mb(), 1),
        )
        return report


_REFUSED = ModelCheck("none", None, None, None, False, "NER not configured for this language")
