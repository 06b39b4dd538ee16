"""The operator CLI for identity: users, tokens, policy (exact command forms from issue 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from conftest import PASSWORD, make_user
from idn_helpers import audit, user_row

from governance.cli import cli
from governance.security.authz import DEFAULT_POLICY_PATH, load_policy_csv


def run(runner: Any, *args: str, **kw: Any) -> Any:
    return runner.invoke(cli, list(args), catch_exceptions=False, **kw)


def test_users_create_list_disable_reset_mfa(app: Any, runner: Any) -> None:
    res = run(
        runner,
        "users",
        "create",
        "Ops@Example.com",
        "--role",
        "dpo",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert res.exit_code == 0, res.output
    assert "ops@example.com" in res.stdout and PASSWORD not in res.output
    make_user(app, "auditor", "aud@example.com")  # enrolled
    listing = run(runner, "users", "list").stdout.splitlines()
    assert [line.split()[:4] for line in listing] == [
        ["aud@example.com", "auditor", "active", "mfa"],
        ["ops@example.com", "dpo", "active", "no-mfa"],
    ]
    assert run(runner, "users", "disable", "ops@example.com").exit_code == 0
    assert user_row(app, "ops@example.com")["state"] == "disabled"
    assert run(runner, "users", "reset-mfa", "aud@example.com").exit_code == 0
    assert not user_row(app, "aud@example.com")["totp_enrolled"]
    cli_entries = [e for e in audit(app) if str(e["actor_id"]).startswith("cli:")]
    assert [e["action"] for e in cli_entries] == ["user.create", "user.state", "mfa.reset"]


def test_users_create_refuses_a_weak_password(app: Any, runner: Any) -> None:
    res = runner.invoke(
        cli,
        ["users", "create", "a@example.com", "--role", "dpo", "--password-stdin"],
        input="password\n",
    )
    assert res.exit_code != 0
    assert audit(app, "user.create") == []


def test_tokens_create_prints_the_token_last_and_revoke_stops_it(app: Any, runner: Any) -> None:
    res = run(runner, "tokens", "create", "crm-prod", "--role", "crm_app", "--expires-days", "30")
    assert res.exit_code == 0
    token = res.stdout.splitlines()[-1]
    assert token.startswith("gov_") and len(token) == 60
    assert res.stdout.strip() == token  # alone: scripts can capture stdout as is
    client = app.test_client()
    bearer = {"X-Purpose": "support", "Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/customers", headers=bearer).status_code == 200
    second = run(runner, "tokens", "create", "crm-prod", "--role", "crm_app")
    assert second.stdout.splitlines()[-1] != token  # same account, a second token
    token_id = token.split("_")[1]
    assert run(runner, "tokens", "revoke", token_id).exit_code == 0
    assert client.get("/api/v1/customers", headers=bearer).status_code == 401
    created = audit(app, "token.create")
    assert [e["details"]["expires_at"] is not None for e in created] == [True, False]
    assert len(audit(app, "service_account.create")) == 1


def test_policy_load_export_round_trip(app: Any, runner: Any, tmp_path: Path) -> None:
    lines = load_policy_csv(DEFAULT_POLICY_PATH)
    res = run(runner, "policy", "load")
    assert res.exit_code == 0 and f"loaded {len(lines)} rules" in res.stdout
    exported = run(runner, "policy", "export").stdout
    path = tmp_path / "exported.csv"
    path.write_text(exported, encoding="utf-8")
    assert load_policy_csv(path) == lines  # the export loads back to the same rules
    assert run(runner, "policy", "load", str(path)).exit_code == 0
    entries = audit(app, "policy.load")
    assert [e["details"]["source"] for e in entries] == ["policy.csv", "exported.csv"]
    assert entries[1]["details"]["added"] == [] and entries[1]["details"]["removed"] == []


def test_policy_load_refuses_an_invalid_file(app: Any, runner: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("p, superuser, /api/v1/customers, GET\n", encoding="utf-8")
    res = runner.invoke(cli, ["policy", "load", str(bad)])
    assert res.exit_code != 0
    assert audit(app, "policy.load") == []


def test_policy_check_explains_and_exits_0_or_1(app: Any, runner: Any) -> None:
    allowed = run(runner, "policy", "check", "support", "GET", "/api/v1/customers/42")
    assert allowed.exit_code == 0
    assert "allowed: role 'support' matches rule 'p, support, /api/v1/customers/:id" in (
        allowed.stdout
    )
    denied = run(runner, "policy", "check", "support", "delete", "/api/v1/customers/42")
    assert denied.exit_code == 1 and "deny by default" in denied.stdout
    make_user(app, ["auditor"], "aud@example.com")
    by_email = run(runner, "policy", "check", "aud@example.com", "GET", "/api/v1/audit/entries")
    assert by_email.exit_code == 0
    run(runner, "tokens", "create", "crm-prod", "--role", "crm_app")
    by_account = run(runner, "policy", "check", "crm-prod", "DELETE", "/api/v1/customers/1")
    assert by_account.exit_code == 1 and "crm_app" in by_account.stdout
    unknown = run(runner, "policy", "check", "nobody", "GET", "/")
    assert unknown.exit_code == 1 and "no rules at all: nobody" in unknown.stdout
