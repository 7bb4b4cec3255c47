"""PDF documents: the parcel label (tracking number, barcode-like QR code) and the packing
slip (lines, and one QR code per traced unit linking to its public page). fpdf2 + segno."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import segno
from fpdf import FPDF

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


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


def _qr_png(payload: str) -> io.BytesIO:
    buffer = io.BytesIO()
    segno.make(payload, error="m").save(buffer, kind="png", scale=6, border=1)
    buffer.seek(0)
    return buffer


class _Doc(FPDF):
    def __init__(self, *, format: str | tuple[float, float]) -> None:  # noqa: A002 - fpdf's own word
        super().__init__(format=format)
        self.unicode_font = FONT.exists() and FONT_BOLD.exists()
        if self.unicode_font:
            self.add_font("body", "", str(FONT))
            self.add_font("body", "B", str(FONT_BOLD))
        self.set_auto_page_break(auto=True, margin=10)

    def use(self, size: float, *, bold: bool = False) -> None:
        self.set_font("body" if self.unicode_font else "helvetica", "B" if bold else "", size)

    def text_line(self, text: str, height: float = 5) -> None:
        # Without a Unicode font the core fonts only know Latin-1.
        safe = text if self.unicode_font else text.encode("latin-1", "replace").decode("latin-1")
        self.multi_cell(0, height, safe, new_x="LMARGIN", new_y="NEXT")


def label_pdf(labels: Sequence[LabelData]) -> bytes:
    """One A6 page per parcel."""
    doc = _Doc(format=(105.0, 148.0))  # A6
    for label in labels:
        doc.add_page()
        doc.use(9, bold=True)
        kind = "RETURN" if label.is_return else "PARCEL"
        doc.text_line(f"{label.carrier.upper()} · {label.service} · {kind} {label.parcel_no}/{label.parcel_count}")
        doc.use(8)
        doc.text_line("From:")
        doc.text_line("\n".join([label.sender.name, *label.sender.lines]), 4)
        doc.ln(2)
        doc.use(11, bold=True)
        doc.text_line("To:")
        doc.text_line("\n".join([label.recipient.name, *label.recipient.lines]), 5.5)
        doc.ln(2)
        doc.use(8)
        doc.text_line(f"Weight: {label.weight_g / 1000:.3f} kg")
        y = doc.get_y() + 2
        doc.image(_qr_png(label.qr_payload), x=doc.l_margin, y=y, w=32, h=32)
        doc.set_xy(doc.l_margin + 36, y + 10)
        doc.use(12, bold=True)
        doc.cell(0, 6, label.tracking_number)
    return bytes(doc.output())


def packing_slip_pdf(
    *, order_id: int, merchant: str, recipient: Party, lines: Sequence[SlipLine], unit_url: str
) -> bytes:
    """`unit_url` has a `{serial}` placeholder: where each unit's QR code leads."""
    doc = _Doc(format="A4")
    doc.add_page()
    doc.use(16, bold=True)
    doc.text_line(f"Packing slip · order {order_id}", 8)
    doc.use(10)
    doc.text_line(merchant)
    doc.ln(3)
    doc.use(10, bold=True)
    doc.text_line("Ship to:")
    doc.use(10)
    doc.text_line("\n".join([recipient.name, *recipient.lines]))
    doc.ln(4)
    for line in lines:
        doc.use(11, bold=True)
        doc.text_line(f"{line.quantity} × {line.title}  ({line.sku_code})")
        doc.use(8)
        for serial in line.serials:
            if doc.get_y() > doc.h - 40:
                doc.add_page()
            y = doc.get_y()
            doc.image(_qr_png(unit_url.format(serial=serial)), x=doc.l_margin, y=y, w=22, h=22)
            doc.set_xy(doc.l_margin + 26, y + 8)
            doc.cell(0, 5, f"Unit {serial} — {unit_url.format(serial=serial)}")
            doc.set_xy(doc.l_margin, y + 24)
        doc.ln(2)
    return bytes(doc.output())


def address_lines(address: dict[str, str]) -> list[str]:
    parts = [address.get("line1", ""), address.get("line2", "")]
    parts.append(" ".join(p for p in (address.get("postal_code", ""), address.get("city", "")) if p))
    parts.append(address.get("country", ""))
    return [p for p in parts if p]
