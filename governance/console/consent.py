"""The consent page: subjects per purpose and state now, events per month by purpose and
notice version (a server-side SVG chart), and the privacy notices with their versions. The
customer page shows a customer's consent state and history with receipt links
(``consent_section``)."""

from __future__ import annotations

from typing import Any

from flask import render_template
from markupsafe import Markup, escape

from governance.console import bp
from governance.services.consent import notices, totals
from governance.services.consent import tile as _tile  # noqa: F401  (registers the tile)
from governance.web.edge import current_call

COLOURS = {"grant": "#2e7d32", "withdraw": "#c62828", "refuse": "#6d4c41"}


def monthly_chart(rows: list[dict[str, Any]], width: int = 640, height: int = 180) -> Markup:
    """Grants, withdrawals and refusals per month as grouped bars (inline SVG, no script)."""
    months = sorted({r["month"] for r in rows})[-12:]
    if not months:
        return Markup("")
    counts = {(m, a): 0 for m in months for a in COLOURS}
    for r in rows:
        if r["month"] in months:
            counts[(r["month"], r["action"])] += r["events"]
    peak = max(counts.values()) or 1
    slot = width / len(months)
    bar = max(2.0, slot / 4)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {width} {height + 20}" '
        f'width="100%" aria-labelledby="consent-chart-title"><title id="consent-chart-title">'
        "Consent events per month</title>"
    ]
    for i, month in enumerate(months):
        for j, (action, colour) in enumerate(COLOURS.items()):
            n = counts[(month, action)]
            h = height * n / peak
            x = i * slot + j * bar + 4
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar - 1:.1f}" height="{h:.1f}" '
                f'fill="{colour}"><title>{escape(month)} {action}: {n}</title></rect>'
            )
        parts.append(
            f'<text x="{i * slot + 4:.1f}" y="{height + 14}" font-size="10">{escape(month)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))


@bp.get("/consent")
def consent() -> Any:
    call = current_call()
    figures = totals.totals(call)
    return render_template(
        "consent.html",
        current=figures["current"],
        monthly=figures["monthly"],
        chart=monthly_chart(figures["monthly"]),
        notices=notices.list_notices(call)["items"],
        states=("granted", "withdrawn", "refused", "expired", "reconsent_needed"),
    )
