"""Horizontal bar chart for the reports (reportlab.graphics), drawn as a platypus flowable.

Private to :mod:`reports`; use :func:`reports.style.bar_chart`. Horizontal bars keep long labels
such as ``customers.national_id`` readable; the first label is drawn at the top.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart  # type: ignore[import-untyped]
from reportlab.graphics.shapes import Drawing, String  # type: ignore[import-untyped]

from reports._base import (
    CJK_FONT,
    CONTENT_WIDTH,
    GRID,
    MUTED,
    PRIMARY,
    ReportDataError,
    fit_text,
    needs_cjk,
    paragraph,
)

MAX_BARS = 40
_BAR_PITCH = 14.0
_LABEL_WIDTH = 150.0


def _value_format(unit: str) -> Callable[[float], str]:
    if unit == "%":
        return lambda value: f"{value:.1f}%"
    return lambda value: f"{value:,.0f}{unit}"


def _style_axes(chart: Any, font: str, unit: str) -> None:
    """Muted axes, a light grid and value labels at the end of each bar."""
    chart.categoryAxis.reverseDirection = 1  # first label at the top
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 7.5
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.strokeColor = GRID
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontName = "Helvetica"
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.labels.fillColor = MUTED
    chart.valueAxis.strokeColor = GRID
    chart.valueAxis.visibleGrid = 1
    chart.valueAxis.gridStrokeColor = GRID
    chart.valueAxis.gridStrokeWidth = 0.3
    chart.barLabelFormat = _value_format(unit)
    chart.barLabels.fontName = "Helvetica"
    chart.barLabels.fontSize = 7
    chart.barLabels.fillColor = MUTED
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    *,
    unit: str = "",
    value_max: float | None = None,
) -> Any:
    """A horizontal bar chart flowable; at most ``MAX_BARS`` bars, the rest noted in the title.

    ``unit="%"`` formats the bar labels as percentages (values already in 0..100).
    Raises :class:`ReportDataError` when labels and values differ in length or a value is negative.
    """
    if len(labels) != len(values):
        raise ReportDataError("bar_chart needs one value per label")
    if any(value < 0 for value in values):
        raise ReportDataError("bar_chart values must not be negative")
    if not labels:
        return paragraph(f"{title}: no data to chart.", "small")
    if len(labels) > MAX_BARS:
        title = f"{title} (first {MAX_BARS} of {len(labels)})"
        labels, values = labels[:MAX_BARS], values[:MAX_BARS]
    font = CJK_FONT if any(needs_cjk(label) for label in labels) else "Helvetica"
    plot_height = len(labels) * _BAR_PITCH
    drawing = Drawing(CONTENT_WIDTH, plot_height + 40)
    drawing.add(
        String(
            0, plot_height + 28, title, fontName="Helvetica-Bold", fontSize=9.5, fillColor=PRIMARY
        )
    )
    chart = HorizontalBarChart()
    chart.x, chart.y = _LABEL_WIDTH, 16
    chart.width, chart.height = CONTENT_WIDTH - _LABEL_WIDTH - 45, plot_height
    chart.data = [[float(value) for value in values]]
    chart.bars[0].fillColor = PRIMARY
    chart.bars[0].strokeColor = None
    chart.barWidth, chart.groupSpacing = 9, 5
    chart.categoryAxis.categoryNames = [fit_text(lb, font, 7.5, _LABEL_WIDTH - 12) for lb in labels]
    chart.valueAxis.valueMax = value_max if value_max is not None else max(max(values) * 1.1, 1)
    _style_axes(chart, font, unit)
    drawing.add(chart)
    return drawing
