"""Realistic synthetic customers (Faker), for demos, benchmarks and later issues' data to govern.

About half are Chinese-locale customers with mainland mobile numbers and valid 18-digit resident
identity numbers; the rest are US/UK/German customers. Interaction notes and order comments
deliberately contain personal data (phone numbers, emails, id numbers) so PII discovery has
something real to find. Everything goes through the normal import path (validated, encrypted,
de-duplicated, audited).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from faker import Faker
from faker.providers.ssn.zh_CN import Provider as ChineseIds
from sqlalchemy import func, select

from governance.context import Call
from governance.database import refresh_statistics
from governance.models import Customer
from governance.services.customers import normalise as norm
from governance.services.customers import records
from governance.services.customers.imports import Importer
from governance.services.jobs.queue import JobContext, register

LOCALES = (
    ("zh_CN", "CN", "zh-CN", "CNY"),
    ("en_US", "US", "en-US", "USD"),
    ("en_GB", "GB", "en-GB", "GBP"),
    ("de_DE", "DE", "de-DE", "EUR"),
)
WEIGHTS = (0.5, 0.25, 0.15, 0.1)
NOTES_EN = (
    "Customer called about a late delivery; call back on {phone}.",
    "Asked to update billing email to {email}.",
    "Complaint resolved, goodwill voucher sent.",
    "Prefers contact by email only.",
    "Verified identity with document number {national_id}.",
)
COMMENTS = (
    "Gift wrap, please.",
    "Deliver after 6pm; courier may call {phone}.",
    "Send the invoice to {email}.",
    "发票抬头：{name}",
    "请送货前致电{phone}。",
)
NOTES_ZH = (
    "客户来电询问物流，回拨电话{phone}。",
    "客户要求把发票邮箱改为{email}。",
    "客户身份证号{national_id}已核实。",
    "投诉已处理，已发放优惠券。",
    "联系人{name}希望周末送货。",
)


SUBDIVISIONS: dict[str, tuple[str | None, ...]] = {
    "US": ("US-CA", "US-NY", "US-TX", "US-CA", None),
    "CN": ("CN-BJ", "CN-SH", "CN-GD", "CN-ZJ"),
}


def fake_customer(rng: random.Random, fakers: dict[str, Faker], index: int) -> dict[str, Any]:
    """One synthetic customer document in the API's JSON shape."""
    locale, country, language, _ = rng.choices(LOCALES, WEIGHTS)[0]
    fk = fakers[locale]
    born = datetime(1950, 1, 1) + timedelta(days=rng.randrange(0, 365 * 55))
    doc: dict[str, Any] = {
        "external_ref": f"CRM-{index:07d}",
        "full_name": fk.name(),
        "email": f"{fk.user_name()}{index}@{fk.free_email_domain()}",
        "country": country,
        "language": language,
        "date_of_birth": born.date().isoformat(),
        "marketing": {"email": rng.random() < 0.6, "sms": rng.random() < 0.3},
    }
    if locale == "zh_CN":
        mobile = fk.phone_number()
        doc["phone"] = (
            f"+86 {mobile[:3]} {mobile[3:7]} {mobile[7:]}" if rng.random() < 0.5 else mobile
        )
        doc["national_id"] = ChineseIds(fk).ssn(min_age=18, max_age=75)  # GB 11643
        # GB 11643 encodes the birth date: the record must agree with its own id number.
        doc["date_of_birth"] = norm.birth_date_of_id(doc["national_id"])
        doc["address"] = {
            "line1": fk.street_address(),
            "city": fk.city(),
            "region": fk.province(),
            "postal_code": fk.postcode(),
        }
    else:
        # Unique per customer (index), in ranges libphonenumber accepts as valid.
        doc["phone"] = {"US": "+1 202 555 {:04d}", "GB": "+44 20 7946 {:04d}",
                        "DE": "+49 30 9018{:04d}"}[country].format(index % 10_000)  # fmt: skip
        doc["phone"] = None if rng.random() < 0.2 else doc["phone"]
        doc["address"] = {
            "line1": fk.street_address(),
            "city": fk.city(),
            "postal_code": fk.postcode(),
        }
    # The state or province decides which laws apply (policies/jurisdictions.yaml); a few US
    # customers have none on record, for which every US regime applies.
    states = SUBDIVISIONS.get(country)
    if states:
        doc["subdivision"] = states[index % len(states)]
    return doc


def _note(rng: random.Random, doc: dict[str, Any], templates: tuple[str, ...] = ()) -> str:
    templates = templates or (NOTES_ZH if doc["country"] == "CN" else NOTES_EN)
    return rng.choice(templates).format(
        phone=doc.get("phone") or "n/a",
        email=doc["email"],
        name=doc["full_name"],
        national_id=doc.get("national_id") or "P12345678",
    )


def generate(count: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``count`` deterministic synthetic customers."""
    rng = random.Random(seed)
    fakers = {}
    for locale, *_ in LOCALES:
        fakers[locale] = Faker(locale)
        fakers[locale].seed_instance(seed)
    for index in range(1, count + 1):
        yield fake_customer(rng, fakers, index)


def stored_customers(call: Call) -> int:
    """How many customers the store holds (demo data is loaded into an empty store only)."""
    return call.session.scalar(select(func.count()).select_from(Customer)) or 0


def load_demo(call: Call, count: int, seed: int, progress: Any = None) -> dict[str, Any]:
    """Import ``count`` synthetic customers with orders and notes; commits in batches."""
    rng = random.Random(seed + 1)
    importer = Importer(call)
    batch: list[tuple[int, Any]] = []
    docs: dict[int, dict[str, Any]] = {}
    for number, doc in enumerate(generate(count, seed), start=1):
        batch.append((number, doc))
        docs[number] = doc
        if len(batch) == 200 or number == count:
            importer.batch(batch)
            _add_history(call, rng, docs)
            call.session.commit()  # checkpoint: one batch (long job)
            if progress:
                progress(number, count)
            batch, docs = [], {}
    if refresh_statistics(call.session.connection(), count):
        call.session.commit()
    return importer.report


def _add_history(call: Call, rng: random.Random, docs: dict[int, dict[str, Any]]) -> None:
    from sqlalchemy import select

    from governance.models import Customer

    refs = {call.vault.blind_index("external_ref", d["external_ref"]): d for d in docs.values()}
    rows = call.session.execute(
        select(Customer.id, Customer.external_ref_bidx).where(
            Customer.external_ref_bidx.in_(list(refs))
        )
    )
    now = call.now()
    for customer_id, ref_index in rows:
        doc = refs[bytes(ref_index or b"")]  # never None: selected by it
        currency = {"CN": "CNY", "US": "USD", "GB": "GBP", "DE": "EUR"}[doc["country"]]
        for _ in range(rng.randrange(0, 3)):
            records.add_order(
                call,
                customer_id,
                {
                    "ordered_at": (now - timedelta(days=rng.randrange(1, 900))).isoformat(),
                    "amount": f"{rng.randrange(500, 200000) / 100:.2f}",
                    "currency": currency,
                    "items": [
                        {"sku": f"SKU-{rng.randrange(1000, 9999)}", "quantity": rng.randrange(1, 4)}
                    ],
                    "comment": _note(rng, doc, COMMENTS) if rng.random() < 0.2 else None,
                },
            )
        if rng.random() < 0.7:
            records.add_interaction(
                call,
                customer_id,
                {
                    "channel": rng.choice(records.CHANNELS[:5]),
                    "occurred_at": (now - timedelta(days=rng.randrange(1, 400))).isoformat(),
                    "note": _note(rng, doc),
                },
            )


@register("demo-data")
def run_demo(ctx: JobContext) -> dict[str, Any]:
    """Job handler: load ``params.count`` demo customers."""
    count = int(ctx.params.get("count", 100))
    seed = int(ctx.params.get("seed", 7))
    return load_demo(ctx.call, count, seed, lambda d, t: ctx.progress(d, t))
