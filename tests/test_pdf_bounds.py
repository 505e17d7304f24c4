"""A PDF gets bounded work: pages, extracted characters, decompressed bytes, CPU time.

A 2 MB PDF that inflates to 400 MB of text held a run for minutes and a gigabyte;
now each bound fails that one page with a message that says which bound it hit.
The bounds are lowered here so the PDFs stay small and the tests quick.
"""

from __future__ import annotations

import zlib

import pytest
from fpdf import FPDF

from sotewatch.pipeline.errors import ExtractionError
from sotewatch.scrapers import Page, get_scraper
from sotewatch.scrapers import pdf as pdf_module

URL = "https://soste.fi/webinaari.pdf"
LINE = b"BT /F1 12 Tf 72 720 Td (Pohjois-Pohjanmaa Lappi Kainuu Etela-Savo) Tj ET\n"


def text_bomb(lines: int) -> bytes:
    """One page whose compressed content stream draws `lines` lines of text."""
    compressor = zlib.compressobj(9)
    stream = b"".join(compressor.compress(LINE * 1000) for _ in range(lines // 1000))
    stream += compressor.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def slides(pages: int) -> bytes:
    pdf = FPDF()
    pdf.set_font("helvetica", size=14)
    for number in range(pages):
        pdf.add_page()
        pdf.cell(text=f"Dia {number + 1}: Lapin hyvinvointialue")
    return bytes(pdf.output())


def parse(content: bytes):
    return get_scraper("pdf").parse(Page(url=URL, content=content, content_type="application/pdf"))


def test_a_small_text_pdf_within_the_bounds_is_read() -> None:
    document = parse(text_bomb(1000))
    assert "Pohjois-Pohjanmaa Lappi Kainuu Etela-Savo" in document.text


def test_a_stream_inflating_past_the_limit_fails_the_page(monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_STREAM_BYTES", 1_000_000)
    content = text_bomb(30_000)  # 2.2 MB of content stream, some 15 KB compressed
    assert len(content) < 50_000
    with pytest.raises(ExtractionError, match="PDF too large to read") as caught:
        parse(content)
    assert caught.value.url == URL


def test_extracted_text_past_the_limit_fails_the_page(monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_TEXT_CHARS", 10_000)
    with pytest.raises(ExtractionError, match="PDF text exceeds 10,000 characters"):
        parse(text_bomb(2000))


def test_too_many_pages_fail_the_page(monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_PAGES", 3)
    with pytest.raises(ExtractionError, match="PDF has 5 pages, more than the 3 read"):
        parse(slides(5))


def test_cpu_time_past_the_limit_fails_the_page(monkeypatch) -> None:
    monkeypatch.setattr(pdf_module, "MAX_CPU_SECONDS", -1.0)  # already used up
    with pytest.raises(ExtractionError, match="s of CPU time"):
        parse(slides(2))


def test_a_content_stream_with_too_many_operators_fails_the_page(monkeypatch) -> None:
    """A small file whose page draws a hundred thousand strings fails before any is read."""
    monkeypatch.setattr(pdf_module, "MAX_STREAM_TOKENS", 10_000)
    with pytest.raises(ExtractionError, match="PDF too large to read: .*tokens"):
        parse(text_bomb(5000))
