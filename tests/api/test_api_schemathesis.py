"""The API keeps the contract its OpenAPI document states, for every role (issue item 19).

Schemathesis generates requests from ``/api/v1/openapi.json`` (valid and invalid ones, a
bounded number per operation) and runs every one of its checks on each answer: no 5xx, only
documented status codes, content types, headers and response schemas, invalid input refused,
valid input accepted, authentication not ignored, 405 with ``Allow`` and so on. It runs
in-process on the WSGI app, once per role with that role's credentials (a bearer token for
service roles, a signed-in console session with its CSRF token for people).

Formats the server defines itself (phone numbers valid for their country, GB 11643 identity
numbers, ISO code lists, cursors it issued, ...) are named in the document and given value
strategies here. ``GOVERNANCE_SCHEMATHESIS_EXAMPLES`` sets the examples per operation and mode.
"""

from __future__ import annotations

import os
from datetime import date
from typing import Any

import pytest
import schemathesis
from conftest import csrf_headers, login_as, make_app, make_token

from governance.security.masking import default_visibility

ROLES = sorted(default_visibility().known_roles)
# Examples per operation and generation mode; the CI default keeps the whole run to minutes.
EXAMPLES = int(os.environ.get("GOVERNANCE_SCHEMATHESIS_EXAMPLES", "3"))


def credentials(app: Any, role: str) -> dict[str, str]:
    """Request headers that authenticate as ``role``."""
    if default_visibility().roles[role].kind == "service":
        return {"Authorization": f"Bearer {make_token(app, role)}"}
    client = app.test_client()
    login_as(app, client, role)
    headers = csrf_headers(client)
    cookie = client.get_cookie(app.config.get("SESSION_COOKIE_NAME", "session"))
    assert cookie is not None
    return {**headers, "Cookie": f"{cookie.key}={cookie.value}"}


def cn_resident_id(area: str, born: str, serial: int) -> str:
    """A GB 11643-1999 resident identity number with its check digit."""
    body = f"{area}{born}{serial:03d}"
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(d) * w for d, w in zip(body, weights, strict=True)) % 11]


def agree_birth_date(body: Any) -> None:
    """A rule JSON Schema cannot state: a GB 11643 number encodes its holder's birth date, so a
    valid customer's ``date_of_birth`` is that date (the server refuses anything else, 422)."""
    if not isinstance(body, dict) or not isinstance(body.get("national_id"), str):
        return
    number = body["national_id"]
    if isinstance(body.get("date_of_birth"), str) and len(number) == 18 and number[:17].isdigit():
        body["date_of_birth"] = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"


def register_formats() -> None:
    """Values for the formats the server defines itself (numbering plans, check digits, ISO
    code lists, cursors it issued): schemathesis cannot derive them from a pattern."""
    import phonenumbers
    from hypothesis import strategies as st

    from governance.services.customers.countries import ISO_3166_ALPHA2, ISO_4217
    from governance.services.customers.store import encode_cursor

    regions = ["CN", "DE", "FR", "GB", "JP", "US"]
    phones = [
        phonenumbers.format_number(
            phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE),
            phonenumbers.PhoneNumberFormat.E164,
        )
        for r in regions
    ]
    ids = st.builds(
        cn_resident_id,
        st.sampled_from(["110105", "310104", "440305"]),
        st.dates(min_value=date(1930, 1, 1), max_value=date(2010, 12, 31)).map(
            lambda d: d.strftime("%Y%m%d")
        ),
        st.integers(0, 999),
    )
    passports = st.from_regex(r"\A[A-Z0-9]{5,20}\Z")
    formats = {
        "phone": st.sampled_from(phones),
        "national-id": ids | passports,
        "iso3166-alpha2": st.sampled_from(sorted(ISO_3166_ALPHA2)),
        "iso3166-2": st.sampled_from(["US-CA", "US-NY", "CN-BJ", "DE-BE"]),
        "iso4217": st.sampled_from(sorted(ISO_4217)),
        "bcp47": st.sampled_from(["en", "zh-CN", "de", "fr-FR", "ja"]),
        "birth-date": st.dates(date(1900, 1, 1), date(2020, 12, 31)).map(date.isoformat),
        "pii-write-field": st.sampled_from(["interactions.note", "orders.comment"]),
        "iso8601": st.sampled_from(["2024-01-31", "2024-01-31T08:00:00Z", "2020-02-29"]),
        "cursor": st.uuids().map(lambda u: encode_cursor(str(u))),
        "email": st.from_regex(r"\A[a-z0-9._+-]{1,20}@[a-z0-9]{1,10}\.(?:com|cn|org)\Z"),
    }
    for name, strategy in formats.items():
        schemathesis.openapi.format(name, strategy)
    rows = st.lists(
        st.tuples(st.from_regex(r"\A[A-Z][a-z]{1,10} [A-Z][a-z]{1,10}\Z"), st.sampled_from(phones)),
        min_size=1,
        max_size=3,
    )
    csv = rows.map(lambda rs: "full_name,phone\n" + "".join(f"{n},{p}\n" for n, p in rs))
    ndjson = rows.map(
        lambda rs: "".join(f'{{"full_name": "{n}", "phone": "{p}"}}\n' for n, p in rs)
    )
    schemathesis.openapi.media_type("text/csv", csv.map(str.encode))
    schemathesis.openapi.media_type("application/x-ndjson", ndjson.map(str.encode))


def all_checks() -> list[Any]:
    from schemathesis.checks import CHECKS, load_all_checks

    load_all_checks()
    return [CHECKS.get_one(name) for name in CHECKS.get_all_names()]


@pytest.fixture
def fuzz_app(database_url: str, tmp_path: Any) -> Any:
    app = make_app(database_url, tmp_path / "instance", RATE_LIMIT="100000 per minute")
    yield app
    from governance.extensions import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_the_documented_contract(fuzz_app: Any, role: str) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    register_formats()
    headers = credentials(fuzz_app, role)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)
    checks = all_checks()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                derandomize=True,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                # run() is called within this iteration, so it sees this iteration's mode
                if mode is GenerationMode.POSITIVE:  # noqa: B023
                    agree_birth_date(case.body)
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to generate in this mode (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    assert not failures, f"{len(failures)} contract failures as {role}:\n" + "\n\n".join(failures)
