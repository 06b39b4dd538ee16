"""The status report of PII detection: NER model, active recognisers, gaps. No Presidio import.

The same report is produced before the engine is loaded (from the policy and the model check,
so a web process can show it at start without loading any model) and after (with start-up time
and memory), because both come from ``catalogue.plan``.
"""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Any

from governance.services.pii.detection import catalogue
from governance.services.pii.detection.model import ModelCheck
from governance.services.pii.detection.policy import PiiPolicy

DEGRADED = "none (degraded)"


def rss_mb() -> float:
    """Resident set size of this process in MiB (``/proc``; peak RSS where that is missing)."""
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _ner_model(check: ModelCheck) -> str | dict[str, Any]:
    if not check.verified:
        return DEGRADED
    return {
        "name": check.package,
        "version": check.version,
        "sha256": check.sha256,
        "verified": True,
    }


def describe(
    policy: PiiPolicy,
    check: ModelCheck,
    plan: dict[str, list[catalogue.RecognizerSpec]] | None = None,
) -> dict[str, Any]:
    """JSON-ready report of what is (or will be, once loaded) detected, per language."""
    enabled = policy.enabled()
    if plan is None:
        plan = catalogue.plan(enabled, policy.ner.languages if check.verified else ())
    recognizers = {
        lang: [{"name": s.name, "entity": s.entity, "source": s.source} for s in specs]
        for lang, specs in sorted(plan.items())
    }
    missing = catalogue.inactive(enabled, plan)
    return {
        "loaded": False,
        "policy": policy.source,
        "languages": list(policy.languages),
        "ner_model": _ner_model(check),
        "ner_refused_reason": None if check.verified else check.reason,
        "degraded": not check.verified,
        "entities": {lang: sorted({s.entity for s in specs}) for lang, specs in plan.items()},
        "recognizers": recognizers,
        "inactive": missing,
        "disabled": sorted(n for n, r in policy.entities.items() if not r.enabled),
        "thresholds": {n: r.threshold for n, r in policy.entities.items() if r.enabled},
    }
