"""Configuration: every ``GOVERNANCE_*`` environment variable, read once, typed and validated.

Each setting has a documented default (the README's configuration table is generated from
``SETTINGS``). A malformed value fails at start with a message naming the variable; an unknown
``GOVERNANCE_*`` variable is warned about because it is most likely a typo.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from governance.errors import InternalError

log = logging.getLogger(__name__)

PREFIX = "GOVERNANCE_"


class ConfigError(InternalError, ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _str(value: str) -> str:
    return value


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise ValueError("expected a whole number") from None


def _positive_int(value: str) -> int:
    number = _int(value)
    if number <= 0:
        raise ValueError("expected a number greater than 0")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number") from None
    if not number > 0 or number > 3600:
        raise ValueError("expected a number of seconds greater than 0, at most 3600")
    return number


def _non_negative_int(value: str) -> int:
    number = _int(value)
    if number < 0:
        raise ValueError("expected a number of 0 or more")
    return number


def _hours(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number of hours (0 turns it off)") from None
    if not 0 <= number <= 24 * 366:
        raise ValueError("expected a number of hours from 0 (off) to 8784")
    return number


def _bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _region(value: str) -> str:
    if len(value) != 2 or not value.isalpha():
        raise ValueError("expected an ISO 3166-1 alpha-2 region such as CN or GB")
    return value.upper()


def _database_url(value: str) -> str:
    if not value.startswith(("sqlite:", "postgresql:", "postgresql+psycopg:", "postgres:")):
        raise ValueError("expected a sqlite:/// or postgresql:// URL")
    if value.startswith("postgres:"):
        value = "postgresql" + value[len("postgres") :]
    if value.startswith("postgresql:"):
        # psycopg 3 is the driver we ship; SQLAlchemy's default for postgresql:// is psycopg2.
        value = "postgresql+psycopg:" + value[len("postgresql:") :]
    return value


def _rate_limit(value: str) -> str:
    from limits import parse_many

    try:
        parse_many(value)
    except ValueError:
        raise ValueError("expected a rate limit such as '600 per minute'") from None
    return value


def _storage_uri(value: str) -> str:
    from limits import storage
    from limits.errors import ConfigurationError
    from limits.storage import storage_from_string

    # limits exports its storage classes, not their registry of schemes.
    classes = (
        storage.MemoryStorage,
        storage.RedisStorage,
        storage.RedisClusterStorage,
        storage.RedisSentinelStorage,
        storage.MemcachedStorage,
        storage.MongoDBStorage,
    )
    schemes = {name for cls in classes for name in cls.STORAGE_SCHEME or ()}
    scheme, sep, _ = value.partition("://")
    if not sep or scheme not in schemes:
        raise ValueError("expected a storage URI such as memory:// or redis://host:6379/0")
    try:
        if scheme != "memory":
            storage_from_string(value)  # checks the driver is installed; connects lazily
    except ConfigurationError as exc:
        raise ValueError(str(exc).split(". ")[0]) from None
    return value


@dataclass(frozen=True)
class Setting:
    """One configuration key: its environment name, parser, default and description."""

    key: str
    parse: Callable[[str], Any]
    default: Any
    description: str


# Defaults that depend on the instance path are filled in by ``load_config``.
SETTINGS: tuple[Setting, ...] = (
    Setting("INSTANCE_PATH", _str, "./instance", "Folder for the SQLite file and dev keys."),
    Setting(
        "DATABASE_URL",
        _database_url,
        None,
        "SQLAlchemy URL. Default: `sqlite:///<instance>/governance.db` (WAL mode). "
        "PostgreSQL: `postgresql://user@host/db` (psycopg 3).",
    ),
    Setting(
        "SECRET_KEY",
        _str,
        None,
        "Flask session secret. Default: generated once into `<instance>/secret_key` (dev).",
    ),
    Setting(
        "MASTER_KEY",
        _str,
        None,
        "Key-encryption key(s), base64 of 32 bytes, or `1:B64,2:B64` for several versions. "
        "Overrides the key file.",
    ),
    Setting(
        "MASTER_KEY_FILE",
        _str,
        None,
        "Key file (JSON, versioned KEKs). Default: `<instance>/master_key.json`, created on "
        "first run with mode 0600.",
    ),
    Setting(
        "SIGNING_KEY_FILE",
        _str,
        None,
        "Ed25519 PEM key signing audit checkpoints. Default: `<instance>/audit_signing_key.pem`.",
    ),
    Setting("DEFAULT_REGION", _region, "CN", "Region for phone numbers written without +country."),
    Setting("MAX_BODY_BYTES", _positive_int, 16 * 1024 * 1024, "Largest accepted request body."),
    Setting("PAGE_SIZE", _positive_int, 50, "Default page size of list endpoints (max 500)."),
    Setting(
        "CHECKPOINT_EVERY", _positive_int, 1000, "Issue a signed audit checkpoint every N entries."
    ),
    Setting(
        "CHECKPOINT_SECONDS",
        _positive_int,
        3600,
        "Issue a signed audit checkpoint when the last is older than T seconds.",
    ),
    Setting(
        "AUDIT_INTEGRATE_SECONDS",
        _positive_float,
        0.2,
        "Seconds between the audit integrator's polls of the queue of committed entries "
        "(the delay from commit to integration at steady load is about this).",
    ),
    Setting("SESSION_MINUTES", _positive_int, 30, "Console session idle timeout, in minutes."),
    Setting(
        "REAUTH_MINUTES",
        _positive_int,
        5,
        "Sensitive console actions need a password re-entry this recent.",
    ),
    Setting(
        "TOKEN_CACHE_SECONDS",
        _non_negative_int,
        2,
        "Seconds a server process trusts a bearer token it verified against the database "
        "(only for the exact header it verified, and its expiry is checked on every call; a "
        "revocation made in the same "
        "process applies at once, one made elsewhere within this many seconds). 0: no cache.",
    ),
    Setting("SECURE_COOKIES", _bool, False, "Mark cookies Secure (set true behind TLS)."),
    Setting(
        "RATE_LIMIT",
        _rate_limit,
        "600 per minute",
        "API rate limit per bearer token (per client address for console sessions and "
        "unauthenticated calls), `limits` syntax such as `600 per minute;20 per second`.",
    ),
    Setting(
        "LOGIN_RATE_LIMIT",
        _rate_limit,
        "10 per minute",
        "Sign-in attempts (POST /login and /login/mfa) per client address.",
    ),
    Setting(
        "LOOKUP_RATE_LIMIT",
        _rate_limit,
        "20 per minute;300 per day",
        "Lookups by blind index per caller (user or service account) that sees a compared "
        "field masked: `email`, `phone`, `national_id` and `external_ref` filters, and "
        "creates or updates whose duplicate check compares such a field. Tighter than "
        "`GOVERNANCE_RATE_LIMIT`: each lookup answers whether a guessed value exists.",
    ),
    Setting(
        "RATELIMIT_STORAGE",
        _storage_uri,
        "memory://",
        "Where rate-limit counters live. `memory://` counts per process: with several gunicorn "
        "workers each counts separately (the effective limit is N times higher). Point it at a "
        "shared store, e.g. `redis://host:6379/0` (needs the `redis` package), to count once.",
    ),
    Setting(
        "JOB_UNCLAIMED_SECONDS",
        _positive_int,
        60,
        "A job still queued after this many seconds is shown as unclaimed, with the fix (start "
        "`governance worker`, or serve without `--no-jobs`).",
    ),
    Setting(
        "REPORT_INLINE_ENTRIES",
        _non_negative_int,
        2000,
        "Audit-trail reports over a log of more entries run as a job (202 with the job; the PDF "
        "when it is built); smaller ones answer at once.",
    ),
    Setting(
        "QUALITY_INLINE_CUSTOMERS",
        _non_negative_int,
        5000,
        "The quality summary of a store with more customers is computed by a job (202); smaller "
        "ones at once. Either way the result is kept and served again until a customer changes.",
    ),
    Setting(
        "BACKUP_DIR",
        _str,
        None,
        "Where `governance backup create` writes `<id>.backup` and `<id>.manifest.json`. "
        "Default: `<instance>/backups`.",
    ),
    Setting(
        "BACKUP_EVERY_HOURS",
        _hours,
        24,
        "Hours between scheduled backups, each followed by a verification of it (0: none).",
    ),
    Setting(
        "BACKUP_RETENTION_DAYS",
        _positive_int,
        30,
        "Backups older than this are pruned after each new backup (the newest is always kept); "
        "`policies/retention.yaml` category `backups` overrides it when present.",
    ),
    Setting(
        "PG_DUMP",
        _str,
        None,
        "Path of `pg_dump` (PostgreSQL backups; `pg_restore` is looked for beside it). "
        "Default: found on PATH.",
    ),
    Setting(
        "SCHEDULES",
        _bool,
        True,
        "Run scheduled jobs (backups, their verification, retention sweeps) from the job runner "
        "of every server and worker process, each exactly once per period across all of them.",
    ),
    Setting(
        "RETENTION_EVERY_HOURS",
        _hours,
        24,
        "Period of the scheduled retention sweep (policies/retention.yaml), in hours; 0 is off.",
    ),
    Setting(
        "REQUEST_EXPORT_DAYS",
        _positive_int,
        7,
        "Days an access or portability export can be downloaded (once) before it expires.",
    ),
    Setting("LOG_LEVEL", _str, "INFO", "Python logging level."),
    Setting("DEV", _bool, False, "Development mode: allows generated dev keys."),
)

# Settings a service call may read (``Call.settings``): everything but secrets and locations.
PRIVATE_KEYS = frozenset({"SECRET_KEY", "MASTER_KEY", "DATABASE_URL", "RATELIMIT_STORAGE"})

KNOWN_KEYS = {s.key for s in SETTINGS} | {"TEST_DATABASE_URL"}


def load_config(
    environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Read settings from ``environ`` (default ``os.environ``) and apply ``overrides``.

    Raises ConfigError naming the variable when a value is malformed.
    """
    environ = os.environ if environ is None else environ
    overrides = dict(overrides or {})
    config: dict[str, Any] = {}
    for setting in SETTINGS:
        name = PREFIX + setting.key
        if setting.key in overrides:
            config[setting.key] = overrides.pop(setting.key)
            continue
        raw = environ.get(name)
        if raw is None or raw == "":
            config[setting.key] = setting.default
            continue
        try:
            config[setting.key] = setting.parse(raw)
        except ValueError as exc:
            raise ConfigError(f"{name} is malformed: {exc}") from None
    for name in sorted(environ):
        if name.startswith(PREFIX) and name[len(PREFIX) :] not in KNOWN_KEYS:
            log.warning("unknown setting %s ignored (a typo?)", name)
    config.update(overrides)
    instance = Path(config["INSTANCE_PATH"]).resolve()
    config["INSTANCE_PATH"] = str(instance)
    if config["DATABASE_URL"] is None:
        config["DATABASE_URL"] = f"sqlite:///{instance / 'governance.db'}"
    if config["MASTER_KEY_FILE"] is None:
        config["MASTER_KEY_FILE"] = str(instance / "master_key.json")
    if config["SIGNING_KEY_FILE"] is None:
        config["SIGNING_KEY_FILE"] = str(instance / "audit_signing_key.pem")
    return config


def settings_table() -> str:
    """The README configuration table, in Markdown."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for s in SETTINGS:
        default = "(see meaning)" if s.default is None else f"`{s.default}`"
        rows.append(f"| `{PREFIX}{s.key}` | {default} | {s.description} |")
    return "\n".join(rows)
