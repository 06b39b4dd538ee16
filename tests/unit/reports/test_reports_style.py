"""Tests of the shared report style: title page, page furniture, tables, charts, CJK text."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from reportlab.platypus import Spacer

from reports.style import (
    ReportDataError,
    bar_chart,
    build_document,
    data_table,
    heading,
    paragraph,
    percent,
    to_utc,
)

GENERATED = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
HEADER = ["Seq", "Field name", "Remark", "Share"]


def pages_text(pdf: bytes) -> list[str]:
    """Text of each page, whitespace collapsed so table cells read as one line."""
    return [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf)).pages]


def long_rows(count: int) -> list[list[str]]:
    return [
        [str(i), f"field_{i:04d}", "free text " * (i % 4), percent(i / count)] for i in range(count)
    ]


def build(flowables: list[object]) -> bytes:
    meta = {"Database": "PostgreSQL crm@db1", "Period": "February 2025"}
    return build_document("Sample Report", "A subtitle", GENERATED, flowables, meta)


def test_title_page_shows_product_title_subtitle_time_and_metadata() -> None:
    pdf = build([paragraph("Body text.")])
    assert pdf.startswith(b"%PDF-")
    first = pages_text(pdf)[0]
    for expected in (
        "GOVERNANCE SERVER",
        "Sample Report",
        "A subtitle",
        "Generated 2025-03-01 09:30:00 UTC",
        "Database PostgreSQL crm@db1",
        "Period February 2025",
    ):
        assert expected in first
    assert "Body text." not in first  # content starts after the title page


def test_every_page_has_page_n_of_m_and_later_pages_a_running_header() -> None:
    pdf = build([data_table(HEADER, long_rows(500), (0.6, 1.4, 3, 1))])
    pages = pages_text(pdf)
    assert len(pages) > 5
    for number, text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in text
        assert "Generated 2025-03-01 09:30:00 UTC" in text
    for text in pages[1:]:
        assert "Governance Server" in text and "Sample Report" in text


def test_long_table_splits_across_pages_repeating_its_header_and_keeps_every_row() -> None:
    pdf = build([data_table(HEADER, long_rows(500), (0.6, 1.4, 3, 1))])
    table_pages = pages_text(pdf)[1:]
    assert len(table_pages) >= 5
    for text in table_pages:
        assert "Seq Field name Remark Share" in text
    everything = " ".join(table_pages)
    assert all(f"field_{i:04d}" in everything for i in range(500))
    assert "99.8%" in everything


def test_same_input_gives_same_bytes_with_creation_date_set_to_generation_time() -> None:
    first = build([paragraph("Stable.")])
    assert first == build([paragraph("Stable.")])
    info = PdfReader(io.BytesIO(first)).metadata
    assert info is not None
    assert info["/CreationDate"].startswith("D:20250301093000")
    assert info.title == "Sample Report"


def test_generation_time_is_shown_in_utc() -> None:
    shanghai = datetime(2025, 3, 1, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    pdf = build_document("T", "S", shanghai, [paragraph("x")])
    assert "Generated 2025-03-01 09:30:00 UTC" in pages_text(pdf)[0]
    assert to_utc(datetime(2025, 1, 1, 12, 0)) == datetime(2025, 1, 1, 12, 0, tzinfo=UTC)


def test_chinese_text_is_set_in_the_cid_font_and_ascii_stays_extractable() -> None:
    rows = [["1", "note", "客户张伟 called about order ORD-7731", "10.0%"]]
    pdf = build([paragraph("联系人 李娜 Contact"), data_table(HEADER, rows)])
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[1]["/Resources"]["/Font"]
    base_fonts = {str(font.get_object()["/BaseFont"]) for font in fonts.values()}
    assert any("STSong-Light" in name for name in base_fonts)
    text = pages_text(pdf)[1]
    assert "ORD-7731" in text and "Contact" in text


def test_markup_in_data_is_shown_literally() -> None:
    pdf = build([data_table(HEADER, [["1", "<b>x</b> & y", "a<b", "1.0%"]])])
    assert "<b>x</b> & y" in pages_text(pdf)[1]


def test_bar_chart_labels_and_values_are_in_the_pdf() -> None:
    labels = ["customers.email", "customers.phone"]
    chart = bar_chart(labels, [92.3, 87.1], "Completeness", unit="%")
    text = pages_text(build([chart]))[1]
    for expected in ("Completeness", "customers.email", "customers.phone", "92.3%", "87.1%"):
        assert expected in text


def test_bar_chart_caps_its_bars_and_says_so() -> None:
    labels = [f"label_{i:02d}" for i in range(55)]
    text = pages_text(build([bar_chart(labels, list(range(55)), "Counts")]))[1]
    assert "Counts (first 40 of 55)" in text
    assert "label_39" in text and "label_40" not in text


def test_bar_chart_without_data_says_so() -> None:
    assert "Counts: no data to chart." in pages_text(build([bar_chart([], [], "Counts")]))[1]


def test_heading_stays_on_the_page_when_the_following_table_can_start_there() -> None:
    story = [Spacer(1, 300), heading("Entries"), data_table(HEADER, long_rows(100))]
    pages = pages_text(build(story))
    assert "Entries" in pages[1] and "field_0000" in pages[1]


def test_heading_moves_to_the_next_page_rather_than_end_a_page() -> None:
    story = [Spacer(1, 640), heading("Entries"), data_table(HEADER, long_rows(100))]
    pages = pages_text(build(story))
    assert "Entries" not in pages[1]
    assert "Entries" in pages[2] and "field_0000" in pages[2]


@pytest.mark.parametrize(
    ("share", "shown"),
    [(0.0, "0.0%"), (0.0002, "<0.1%"), (0.923, "92.3%"), (0.9997, ">99.9%"), (1.0, "100.0%")],
)
def test_percent_never_rounds_to_none_or_all(share: float, shown: str) -> None:
    assert percent(share) == shown


def test_inconsistent_table_and_chart_input_is_refused() -> None:
    with pytest.raises(ReportDataError, match="row 0 has 2 cells"):
        data_table(HEADER, [["1", "2"]])
    with pytest.raises(ReportDataError, match="col_widths"):
        data_table(HEADER, [], (1, 2))
    with pytest.raises(ReportDataError, match="flagged_rows"):
        data_table(HEADER, [], flagged_rows={0})
    with pytest.raises(ReportDataError, match="one value per label"):
        bar_chart(["a"], [], "t")
    with pytest.raises(ReportDataError, match="negative"):
        bar_chart(["a"], [-1], "t")
