"""The batch scanner and its pre-filter (in-process here; the worker pool runs in the accuracy
and offline tests)."""

from __future__ import annotations

import pytest

from governance.services.pii.detection import (
    UnsupportedLanguageError,
    analyze,
    get_policy,
    scan_texts,
)
from governance.services.pii.detection.prefilter import Prefilter

ITEMS = [
    (1, "Customer John Smith called from (415) 555-0132."),
    (2, "no capitals, no digits, nothing to see"),
    (3, None),
    (4, "客户王伟来电，手机13800138000"),
    (5, "包裹已送达"),
    ("k6", "mail ann@example.com"),
    (7, ""),
]


def test_scan_yields_every_key_in_order_with_progress() -> None:
    seen: list[int] = []
    results = list(scan_texts(ITEMS, workers=1, batch_size=2, progress=seen.append))
    assert [key for key, _ in results] == [key for key, _ in ITEMS]
    assert seen[-1] == len(ITEMS) and seen == sorted(seen)
    by_key = dict(results)
    assert by_key[2] == [] and by_key[3] == [] and by_key[5] == [] and by_key[7] == []
    assert {f.entity_type for f in by_key[1]} == {"PERSON", "PHONE_NUMBER"}
    assert {f.entity_type for f in by_key[4]} == {"PERSON", "PHONE_NUMBER"}
    assert [f.entity_type for f in by_key["k6"]] == ["EMAIL_ADDRESS"]


def test_scan_matches_per_text_analysis() -> None:
    for key, findings in scan_texts(ITEMS, workers=1, batch_size=3):
        text = dict(ITEMS)[key]
        if text:
            assert findings == analyze(text, None), key


def test_scan_rejects_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguageError):
        list(scan_texts(ITEMS, workers=1, language="fr"))


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("包裹已送达，谢谢", "zh", False),  # no digit, no @, no context word
        ("客户王伟来电", "zh", True),  # context word for Chinese names
        ("订单12", "zh", True),  # a digit: structured types possible
        ("邮箱ａｎｎ＠ｅｘａｍｐｌｅ．ｃｏｍ", "zh", True),  # full-width @ folds to @
        ("no capitals and no digits", "en", False),
        ("see example.org for details", "en", True),  # bare domain: URL possible
        ("Thanks", "en", True),  # a capital: the NER may find a name
        ("", "en", False),
    ],
)
def test_prefilter(text: str, language: str, expected: bool) -> None:
    assert Prefilter(get_policy())(text, language) is expected


def test_prefilter_never_skips_structured_findings() -> None:
    prefilter = Prefilter(get_policy())
    for text in ("ann@example.com", "13800138000", "11010519491231002x", "91350100m000100y43"):
        assert prefilter(text, "zh") and prefilter(text, "en")
