"""Importing this module registers every job kind (each module registers its own handlers)."""

from __future__ import annotations

from governance.services import demo, imports, keys, pii_scans, report_jobs  # noqa: F401
