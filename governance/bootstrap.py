"""Wiring at start: secrets, the vault, the audit log and the master-key check against the database.

The dependencies live in ``app.extensions["governance"]`` as a ``Deps`` object; request handlers,
CLI commands and tests turn it into a ``Call`` for service functions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import Flask
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from governance import jurisdictions, policy_validation
from governance.config import PRIVATE_KEYS, SETTINGS, ConfigError
from governance.context import SYSTEM, Actor, Call, Purpose, purposes, utcnow
from governance.crypto import CryptoError, KeySource, check_fingerprints
from governance.crypto.keyfile import load_key_file
from governance.extensions import db
from governance.models import AuditCheckpoint, DataKey, KeyVersion
from governance.policyfiles import PolicyFileError, load_field_rules
from governance.secrets import master_keys, secret_key, signing_key
from governance.services.auditlog.append import AuditLog
from governance.services.auditlog.integrator import Integrator
from governance.services.auditlog.witness import CheckpointFile, checkpoint_file_for
from governance.services.keys.vault import Vault

log = logging.getLogger(__name__)


@dataclass
class Deps:
    """Per-app dependencies shared by every service call."""

    keys: KeySource
    vault: Vault
    audit: AuditLog
    settings: dict[str, Any]
    # The app's clock: every Call and the guard (token expiry, session idle time, refusal
    # entries) read it, so a test moves time by replacing it instead of sleeping.
    clock: Callable[[], datetime] = utcnow

    def call(self, session: Session, actor: Actor = SYSTEM, purpose: Purpose | None = None) -> Call:
        """A service call acting as ``actor`` on ``session``, declaring ``purpose``."""
        return Call(session, actor, self.vault, self.audit, self.settings, self.clock, purpose)


def deps(app: Flask) -> Deps:
    """The app's dependencies."""
    return app.extensions["governance"]  # type: ignore[no-any-return]


def _tables(app: Flask) -> set[str]:
    with app.app_context():
        try:
            return set(inspect(db.engine).get_table_names())
        except Exception as exc:  # an unreachable database is reported by its own message
            raise ConfigError(
                f"GOVERNANCE_DATABASE_URL: cannot connect ({exc.__class__.__name__})"
            ) from None


def init_dependencies(app: Flask, may_create: bool) -> None:
    """Load secrets, build the vault and audit log; refuse a master key the data disagrees with."""
    tables = _tables(app)
    has_data = False
    has_log = False
    with app.app_context():
        if "key_versions" in tables:
            has_data = db.session.scalar(select(KeyVersion.version).limit(1)) is not None
            has_data = (
                has_data or db.session.scalar(select(DataKey.subject_id).limit(1)) is not None
            )
        if "audit_checkpoints" in tables:
            has_log = db.session.scalar(select(AuditCheckpoint.tree_size).limit(1)) is not None
        db.session.remove()
    config = app.config
    app.secret_key = secret_key(config, may_create)
    keys = master_keys(config, may_create, has_data)
    signer = signing_key(config, may_create, has_log)
    rules = load_field_rules()
    check_schema_matches_rules(rules)
    check_purposes()
    check_jurisdictions()
    check_policy_files()
    # Every setting but the secrets; schedules read their periods here (``*_HOURS``).
    settings = {
        s.key: config[s.key] for s in SETTINGS if s.key in config and s.key not in PRIVATE_KEYS
    }
    # The key file (None when the KEKs come from GOVERNANCE_MASTER_KEY text) is what
    # `governance keys rotate` rewrites; the vault reloads it when another process rotated.
    key_file = None if config.get("MASTER_KEY") else str(config["MASTER_KEY_FILE"])
    settings["MASTER_KEY_FILE"] = key_file
    reload = (lambda: load_key_file(key_file)) if key_file else None
    app.extensions["governance"] = Deps(
        keys=keys,
        vault=Vault(keys, rules, reload=reload),
        audit=AuditLog(
            signer,
            config["CHECKPOINT_EVERY"],
            config["CHECKPOINT_SECONDS"],
            witness=CheckpointFile(checkpoint_file_for(config["SIGNING_KEY_FILE"])),
        ),
        settings=settings,
    )
    from governance.services.backups.tombstones import watch

    with app.app_context():  # erasures reach tombstones.json beside the backups at commit
        watch(db.engine.url.render_as_string(hide_password=False), settings, signer)
    if "key_versions" in tables:
        from governance.unit_of_work import unit_of_work

        with app.app_context():
            with unit_of_work(db.session):
                register_key_versions(deps(app).call(db.session()))
            db.session.remove()
        encrypt_legacy_values(app)


def encrypt_legacy_values(app: Flask) -> dict[str, int]:
    """Seal values an older schema stored in clear (revision 0003); a no-op once done."""
    from governance.database import release_deleted_pages
    from governance.services.customers import legacy_fields

    with app.app_context():
        call = deps(app).call(db.session())
        moved: dict[str, int] = {}
        if legacy_fields.schema_has_legacy_columns(call) and legacy_fields.pending(call):
            moved = legacy_fields.encrypt_legacy_fields(call)
            release_deleted_pages(db.engine)  # the WAL's page images still hold the clear values
            log.warning("encrypted values stored in clear before revision 0003: %s", moved)
        db.session.remove()
    return moved


def register_key_versions(call: Call) -> list[int]:
    """Check the master key against recorded fingerprints and record new versions (audited)."""
    keys = call.vault.keys
    rows = call.session.scalars(select(KeyVersion)).all()
    recorded = {r.version: r.fingerprint for r in rows}
    index_fp = rows[0].index_fingerprint if rows else None
    try:
        new = check_fingerprints(keys, recorded, index_fp)
    except CryptoError as exc:
        raise ConfigError(str(exc)) from None
    retired = set(keys.retired_versions())
    for version in new:
        call.session.add(
            KeyVersion(
                version=version,
                fingerprint=keys.fingerprint(version),
                index_fingerprint=keys.index_fingerprint(),
                state="retired" if version in retired else "active",
                created_at=call.now(),
            )
        )
        call.audit.record(
            call.session,
            call.actor,
            "key.register",
            now=call.now(),
            resource="keys",
            details={"kek_version": version},
        )
    return new


def check_purposes() -> None:
    """Load ``policies/purposes.yaml`` now, so a bad file stops the server naming its line."""
    try:
        purposes()
    except PolicyFileError as exc:
        raise ConfigError(str(exc)) from None


def check_policy_files() -> None:
    """Every file under ``policies/`` passes its validator, or the server does not start."""
    try:
        policy_validation.check_all()
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def check_jurisdictions() -> None:
    """Load ``policies/jurisdictions.yaml`` now, so a bad file stops the server naming the key."""
    try:
        jurisdictions.current()
    except PolicyFileError as exc:
        raise ConfigError(str(exc)) from None


def check_schema_matches_rules(rules: dict[tuple[str, str], Any]) -> None:
    """Every encrypted field in policies/fields.yaml has a ciphertext column, and vice versa."""
    tables = {t.name: t for t in db.metadata.sorted_tables}
    for (table, name), rule in rules.items():
        if table not in tables:
            raise ConfigError(f"policies/fields.yaml names unknown table {table}")
        columns = tables[table].columns
        if rule.encrypted and f"{name}_ct" not in columns:
            raise ConfigError(
                f"policies/fields.yaml: {table}.{name} is encrypted but has no "
                "ciphertext column (needs a migration)"
            )
        if not rule.encrypted and name not in columns:
            raise ConfigError(
                f"policies/fields.yaml: {table}.{name} is stored encrypted in the "
                "schema; it cannot be declared unencrypted"
            )
    for table in ("customers", "orders", "interactions"):
        for column in tables[table].columns:
            if column.name.endswith("_ct") and (table, column.name[:-3]) not in rules:
                raise ConfigError(
                    f"policies/fields.yaml does not classify {table}.{column.name[:-3]}"
                )


def start_audit_integrator(app: Flask) -> Integrator:
    """Run the audit integrator in this process (a thread, ``services/auditlog/integrator.py``):
    from now on ``record`` queues entries instead of integrating them inline."""
    with app.app_context():
        engine = db.engine
    interval = float(app.config.get("AUDIT_INTEGRATE_SECONDS", 0.2))
    return Integrator(engine, deps(app).audit, interval).start()
