"""The breach documents: data gathered from the incident, PDFs built by ``reports/breach.py``.

Every download is audited. The notices to individuals carry the customer's id as a reference and
no personal value; generated in bulk (a job with progress), each is sealed under that customer's
own data key (AES-256-GCM, bound to table, column, customer and incident), so erasing the customer
shreds the notice too, and the ZIP of them all is audited when downloaded.
"""

from __future__ import annotations

import tempfile
import zipfile
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import select

from governance import jurisdictions
from governance.context import Call
from governance.errors import Conflict, NotFound, ValidationError
from governance.models import BreachNotice, Customer, Incident, IncidentSubject, NotificationTask
from governance.models.ids import is_id
from governance.services.breach import incidents, rules, tasks
from governance.services.evidence.downloads import record_download
from governance.services.jobs import queue as jobs
from reports import breach as pdf

KIND = "breach.notices"
BATCH = 200
TABLE = "breach_notices"
LANGUAGES = ("en", "zh")
STEPS = {
    "en": "Be alert to unexpected messages asking for personal details or payment; do not click "
    "links in them. Change passwords you reuse elsewhere. Review your account activity and tell "
    "us about anything unusual.",
    "zh": "请警惕要求提供个人信息或付款的陌生信息，不要点击其中的链接；如在其他网站使用相同密码，"
    "请及时修改；请留意账户活动，如有异常请告知我们。",
}
CATEGORY_NAMES = {
    "zh": {
        "full_name": "姓名",
        "email": "电子邮箱",
        "phone": "电话号码",
        "date_of_birth": "出生日期",
        "national_id": "身份证号码",
        "address": "地址",
        "external_ref": "客户编号",
        "items": "订单商品",
        "comment": "订单备注",
        "note": "沟通记录",
    },
}


def _categories(incident: Incident) -> list[str]:
    named = list(incident.data_categories or [])
    found = list(((incident.analysis or {}).get("by_category") or {}).keys())
    return list(dict.fromkeys(named + found))


def _section(call: Call, incident: Incident, item: str, regime: str) -> tuple[str, str]:
    counts = tasks.regime_counts(call, incident)
    task = call.session.scalars(
        select(NotificationTask).where(
            NotificationTask.incident_id == incident.id,
            NotificationTask.regime == regime,
            NotificationTask.target == "authority",
        )
    ).first()
    texts = {
        "nature": ("Nature of the breach", f"{incident.title}. {incident.description}".strip()),
        "categories": ("Categories of personal data", ", ".join(_categories(incident))),
        "approx_subjects": ("Approximate number of people concerned", str(counts.get(regime, 0))),
        "approx_records": (
            "Approximate number of records concerned",
            str(incident.approx_records or "not yet known"),
        ),
        "dpo_contact": ("Data protection officer (contact point)", incident.dpo_contact),
        "consequences": ("Likely consequences", incident.consequences),
        "measures_taken": ("Measures taken", incident.containment),
        "measures_proposed": ("Measures proposed", incident.measures_proposed),
        "delay_reasons": (
            "Reasons for any delay",
            (task.late_reasons if task else None) or "Notified within the time limit.",
        ),
        "timeline": (
            "Timeline",
            f"Detected {incidents.iso(incident.detected_at)}; the company "
            f"became aware {incidents.iso(incident.aware_at)}.",
        ),
        "encryption": ("Encryption", _encryption(incident)),
        "remedial_measures": (
            "Remedial measures",
            f"{incident.containment} {incident.measures_proposed}".strip(),
        ),
        "individual_steps": ("What individuals can do", STEPS["en"]),
        "contact": ("Contact", incident.dpo_contact),
        "regulator_contact": ("Recipient", task.recipient if task else regime),
    }
    return texts[item]


def _encryption(incident: Incident) -> str:
    if not incident.encrypted_exposed:
        return "The exposed data was readable (not protected by encryption)."
    if incident.keys_exposed:
        return "The exposed data was encrypted, but its keys were also compromised."
    return "The exposed data was encrypted (AES-256-GCM) and its keys were not compromised."


def authority_notice(call: Call, incident: Incident, regime: str) -> bytes:
    """The authority notification under ``regime`` (422 for a regime without one); audited."""
    known = jurisdictions.current()
    if regime not in known.regimes:
        raise ValidationError(
            "unknown regime", [{"field": "regime", "message": f"one of {', '.join(known.regimes)}"}]
        )
    rule = rules.current().rule(regime, "authority")
    if rule is None:
        raise ValidationError(
            "no authority notice",
            [{"field": "regime", "message": f"{regime} requires no authority notification"}],
        )
    task = call.session.scalars(
        select(NotificationTask).where(
            NotificationTask.incident_id == incident.id,
            NotificationTask.regime == regime,
            NotificationTask.target == "authority",
        )
    ).first()
    data = pdf.AuthorityNotice(
        generated_at=call.now(),
        incident_id=incident.id,
        title=incident.title,
        regime=regime,
        regime_name=known.regimes[regime].name,
        recipient=rule.recipient,
        sections=[_section(call, incident, item, regime) for item in rule.content],
        due_at=(incidents.iso(task.due_at) if task else None) or "no due time (no open task)",
    )
    return record_download(
        call,
        "authority-notice",
        pdf.build_authority_notice(data),
        incident_id=incident.id,
        regime=regime,
    )


def _notice_data(call: Call, incident: Incident, customer_id: str, language: str) -> Any:
    names = CATEGORY_NAMES.get(language, {})
    categories = [names.get(c, c.replace("_", " ")) for c in _categories(incident)]
    return pdf.IndividualNotice(
        generated_at=call.now(),
        incident_id=incident.id,
        reference=customer_id,
        language=language,
        what_happened=incident.description or incident.title,
        data=categories,
        consequences=incident.consequences,
        measures=incident.containment,
        steps=STEPS[language],
        contact=incident.dpo_contact,
    )


def language_of(customer: Customer, asked: str | None) -> str:
    """``asked`` (en, zh) or the customer's language (zh* -> zh, else en); 422 otherwise."""
    if asked:
        if asked not in LANGUAGES:
            raise ValidationError("bad language", [{"field": "language", "message": "en or zh"}])
        return asked
    return "zh" if (customer.language or "").lower().startswith("zh") else "en"


def individual_notice(
    call: Call, incident: Incident, customer_id: str, language: str | None
) -> bytes:
    """The notice to one affected customer (404 unless affected); audited."""
    if not is_id(customer_id):
        raise ValidationError(
            "bad customer id", [{"field": "customer_id", "message": "must be a customer id"}]
        )
    affected = call.session.get(IncidentSubject, (incident.id, customer_id))
    customer = call.session.get(Customer, customer_id)
    if affected is None or customer is None:
        raise NotFound("that customer is not among the incident's affected customers")
    chosen = language_of(customer, language)
    made = pdf.build_individual_notice(_notice_data(call, incident, customer_id, chosen))
    call.audit.record(
        call.session,
        call.actor,
        "report.download",
        now=call.now(),
        resource="reports",
        subject_id=customer_id,
        details={
            "report": "individual-notice",
            "bytes": len(made),
            "incident_id": incident.id,
            "language": chosen,
        },
    )
    return made


def incident_report(call: Call, incident: Incident) -> bytes:
    """The internal incident report with its timeline; audited."""
    facts = [
        ("What happened", incident.description),
        ("Detected", incidents.iso(incident.detected_at) or ""),
        ("Aware", incidents.iso(incident.aware_at) or ""),
        ("Systems", ", ".join(incident.systems or [])),
        ("Data categories", ", ".join(_categories(incident))),
        ("Encryption", _encryption(incident)),
        ("Risk", incident.risk or "not yet assessed"),
        ("Cause", incident.cause),
        ("Containment", incident.containment),
        ("Consequences", incident.consequences),
        ("Measures proposed", incident.measures_proposed),
        ("Lessons learned", incident.lessons_learned),
    ]
    summary = incident.analysis or {}
    counts = [("Affected customers", str(incidents.affected_count(call, incident)))]
    counts += [(f"Under {k}", str(v)) for k, v in (summary.get("by_regime") or {}).items()]
    counts += [(f"Readable: {k}", str(v)) for k, v in (summary.get("readability") or {}).items()]
    task_rows = [
        [
            t["regime"],
            t["target"],
            t["due_at"] or "-",
            t["state"] + (" (late)" if t["late"] else ""),
            t["completed_at"] or "-",
            f"{t['channel'] or ''} {t['reference'] or ''}".strip() or (t["waived_reason"] or "-"),
        ]
        for t in tasks.detail(call, incident)
    ]
    timeline = [
        pdf.TimelineRow(incidents.iso(e.at) or "", _what(e), f"{e.actor_type} {e.actor_id or ''}")
        for e in incidents.timeline(call, incident)
    ]
    data = pdf.IncidentReport(
        call.now(), incident.id, incident.title, incident.state, facts, counts, task_rows, timeline
    )
    return record_download(
        call, "incident-report", pdf.build_incident_report(data), incident_id=incident.id
    )


def _what(event: Any) -> str:
    if event.kind == "transition":
        text = f"{event.from_state} -> {event.to_state}"
    else:
        bits = ", ".join(f"{k}: {v}" for k, v in sorted((event.details or {}).items()))
        text = f"{event.kind.replace('_', ' ')}" + (f" ({bits})" if bits else "")
    return f"{text}. {event.note}" if event.note else text


def breach_register(call: Call) -> bytes:
    """Every incident, notified or not (GDPR Art. 33(5)); audited."""
    rows = []
    for incident in reversed(incidents.listing(call)):
        done = [t for t in tasks.detail(call, incident) if t["state"] == "done"]
        notified = "; ".join(f"{t['regime']} {t['target']} {t['completed_at'][:10]}" for t in done)
        rows.append(
            pdf.RegisterRow(
                incident.id,
                incident.title,
                incident.state,
                incidents.iso(incident.aware_at) or "",
                incidents.affected_count(call, incident),
                incident.risk or "not assessed",
                notified or "none",
            )
        )
    return record_download(call, "breach-register", pdf.build_breach_register(call.now(), rows))


# --- notices in bulk ---------------------------------------------------------------------------


def submit_notices(call: Call, incident: Incident, foreground: bool = False) -> Any:
    """Queue the job generating every affected customer's notice (audited; not committed)."""
    if incidents.affected_count(call, incident) == 0:
        raise Conflict("no affected customer is known: run an analysis first")
    job = jobs.submit(call, KIND, {"incident_id": incident.id}, foreground)
    incidents.event(call, incident, "notices", details={"job_id": job.id})
    return job


@jobs.register(KIND)
def run_notices(ctx: jobs.JobContext) -> dict[str, Any]:
    """Build and seal one notice per affected customer, in batches (resumable)."""
    call = ctx.call
    incident = incidents.get(call, ctx.params["incident_id"])
    total = incidents.affected_count(call, incident)
    after = str(ctx.saved.get("after", ""))
    done = int(ctx.saved.get("done", 0))
    languages: dict[str, int] = {}
    while True:
        batch = call.session.execute(
            select(IncidentSubject.customer_id, Customer.language)
            .join(Customer, Customer.id == IncidentSubject.customer_id)
            .where(IncidentSubject.incident_id == incident.id, IncidentSubject.customer_id > after)
            .order_by(IncidentSubject.customer_id)
            .limit(BATCH)
        ).all()
        if not batch:
            break
        ids = [row[0] for row in batch]
        keys = call.vault.subject_keys(call.session, ids)  # sealing only: nothing is decrypted
        call.session.execute(
            BreachNotice.__table__.delete().where(
                BreachNotice.incident_id == incident.id, BreachNotice.customer_id.in_(ids)
            )
        )
        rows = []
        for customer_id, language in batch:
            if customer_id not in keys:
                continue  # erased meanwhile: no notice, and nobody to send it to
            lang = "zh" if (language or "").lower().startswith("zh") else "en"
            languages[lang] = languages.get(lang, 0) + 1
            made = pdf.build_individual_notice(_notice_data(call, incident, customer_id, lang))
            sealed = call.vault.seal(
                keys[customer_id], TABLE, "pdf", customer_id, _pdf_text(made), row_id=incident.id
            )
            rows.append(
                {
                    "incident_id": incident.id,
                    "customer_id": customer_id,
                    "language": lang,
                    "pdf_ct": sealed,
                    "created_at": call.now(),
                }
            )
        if rows:
            call.session.execute(BreachNotice.__table__.insert(), rows)
        done += len(batch)
        after = ids[-1]
        ctx.progress(done, total, {"after": after, "done": done})
    incidents.audit(call, incident, "incident.notices", notices=done, languages=languages)
    return {"incident_id": incident.id, "notices": done, "languages": languages}


def _pdf_text(data: bytes) -> str:
    # ``seal`` stores text: a PDF is latin-1 decoded so every byte survives the round trip
    return data.decode("latin-1")


def notices_zip(call: Call, incident: Incident) -> Iterator[bytes]:
    """Every stored notice, decrypted, as one ZIP streamed from a spool file; audited."""
    if not _first_notice(call, incident):
        raise NotFound("no notice has been generated for this incident: generate them first")
    spool: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    try:
        count = _write_zip(call, incident, spool)
    except BaseException:
        spool.close()
        raise
    incidents.audit(call, incident, "incident.notices.download", notices=count)
    spool.seek(0)
    return _chunks(spool)


def _first_notice(call: Call, incident: Incident) -> str:
    query = select(BreachNotice.customer_id).where(BreachNotice.incident_id == incident.id)
    return call.session.scalars(query.limit(1)).first() or ""


def _write_zip(call: Call, incident: Incident, spool: IO[bytes]) -> int:
    count = 0
    with zipfile.ZipFile(spool, "w", zipfile.ZIP_DEFLATED) as archive:
        after = ""
        while True:
            batch = list(
                call.session.scalars(
                    select(BreachNotice)
                    .where(
                        BreachNotice.incident_id == incident.id, BreachNotice.customer_id > after
                    )
                    .order_by(BreachNotice.customer_id)
                    .limit(BATCH)
                )
            )
            if not batch:
                break
            keys = call.vault.subject_keys(call.session, [n.customer_id for n in batch])
            for row in batch:
                if row.customer_id not in keys:
                    continue
                text = call.vault.open(
                    keys[row.customer_id],
                    TABLE,
                    "pdf",
                    row.customer_id,
                    row.pdf_ct,
                    row_id=incident.id,
                )
                archive.writestr(
                    f"notice-{row.customer_id}-{row.language}.pdf", text.encode("latin-1")
                )
                count += 1
            after = batch[-1].customer_id
    return count


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(64 * 1024):
            yield chunk
