"""Page furniture and layout of the reports: cover band, running header, "Page N of M" footer,
and headings kept with the start of the content that follows them.

Private to :mod:`reports`. The page count is only known once the whole story is laid out, so the
canvas keeps every page's drawing state and adds the header and footer in a second pass when the
document is saved (the two-pass "numbered canvas" pattern of the reportlab user guide).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]
from reportlab.platypus import FrameBreak, KeepTogether, Paragraph, Table  # type: ignore[import-untyped]
from reportlab.platypus.flowables import _listWrapOn  # type: ignore[import-untyped]

from reports._base import GRID, MARGIN, MUTED, PRIMARY, fit_text

_BAND_HEIGHT = 30 * mm
_MIN_FOLLOW = 60.0  # points of a splittable follower that must fit under its heading


def draw_cover_band(canvas: Any, _document: Any) -> None:
    """Draw the coloured band at the top of the title page."""
    width, height = A4
    canvas.saveState()
    canvas.setFillColor(PRIMARY)
    canvas.rect(0, height - _BAND_HEIGHT, width, _BAND_HEIGHT, stroke=0, fill=1)
    canvas.restoreState()


def _draw_furniture(
    canvas: Any, product: str, title: str, generated: str, page: int, total: int
) -> None:
    width, height = A4
    right = width - MARGIN
    canvas.saveState()
    canvas.setStrokeColor(GRID)
    canvas.setLineWidth(0.5)
    if page > 1:
        top = height - MARGIN
        canvas.setFont("Helvetica-Bold", 8)
        canvas.setFillColor(PRIMARY)
        canvas.drawString(MARGIN, top, product)
        canvas.setFont("Helvetica", 8)
        canvas.setFillColor(MUTED)
        room = right - MARGIN - stringWidth(product, "Helvetica-Bold", 8) - 20
        canvas.drawRightString(right, top, fit_text(title, "Helvetica", 8, room))
        canvas.line(MARGIN, top - 3 * mm, right, top - 3 * mm)
    bottom = MARGIN
    canvas.line(MARGIN, bottom + 4 * mm, right, bottom + 4 * mm)
    canvas.setFont("Helvetica", 8)
    canvas.setFillColor(MUTED)
    canvas.drawString(MARGIN, bottom, f"Generated {generated}")
    canvas.drawRightString(right, bottom, f"Page {page} of {total}")
    canvas.restoreState()


def numbered_canvas(product: str, title: str, generated: str, stamp: datetime) -> type[Any]:
    """A canvas class that adds header and footer with the exact page count when saved."""
    pdf_date = stamp.strftime("D:%Y%m%d%H%M%S+00'00'")

    class NumberedCanvas(Canvas):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.setDateFormatter(lambda *_parts: pdf_date)
            self._page_states: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._page_states.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._page_states)
            for number, state in enumerate(self._page_states, start=1):
                self.__dict__.update(state)
                _draw_furniture(self, product, title, generated, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


class KeepWithNext(KeepTogether):  # type: ignore[misc]
    """Keep a heading with the start of what follows it, not with all of it.

    reportlab's own KeepTogether moves a heading and a whole long table to a fresh page, leaving
    the page before it half empty; this breaks the page only when the heading would otherwise end
    it: less than ``_MIN_FOLLOW`` points of a table or paragraph, or not all of an unsplittable
    flowable (a chart), fit under it.
    """

    def split(self, avail_width: float, avail_height: float) -> list[Any]:
        content = list(self._content)
        _width, heads = _listWrapOn(content[:-1], avail_width, self.canv)
        follower = content[-1]
        _width, follow = follower.wrapOn(self.canv, avail_width, 0xFFFFFFF)
        if isinstance(follower, (Table, Paragraph)):
            follow = min(follow, _MIN_FOLLOW)
        frame = getattr(self, "_frame", None)
        at_top = bool(getattr(frame, "_atTop", False))
        if not at_top and heads + follower.getSpaceBefore() + follow > avail_height:
            return [FrameBreak(), *content]
        return content
