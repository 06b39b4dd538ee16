"""The per-process cache of verified tokens (GOVERNANCE_TOKEN_CACHE_SECONDS): what it may and may
not change. A revocation in another process (here: the real CLI in a subprocess) reaches a
server process within the cache window, and at once with the cache off; a wrong secret or an
expiry is never served from the cache."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import make_app, make_token
from idn_helpers import audit, service

from governance.bootstrap import deps
from governance.extensions import db
from governance.security.token_cache import TokenCache
from governance.services.identity import service_accounts


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache_of(app: Any) -> TokenCache:
    return app.extensions["governance.token_cache"]  # type: ignore[no-any-return]


def revoke_in_another_process(app: Any, token: str) -> None:
    """``governance tokens revoke`` in a subprocess on the same database and keys."""
    env = {
        **os.environ,
        "GOVERNANCE_DATABASE_URL": app.config["DATABASE_URL"],
        "GOVERNANCE_INSTANCE_PATH": app.config["INSTANCE_PATH"],
        "GOVERNANCE_DEV": "true",
    }
    cli = Path(sys.executable).parent / "governance"
    done = subprocess.run(
        [str(cli), "tokens", "revoke", token.split("_")[1]],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.fixture
def uncached(database_url: str, tmp_path: Path) -> Iterator[Any]:
    app = make_app(database_url, tmp_path / "instance", TOKEN_CACHE_SECONDS=0)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_a_revocation_elsewhere_applies_once_the_cached_entry_ages_out(app: Any) -> None:
    clock = Clock()
    cache_of(app)._clock = clock
    token = make_token(app, "crm_app", "crm")
    headers = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    client = app.test_client()
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    assert len(cache_of(app)) == 1
    revoke_in_another_process(app, token)
    clock.now += 1.0  # within the 2-second window this process still trusts its check
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    clock.now += 1.0  # the window is over: the token is looked up again, and refused
    res = client.get("/api/v1/customers", headers=headers)
    assert res.status_code == 401
    assert audit(app, "auth.token")[0]["details"]["reason"] == "revoked"


def test_with_the_cache_off_a_revocation_elsewhere_applies_at_once(uncached: Any) -> None:
    token = make_token(uncached, "crm_app", "crm")
    headers = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    client = uncached.test_client()
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    assert len(cache_of(uncached)) == 0
    revoke_in_another_process(uncached, token)
    assert client.get("/api/v1/customers", headers=headers).status_code == 401


def test_a_wrong_secret_for_a_cached_token_id_is_refused(app: Any, client: Any) -> None:
    token = make_token(app, "crm_app", "crm")
    assert (
        client.get(
            "/api/v1/customers",
            headers={"X-Purpose": "support", "Authorization": f"Bearer {token}"},
        ).status_code
        == 200
    )
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    res = client.get(
        "/api/v1/customers", headers={"X-Purpose": "support", "Authorization": f"Bearer {forged}"}
    )
    assert res.status_code == 401
    assert audit(app, "auth.token")[0]["details"]["reason"] == "unknown"


def test_a_cached_token_still_expires(app: Any, client: Any) -> None:
    cache_of(app).ttl = 3600  # the entry would be trusted for an hour
    with service(app) as call:
        account = service_accounts.service_account(call, "crm", ["crm_app"])
        # issued a day ago for one day: it expires in a second and a half
        issued = call.now() - timedelta(days=1) + timedelta(seconds=1.5)
        token = service_accounts.create_token(
            dataclasses.replace(call, clock=lambda: issued), account, 1
        )
    headers = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/customers", headers=headers).status_code == 200
    assert len(cache_of(app)) == 1
    later = issued + timedelta(days=1, seconds=0.1)  # just past the expiry
    deps(app).clock = lambda: later  # the guard reads the app's clock: no sleep
    res = client.get("/api/v1/customers", headers=headers)
    assert res.status_code == 401
    assert audit(app, "auth.token")[0]["details"]["reason"] == "expired"


def test_entries_older_than_the_window_are_dropped_from_memory(app: Any) -> None:
    clock = Clock()
    cache = cache_of(app)
    cache._clock = clock
    cache._swept_at = clock.now
    client = app.test_client()
    first = {
        "X-Purpose": "support",
        "Authorization": f"Bearer {make_token(app, 'crm_app', 'crm-a')}",
    }
    second = {
        "X-Purpose": "support",
        "Authorization": f"Bearer {make_token(app, 'crm_app', 'crm-b')}",
    }
    assert client.get("/api/v1/customers", headers=first).status_code == 200
    assert first["Authorization"] in cache._entries
    clock.now += 2.5  # past the window: the next lookup sweeps the old entry (and its secret)
    assert client.get("/api/v1/customers", headers=second).status_code == 200
    assert list(cache._entries) == [second["Authorization"]]


def test_the_same_token_under_another_spelling_of_the_scheme_is_checked_too(
    app: Any, client: Any
) -> None:
    token = make_token(app, "crm_app", "crm")
    for scheme in ("Bearer", "bearer", "BEARER"):
        headers = {"X-Purpose": "support", "Authorization": f"{scheme} {token}"}
        res = client.get("/api/v1/customers", headers=headers)
        assert res.status_code == 200
    assert len(cache_of(app)) == 3  # one verified entry per exact header
