"""The consent page: subjects per purpose and state now, events per month by purpose and
notice version (a server-side SVG chart), and the privacy notices with their versions. The
customer page shows a customer's consent state and history with receipt links, and to roles
that may record one (dpo, support: a consent given on paper or on the phone) a form that
records a grant, withdrawal or refusal through the same ledger service as
``POST /api/v1/customers/{id}/consents`` (an event and its audit entry in one transaction)."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # new in 3.3; stubs lag
from wtforms.validators import Length, Optional

from governance.console import bp
from governance.console.forms import entered, show_errors
from governance.context import Call
from governance.errors import ValidationError
from governance.purposes import current as purposes
from governance.services.consent import ledger, notices, totals
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


class ConsentEventForm(FlaskForm):
    """One consent event as a person records it: what, which way, from where, under which
    notice, and where the evidence is kept (a form number, a call id)."""

    purpose = SelectField(_l("Purpose"), choices=[])
    action = SelectField(
        _l("Action"),
        choices=[
            SelectChoice("grant", _l("Grant")),
            SelectChoice("withdraw", _l("Withdraw")),
            SelectChoice("refuse", _l("Refuse")),
        ],
    )
    source = SelectField(
        _l("Source"),
        choices=[
            SelectChoice("paper", _l("Paper form")),
            SelectChoice("web_form", _l("Web form")),
            SelectChoice("app", _l("App")),
            SelectChoice("import", _l("Import")),
        ],
    )
    notice_version = SelectField(_l("Notice version"), choices=[])
    evidence_ref = StringField(_l("Evidence reference"), validators=[Optional(), Length(max=200)])


def new_consent_form(call: Call) -> ConsentEventForm:
    """The form with the consent-based purposes and the notice versions (in force first);
    bound to the request's form data on a POST."""
    form = ConsentEventForm()
    language = str(get_locale() or "en")
    form.purpose.choices = [
        SelectChoice(name, f"{name} — {spec.text(language)}")
        for name, spec in purposes().specs.items()
        if spec.consent_based and not spec.system
    ]
    listed = notices.list_notices(call)["items"]
    current = notices.in_force(call)
    ordered = sorted(listed, key=lambda n: current is None or n["version"] != current.version)
    form.notice_version.choices = [
        SelectChoice(
            n["version"], _("version %(v)s (from %(d)s)", v=n["version"], d=n["effective_at"][:10])
        )
        for n in ordered
    ] + [SelectChoice("", _("none (a withdrawal may omit it)"))]
    return form


@bp.post("/customers/<customer_id>/consents", endpoint="customer_consent")
def customer_consent(customer_id: str) -> Any:
    """Record one consent event from the customer page; on a refusal by the ledger the page
    comes back with what was typed and the reason beside the field (422)."""
    from governance.console.customers import render_customer

    call = current_call()
    form = new_consent_form(call)
    if form.validate_on_submit():
        data = {
            "purpose": entered(form.purpose),
            "action": entered(form.action),
            "source": entered(form.source),
            "notice_version": entered(form.notice_version) or None,
            "evidence_ref": entered(form.evidence_ref).strip() or None,
        }
        try:
            event, _related = ledger.record_event(call, customer_id, data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            flash(
                _(
                    "Recorded: %(purpose)s %(state)s (event …%(id)s).",
                    purpose=event["purpose"],
                    state=_(ledger.STATE_OF[event["action"]]),
                    id=event["id"][-8:],
                ),
                "ok",
            )
            if "note" in event:
                flash(_("No consent was granted for this purpose: the state is unchanged."), "info")
            chosen = request.args.get("purpose")
            target = url_for("console.customer", customer_id=customer_id, purpose=chosen)
            return redirect(target + "#consent")
    return render_customer(customer_id, consent_form=form, status=422)
