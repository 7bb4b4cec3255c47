"""PDF documents with reportlab (already used for the festival report): the parcel label
(tracking number and its QR code) and the packing slip (lines, and one QR code per traced
unit linking to its public page). DejaVu Sans when installed (any script), else Helvetica."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.pagesizes import A4, A6
from reportlab.lib.units import mm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
MARGIN = 8 * mm


@dataclass(frozen=True)
class Party:
    name: str
    lines: Sequence[str]


@dataclass(frozen=True)
class LabelData:
    tracking_number: str
    carrier: str
    service: str
    sender: Party
    recipient: Party
    weight_g: int
    parcel_no: int
    parcel_count: int
    qr_payload: str
    is_return: bool = False


@dataclass(frozen=True)
class SlipLine:
    title: str
    sku_code: str
    quantity: int
    serials: Sequence[str]


@lru_cache(maxsize=1)
def _fonts() -> tuple[str, str]:
    if FONT.exists() and FONT_BOLD.exists():
        pdfmetrics.registerFont(TTFont("PsDejaVu", str(FONT)))
        pdfmetrics.registerFont(TTFont("PsDejaVu-Bold", str(FONT_BOLD)))
        return "PsDejaVu", "PsDejaVu-Bold"
    return "Helvetica", "Helvetica-Bold"


class _Page:
    """A canvas with a cursor that writes lines top-down and wraps long ones."""

    def __init__(self, canvas: Canvas, size: tuple[float, float]) -> None:
        self.canvas, self.width, self.height = canvas, size[0], size[1]
        self.regular, self.bold = _fonts()
        self.y = self.height - MARGIN

    def text(self, text: str, size: float, *, bold: bool = False, gap: float = 1.3) -> None:
        font = self.bold if bold else self.regular
        if font == "Helvetica" or font == "Helvetica-Bold":
            text = text.encode("latin-1", "replace").decode("latin-1")
        for piece in simpleSplit(text, font, size, self.width - 2 * MARGIN) or [""]:
            self.y -= size * gap
            self.canvas.setFont(font, size)
            self.canvas.drawString(MARGIN, self.y, piece)

    def qr(self, payload: str, side: float, *, x: float = MARGIN) -> None:
        widget = QrCodeWidget(payload, barLevel="M")
        left, bottom, right, top = widget.getBounds()
        drawing = Drawing(side, side, transform=[side / (right - left), 0, 0, side / (top - bottom), 0, 0])
        drawing.add(widget)
        self.y -= side
        renderPDF.draw(drawing, self.canvas, x, self.y)

    def new_page(self) -> None:
        self.canvas.showPage()
        self.y = self.height - MARGIN


def label_pdf(labels: Sequence[LabelData]) -> bytes:
    """One A6 page per parcel."""
    buffer = io.BytesIO()
    page = _Page(Canvas(buffer, pagesize=A6), A6)
    for n, label in enumerate(labels):
        if n:
            page.new_page()
        kind = "RETURN" if label.is_return else "PARCEL"
        page.text(
            f"{label.carrier.upper()} · {label.service} · {kind} {label.parcel_no}/{label.parcel_count}", 9, bold=True
        )
        page.text("From:", 8)
        for text in [label.sender.name, *label.sender.lines]:
            page.text(text, 8)
        page.y -= 2 * mm
        page.text("To:", 11, bold=True)
        for text in [label.recipient.name, *label.recipient.lines]:
            page.text(text, 11)
        page.text(f"Weight: {label.weight_g / 1000:.3f} kg", 8)
        page.y -= 2 * mm
        page.qr(label.qr_payload, 32 * mm)
        page.canvas.setFont(page.bold, 12)
        page.canvas.drawString(MARGIN + 36 * mm, page.y + 14 * mm, label.tracking_number)
    page.canvas.save()
    return buffer.getvalue()


def packing_slip_pdf(
    *, order_id: int, merchant: str, recipient: Party, lines: Sequence[SlipLine], unit_url: str
) -> bytes:
    """`unit_url` has a `{serial}` placeholder: where each unit's QR code leads."""
    buffer = io.BytesIO()
    page = _Page(Canvas(buffer, pagesize=A4), A4)
    page.text(f"Packing slip · order {order_id}", 16, bold=True)
    page.text(merchant, 10)
    page.y -= 3 * mm
    page.text("Ship to:", 10, bold=True)
    for text in [recipient.name, *recipient.lines]:
        page.text(text, 10)
    page.y -= 4 * mm
    for item in lines:
        page.text(f"{item.quantity} × {item.title}  ({item.sku_code})", 11, bold=True)
        for serial in item.serials:
            if page.y < MARGIN + 30 * mm:
                page.new_page()
            url = unit_url.format(serial=serial)
            page.qr(url, 22 * mm)
            page.canvas.setFont(page.regular, 8)
            page.canvas.drawString(MARGIN + 26 * mm, page.y + 10 * mm, f"Unit {serial} — {url}")
            page.y -= 2 * mm
        page.y -= 2 * mm
    page.canvas.save()
    return buffer.getvalue()


def address_lines(address: dict[str, str]) -> list[str]:
    parts = [address.get("line1", ""), address.get("line2", "")]
    parts.append(" ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p))
    parts.append(address.get("country", ""))
    return [p for p in parts if p]
