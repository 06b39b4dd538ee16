"""Customer pages: the list (with the API's lookup filters and limit) and one customer, masked,
revealed in clear to a DPO who gives a reason (audited).

Pages render before the request's unit of work commits (``web/transaction.py``): a page that
fails to render raises, and the reads it made are rolled back with their audit entries, so the log
never says a customer was shown to someone who got an error page.
"""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l

from governance.console import bp
from governance.context import Purpose
from governance.errors import ValidationError
from governance.services.customers import reads
from governance.web.edge import count_customer_lookup, current_call

# How the customer page names each field (the document's keys otherwise).
FIELD_LABELS = {
    "id": _l("Id"),
    "full_name": _l("Full name"),
    "email": _l("Email"),
    "phone": _l("Phone"),
    "date_of_birth": _l("Date of birth"),
    "national_id": _l("National ID"),
    "external_ref": _l("External reference"),
    "address": _l("Address"),
    "country": _l("Country"),
    "subdivision": _l("Subdivision"),
    "language": _l("Language"),
    "marketing": _l("Marketing"),
    "created_at": _l("Created"),
    "updated_at": _l("Updated"),
}
# The purpose a console customer page declares unless the person chooses another.
CONSOLE_PURPOSE = "support"


LOOKUP_FIELDS = ("email", "phone", "national_id", "country")


@bp.route("/customers", methods=["GET", "POST"], endpoint="customers")
def customers_page() -> Any:
    """The list, or an exact lookup; a lookup the service refuses (a malformed email) stays on
    the page with the typed value and the reason beside the field (422).

    The console's lookup form POSTs (CSRF-checked), so a typed email or phone number never
    enters a URL, a browser history or a server log; ``?country=`` links still work.
    """
    sent = request.form if request.method == "POST" else request.args
    filters = {k: v.strip() for k, v in sent.items() if k in LOOKUP_FIELDS and v.strip()}
    purpose = _purpose()
    errors: dict[str, str] = {}
    try:
        count_customer_lookup(filters)  # the same lookup limit as the API's filters
        page = reads.list_customers(
            current_call(purpose), filters, cursor=sent.get("cursor") or None, limit=25
        )
    except ValidationError as exc:
        errors = {e["field"]: e["message"] for e in exc.errors} or {"lookup": exc.detail}
        page = None
    return render_template(
        "customers.html",
        page=page,
        filters=filters,
        errors=errors,
        lookup_field=next(iter(filters), "email"),
        lookup_value=next(iter(filters.values()), ""),
        lookup_fields=LOOKUP_FIELDS,
        purpose=purpose,
        purposes=_choices(),
        chosen=None if purpose.name == CONSOLE_PURPOSE else purpose.name,  # links carry a choice
    ), (422 if errors else 200)


def _purpose() -> Purpose:
    """The purpose chosen on a customer page (``?purpose=``, default ``support``); 422 when it
    is not a caller's purpose in ``policies/purposes.yaml``."""
    return Purpose.named(request.args.get("purpose") or CONSOLE_PURPOSE, field="purpose")


def _choices() -> list[str]:
    """The purposes the signed-in person's roles may declare (``policies/purposes.yaml``)."""
    from governance.purposes import current

    roles = current_call().actor.roles
    return [name for name, spec in current().specs.items() if spec.may_declare(roles)]


@bp.route("/customers/<customer_id>", methods=["GET", "POST"])
def customer(customer_id: str) -> Any:
    """A customer, masked; a DPO may reveal it in clear by giving a reason (audited).

    Orders and interactions are listed only to roles the policy lets read them through the API,
    and only in the columns their visibility shows: the page shows what the API would answer.
    """
    from governance.console.forms import RevealForm, entered

    form = RevealForm()
    reason = entered(form.reason).strip() if form.validate_on_submit() else None
    return render_customer(customer_id, reveal_form=form, reason=reason)


def render_customer(
    customer_id: str,
    *,
    reveal_form: Any = None,
    reason: str | None = None,
    consent_form: Any = None,
    status: int = 200,
) -> Any:
    """The customer page (one audited read with the page's purpose), with the reveal form and,
    to roles that may record one, the consent form (``consent_form`` keeps what was typed)."""
    from governance.console.consent import new_consent_form
    from governance.console.forms import RevealForm
    from governance.console.visible import may, may_get, record_sections
    from governance.security.masking import default_visibility

    purpose = _purpose()
    call = current_call(purpose)
    doc = reads.read_customer(call, customer_id, reveal_reason=reason)
    roles = call.actor.roles
    can_record = may(roles, "console.customer_consent", "POST")
    consent = None
    if can_record or may_get(roles, "api.customer_consents"):  # what the API would show them
        from governance.services.consent.ledger import consent_state

        consent = consent_state(call, customer_id)
        if can_record and consent_form is None:
            consent_form = new_consent_form(call)
    return render_template(
        "customer.html",
        consent=consent,
        consent_form=consent_form if can_record else None,
        receipts=may_get(roles, "api.consent_receipt"),
        purpose=purpose,
        chosen=None if purpose.name == CONSOLE_PURPOSE else purpose.name,
        c=doc,
        sections=record_sections(call, customer_id),
        form=reveal_form or RevealForm(formdata=None),
        can_reveal=default_visibility().can_reveal(roles),
        can_edit=may_get(roles, "console.customer_edit"),
        can_erase=may_get(roles, "console.customer_erase"),
        revealed=reason is not None,
        labels=FIELD_LABELS,
    ), status
