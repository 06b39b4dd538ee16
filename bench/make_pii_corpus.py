"""Generate the labelled PII evaluation corpus ``tests/data/pii/corpus.jsonl`` (deterministic).

Short customer notes, about half English and half Chinese, built from templates whose slots are
filled by seeded Faker (en_US, zh_CN) and by the generators below; every personal value is placed
at a known offset and labelled ``{"type", "start", "end"}``. Negatives (order and tracking
numbers, postcodes, dates, amounts, last-four digits) and hard cases (resident ids with a wrong
check digit, Luhn-invalid cards, ids glued to Chinese characters, +86 numbers with separators,
member numbers shaped like mobiles) are unlabelled and must not be reported.

Templates live in ``tests/data/pii/templates.yaml``. Check digits are computed here,
independently of ``governance.services.pii.detection.validators``; resident ids come from
Faker's zh_CN ``ssn()``. Phone numbers are kept only when libphonenumber knows them as valid
(a note holds real numbers), except ``cn_mobile_new``: Chinese mobiles in ranges
libphonenumber's metadata does not list yet (154, 174, 179, 194), written next to a word such
as 致电, 拨打 or "call".
Run: ``python bench/make_pii_corpus.py [--count N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from collections.abc import Callable
from pathlib import Path

import phonenumbers
import yaml
from faker import Faker

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "pii"
OUT = DATA / "corpus.jsonl"
TEMPLATES = DATA / "templates.yaml"
SEED = 20240517
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class Gen:
    """Value generators; each returns ``(text, entity_type or None)``."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.en = Faker("en_US")
        self.zh = Faker("zh_CN")
        self.en.seed_instance(seed)
        self.zh.seed_instance(seed + 1)

    # -- helpers ---------------------------------------------------------------------------
    def digits(self, n: int) -> str:
        return "".join(self.rng.choice("0123456789") for _ in range(n))

    @staticmethod
    def luhn_digit(body: str) -> str:
        total = 0
        for i, ch in enumerate(reversed(body)):
            d = int(ch) * (2 if i % 2 == 0 else 1)
            total += d // 10 + d % 10
        return str((10 - total % 10) % 10)

    def group(self, number: str, sizes: tuple[int, ...]) -> str:
        sep = self.rng.choice([" ", "-", " "])
        out, i = [], 0
        for size in sizes:
            out.append(number[i : i + size])
            i += size
        if i < len(number):
            out.append(number[i:])
        return sep.join(out)

    # -- phones ----------------------------------------------------------------------------
    def fullwidth(self, value: str, share: float = 0.06) -> str:
        """Sometimes type the value with a Chinese IME's full-width digits."""
        if self.rng.random() >= share:
            return value
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in value)

    def cn_mobile(self) -> tuple[str, str]:
        n = self.zh.phone_number()
        style = self.rng.randrange(8)
        text = [
            n,
            n,
            f"{n[:3]} {n[3:7]} {n[7:]}",
            f"{n[:3]}-{n[3:7]}-{n[7:]}",
            f"+86 {n[:3]} {n[3:7]} {n[7:]}",
            f"+86{n}",
            f"0086-{n[:3]}-{n[3:7]}-{n[7:]}",
            f"(+86){n[:3]} {n[3:7]} {n[7:]}",
        ][style]
        return self.fullwidth(text), "PHONE_NUMBER"

    def cn_mobile_new(self) -> tuple[str, str]:
        """A mobile in a range in use before libphonenumber lists it (154, 174, 179, 194)."""
        n = self.rng.choice(["154", "174", "179", "194"]) + self.digits(8)
        style = self.rng.randrange(4)
        text = [n, f"{n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"+86 {n}"][style]
        return self.fullwidth(text), "PHONE_NUMBER"

    def member_no(self) -> tuple[str, None]:
        """An 11-digit member number shaped like such a mobile, and no phone of any country."""
        while True:
            n = self.rng.choice(["174", "179"]) + self.digits(8)
            if not any(
                phonenumbers.is_valid_number(phonenumbers.parse(p))
                for p in ("+86" + n, "+" + n, "+1" + n[1:])
            ):
                return n, None

    def _valid(self, region: str, national: str) -> phonenumbers.PhoneNumber | None:
        try:
            num = phonenumbers.parse(national, region)
        except phonenumbers.NumberParseException:
            return None
        return num if phonenumbers.is_valid_number(num) else None

    def cn_landline(self) -> tuple[str, str]:
        while True:
            area = self.rng.choice(["10", "20", "21", "22", "23", "25", "28", "571", "755", "512"])
            sub = self.rng.choice("2345678") + self.digits(7)
            if self._valid("CN", "0" + area + sub):
                break
        style = self.rng.randrange(3)
        return [f"0{area}-{sub}", f"0{area} {sub[:4]} {sub[4:]}", f"+86 {area} {sub}"][style], (
            "PHONE_NUMBER"
        )

    def us_phone(self) -> tuple[str, str]:
        while True:
            raw = self.en.phone_number().split("x")[0]
            digits = re.sub(r"\D", "", raw)[-10:]
            num = self._valid("US", digits) if len(digits) == 10 else None
            if num is not None:
                break
        a, b, c = digits[:3], digits[3:6], digits[6:]
        style = self.rng.randrange(5)
        return [
            f"({a}) {b}-{c}",
            f"{a}-{b}-{c}",
            f"{a}.{b}.{c}",
            f"+1 {a} {b} {c}",
            f"+1-{a}-{b}-{c}",
        ][style], "PHONE_NUMBER"

    def intl_phone(self) -> tuple[str, str]:
        fmt = phonenumbers.PhoneNumberFormat.INTERNATIONAL
        while True:
            region = self.rng.choice(["GB", "DE", "FR", "AU", "JP", "SG", "HK"])
            example = phonenumbers.example_number_for_type(
                region, phonenumbers.PhoneNumberType.MOBILE
            )
            national = str(example.national_number)
            candidate = national[:-5] + self.digits(5)
            num = self._valid(region, "0" + candidate if region not in ("SG", "HK") else candidate)
            if num is not None:
                return phonenumbers.format_number(num, fmt), "PHONE_NUMBER"

    # -- cards -----------------------------------------------------------------------------
    def card(self, kind: str | None = None) -> tuple[str, str]:
        kind = kind or self.rng.choice(
            [
                "visa16",
                "visa16",
                "mastercard",
                "mastercard",
                "amex",
                "discover",
                "jcb16",
                "visa19",
                "diners",
            ]
        )
        number = self.en.credit_card_number(kind)
        if kind == "amex":
            text = self.group(number, (4, 6, 5)) if self.rng.random() < 0.5 else number
        elif self.rng.random() < 0.6:
            text = self.group(number, (4, 4, 4, 4))
        else:
            text = number
        return text, "CREDIT_CARD"

    def bank_card(self) -> tuple[str, str]:
        bins = [
            "622202",
            "622848",
            "621700",
            "622588",
            "621661",
            "622262",
            "623058",
            "621483",
            "625965",
        ]
        if self.rng.random() < 0.1:
            body = "9558" + self.digits(14)
        else:
            length = self.rng.choice([16, 16, 19, 19, 17, 18])
            body = self.rng.choice(bins) + self.digits(length - 7)
        number = body + self.luhn_digit(body)
        return (
            self.group(number, (4, 4, 4, 4)) if self.rng.random() < 0.4 else number
        ), "CN_BANK_CARD"

    def bad_card(self) -> tuple[str, None]:
        text, _ = self.card() if self.rng.random() < 0.6 else self.bank_card()
        last = text[-1]
        return text[:-1] + str((int(last) + self.rng.randint(1, 9)) % 10), None

    # -- Chinese identifiers ---------------------------------------------------------------
    def cn_id(self) -> tuple[str, str]:
        value = self.zh.ssn()
        if value.endswith("X") and self.rng.random() < 0.3:
            value = value[:-1] + "x"
        if self.rng.random() < 0.1:
            value = f"{value[:6]} {value[6:14]} {value[14:]}"
        return self.fullwidth(value), "CN_RESIDENT_ID"

    def bad_cn_id(self) -> tuple[str, None]:
        while True:
            value = self.zh.ssn()
            wrong = self.rng.choice([c for c in "0123456789X" if c != value[-1]])
            candidate = value[:-1] + wrong
            # A wrong-check id that also passes Luhn under a card prefix *is* a valid card
            # number by every check available: not a fair negative, so skip it.
            digits = candidate.replace("X", "")
            if len(digits) == 18 and self.luhn_digit(digits[:-1]) == digits[-1]:
                continue
            return candidate, None

    def uscc(self, letters: bool | None = None) -> tuple[str, str]:
        letters = self.rng.random() < 0.8 if letters is None else letters
        head = (
            self.rng.choice(["91", "91", "92", "11", "51", "52", "Y1", "93"]) if letters else "91"
        )
        region = self.rng.choice(["110105", "310115", "440300", "350100", "330106", "510104"])
        pool = USCC_CHARS if letters else "0123456789"
        while True:
            org = "".join(self.rng.choice(pool) for _ in range(9))
            body = head + region + org
            total = sum(USCC_CHARS.index(ch) * pow(3, i, 31) for i, ch in enumerate(body))
            check = USCC_CHARS[(31 - total % 31) % 31]
            code = body + check
            if letters == bool(re.search(r"[A-Z]", code)):
                return code, "CN_USCC"

    def bad_uscc(self) -> tuple[str, None]:
        code, _ = self.uscc(letters=True)
        wrong = self.rng.choice([c for c in USCC_CHARS if c != code[-1] and not c.isdigit()])
        return code[:-1] + wrong, None

    # -- people and contacts -----------------------------------------------------------------
    def en_name(self) -> tuple[str, str]:
        return (
            self.en.name()
            if self.rng.random() < 0.3
            else self.en.first_name() + " " + self.en.last_name(),
            "PERSON",
        )

    def zh_name(self) -> tuple[str, str]:
        return self.zh.name(), "PERSON"

    def email(self) -> tuple[str, str]:
        if self.rng.random() < 0.1:
            first, last = self.en.first_name(), self.en.last_name()
            return f"{first}.{last}+orders@{self.en.domain_name().title()}", "EMAIL_ADDRESS"
        if self.rng.random() < 0.4:
            user = self.en.user_name() + self.digits(self.rng.randint(0, 3))
            return (
                f"{user}@{self.rng.choice(['qq.com', '163.com', 'gmail.com', 'outlook.com'])}",
                "EMAIL_ADDRESS",
            )
        return (self.en.email() if self.rng.random() < 0.5 else self.zh.email()), "EMAIL_ADDRESS"

    # -- negatives -----------------------------------------------------------------------------
    def order(self) -> tuple[str, None]:
        return self.rng.choice(
            [
                f"ORD-2024-{self.digits(6)}",
                f"#{self.digits(6)}",
                f"SO{self.digits(10)}",
                f"DD{self.digits(14)}",
            ]
        ), None

    def negative(self, kind: str) -> tuple[str, None]:
        r = self.rng
        values: dict[str, Callable[[], str]] = {
            "amount": lambda: (
                r.choice(["$", "USD "]) + f"{r.randint(5, 4000):,}.{r.randint(0, 99):02d}"
            ),
            "cny": lambda: f"¥{r.randint(10, 20000):,}.{r.randint(0, 99):02d}",
            "date": lambda: r.choice(["2024-05-17", "05/17/2024", "17 May 2024", "2023-11-02"]),
            "zh_date": lambda: f"{r.randint(2022, 2025)}年{r.randint(1, 12)}月{r.randint(1, 28)}日",
            "zip": lambda: self.en.zipcode() if r.random() < 0.7 else self.en.zipcode_plus4(),
            "cn_post": lambda: self.zh.postcode(),
            "tracking": lambda: r.choice(["SF", "YT", "JD", "1Z"]) + self.digits(13),
            "last4": lambda: self.digits(4),
            "sku": lambda: f"SKU-{self.digits(5)}",
            "points": lambda: str(r.randint(100, 99999)),
            "time": lambda: f"{r.randint(8, 20)}:{r.choice(['00', '15', '30', '45'])}",
            "ticket": lambda: "10" + self.digits(9),
            "percent": lambda: f"{r.randint(5, 60)}%",
        }
        return values[kind](), None


def load_templates(path: Path = TEMPLATES) -> dict[str, list[str]]:
    """English and Chinese note templates with ``{slot}`` markers."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"en": list(data["en"]), "zh": list(data["zh"])}


def _slots(g: Gen) -> dict[str, Callable[[], tuple[str, str | None]]]:
    kinds = "amount cny date zh_date zip cn_post tracking last4 sku points time ticket percent"
    neg = {k: (lambda k=k: g.negative(k)) for k in kinds.split()}
    return {
        **neg,
        "en_name": g.en_name,
        "zh_name": g.zh_name,
        "email": g.email,
        "order": g.order,
        "cn_mobile": g.cn_mobile,
        "cn_mobile_new": g.cn_mobile_new,
        "member_no": g.member_no,
        "cn_landline": g.cn_landline,
        "us_phone": g.us_phone,
        "intl_phone": g.intl_phone,
        "card": g.card,
        "bank_card": g.bank_card,
        "bad_card": g.bad_card,
        "cn_id": g.cn_id,
        "bad_cn_id": g.bad_cn_id,
        "uscc": g.uscc,
        "bad_uscc": g.bad_uscc,
        "uscc_digits": lambda: g.uscc(letters=False),
        "mastercard": lambda: g.card("mastercard"),
        "visa19": lambda: g.card("visa19"),
        "iban": lambda: (g.en.iban(), "IBAN_CODE"),
        "ip": lambda: (g.en.ipv4_public(), "IP_ADDRESS"),
        "ssn": lambda: (g.en.ssn(), "US_SSN"),
    }


def fill(
    template: str, slots: dict[str, Callable[[], tuple[str, str | None]]]
) -> tuple[str, list[dict[str, object]]]:
    """Fill ``{slot}`` markers left to right, recording the offsets of labelled values."""
    text, entities, pos = "", [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        text += template[pos : m.start()]
        value, label = slots[m.group(1)]()
        if label:
            entities.append({"type": label, "start": len(text), "end": len(text) + len(value)})
        text += value
        pos = m.end()
    return text + template[pos:], entities


def generate(count: int, seed: int = SEED) -> list[dict[str, object]]:
    """``count`` records, alternating English and Chinese, deterministic for a seed."""
    g = Gen(seed)
    slots = _slots(g)
    templates = load_templates()
    records = []
    for i in range(count):
        lang = "en" if i % 2 == 0 else "zh"
        template = g.rng.choice(templates[lang])
        text, entities = fill(template, slots)
        records.append(
            {"id": f"{lang}-{i:05d}", "language": lang, "text": text, "entities": entities}
        )
    return records


def main() -> None:
    """Write the corpus and print counts per entity type."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2400)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    records = generate(args.count)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n")
    counts: dict[str, int] = {}
    for rec in records:
        for ent in rec["entities"]:  # type: ignore[attr-defined]
            counts[ent["type"]] = counts.get(ent["type"], 0) + 1
    negatives = sum(1 for r in records if not r["entities"])
    print(f"{len(records)} records, {negatives} without entities, {args.out.stat().st_size} bytes")
    for name, n in sorted(counts.items()):
        print(f"  {name:16} {n}")


if __name__ == "__main__":
    main()
