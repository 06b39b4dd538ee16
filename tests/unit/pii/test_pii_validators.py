"""Check digits and structure rules of the identifiers the PII recognisers report."""

from __future__ import annotations

from datetime import date

import pytest

from governance.services.pii.detection import validators as v


@pytest.mark.parametrize(
    "value",
    [
        "11010519491231002X",  # the example printed in GB 11643-1999
        "11010519491231002x",  # lower-case check character as typed
        "440524188001010014",
        "110105 19491231 002X",  # 6-8-4 spacing
    ],
)
def test_resident_id_valid(value: str) -> None:
    assert v.is_valid_cn_resident_id(value, today=date(2024, 5, 17))


@pytest.mark.parametrize(
    "value",
    [
        "110105194912310021",  # wrong check digit
        "11010519491231002",  # 17 characters
        "011010194912310029",  # region code cannot start with 0
        "1101051949123100XX",
    ],
)
def test_resident_id_invalid(value: str) -> None:
    assert not v.is_valid_cn_resident_id(value, today=date(2024, 5, 17))


def test_resident_id_check_digit_is_mod_11_2() -> None:
    assert v.cn_resident_id_check_char("11010519491231002") == "X"
    assert v.cn_resident_id_check_char("44052418800101001") == "4"
    with pytest.raises(ValueError):
        v.cn_resident_id_check_char("1101051949123100")


def test_resident_id_needs_a_real_birth_date() -> None:
    feb30 = "11010519490230002"  # 30 February: right check digit, impossible date
    assert not v.is_valid_cn_resident_id(feb30 + v.cn_resident_id_check_char(feb30))
    leap = "11010520000229002"  # 29 February 2000 exists
    assert v.is_valid_cn_resident_id(leap + v.cn_resident_id_check_char(leap))
    assert v.cn_resident_id_birth_date(feb30 + "0") is None


def test_resident_id_birth_date_not_in_the_future() -> None:
    body = "11010520250101001"
    value = body + v.cn_resident_id_check_char(body)
    assert not v.is_valid_cn_resident_id(value, today=date(2024, 12, 31))
    assert v.is_valid_cn_resident_id(value, today=date(2025, 1, 1))


@pytest.mark.parametrize(
    "value", ["91350100M000100Y43", "914403001922038216", "91350100m000100y43"]
)
def test_uscc_valid(value: str) -> None:
    assert v.is_valid_uscc(value)


@pytest.mark.parametrize(
    "value",
    [
        "91350100M000100Y44",  # wrong check character
        "91350100M000100I43",  # I is not in the GB 32100-2015 alphabet
        "9135010OM000100Y43",  # region part must be digits
        "91350100M000100Y4",
    ],
)
def test_uscc_invalid(value: str) -> None:
    assert not v.is_valid_uscc(value)


def test_uscc_check_character() -> None:
    assert v.uscc_check_char("91350100M000100Y4") == "3"
    with pytest.raises(ValueError):
        v.uscc_check_char("91350100M000100O4")


def test_luhn() -> None:
    assert v.luhn_valid("4111111111111111")
    assert not v.luhn_valid("4111111111111112")
    assert not v.luhn_valid("")
    assert not v.luhn_valid("4111-1111")


@pytest.mark.parametrize(
    ("number", "network", "entity"),
    [
        ("4111111111111111", "visa", "CREDIT_CARD"),
        ("4000000000000000006", "visa", "CREDIT_CARD"),  # 19 digits
        ("5555555555554444", "mastercard", "CREDIT_CARD"),
        ("2223003122003222", "mastercard", "CREDIT_CARD"),  # 2-series
        ("378282246310005", "amex", "CREDIT_CARD"),
        ("6011111111111117", "discover", "CREDIT_CARD"),
        ("3566002020360505", "jcb", "CREDIT_CARD"),
        ("36227206271667", "diners", "CREDIT_CARD"),
        ("6200000000000005", "unionpay", "CN_BANK_CARD"),
        ("6205500000000000004", "unionpay", "CN_BANK_CARD"),
    ],
)
def test_card_networks(number: str, network: str, entity: str) -> None:
    assert v.card_network(number) == network
    assert v.card_entity(number) == entity
    assert v.classify_card(number) == (entity, True)


def test_card_rule_never_gives_two_types() -> None:
    assert v.card_entity("4111 1111 1111 1112") is None  # Luhn fails
    assert v.classify_card("6200 0000 0000 0005") == ("CN_BANK_CARD", True)
    # Luhn-valid, no known network: a card only if context says so (low score)
    assert v.classify_card("1234567812345670") == ("CREDIT_CARD", False)
    # 62 with a length UnionPay does not issue is not a card at all
    assert v.classify_card("6200000000009") == (None, False)


def test_18_digit_ids_are_not_cards() -> None:
    # Jiangxi (36...) and Xinjiang (65...) ids: Diners/Discover never issue 18 digits.
    for body in ("36010219900101001", "65010219900101001"):
        value = body + v.cn_resident_id_check_char(body)
        assert v.card_network(value) is None
