"""Breach documents: the authority notification, the notice to individuals (English and
Chinese), the internal incident report with its timeline, and the breach register.

GDPR Art. 33(3) (nature, categories and approximate numbers of people and records, DPO contact,
likely consequences, measures taken and proposed), Art. 34(2) (plain language), Art. 33(5) (the
register: every breach, notified or not), PIPL Art. 57 (categories, cause, possible harm,
remedial measures, what individuals can do, contact). Pure functions: plain data in, PDF bytes
out. Chinese text is set in reportlab's built-in CID font ``STSong-Light``; the individual notice
is a lean one-page letter, so thousands of them are generated quickly.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from reports._base import CJK_FONT, MARGIN, needs_cjk
from reports.style import (
    ReportDataError,
    build_document,
    data_table,
    format_timestamp,
    heading,
    key_figures,
    notice,
    paragraph,
)

__all__ = [
    "AuthorityNotice",
    "IncidentReport",
    "IndividualNotice",
    "RegisterRow",
    "TimelineRow",
    "build_authority_notice",
    "build_breach_register",
    "build_incident_report",
    "build_individual_notice",
]


@dataclass(frozen=True)
class AuthorityNotice:
    """An authority notification: the regime's required content, section by section."""

    generated_at: datetime
    incident_id: str
    title: str
    regime: str
    regime_name: str
    recipient: str
    sections: Sequence[tuple[str, str]]  # (heading, text), in the rule's order
    due_at: str


@dataclass(frozen=True)
class IndividualNotice:
    """A plain-language notice to one affected person."""

    generated_at: datetime
    incident_id: str
    reference: str  # the customer's id: no personal value is printed
    language: str  # en | zh
    what_happened: str
    data: Sequence[str]
    consequences: str
    measures: str
    steps: str
    contact: str


@dataclass(frozen=True)
class TimelineRow:
    at: str
    what: str
    who: str


@dataclass(frozen=True)
class IncidentReport:
    """The internal report: the record, the counts, the tasks and the full timeline."""

    generated_at: datetime
    incident_id: str
    title: str
    state: str
    facts: Sequence[tuple[str, str]]
    counts: Sequence[tuple[str, str]]
    tasks: Sequence[Sequence[str]]
    timeline: Sequence[TimelineRow] = field(default_factory=tuple)


@dataclass(frozen=True)
class RegisterRow:
    incident_id: str
    title: str
    state: str
    aware_at: str
    affected: int
    risk: str
    notified: str  # e.g. "GDPR authority 2026-03-03" or "not required: ..."


def build_authority_notice(data: AuthorityNotice) -> bytes:
    """The notification to the supervisory authority under ``data.regime``."""
    if not data.sections:
        raise ReportDataError("an authority notice needs at least one section")
    story = [
        heading(f"Notification of a personal data breach ({data.regime})"),
        key_figures(
            [
                ("To", data.recipient),
                ("Regime", data.regime_name),
                ("Incident", data.incident_id),
                ("Due", data.due_at),
            ]
        ),
    ]
    for title, text in data.sections:
        story += [heading(title, 2), paragraph(text or "Not yet known; will be supplemented.")]
    return build_document(
        "Breach Notification", data.title, data.generated_at, story, {"Regime": data.regime}
    )


TEXTS = {
    "en": {
        "title": "Important: a security incident involving your personal data",
        "dear": "Dear customer,",
        "intro": "We are writing to tell you about an incident that involves your personal data "
        "and what we are doing about it.",
        "what": "What happened",
        "data": "Which of your data was involved",
        "consequences": "What this may mean for you",
        "measures": "What we have done",
        "steps": "What you can do",
        "contact": "Who to contact",
        "reference": "Your reference",
        "date": "Date",
    },
    "zh": {
        "title": "重要通知：涉及您个人信息的安全事件",
        "dear": "尊敬的客户：",
        "intro": "我们特此告知您一起涉及您个人信息的事件，以及我们已采取的措施。",
        "what": "发生了什么",
        "data": "涉及您的哪些信息",
        "consequences": "可能对您造成的影响",
        "measures": "我们已采取的补救措施",
        "steps": "您可以采取的措施",
        "contact": "联系方式",
        "reference": "您的参考编号",
        "date": "日期",
    },
}


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of ``text`` no wider than ``width``: at spaces, or between any two characters of
    Chinese text (which has no spaces to break at)."""
    lines: list[str] = []
    for paragraph_text in text.splitlines() or [""]:
        line = ""
        units = list(paragraph_text) if needs_cjk(paragraph_text) else paragraph_text.split(" ")
        joiner = "" if needs_cjk(paragraph_text) else " "
        for unit in units:
            candidate = f"{line}{joiner}{unit}" if line else unit
            if line and stringWidth(candidate, font, size) > width:
                lines.append(line)
                line = unit
            else:
                line = candidate
        lines.append(line)
    return lines


def build_individual_notice(data: IndividualNotice) -> bytes:
    """A one-page letter to one affected person, in English or Chinese.

    Drawn on the canvas directly (no flowable layout): thousands are made in one job, and a
    letter of six short sections needs no more (text beyond the page continues on a new one).
    """
    if data.language not in TEXTS:
        raise ReportDataError("language must be en or zh")
    t = TEXTS[data.language]
    buffer = io.BytesIO()
    # pageCompression off: without the C accelerator, reportlab base-85 encodes in pure Python
    canvas = Canvas(buffer, pagesize=A4, invariant=True, pageCompression=0)
    canvas.setTitle(t["title"])
    width = A4[0] - 2 * MARGIN
    y = A4[1] - MARGIN

    def write(text: str, size: float, bold: bool = False, gap: float = 4) -> None:
        nonlocal y
        font = CJK_FONT if needs_cjk(text) else ("Helvetica-Bold" if bold else "Helvetica")
        for line in _wrap(text, font, size, width):
            if y < MARGIN + size:
                canvas.showPage()
                y = A4[1] - MARGIN
            canvas.setFont(font, size)
            canvas.drawString(MARGIN, y - size, line)
            y -= size * 1.35
        y -= gap

    write(t["title"], 15, bold=True, gap=6)
    write(f"{t['reference']}: {data.reference}", 8.5, gap=0)
    write(f"{t['date']}: {format_timestamp(data.generated_at, seconds=False)}", 8.5, gap=10)
    write(t["dear"], 10)
    write(t["intro"], 10, gap=8)
    sections = (
        ("what", data.what_happened),
        ("data", "; ".join(data.data)),
        ("consequences", data.consequences),
        ("measures", data.measures),
        ("steps", data.steps),
        ("contact", data.contact),
    )
    for key, text in sections:
        write(t[key], 11.5, bold=True, gap=2)
        write(text or "-", 10, gap=8)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def build_incident_report(data: IncidentReport) -> bytes:
    """The internal incident report with the full timeline (GDPR Art. 33(5) documentation)."""
    story = [
        heading("The incident"),
        key_figures([("Incident", data.incident_id), ("State", data.state)]),
    ]
    for title, text in data.facts:
        story += [heading(title, 2), paragraph(text or "-")]
    story += [heading("Affected people"), key_figures(list(data.counts) or [("Affected", "0")])]
    story.append(heading("Notification tasks"))
    if data.tasks:
        head = ["Regime", "Target", "Due", "State", "Completed", "Channel / reference"]
        story.append(data_table(head, [list(r) for r in data.tasks]))
    else:
        story.append(notice("No notification task: no affected customer is known yet."))
    story.append(heading("Timeline"))
    rows = [[r.at, r.what, r.who] for r in data.timeline]
    story.append(data_table(["When (UTC)", "What", "Who"], rows))
    return build_document("Incident Report", data.title, data.generated_at, story)


def build_breach_register(generated_at: datetime, rows: Sequence[RegisterRow]) -> bytes:
    """Every incident, notified or not (GDPR Art. 33(5))."""
    story = [heading("Breach register")]
    if not rows:
        story.append(notice("No incident has been recorded.", "ok"))
    else:
        head = ["Incident", "Title", "State", "Aware (UTC)", "Affected", "Risk", "Notified"]
        body = [
            [r.incident_id[:8], r.title, r.state, r.aware_at, str(r.affected), r.risk, r.notified]
            for r in rows
        ]
        story.append(data_table(head, body, numeric_cols=(4,)))
    meta = {"Incidents": str(len(rows))}
    return build_document("Breach Register", "GDPR Art. 33(5)", generated_at, story, meta)
