"""Dates on the way in: the ISO fast path and GB 11643 birth dates agree with strptime."""

from __future__ import annotations

import random
from datetime import date, datetime

import pytest

from governance.services.customers import normalise as norm


def _strptime_only(text: str) -> date | None:
    for fmt in norm._DATE_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


def _parsed(text: str) -> date | None:
    try:
        return norm.parse_date(text)
    except norm.FieldError:
        return None


def test_iso_dates_parse_exactly_as_with_strptime() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        year = rng.choice(
            ["0000", "0001", "1899", "1900", "2000", "2024", f"{rng.randrange(10000):04d}"]
        )
        text = f"{year}-{rng.randrange(0, 20):02d}-{rng.randrange(0, 40):02d}"
        assert _parsed(text) == _strptime_only(text), text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-02-28", date(1990, 2, 28)),
        (" 2000-02-29 ", date(2000, 2, 29)),
        ("1990/2/3", date(1990, 2, 3)),
        ("03.02.1990", date(1990, 2, 3)),
        ("19900203", date(1990, 2, 3)),
        ("1990年2月3日", date(1990, 2, 3)),
    ],
)
def test_other_formats_still_parse(text: str, expected: date) -> None:
    assert norm.parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["1990-02-30", "2023-02-29", "1990-13-01", "1990-00-10", "0000-01-01"]
)
def test_impossible_dates_are_refused(text: str) -> None:
    with pytest.raises(norm.FieldError, match="is not a date"):
        norm.parse_date(text)


def _with_check(body: str) -> str:
    total = sum(int(d) * w for d, w in zip(body, norm._ID_WEIGHTS, strict=True))
    return body + norm._ID_CHECK[total % 11]


def test_resident_id_birth_date_is_checked() -> None:
    assert norm.cn_id_valid(_with_check("11010519900307123"))
    assert norm.cn_id_valid(_with_check("11010520000229123"))  # leap day
    assert not norm.cn_id_valid(_with_check("11010519900230123"))  # 30 February
    assert not norm.cn_id_valid(_with_check("11010519901301123"))  # month 13
    assert not norm.cn_id_valid(_with_check("11010519900100123"))  # day 0
    with pytest.raises(norm.FieldError, match="check digit or date"):
        norm.normalise_national_id(_with_check("11010520230229123"), "CN")
