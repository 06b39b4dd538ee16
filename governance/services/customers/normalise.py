"""Data cleaning on the way in: normalise and validate each customer field.

Emails are trimmed and lower-cased, phone numbers become E.164 (``phonenumbers``), names and
addresses are Unicode NFC with collapsed whitespace, dates are ISO 8601 (a day and month written
with slashes are read in the record's locale), language tags take BCP 47 (RFC 5646) case. Chinese
resident identity numbers are checked against GB 11643-1999 (ISO 7064 MOD 11-2 check digit and
birth date), and a date of birth must agree with the one the number encodes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers

from governance.errors import ValidationError
from governance.services.customers.countries import ISO_3166_2, ISO_3166_ALPHA2, ISO_4217

_EMAIL = re.compile(r"^[^@\s]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9-]{1,63})+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode category Cc
_NOTE_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # Cc but tab, line breaks
_SURROGATE = re.compile(r"[\ud800-\udfff]")  # lone surrogates: not Unicode text, cannot be stored
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
_PASSPORT = re.compile(r"^[A-Z0-9]{5,20}$")
_CN_ID = re.compile(r"^[1-9]\d{16}[\dX]$")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the common case, parsed without strptime
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%d.%m.%Y", "%Y%m%d", "%Y年%m月%d日")
# Day and month before a four-digit year, separated by "/" or "-": 31/12/1980, 12-31-1980.
_LOCAL_DATE = re.compile(r"([0-9]{1,2})[/-]([0-9]{1,2})[/-]([0-9]{4})")
# Where such dates put the month first (CLDR short date patterns: M/d/y); elsewhere day first.
MONTH_FIRST_COUNTRIES = frozenset(
    {"US", "PH", "FM", "MH", "PW", "AS", "GU", "MP", "PR", "VI", "UM"}
)
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
ADDRESS_KEYS = ("line1", "line2", "city", "region", "postal_code")
MARKETING_CHANNELS = ("email", "sms", "phone", "post")


class FieldError(ValidationError, ValueError):
    """One field's value is invalid; the message never repeats the value (callers usually turn
    it into a ``ValidationError`` naming the field; one that escapes is a 422 itself)."""


def clean_text(value: Any, *, max_length: int = 500, required: bool = False) -> str | None:
    """NFC-normalise, collapse internal whitespace and trim; '' becomes None."""
    if value is None:
        if required:
            raise FieldError("is required")
        return None
    if not isinstance(value, str):
        raise FieldError("must be a string")
    _refuse_surrogates(value)
    text = " ".join(unicodedata.normalize("NFC", value).split())
    if not text:
        if required:
            raise FieldError("is required")
        return None
    if len(text) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if _CONTROL.search(text):
        raise FieldError("contains control characters")
    return text


def clean_note(value: Any, *, max_length: int = 10_000) -> str | None:
    """Free text: NFC, trimmed, line breaks kept."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise FieldError("must be a string")
    _refuse_surrogates(value)
    text = unicodedata.normalize("NFC", value).strip()
    if len(text) > max_length:
        raise FieldError(f"is longer than {max_length} characters")
    if _NOTE_CONTROL.search(text):
        raise FieldError("contains control characters")
    return text or None


def _refuse_surrogates(value: str) -> None:
    """Every input path (API bodies, CSV and JSON Lines imports, the CLI) meets this check."""
    if _SURROGATE.search(value):
        raise FieldError("contains a lone surrogate (not valid Unicode)")


def normalise_email(value: Any) -> str | None:
    """Trim and lower-case an email address and check its shape."""
    text = clean_text(value, max_length=254)
    if text is None:
        return None
    text = text.lower()
    if " " in text or not _EMAIL.match(text):
        raise FieldError("is not a valid email address")
    return text


def normalise_phone(value: Any, default_region: str, country: str | None = None) -> str | None:
    """Parse a phone number and return it in E.164.

    A number written without its international prefix is read in the record's ``country`` when
    it has one, else in ``default_region``. It is never re-read in another region when it is not
    valid in the record's own: that would turn a foreign number into a local one.
    """
    text = clean_text(value, max_length=40)
    if text is None:
        return None
    region = country or default_region
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise FieldError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        if country and not text.startswith(("+", "00")):
            raise FieldError(f"is not a valid phone number in {country} (write it with +)")
        raise FieldError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_date(value: Any, month_first: bool | None = None) -> date | None:
    """Parse a date in ISO 8601 or a common local format.

    ``month_first`` is the record's locale for dates such as 04/05/1980 (True: 5 April, False:
    4 May, None: unknown). A form only one reading makes a date (31/12/1980) is read that way;
    one both readings allow is refused when the locale is unknown.
    """
    if value is None or value == "":
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise FieldError("must be a date string (YYYY-MM-DD)")
    text = value.strip()
    if _ISO_DATE.fullmatch(text):
        try:
            return date(int(text[:4]), int(text[5:7]), int(text[8:]))
        except ValueError:
            raise FieldError("is not a date (expected YYYY-MM-DD)") from None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    local = _LOCAL_DATE.fullmatch(text)
    if local:
        return _local_date(int(local[1]), int(local[2]), int(local[3]), month_first)
    raise FieldError("is not a date (expected YYYY-MM-DD)")


def _local_date(first: int, second: int, year: int, month_first: bool | None) -> date:
    """A day/month/year or month/day/year date, read in the locale when both are possible."""
    readings = {}
    for is_month_first, (month, day) in ((True, (first, second)), (False, (second, first))):
        try:
            readings[is_month_first] = date(year, month, day)
        except ValueError:
            continue
    if len(set(readings.values())) == 1:
        return next(iter(readings.values()))
    if not readings:
        raise FieldError("is not a date (expected YYYY-MM-DD)")
    if month_first is None:
        raise FieldError("is ambiguous without the record's country (write YYYY-MM-DD)")
    return readings[month_first]


def month_first(country: str | None, language: str | None = None) -> bool | None:
    """Whether the record's locale writes the month before the day (None: no locale known)."""
    if country:
        return country in MONTH_FIRST_COUNTRIES
    region = (language or "").rpartition("-")[2]
    if len(region) == 2 and region.isupper():
        return region in MONTH_FIRST_COUNTRIES
    return None


def normalise_birth_date(
    value: Any, today: date | None = None, month_first: bool | None = None
) -> str | None:
    """A plausible date of birth as ISO 8601 (local forms read with ``month_first``)."""
    parsed = parse_date(value, month_first)
    if parsed is None:
        return None
    today = today or datetime.now(UTC).date()
    if parsed > today:
        raise FieldError("is in the future")
    if parsed.year < 1900:
        raise FieldError("is before 1900")
    return parsed.isoformat()


_TIMESTAMP_EXPECTED = (
    "must be an ISO 8601 timestamp or date (2026-12-07T09:30:00Z, 2026-12-07T17:30:00+08:00 "
    "or 2026-12-07)"
)


def parse_timestamp(value: Any) -> datetime:
    """An ISO 8601 timestamp (or date) as an aware UTC datetime; naive means UTC."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            try:
                day = parse_date(value)
            except FieldError:  # neither: say what is accepted, not only the date form
                raise FieldError(_TIMESTAMP_EXPECTED) from None
            assert day is not None
            parsed = datetime(day.year, day.month, day.day)
    else:
        raise FieldError(_TIMESTAMP_EXPECTED)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def cn_id_valid(number: str) -> bool:
    """GB 11643-1999: 18 characters, valid birth date, ISO 7064 MOD 11-2 check character."""
    if not _CN_ID.match(number):
        return False
    try:
        date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return False
    total = sum(int(d) * w for d, w in zip(number[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == number[17]


def birth_date_of_id(number: str | None) -> str | None:
    """The birth date (ISO 8601) a GB 11643 resident identity number encodes, else None."""
    if not number or len(number) != 18 or not cn_id_valid(number):
        return None
    return f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def check_birth_date_matches_id(birth_date: str | None, national_id: str | None) -> None:
    """Raise FieldError when a date of birth disagrees with the one the resident id encodes."""
    encoded = birth_date_of_id(national_id)
    if birth_date and encoded and birth_date != encoded:
        raise FieldError("does not match the birth date in national_id (GB 11643)")


def normalise_national_id(value: Any, country: str | None) -> str | None:
    """A resident id (checked for CN) or passport-style number, spaces removed, upper case."""
    text = clean_text(value, max_length=40)
    if text is None:
        return None
    compact = re.sub(r"[\s-]", "", text).upper()
    if len(compact) == 18 and compact[:17].isdigit():
        if not cn_id_valid(compact):
            raise FieldError("is not a valid resident identity number (check digit or date)")
        return compact
    if country == "CN" and compact.isdigit():
        raise FieldError("is not a valid resident identity number (18 characters)")
    if not _PASSPORT.match(compact):
        raise FieldError("must be 5-20 letters or digits")
    return compact


def normalise_country(value: Any) -> str | None:
    """ISO 3166-1 alpha-2, upper case."""
    text = clean_text(value, max_length=2)
    if text is None:
        return None
    code = text.upper()
    if code not in ISO_3166_ALPHA2:
        raise FieldError("is not an ISO 3166-1 alpha-2 country code")
    return code


def normalise_subdivision(value: Any, country: str | None) -> str | None:
    """ISO 3166-2 (``US-CA``, ``CN-BJ``), upper case. A bare code (``CA``) is read in the
    record's ``country``; a full code must belong to that country."""
    text = clean_text(value, max_length=6)
    if text is None:
        return None
    code = text.upper()
    if "-" not in code:
        if not country:
            raise FieldError("needs the record's country, or write it in full (US-CA)")
        code = f"{country}-{code}"
    if code not in ISO_3166_2:
        raise FieldError("is not an ISO 3166-2 subdivision code (e.g. US-CA, CN-BJ)")
    if country and not code.startswith(f"{country}-"):
        raise FieldError(f"is not a subdivision of the record's country {country}")
    if not country:
        raise FieldError("needs the record's country")
    return code


def normalise_language(value: Any) -> str | None:
    """A BCP 47 language tag in its canonical case: ``en-US``, ``zh-Hans-CN``, ``es-419``.

    RFC 5646 section 2.1.1: language lower case, script title case, region upper case, other
    subtags lower case; the case carries no meaning, so ``en-us`` and ``EN_us`` are ``en-US``.
    """
    text = clean_text(value, max_length=35)
    if text is None:
        return None
    head, *rest = text.replace("_", "-").split("-")
    subtags = [head.lower()]
    for index, part in enumerate(rest):
        if subtags[-1] in ("x", "u", "t") or len(part) == 1:
            subtags.append(part.lower())  # extensions and private use: lower case
        elif len(part) == 2 or (len(part) == 3 and part.isdigit()):
            subtags.append(part.upper() if index < 3 else part.lower())
        elif len(part) == 4 and part.isalpha() and index == 0:
            subtags.append(part.title())
        else:
            subtags.append(part.lower())
    tag = "-".join(subtags)
    if not _LANGUAGE.match(tag):
        raise FieldError("is not a language tag such as en or zh-CN")
    return tag


def normalise_address(value: Any) -> dict[str, str] | None:
    """The five address parts, each cleaned; unknown parts are refused."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise FieldError("must be an object with line1, line2, city, region, postal_code")
    unknown = sorted(set(value) - set(ADDRESS_KEYS))
    if unknown:
        raise FieldError(f"has unknown parts: {', '.join(unknown)}")
    cleaned = {}
    for key in ADDRESS_KEYS:
        part = clean_text(value.get(key), max_length=200)
        if part is not None:
            cleaned[key] = part
    return cleaned or None


def normalise_marketing(value: Any) -> dict[str, bool]:
    """Marketing preferences per channel (email, sms, phone, post), default opted out."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError("must be an object of channel: true/false")
    unknown = sorted(set(value) - set(MARKETING_CHANNELS))
    if unknown:
        raise FieldError(f"has unknown channels: {', '.join(unknown)}")
    if not all(isinstance(v, bool) for v in value.values()):
        raise FieldError("values must be true or false")
    return dict(value)


def normalise_amount(value: Any) -> Decimal:
    """A non-negative amount with at most two decimals."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise FieldError("must be a number")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise FieldError("must be a number") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e12"):
        raise FieldError("must be between 0 and 999,999,999,999.99")
    if amount != amount.quantize(Decimal("0.01")):
        raise FieldError("has more than two decimals")
    return amount.quantize(Decimal("0.01"))


def normalise_currency(value: Any) -> str:
    """An ISO 4217 code: three letters, upper case."""
    text = clean_text(value, max_length=3, required=True)
    assert text is not None
    if text.upper() not in ISO_4217:
        raise FieldError("must be an ISO 4217 code such as CNY or EUR")
    return text.upper()
