"""Access summary (GDPR Art. 15, PIPL Art. 45): a readable summary, in English or Chinese, of
what an export holds: the profile, how many orders and interactions, and every access to the
person's data (who, role, purpose, when, fields).

Pure function: the export's data in, PDF bytes out. It is built for the person themselves and
travels only inside their sealed export.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reports.style import build_document, data_table, heading, key_figures, paragraph

TEXT: dict[str, dict[str, Any]] = {
    "en": {
        "title": "Your data: access summary",
        "profile": "What we hold about you",
        "records": "Records",
        "orders": "Orders",
        "interactions": "Interactions",
        "consent": "Consent events",
        "accesses": "Who accessed your data",
        "none": "Nobody accessed your data.",
        "intro": "This summary comes with your export (export.json and the CSV files hold "
        "everything in machine-readable form).",
        "cols": ["When", "Who", "Role", "Purpose", "Action", "Fields"],
        "field": "Field",
        "value": "Value",
    },
    "zh": {
        "title": "您的个人信息：查阅摘要",
        "profile": "我们持有的关于您的信息",
        "records": "记录",
        "orders": "订单",
        "interactions": "互动记录",
        "consent": "同意记录",
        "accesses": "谁访问过您的数据",
        "none": "没有人访问过您的数据。",
        "intro": "本摘要随导出文件提供（export.json 与 CSV 文件以机器可读形式包含全部信息）。",
        "cols": ["时间", "访问者", "角色", "目的", "操作", "字段"],
        "field": "字段",
        "value": "值",
    },
}
MAX_ROWS = 500  # the PDF is a summary; the JSON and CSV hold every access


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items() if v)
    return "" if value is None else str(value)


def build_access_summary(data: dict[str, Any], language: str = "en") -> bytes:
    t = TEXT["zh" if language.startswith("zh") else "en"]
    profile = data["profile"]
    generated = datetime.fromisoformat(data["generated_at"].replace("Z", "+00:00"))
    rows = [[name, _text(value)] for name, value in profile.items() if value not in (None, {})]
    seen = data["accesses"]
    story: list[Any] = [
        paragraph(t["intro"]),
        heading(t["profile"]),
        data_table([t["field"], t["value"]], rows, (1.5, 4.5)),
        heading(t["records"]),
        key_figures(
            [
                (t["orders"], str(len(data["orders"]))),
                (t["interactions"], str(len(data["interactions"]))),
                (t["consent"], str(len(data["consent"] or []))),
                (t["accesses"], str(len(seen))),
            ]
        ),  # fmt: skip
        heading(t["accesses"]),
    ]
    if seen:
        story.append(data_table(t["cols"], [
            [a["when"][:19], a["who"] or "-", a["role"] or "-", a["purpose"] or "-",
             a["action"], ", ".join(a["fields"])] for a in seen[:MAX_ROWS]
        ], (1.3, 1.6, 0.8, 0.9, 1.1, 1.3)))  # fmt: skip
    else:
        story.append(paragraph(t["none"]))
    return build_document(t["title"], str(profile.get("id")), generated, story)
