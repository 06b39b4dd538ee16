"""Check-digit and structure validators for the identifiers the PII recognisers report.

Pure functions, no Presidio: GB 11643-1999 resident identity numbers (ISO 7064 MOD 11-2 check
digit and a real birth date), GB 32100-2015 Unified Social Credit Codes (MOD 31 check
character), the Luhn (ISO/IEC 7812-1) check of payment cards and the card-network rule that
decides whether a card is a ``CREDIT_CARD`` or a ``CN_BANK_CARD``.

Card rule (so that one number is never counted twice):

* UnionPay (IIN ``62``, 16-19 digits) and Chinese domestic ``95`` cards (19 digits) are
  ``CN_BANK_CARD``;
* Visa (13/16/19 digits), Mastercard (51-55 and 2221-2720), American Express, Discover (6011,
  644-649, 65; 16/19 digits), JCB (3528-3589), Diners Club (300-305, 36, 38, 39; 14/16 digits)
  and Maestro are ``CREDIT_CARD``. Lengths are kept to those issued, so that an 18-digit
  resident id of Jiangxi (36...) or Xinjiang (65...) is never taken for a card;
* any other Luhn-valid 13-19 digit number is a ``CREDIT_CARD`` of unknown network, which the
  recogniser reports at a low score that only a context word ("card", "信用卡") lifts above
  the threshold; a number failing Luhn is never a card.
"""

from __future__ import annotations

from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100-2015: no I, O, S, V, Z
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_SEPARATORS = str.maketrans("", "", " -")


def digits_only(value: str) -> str:
    """Drop the space and dash separators people type inside long numbers."""
    return value.translate(_SEPARATORS)


def cn_resident_id_check_char(first17: str) -> str:
    """GB 11643-1999 check character (ISO 7064 MOD 11-2) for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("expected 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11]


def cn_resident_id_birth_date(value: str) -> date | None:
    """The birth date encoded in positions 7-14, or None if it is not a calendar date."""
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def is_valid_cn_resident_id(value: str, today: date | None = None) -> bool:
    """True for an 18-character GB 11643-1999 number: region, birth date, check digit."""
    value = digits_only(value).upper()
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return False
    if value[0] == "0":
        return False
    born = cn_resident_id_birth_date(value)
    if born is None or born.year < 1800 or born > (today or date.today()):
        return False
    return cn_resident_id_check_char(value[:17]) == value[17]


def uscc_check_char(first17: str) -> str:
    """GB 32100-2015 check character for the first 17 characters of a credit code."""
    if len(first17) != 17 or any(ch not in USCC_ALPHABET for ch in first17):
        raise ValueError("expected 17 characters of the GB 32100-2015 alphabet")
    total = sum(USCC_ALPHABET.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def is_valid_uscc(value: str) -> bool:
    """True for an 18-character Unified Social Credit Code with a correct check character."""
    value = value.upper()
    if len(value) != 18 or any(ch not in USCC_ALPHABET for ch in value):
        return False
    if not value[2:8].isdigit():  # administrative division code
        return False
    return uscc_check_char(value[:17]) == value[17]


def luhn_valid(number: str) -> bool:
    """ISO/IEC 7812-1 (Luhn) check over a string of ASCII digits."""
    if not number or not number.isascii() or not number.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def card_network(number: str) -> str | None:
    """Name of the card network a digit string belongs to by IIN and length, or None."""
    n = len(number)
    if not number.isascii() or not number.isdigit():
        return None
    if number.startswith("62") and 16 <= n <= 19:
        return "unionpay"
    if number.startswith("95") and n == 19:
        return "cn-domestic"
    if number[0] == "4" and n in (13, 16, 19):
        return "visa"
    p2, p3, p4 = int(number[:2]), int(number[:3]), int(number[:4])
    if n == 16 and (51 <= p2 <= 55 or 2221 <= p4 <= 2720):
        return "mastercard"
    if n == 15 and p2 in (34, 37):
        return "amex"
    if n in (16, 19) and (p4 == 6011 or 644 <= p3 <= 649 or p2 == 65):
        return "discover"
    if 16 <= n <= 19 and 3528 <= p4 <= 3589:
        return "jcb"
    if n in (14, 16) and (300 <= p3 <= 305 or p2 in (36, 38, 39)):
        return "diners"
    if 16 <= n <= 19 and (p4 in (5018, 5020, 5038, 5893, 6304, 6759) or 6761 <= p4 <= 6763):
        return "maestro"
    return None


CN_BANK_NETWORKS = frozenset({"unionpay", "cn-domestic"})


def classify_card(value: str) -> tuple[str | None, bool]:
    """``(entity, known_network)`` for a card number (separators allowed).

    ``entity`` is ``CN_BANK_CARD``, ``CREDIT_CARD`` or None (Luhn fails, wrong length, or a
    62/95 prefix with a length those networks do not issue).
    """
    number = digits_only(value)
    if not 13 <= len(number) <= 19 or not luhn_valid(number):
        return None, False
    network = card_network(number)
    if network in CN_BANK_NETWORKS:
        return "CN_BANK_CARD", True
    if network is not None:
        return "CREDIT_CARD", True
    if number.startswith(("62", "95", "0")):
        return None, False
    return "CREDIT_CARD", False


def card_entity(value: str) -> str | None:
    """``CN_BANK_CARD`` or ``CREDIT_CARD`` for a card of a known network, else None."""
    entity, known = classify_card(value)
    return entity if known else None
