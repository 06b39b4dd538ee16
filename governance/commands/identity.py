"""Identity and policy commands: users, tokens, policy."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from governance.cli import app_call, cli, finish_work


@cli.group("users")
def users() -> None:
    """Console user accounts."""


@users.command("create")
@click.argument("email")
@click.option("--role", "roles", multiple=True, required=True, help="Repeat for several roles.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@with_appcontext
def users_create(email: str, roles: tuple[str, ...], password_stdin: bool) -> None:
    """Create a user; MFA enrolment happens at first sign-in."""
    from governance.services.identity import people as identity

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = identity.create_user(app_call(), email, list(roles), password)
    finish_work()
    click.echo(
        f"created user {user.email} ({', '.join(user.roles)}); "
        "two-factor enrolment at first sign-in"
    )


@users.command("list")
@with_appcontext
def users_list() -> None:
    """All users with roles, state and MFA status."""
    from governance.services.identity import people as identity

    for user in identity.list_users(app_call()):
        mfa = "mfa" if user.totp_enrolled else "no-mfa"
        click.echo(f"{user.email:<40} {','.join(user.roles):<20} {user.state:<9} {mfa}")


@users.command("disable")
@click.argument("email")
@with_appcontext
def users_disable(email: str) -> None:
    """Disable an account (sessions end at the next request)."""
    from governance.services.identity import people as identity

    identity.set_state(app_call(), email, "disabled")
    finish_work()
    click.echo(f"disabled {email}")


@users.command("enable")
@click.argument("email")
@with_appcontext
def users_enable(email: str) -> None:
    """Re-enable an account and clear its lock."""
    from governance.services.identity import people as identity

    identity.set_state(app_call(), email, "active")
    finish_work()
    click.echo(f"enabled {email}")


@users.command("reset-mfa")
@click.argument("email")
@with_appcontext
def users_reset_mfa(email: str) -> None:
    """Remove a user's TOTP enrolment; they enrol again at next sign-in."""
    from governance.services.identity import people as identity

    identity.reset_mfa(app_call(), email)
    finish_work()
    click.echo(f"two-factor reset for {email}")


@cli.group("tokens")
def tokens() -> None:
    """API tokens of service accounts."""


@tokens.command("create")
@click.argument("account")
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--expires-days", type=click.IntRange(1, 3650))
@with_appcontext
def tokens_create(account: str, roles: tuple[str, ...], expires_days: int | None) -> None:
    """Create ACCOUNT if needed and print a new token alone on the last line."""
    from governance.services.identity import service_accounts

    call = app_call()
    sa = service_accounts.service_account(call, account, list(roles))
    token = service_accounts.create_token(call, sa, expires_days)
    finish_work()
    click.echo(f"service account {sa.name} ({', '.join(sa.roles)}); token shown once:", err=True)
    click.echo(token)


@tokens.command("rotate")
@click.argument("token_id")
@click.option(
    "--expires-days",
    type=click.IntRange(1, 3650),
    help="Lifetime of the replacement; by default the same as the token it replaces.",
)
@with_appcontext
def tokens_rotate(token_id: str, expires_days: int | None) -> None:
    """Revoke a token and print its replacement alone on the last line."""
    from governance.services.identity import service_accounts

    if token_id.startswith("gov_"):
        token_id = token_id.split("_")[1]
    token = service_accounts.rotate_token(app_call(), token_id, expires_days)
    finish_work()
    click.echo(f"revoked {token_id}; replacement shown once:", err=True)
    click.echo(token)


@tokens.command("revoke")
@click.argument("token_id")
@with_appcontext
def tokens_revoke(token_id: str) -> None:
    """Revoke a token by its id (the part after gov_)."""
    from governance.services.identity import service_accounts

    if token_id.startswith("gov_"):
        token_id = token_id.split("_")[1]
    service_accounts.revoke_token(app_call(), token_id)
    finish_work()
    click.echo(f"revoked {token_id}")


@cli.group("policy")
def policy_group() -> None:
    """The Casbin authorisation policy."""


@policy_group.command("load")
@click.argument(
    "file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@with_appcontext
def policy_load(file: Path | None) -> None:
    """Replace the stored policy with FILE (default policies/policy.csv)."""
    from governance.services.identity import policy

    count = policy.load(app_call(), file) if file else policy.load(app_call())
    finish_work()
    click.echo(f"loaded {count} rules")


@policy_group.command("export")
@with_appcontext
def policy_export() -> None:
    """Print the stored policy as CSV."""
    from governance.extensions import db
    from governance.services.identity import policy

    click.echo(policy.export(db.session()), nl=False)


@policy_group.command("check")
@click.argument("subject")
@click.argument("method")
@click.argument("path")
@with_appcontext
def policy_check(subject: str, method: str, path: str) -> None:
    """Explain whether SUBJECT (a role, user email or service account) may call METHOD PATH."""
    from flask import current_app

    from governance.services.identity import policy
    from governance.web.edge import has_route

    call = app_call()
    roles = policy.roles_of(call, subject)
    routed = has_route(current_app, method, path)
    decision = policy.check(call.session, roles, method.upper(), path, routed=routed)
    click.echo(decision.reason)
    raise SystemExit(0 if decision.allowed else 1)


@policy_group.command("validate", with_appcontext=False)
@click.argument(
    "directory", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path)
)
def policy_validate(directory: Path | None) -> None:
    """Check every file under policies/ (or DIRECTORY); exit 1 naming each problem."""
    from governance.policy_validation import VALIDATORS, validate_all

    problems = validate_all(directory)
    for problem in problems:
        click.echo(str(problem), err=True)
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(VALIDATORS)} policy files valid")
