"""Retention report (GDPR Art. 5(1)(e), PIPL Art. 19): the rules in force, what each removed in
the period, and what is on legal hold and why.

Pure function: plain data (rule ids, counts, hold reasons; no personal value) in, PDF bytes out.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from reports.style import build_document, data_table, heading, key_figures, notice, paragraph

TITLE = "Retention Report"


@dataclass(frozen=True)
class RetentionReport:
    generated_at: datetime
    period: str
    rules: Sequence[dict[str, Any]]
    removed: Sequence[dict[str, Any]]
    holds: Sequence[dict[str, Any]]
    planned: Sequence[dict[str, Any]] = ()


def build_retention_report(data: RetentionReport) -> bytes:
    total = sum(int(r["count"]) for r in data.removed)
    story: list[Any] = [
        heading("Summary"),
        key_figures(
            [
                ("Period", data.period),
                ("Rules", str(len(data.rules))),
                ("Subjects removed", f"{total:,}"),
                ("Legal holds in force", str(len(data.holds))),
            ]
        ),  # fmt: skip
        heading("Rules in force"),
        data_table(
            ["Rule", "Category", "Period", "From", "Action", "Legal reference"],
            [
                [
                    r["id"],
                    r["category"],
                    f"{r['period_days']} d" if r["period_days"] else "-",
                    r["event"],
                    r["action"],
                    r["legal_reference"],
                ]
                for r in data.rules
            ],
            (1.2, 1.1, 0.6, 0.9, 0.8, 2.4),
        ),  # fmt: skip
        heading("Removed in the period"),
    ]
    if data.removed:
        story.append(data_table(
            ["Rule", "Category", "Action", "Removed", "First", "Last"],
            [[r["rule"], r["category"], r["action"], f"{r['count']:,}", r["first"] or "-",
              r["last"] or "-"] for r in data.removed],
            (1.2, 1.1, 0.8, 0.7, 1.4, 1.4), numeric_cols={3},
        ))  # fmt: skip
    else:
        story.append(paragraph("Nothing was removed in this period."))
    if data.planned:
        story += [
            heading("Due now (plan)"),
            data_table(["Rule", "Action", "Would remove"],
                       [[p["rule"], p["action"], f"{p['count']:,}"] for p in data.planned],
                       (2, 1.5, 1.5), numeric_cols={2}),
        ]  # fmt: skip
    story.append(heading("Legal holds"))
    if data.holds:
        story.append(data_table(
            ["On", "Reason", "Owner", "Since", "Until"],
            [[h["customer_id"] or h["category"], h["reason"], h["owner"], h["starts_at"] or "-",
              h["ends_at"] or "open"] for h in data.holds],
            (1.8, 2.2, 1, 1, 0.8),
        ))  # fmt: skip
    else:
        story.append(notice("No legal hold is in force.", "ok"))
    return build_document(TITLE, data.period, data.generated_at, story)
