"""Entry point of ``python -m audit``: the offline verifier (see ``audit.cli``)."""

from __future__ import annotations

from audit.cli import main

raise SystemExit(main())
