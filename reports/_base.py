"""Base of the report style: palette, fonts, paragraph styles, text and time helpers.

Private to :mod:`reports`; import the public names from :mod:`reports.style`. Text that Helvetica
cannot encode (WinAnsiEncoding, i.e. cp1252) is set in reportlab's built-in CID font
``STSong-Light`` (Adobe-GB1 character collection), so Chinese customer data renders with no font
download.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors  # type: ignore[import-untyped]
from reportlab.lib.enums import TA_RIGHT  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4  # type: ignore[import-untyped]
from reportlab.lib.styles import ParagraphStyle  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfbase.cidfonts import UnicodeCIDFont  # type: ignore[import-untyped]
from reportlab.pdfbase.pdfmetrics import stringWidth  # type: ignore[import-untyped]
from reportlab.platypus import Paragraph  # type: ignore[import-untyped]

PRODUCT_NAME = "Governance Server"
MARGIN = 18 * mm
CONTENT_WIDTH: float = A4[0] - 2 * MARGIN
CJK_FONT = "STSong-Light"
PRIMARY = colors.HexColor("#1F3A5F")
MUTED = colors.HexColor("#5B6776")
GRID = colors.HexColor("#C9D1DB")
ROW_ALT = colors.HexColor("#F3F5F8")
ROW_FLAG = colors.HexColor("#FBE3E1")
NOTICE_COLOURS = {
    "ok": (colors.HexColor("#E3F4E8"), colors.HexColor("#1E7B3A")),
    "bad": (colors.HexColor("#FBE3E1"), colors.HexColor("#B3261E")),
    "info": (colors.HexColor("#FFF4D6"), colors.HexColor("#8A6100")),
}

pdfmetrics.registerFont(UnicodeCIDFont(CJK_FONT))


class ReportDataError(ValueError):
    """Report input is inconsistent; the message names the field, never a data value."""


def _style(name: str, **kwargs: Any) -> Any:
    base: dict[str, Any] = {"fontName": "Helvetica", "fontSize": 9.5, "leading": 13}
    base.update(kwargs)
    return ParagraphStyle(name=name, **base)


STYLES: dict[str, Any] = {
    "body": _style("body", spaceAfter=6),
    "small": _style("small", fontSize=8, leading=10, textColor=MUTED),
    "h1": _style(
        "h1",
        fontName="Helvetica-Bold",
        fontSize=15,
        leading=19,
        textColor=PRIMARY,
        spaceBefore=10,
        spaceAfter=8,
        keepWithNext=1,
    ),
    "h2": _style(
        "h2",
        fontName="Helvetica-Bold",
        fontSize=11.5,
        leading=15,
        textColor=PRIMARY,
        spaceBefore=8,
        spaceAfter=5,
        keepWithNext=1,
    ),
    "cell": _style("cell", fontSize=8, leading=10),
    "cell_right": _style("cell_right", fontSize=8, leading=10, alignment=TA_RIGHT),
    "cell_head": _style(
        "cell_head", fontName="Helvetica-Bold", fontSize=8, leading=10, textColor=colors.white
    ),
    "mono": _style("mono", fontName="Courier", fontSize=7.5, leading=9.5),
    "cover_product": _style(
        "cover_product", fontName="Helvetica-Bold", fontSize=12, leading=16, textColor=MUTED
    ),
    "cover_title": _style(
        "cover_title",
        fontName="Helvetica-Bold",
        fontSize=26,
        leading=32,
        textColor=PRIMARY,
        spaceAfter=10,
    ),
    "cover_subtitle": _style("cover_subtitle", fontSize=13, leading=18, textColor=MUTED),
}


def to_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive datetime is taken to be UTC already (as SQLite stores)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def format_timestamp(moment: datetime, *, seconds: bool = True) -> str:
    """Format a datetime as ``YYYY-MM-DD HH:MM[:SS] UTC``."""
    return to_utc(moment).strftime("%Y-%m-%d %H:%M:%S UTC" if seconds else "%Y-%m-%d %H:%M UTC")


def percent(share: float) -> str:
    """Format a share in 0..1 as a percentage with one decimal, e.g. ``92.3%``.

    Shares that would round to 0.0% or 100.0% without being exactly 0 or 1 show as ``<0.1%`` and
    ``>99.9%``, so a report never claims "none" or "all" when that is not true.
    """
    if 0.0 < share < 0.0005:
        return "<0.1%"
    if 0.9995 <= share < 1.0:
        return ">99.9%"
    return f"{share * 100:.1f}%"


def fit_text(text: str, font: str, size: float, width: float) -> str:
    """Shorten ``text`` with an ellipsis so that it fits ``width`` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def needs_cjk(text: str) -> bool:
    try:
        text.encode("cp1252")  # what reportlab's standard fonts can show (WinAnsiEncoding)
    except UnicodeEncodeError:
        return True
    return False


def _cjk_variant(style: Any) -> Any:
    return ParagraphStyle(name=f"{style.name}_cjk", parent=style, fontName=CJK_FONT, wordWrap="CJK")


_CJK_STYLES: dict[str, Any] = {name: _cjk_variant(s) for name, s in STYLES.items()}


def paragraph(text: str, style: str = "body", *, markup: bool = False) -> Any:
    """A paragraph of plain text (escaped unless ``markup``), in the CJK font when needed."""
    body = text if markup else escape(text)
    chosen = _CJK_STYLES[style] if needs_cjk(text) else STYLES[style]
    return Paragraph(body, chosen)
