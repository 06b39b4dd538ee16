"""Shared document style of the governance PDF reports (ISO 216 A4, PDF 1.4 via reportlab).

Every report is built by :func:`build_document`: a title page, then the report's flowables under a
running header and a footer with the generation time and "Page N of M" (a two-pass canvas, so the
total is exact). The helpers here (:func:`paragraph`, :func:`data_table`, :func:`bar_chart`, ...)
give every report the same look. Text that Helvetica cannot encode (Chinese customer data) is set
in reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1), which needs no font download.
Output is deterministic: the same input gives the same bytes (reportlab's invariant mode, with the
PDF creation date set to the report's generation time).
"""

from __future__ import annotations

import io
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.platypus import (  # type: ignore[import-untyped]
    Flowable,
    PageBreak,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from reports._base import (
    CJK_FONT,
    CONTENT_WIDTH,
    GRID,
    MARGIN,
    NOTICE_COLOURS,
    PRIMARY,
    PRODUCT_NAME,
    ROW_ALT,
    ROW_FLAG,
    ReportDataError,
    format_timestamp,
    paragraph,
    percent,
    to_utc,
)
from reports._canvas import KeepWithNext, draw_cover_band, numbered_canvas
from reports._chart import bar_chart

__all__ = [
    "CJK_FONT",
    "CONTENT_WIDTH",
    "PRODUCT_NAME",
    "ReportDataError",
    "bar_chart",
    "build_document",
    "data_table",
    "format_timestamp",
    "heading",
    "key_figures",
    "notice",
    "paragraph",
    "percent",
    "to_utc",
]


_FRAME_PADDING = 6  # reportlab's default frame padding; text then aligns with header and footer


def heading(text: str, level: int = 1) -> Any:
    """A section heading; level 1 or 2."""
    return paragraph(text, "h1" if level == 1 else "h2")


def notice(message: str, kind: str = "info") -> Any:
    """A coloured call-out box; ``kind`` is ``ok``, ``bad`` or ``info``."""
    background, border = NOTICE_COLOURS[kind]
    box = Table([[paragraph(message)]], colWidths=[CONTENT_WIDTH])
    box.setStyle(
        TableStyle(
            [
                ("BACKGROUND", (0, 0), (-1, -1), background),
                ("LINEBEFORE", (0, 0), (0, -1), 3, border),
                ("TOPPADDING", (0, 0), (-1, -1), 7),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
            ]
        )
    )
    box.spaceBefore, box.spaceAfter = 2, 8
    return box


def key_figures(pairs: Sequence[tuple[str, str]]) -> Any:
    """A compact two-column table of labelled figures (label, value)."""
    rows = [[paragraph(label, "cell"), paragraph(value, "cell")] for label, value in pairs]
    table = Table(rows, colWidths=[CONTENT_WIDTH * 0.38, CONTENT_WIDTH * 0.62], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (0, -1), "Helvetica-Bold"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.4, GRID),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (0, -1), ROW_ALT),
            ]
        )
    )
    table.spaceAfter = 8
    return table


def _cell(value: str, numeric: bool) -> Any:
    return paragraph(value, "cell_right" if numeric else "cell")


def _table_style(flagged_rows: Collection[int]) -> Any:
    commands: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), PRIMARY),
        ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, ROW_ALT]),
        ("LINEBELOW", (0, 0), (-1, -1), 0.3, GRID),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    commands += [("BACKGROUND", (0, i + 1), (-1, i + 1), ROW_FLAG) for i in sorted(flagged_rows)]
    return TableStyle(commands)


def data_table(
    header: Sequence[str],
    rows: Sequence[Sequence[str]],
    col_widths: Sequence[float] | None = None,
    *,
    numeric_cols: Collection[int] = (),
    flagged_rows: Collection[int] = (),
    width_share: float = 1.0,
) -> Any:
    """A table that wraps cell text, repeats its header on every page and splits between rows.

    ``col_widths`` are relative weights scaled to the text width (equal columns when omitted);
    ``numeric_cols`` are right-aligned; ``flagged_rows`` (0-based data-row indexes) are tinted red;
    ``width_share`` narrows the table to that share of the text width (left-aligned).
    Raises :class:`ReportDataError` when a row's length differs from the header's.
    """
    weights = list(col_widths) if col_widths is not None else [1.0] * len(header)
    if len(weights) != len(header) or min(weights, default=1) <= 0:
        raise ReportDataError("col_widths must give one positive weight per header column")
    if not 0.0 < width_share <= 1.0:
        raise ReportDataError("width_share must be within (0, 1]")
    widths = [CONTENT_WIDTH * width_share * w / sum(weights) for w in weights]
    body = []
    for index, row in enumerate(rows):
        if len(row) != len(header):
            raise ReportDataError(f"table row {index} has {len(row)} cells, expected {len(header)}")
        body.append([_cell(value, col in numeric_cols) for col, value in enumerate(row)])
    if any(not 0 <= i < len(rows) for i in flagged_rows):
        raise ReportDataError("flagged_rows holds an index outside the table")
    head = [paragraph(title, "cell_head") for title in header]
    table = Table([head, *body], colWidths=widths, repeatRows=1, splitByRow=1, hAlign="LEFT")
    table.setStyle(_table_style(flagged_rows))
    table.spaceAfter = 10
    return table


def _cover(title: str, subtitle: str, generated: str, meta: Mapping[str, str]) -> list[Any]:
    story: list[Any] = [
        Spacer(1, 38 * mm),
        paragraph(PRODUCT_NAME.upper(), "cover_product"),
        Spacer(1, 4 * mm),
        paragraph(title, "cover_title"),
        paragraph(subtitle, "cover_subtitle"),
        Spacer(1, 8 * mm),
        key_figures([("Generated", generated), *meta.items()]),
        Spacer(1, 14 * mm),
        paragraph(
            "Confidential: prepared for the data protection officer and auditors. "
            "It lists identifiers and statistics only, never the content of customer records.",
            "small",
        ),
    ]
    return story


def build_document(
    title: str,
    subtitle: str,
    generated_at: datetime,
    flowables: Sequence[Flowable],
    meta: Mapping[str, str] | None = None,
) -> bytes:
    """Lay out a title page and ``flowables`` on A4 pages and return the PDF bytes."""
    generated = format_timestamp(generated_at)
    stamp = to_utc(generated_at)
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=MARGIN - _FRAME_PADDING,
        rightMargin=MARGIN - _FRAME_PADDING,
        topMargin=MARGIN + 8 * mm,
        bottomMargin=MARGIN + 6 * mm,
        title=title,
        author=PRODUCT_NAME,
        subject=subtitle,
        creator=PRODUCT_NAME,
        invariant=True,
    )
    document.keepTogetherClass = KeepWithNext
    story = [*_cover(title, subtitle, generated, meta or {}), PageBreak(), *flowables]
    document.build(
        story,
        onFirstPage=draw_cover_band,
        canvasmaker=numbered_canvas(PRODUCT_NAME, title, generated, stamp),
    )
    return buffer.getvalue()
