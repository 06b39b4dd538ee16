"""Presidio recognisers added or adjusted for this store (English and Chinese text).

* ``CnMobileRecognizer``: mainland China mobiles (+86/0086 optional, 1[3-9]x, 3-4-4 groups),
  reported as ``PHONE_NUMBER``; numbers outside the ranges libphonenumber knows as assigned
  score low and need a context word (致电, 拨打, 回拨, "call").
* ``CnResidentIdRecognizer``: GB 11643-1999 (check digit and birth date).
* ``CnUsccRecognizer``: GB 32100-2015 Unified Social Credit Code (check character).
* ``PaymentCardRecognizer`` / ``CnBankCardRecognizer``: Luhn plus the card-network rule of
  ``validators.card_network`` (covers Mastercard 2-series and 19-digit cards that Presidio's
  default misses; UnionPay goes to ``CN_BANK_CARD`` only, so no number is counted twice).
* ``ZhPersonRecognizer``: Chinese names after a context word (see ``zh_names``).
* ``OfflineEmailRecognizer``, ``RegionPhoneRecognizer``, ``BoundedUrlRecognizer``: Presidio's,
  made offline (bundled public-suffix list), cheaper (no phone search without 6 digits) and
  bounded (no URL inside an email or a word).

Patterns use explicit ASCII look-arounds instead of ``\\b``: in Unicode regexes ``\\b`` never
matches between a Chinese character and a digit (both are word characters). Validators return
``True`` (score 1.0) only for strong checks; weaker ones (Luhn, phone metadata) return ``None``
and keep the pattern's score, which context words can raise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date

import phonenumbers
import regex
import tldextract
from presidio_analyzer import (
    EntityRecognizer,
    LocalRecognizer,
    Pattern,
    PatternRecognizer,
    RecognizerResult,
)
from presidio_analyzer.nlp_engine import NlpArtifacts
from presidio_analyzer.predefined_recognizers import (
    EmailRecognizer,
    PhoneRecognizer,
    UrlRecognizer,
)

from governance.services.pii.detection import validators, zh_names

# ASCII semantics: \w, \d and \b stop at CJK characters, so "身份证号110..." splits correctly.
REGEX_FLAGS = regex.DOTALL | regex.MULTILINE | regex.IGNORECASE | regex.ASCII
_L = r"(?<![0-9A-Za-z])"  # left boundary against ASCII letters/digits only
_R = r"(?![0-9A-Za-z])"
# A grouped number must not start or end inside a longer run of digit groups.
_L_GROUP = r"(?<![0-9A-Za-z])(?<!\d[ -])"
_R_GROUP = r"(?![0-9A-Za-z]|[ -]\d)"
# The bundled snapshot of the public-suffix list; no fetch, no disk cache.
_TLD = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)


class _Validated(PatternRecognizer):
    """Pattern recogniser whose patterns are compiled with ``REGEX_FLAGS``."""

    PATTERNS: list[Pattern] = []
    ENTITY = ""

    def __init__(self, language: str, context: Iterable[str] = ()) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            patterns=[Pattern(p.name, p.regex, p.score) for p in self.PATTERNS],
            context=list(context),
            supported_language=language,
            name=type(self).__name__,
            global_regex_flags=REGEX_FLAGS,
        )


class CnMobileRecognizer(_Validated):
    """Mainland China mobile numbers, with or without +86/0086 and 3-4-4 separators."""

    ENTITY = "PHONE_NUMBER"
    PATTERNS = [
        Pattern(
            "CN mobile",
            r"(?<![0-9A-Za-z+])(?:(?:\+|00)86[ -]?|\(\+?86\)[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}" + _R,
            0.5,
        )
    ]

    # Chinese DLP practice flags every 1[3-9] + 9 digits: new ranges (154, 174, 179, 194 ...)
    # are in use before libphonenumber's metadata lists them. Such a number scores below the
    # threshold on its own and passes with a context word; a known range keeps 0.5.
    UNASSIGNED_RANGE_SCORE = 0.3

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Pattern matches, with numbers in ranges libphonenumber does not know down-scored."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if not self.known_range(text[result.start : result.end]):
                result.score = min(result.score, self.UNASSIGNED_RANGE_SCORE)
        return results

    @staticmethod
    def known_range(pattern_text: str) -> bool:
        """Whether libphonenumber knows the number as a valid Chinese number."""
        digits = "".join(ch for ch in pattern_text if ch.isdigit())[-11:]
        return bool(phonenumbers.is_valid_number(phonenumbers.parse("+86" + digits)))


class CnResidentIdRecognizer(_Validated):
    """GB 11643-1999 resident identity numbers (18 characters, optional 6-8-4 spacing)."""

    ENTITY = "CN_RESIDENT_ID"
    PATTERNS = [
        Pattern(
            "CN resident id",
            _L + r"[1-9]\d{5} ?(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]) ?\d{3}"
            r"[0-9X]" + _R,
            0.5,
        )
    ]

    def __init__(
        self, language: str, context: Iterable[str] = (), today: date | None = None
    ) -> None:
        super().__init__(language, context)
        self.today = today

    def validate_result(self, pattern_text: str) -> bool:
        """Check digit (ISO 7064 MOD 11-2) and a real, past birth date."""
        return validators.is_valid_cn_resident_id(pattern_text, self.today)


class CnUsccRecognizer(_Validated):
    """GB 32100-2015 codes; candidates whose first 17 characters are digits need a context word.

    Those look exactly like resident ids (an id with a wrong check digit passes the USCC check
    one time in 31), so only a word such as 信用代码 or "company" makes them a USCC.
    """

    ENTITY = "CN_USCC"
    _CHARS = "[0-9A-HJ-NPQRTUWXY]"
    PATTERNS = [
        Pattern(
            "USCC with letters",
            _L + r"(?=[0-9A-Z]{0,16}[A-Z])" + _CHARS + r"{2}\d{6}" + _CHARS + "{10}" + _R,
            0.85,
        ),
        Pattern("USCC digits only", _L + r"\d{17}" + _CHARS + _R, 0.3),
    ]

    def validate_result(self, pattern_text: str) -> bool | None:
        """Keep the pattern's score when the check character is right."""
        return None if validators.is_valid_uscc(pattern_text) else False


_CARD_PATTERNS = [
    Pattern("card contiguous", _L + r"\d{13,19}" + _R, 0.6),
    Pattern("card 4-4-4-n", _L_GROUP + r"\d{4}(?:[ -]\d{4}){2}[ -]\d{1,4}" + _R_GROUP, 0.6),
    Pattern("card 4-4-4-4-n", _L_GROUP + r"\d{4}(?:[ -]\d{4}){3}[ -]\d{1,3}" + _R_GROUP, 0.6),
    Pattern("card 6-n", _L_GROUP + r"\d{6}[ -]\d{10,13}" + _R_GROUP, 0.6),
    Pattern("card 4-6-4/5", _L_GROUP + r"\d{4}[ -]\d{6}[ -]\d{4,5}" + _R_GROUP, 0.6),
]


class PaymentCardRecognizer(_Validated):
    """International payment cards: Luhn plus IIN range and length (UnionPay excluded).

    A Luhn-valid number of no known network scores ``UNKNOWN_NETWORK_SCORE``, below the
    default threshold unless a context word ("card", "信用卡") raises it.
    """

    ENTITY = "CREDIT_CARD"
    PATTERNS = _CARD_PATTERNS
    UNKNOWN_NETWORK_SCORE = 0.3

    def validate_result(self, pattern_text: str) -> bool | None:
        """Luhn is a 1-in-10 check: keep the pattern score, let context raise it."""
        entity, _ = validators.classify_card(pattern_text)
        return None if entity == self.ENTITY else False

    def analyze(
        self,
        text: str,
        entities: list[str],
        nlp_artifacts: NlpArtifacts | None = None,
        regex_flags: int | None = None,
    ) -> list[RecognizerResult]:
        """Pattern matches, with numbers of unknown networks down-scored."""
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        for result in results:
            if not validators.classify_card(text[result.start : result.end])[1]:
                result.score = min(result.score, self.UNKNOWN_NETWORK_SCORE)
        return results


class CnBankCardRecognizer(PaymentCardRecognizer):
    """UnionPay (62, 16-19 digits) and domestic 95 cards with a valid Luhn digit."""

    ENTITY = "CN_BANK_CARD"


class ZhPersonRecognizer(LocalRecognizer):
    """Chinese personal names preceded by a context word (pattern + context, no NER)."""

    SCORE = 0.7

    def __init__(
        self, context_words: Iterable[str], word_freq: Callable[[str], int] | None = None
    ) -> None:
        self._trigger = zh_names.build_trigger(context_words)
        self._freq = word_freq or zh_names.jieba_frequency
        super().__init__(
            supported_entities=["PERSON"], supported_language="zh", name="ZhPersonRecognizer"
        )

    def load(self) -> None:
        """Nothing to load."""

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Find names after context words."""
        results = []
        for match in self._trigger.finditer(text):
            span = zh_names.name_span(text, match.start("surname"), match["surname"], self._freq)
            if span:
                results.append(
                    RecognizerResult(
                        "PERSON",
                        span[0],
                        span[1],
                        self.SCORE,
                        recognition_metadata={
                            RecognizerResult.RECOGNIZER_NAME_KEY: "ZhPersonRecognizer",
                            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
                        },
                    )
                )
        return results


class OfflineEmailRecognizer(EmailRecognizer):
    """Presidio's email recogniser validating the domain against the bundled suffix list."""

    def validate_result(self, pattern_text: str) -> bool:
        """The part after '@' must end in a known public suffix."""
        return _TLD(pattern_text).fqdn != ""


class RegionPhoneRecognizer(PhoneRecognizer):
    """Presidio's libphonenumber matcher with strict grouping and cheap gates.

    * ``STRICT_GROUPING`` rejects digit groups that do not follow the number's national format,
      so an order number such as ``ORD-2024-998526`` is not taken for ``202-499-8526``.
    * No search at all below 7 digits (no phone number is that short).
    * NANP regions (US, CA) always run: they find +country-code numbers of every country and
      10-digit North American numbers. Other regions only add numbers in national format,
      which there always start with the trunk prefix 0 (020 7946 0958, 0755-74735585, or 0044
      for an international call from GB), so they run only when such a run of digits is present.
      Chinese mobiles, written without a trunk prefix, are ``CnMobileRecognizer``'s job.
    """

    _NANP = frozenset({"US", "CA"})
    _TRUNK = regex.compile(r"(?<![\d.,:/])\(?0(?:[\s().-]?\d){8,}")

    _LENIENCY = phonenumbers.Leniency.STRICT_GROUPING

    def __init__(self, **kwargs: object) -> None:
        super().__init__(leniency=self._LENIENCY, **kwargs)  # type: ignore[arg-type]

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[RecognizerResult]:
        """Phone numbers of the configured regions (see the class docstring for the gates)."""
        if sum(ch.isdigit() for ch in text) < 7:
            return []
        national = self._TRUNK.search(text) is not None
        results = [
            self._get_recognizer_result(match, text, region, nlp_artifacts)  # type: ignore[no-untyped-call]
            for region in self.supported_regions
            if region in self._NANP or national
            for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=self._LENIENCY)
        ]
        return list(EntityRecognizer.remove_duplicates(results))


class BoundedUrlRecognizer(UrlRecognizer):
    """URLs that are not part of an email or a longer word; bare domains score low."""

    def __init__(self, language: str, context: Iterable[str] = ()) -> None:
        base = UrlRecognizer.BASE_URL_REGEX
        left, right = r"(?<![A-Za-z0-9@.\-/])", r"(?![A-Za-z0-9\-@])"
        patterns = [
            Pattern("URL with scheme", left + r"https?://" + base, 0.6),
            Pattern("www URL", left + r"(?=www\d{0,3}[.])" + base + right, 0.6),
            Pattern("bare domain", left + base + right, 0.3),
        ]
        super().__init__(
            patterns=patterns,
            context=list(context) or None,
            supported_language=language,
            name="BoundedUrlRecognizer",
        )
        self.global_regex_flags = REGEX_FLAGS
