"""The README's identity section matches the policy files and names the exact CLI forms."""

from __future__ import annotations

from pathlib import Path

from governance.config import PREFIX, SETTINGS
from governance.security.authz import DEFAULT_POLICY_PATH, load_policy_csv
from governance.services.identity.policy import roles_table

DOC = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_roles_table_is_generated_from_the_policy_files() -> None:
    section = DOC.split("<!-- roles:start -->\n")[1].split("<!-- roles:end -->")[0]
    assert section == roles_table(load_policy_csv(DEFAULT_POLICY_PATH)), (
        "regenerate the roles section with governance.services.identity.policy.roles_table"
    )


def test_documents_enrolment_tokens_policy_changes_and_settings() -> None:
    for text in (
        "governance users create",
        "--password-stdin",
        "governance users reset-mfa EMAIL",
        "governance tokens create crm-production --role crm_app --expires-days",
        "governance tokens revoke",
        "governance policy check",
        "governance policy load",
        "governance policy export",
        "recovery codes",
        "X-CSRFToken",
    ):
        assert text in DOC, text
    for key in ("RATE_LIMIT", "LOGIN_RATE_LIMIT", "RATELIMIT_STORAGE", "REAUTH_MINUTES"):
        assert f"`{PREFIX}{key}`" in DOC
    assert {s.key for s in SETTINGS} >= {"RATE_LIMIT", "LOGIN_RATE_LIMIT", "RATELIMIT_STORAGE"}
