"""The root of every error the audit library raises.

Each module keeps its own precise error (``VerifyError``, ``ProofError``, ...) and its old base
(``ValueError`` or ``LookupError``), so existing handlers keep working; ``except AuditError``
catches any of them. The library never imports ``governance``: the server maps these to its own
``GovernanceError`` classes where a client may see them.
"""

from __future__ import annotations


class AuditError(Exception):
    """Base of every error raised by the ``audit`` package."""
