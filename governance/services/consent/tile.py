"""The dashboard tile of consent: subjects with a consent in force, per consent-based purpose."""

from __future__ import annotations

from governance.context import Call
from governance.services.consent.totals import current_states
from governance.services.evidence.dashboard import N_, Tile, provider


@provider("consent", pages=("console.consent",), order=15)
def consent_tile(call: Call) -> Tile:
    """Granted consents per purpose (bars); warn when some need re-consent."""
    states = current_states(call)
    granted = {purpose: counts.get("granted", 0) for purpose, counts in states.items()}
    pending = sum(counts.get("reconsent_needed", 0) for counts in states.values())
    return Tile(
        "consent",
        N_("Consent"),
        sum(granted.values()),
        N_("consents in force; %(n)s need re-consent"),
        "console.consent",
        state="warn" if pending else "good",
        bars=tuple((_short(purpose), n) for purpose, n in granted.items()),
        detail_args={"n": str(pending)},
    )


def _short(purpose: str) -> str:
    """A purpose as a bar's label: ``marketing_email`` reads "email", ``sale_or_sharing``
    "sale/sharing" (the tile is narrow; the consent page names them in full)."""
    return purpose.removeprefix("marketing_").replace("_or_", "/").replace("_", " ")
