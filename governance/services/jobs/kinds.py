"""Importing this module registers every job kind (each module registers its own handlers)."""

from __future__ import annotations

from governance.services.backups import jobs as backup_jobs  # noqa: F401

# Each import registers that module's job kinds with the queue.
from governance.services.breach import analysis as breach_analysis  # noqa: F401
from governance.services.customers import demo, imports  # noqa: F401
from governance.services.evidence import report_jobs  # noqa: F401
from governance.services.keys import rotation  # noqa: F401
from governance.services.pii import scans  # noqa: F401
from governance.services.requests import exports  # noqa: F401
from governance.services.retention import sweep  # noqa: F401
