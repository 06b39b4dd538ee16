"""Each recogniser through the real engine (Presidio, spaCy, jieba; loaded once per process)."""

from __future__ import annotations

import pytest

from governance.services.pii.detection import Finding, UnsupportedLanguageError, analyze
from governance.services.pii.detection.results import detect_language, fold_width, resolve_overlaps


def found(text: str, language: str | None = None) -> list[tuple[str, str]]:
    """(entity type, matched text) pairs, in order."""
    return [(f.entity_type, text[f.start : f.end]) for f in analyze(text, language)]


def types(text: str, language: str | None = None) -> set[str]:
    return {t for t, _ in found(text, language)}


def test_findings_are_sorted_with_offsets() -> None:
    text = "Email ann.lee@example.com or call +1 415 555 0132."
    result = analyze(text, "en")
    assert [f.start for f in result] == sorted(f.start for f in result)
    assert ("EMAIL_ADDRESS", "ann.lee@example.com") in found(text, "en")
    assert ("PHONE_NUMBER", "+1 415 555 0132") in found(text, "en")
    assert all(isinstance(f, Finding) and 0 < f.score <= 1 for f in result)


@pytest.mark.parametrize(
    "phone",
    [
        "13800138000",
        "138 0013 8000",
        "138-0013-8000",
        "+86 138 0013 8000",
        "+8613800138000",
        "0086-138-0013-8000",
        "(+86)138 0013 8000",
    ],
)
def test_cn_mobile_formats(phone: str) -> None:
    assert found(f"客户手机{phone}，请回电。", "zh") == [("PHONE_NUMBER", phone)]


def test_cn_mobile_needs_a_real_prefix_and_length() -> None:
    assert "PHONE_NUMBER" not in types("工单号12800138000已关闭", "zh")  # 12x is no mobile prefix
    assert "PHONE_NUMBER" not in types("编号138001380001", "zh")  # 12 digits


@pytest.mark.parametrize(
    "text, phone",
    [
        ("请致电15412345678联系收货人。", "15412345678"),
        ("已拨打174 1234 5678两次，无人接听。", "174 1234 5678"),
        ("客户要求回拨17912345678。", "17912345678"),
        ("客户要求回电19412345678。", "19412345678"),
        ("Please dial +86 154 1234 5678 after 6pm.", "+86 154 1234 5678"),
        ("Customer asked us to call back on 17912345678.", "17912345678"),
    ],
)
def test_cn_mobile_in_unassigned_range_is_found_next_to_a_call_word(text: str, phone: str) -> None:
    """Chinese DLP practice flags 1[3-9] + 9 digits: ranges libphonenumber does not (yet) know
    as assigned are still reported when a word such as 致电, 拨打, 回拨 or "call" is near."""
    assert ("PHONE_NUMBER", phone) in found(text)


def test_cn_mobile_in_unassigned_range_needs_a_call_word() -> None:
    assert "PHONE_NUMBER" not in types("会员编号17912345678，积分3200分。", "zh")
    assert "PHONE_NUMBER" not in types("Membership 17412345678 renewed for a year.", "en")


def test_resident_id_glued_to_chinese_characters() -> None:
    text = "身份证号11010519491231002X已核实，另一个110105194912310021有误"
    assert found(text, "zh") == [("CN_RESIDENT_ID", "11010519491231002X")]


def test_resident_id_in_english_and_spaced() -> None:
    assert found("Chinese ID 110105 19491231 002X on file.", "en") == [
        ("CN_RESIDENT_ID", "110105 19491231 002X")
    ]


def test_uscc() -> None:
    assert found("统一社会信用代码91350100M000100Y43，", "zh") == [
        ("CN_USCC", "91350100M000100Y43")
    ]
    assert types("信用代码91350100M000100Y44有误", "zh") == set()
    # all-digit codes look like ids: reported with a context word only
    assert found("公司税号914403001922038216", "zh") == [("CN_USCC", "914403001922038216")]
    assert types("编号914403001922038216", "zh") == set()


def test_cards_mastercard_2_series_and_19_digits() -> None:
    text = "Paid with 2223 0031 2200 3222, backup Visa 4000000000000000006."
    assert found(text, "en") == [
        ("CREDIT_CARD", "2223 0031 2200 3222"),
        ("CREDIT_CARD", "4000000000000000006"),
    ]


def test_luhn_invalid_card_is_not_reported() -> None:
    assert types("Card 4111 1111 1111 1112 was declined.", "en") == set()


def test_unionpay_is_a_bank_card_and_never_double_counted() -> None:
    text = "退款银行卡6205500000000000004，信用卡4111111111111111"
    assert found(text, "zh") == [
        ("CN_BANK_CARD", "6205500000000000004"),
        ("CREDIT_CARD", "4111111111111111"),
    ]


def test_unknown_network_card_needs_context() -> None:
    assert types("Reference 1234567812345670 noted.", "en") == set()
    assert found("Card number 1234567812345670 noted.", "en") == [
        ("CREDIT_CARD", "1234567812345670")
    ]


def test_chinese_names_after_context_words() -> None:
    assert found("客户王伟来电，姓名：欧阳娜娜，联系人李娜电话", "zh") == [
        ("PERSON", "王伟"),
        ("PERSON", "欧阳娜娜"),
        ("PERSON", "李娜"),
    ]
    # honorific only, or a common word after the context word: no name
    assert types("客户王先生来电，客户方面表示满意，客户高兴", "zh") == set()


def test_email_in_chinese_text_excludes_chinese_characters() -> None:
    assert found("邮箱zhang.wei@example.com请查收", "zh") == [
        ("EMAIL_ADDRESS", "zhang.wei@example.com")
    ]


def test_full_width_digits() -> None:
    text = "手机１３８００１３８０００"
    assert found(text, "zh") == [("PHONE_NUMBER", "１３８００１３８０００")]
    assert fold_width(text) == "手机13800138000"


def test_negatives_are_not_flagged() -> None:
    text = "Order ORD-2024-998526, ZIP 90210-1234, $1,299.00 on 2024-05-17 at 14:30, #130154."
    assert types(text, "en") == set()
    assert (
        types("订单DD20240517123456于2024年5月17日发货，邮编200120，金额¥1,299.00", "zh") == set()
    )


def test_ner_gives_way_to_structured_identifiers() -> None:
    assert found("Landline 0755-74735585 given for the head office.", "en") == [
        ("PHONE_NUMBER", "0755-74735585")
    ]


def test_english_person_from_ner() -> None:
    assert ("PERSON", "John Smith") in found("Customer John Smith asked for a refund.", "en")


def test_unsupported_language() -> None:
    with pytest.raises(UnsupportedLanguageError):
        analyze("Bonjour", "fr")


def test_detect_language() -> None:
    assert detect_language("客户来电") == "zh"
    assert detect_language("Call me 138 0013 8000") == "en"
    assert found("客户手机13800138000", None) == [("PHONE_NUMBER", "13800138000")]


def test_resolve_overlaps() -> None:
    a = Finding("CN_RESIDENT_ID", 0, 18, 1.0)
    b = Finding("CN_BANK_CARD", 0, 18, 1.0)
    c = Finding("PERSON", 0, 25, 1.0)
    d = Finding("EMAIL_ADDRESS", 30, 40, 0.5)
    e = Finding("URL", 35, 40, 0.6)
    assert resolve_overlaps([c, b, a, e, d]) == [a, e]
    assert resolve_overlaps([d]) == [d]
