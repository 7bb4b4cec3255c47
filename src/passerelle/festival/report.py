"""The festival report, for operators: GMV, orders, peak orders/s, and the breakdown by
buyer country, merchant and live room, as CSV (for spreadsheets) and as a PDF with charts
(reportlab). It reads the same aggregates as the big screen, so the figures agree."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.festival.models import Festival
from passerelle.festival.screen import snapshot
from passerelle.festival.screen_models import Dimension, ScreenCount
from passerelle.i18n.countries import country_name
from passerelle.i18n.messages import translations
from passerelle.money import FxTable, Money

BRAND = colors.HexColor("#e8443a")


@dataclass
class Report:
    festival: Festival
    currency: str
    gmv: int
    orders: int
    peak_orders_per_s: int
    countries: list[dict[str, Any]] = field(default_factory=list)
    merchants: list[dict[str, Any]] = field(default_factory=list)
    rooms: list[dict[str, Any]] = field(default_factory=list)
    hourly: list[tuple[datetime, int]] = field(default_factory=list)  # orders paid per hour


async def build(session: AsyncSession, *, festival: Festival, fx: FxTable, base: str, now: datetime) -> Report:
    data = await snapshot(session, festival=festival, fx=fx, base=base, now=now, public=False, top=None)
    seconds = await session.execute(
        select(ScreenCount.key, ScreenCount.orders).where(
            ScreenCount.festival_id == festival.id, ScreenCount.dimension == Dimension.second
        )
    )
    per_hour: dict[int, int] = defaultdict(int)
    for key, orders in seconds.all():
        per_hour[int(key) // 3600 * 3600] += orders
    return Report(
        festival=festival,
        currency=base,
        gmv=data["gmv"]["amount"],
        orders=data["orders"],
        peak_orders_per_s=data["peak_orders_per_s"],
        countries=data["countries"],
        merchants=data["merchants"],
        rooms=data["rooms"],
        hourly=[(datetime.fromtimestamp(hour, UTC), n) for hour, n in sorted(per_hour.items())],
    )


def to_csv(report: Report, *, language: str) -> str:
    """One file, sections one after another: totals, by country, by merchant, by room, by hour."""
    _ = translations(language).gettext
    out = io.StringIO()
    rows = csv.writer(out)
    rows.writerow([_("Festival"), report.festival.name])
    rows.writerow([_("Currency"), report.currency])
    rows.writerow([_("GMV (minor units)"), report.gmv])
    rows.writerow([_("Paid orders"), report.orders])
    rows.writerow([_("Peak orders per second"), report.peak_orders_per_s])
    rows.writerow([])
    rows.writerow(["country", "country_name", "orders", "gmv_minor"])
    for c in report.countries:
        rows.writerow([c["code"], country_name(c["code"], language), c["orders"], c["gmv"]])
    rows.writerow([])
    rows.writerow(["merchant_id", "merchant", "kind", "orders", "gmv_minor"])
    for m in report.merchants:
        rows.writerow([m["id"], m["name"], m["kind"], m["orders"], m["gmv"]])
    rows.writerow([])
    rows.writerow(["room_id", "orders", "gmv_minor"])
    for r in report.rooms:
        rows.writerow([r["id"], r["orders"], r["gmv"]])
    rows.writerow([])
    rows.writerow(["hour_utc", "orders"])
    for hour, orders in report.hourly:
        rows.writerow([hour.strftime("%Y-%m-%dT%H:00Z"), orders])
    return out.getvalue()


def to_pdf(report: Report, *, language: str) -> bytes:
    _ = translations(language).gettext
    styles = getSampleStyleSheet()

    def money(amount: int) -> str:
        return Money(amount, report.currency).format(language)

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(buffer, pagesize=A4, title=report.festival.name, leftMargin=18 * mm, rightMargin=18 * mm)
    story: list[Any] = [
        Paragraph(report.festival.name, styles["Title"]),
        Paragraph(
            f"{report.festival.starts_at:%Y-%m-%d %H:%M} – {report.festival.ends_at:%Y-%m-%d %H:%M} UTC",
            styles["Normal"],
        ),
        Spacer(1, 6 * mm),
        _table(
            [
                [_("GMV"), money(report.gmv)],
                [_("Paid orders"), f"{report.orders:,}".replace(",", "\u202f")],
                [_("Peak orders per second"), str(report.peak_orders_per_s)],
            ],
            header=False,
        ),
        Spacer(1, 6 * mm),
        Paragraph(_("Orders by buyer country"), styles["Heading2"]),
        _bars([(country_name(c["code"], language), c["orders"]) for c in report.countries[:12]]),
        Spacer(1, 4 * mm),
        Paragraph(_("Orders per hour"), styles["Heading2"]),
        _line([n for _hour, n in report.hourly]),
        Spacer(1, 4 * mm),
        Paragraph(_("Merchants"), styles["Heading2"]),
        _table(
            [[_("Merchant"), _("Orders"), _("GMV")]]
            + [[m["name"], str(m["orders"]), money(m["gmv"])] for m in report.merchants]
        ),
    ]
    if report.rooms:
        story += [
            Spacer(1, 4 * mm),
            Paragraph(_("Live rooms"), styles["Heading2"]),
            _table(
                [[_("Live room"), _("Orders"), _("GMV")]]
                + [[f"#{r['id']}", str(r["orders"]), money(r["gmv"])] for r in report.rooms]
            ),
        ]
    doc.build(story)
    return buffer.getvalue()


def _table(rows: list[list[str]], *, header: bool = True) -> Table:
    table = Table(rows, hAlign="LEFT")
    style = [
        ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#e3e6ec")),
        ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
    ]
    if header:
        style += [
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f5f6f8")),
            ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ]
    table.setStyle(TableStyle(style))  # type: ignore[arg-type]  # the stubs' cell tuples are narrower than reportlab
    return table


def _bars(items: list[tuple[str, int]]) -> Drawing:
    height = max(60, 18 * len(items) + 20)
    drawing = Drawing(170 * mm, height)
    if not items:
        drawing.add(String(0, height / 2, "–"))
        return drawing
    chart = HorizontalBarChart()
    chart.x, chart.y, chart.width, chart.height = int(60 * mm), 10, int(100 * mm), height - 20
    chart.data = [[n for _name, n in reversed(items)]]
    chart.categoryAxis.categoryNames = [name for name, _n in reversed(items)]
    chart.categoryAxis.labels.fontSize = 8
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labels.fontSize = 8
    chart.bars[0].fillColor = BRAND
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def _line(values: list[int]) -> Drawing:
    drawing = Drawing(170 * mm, 60 * mm)
    if not values:
        drawing.add(String(0, 30 * mm, "–"))
        return drawing
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = int(12 * mm), 10, int(150 * mm), int(50 * mm)
    plot.data = [[(i, v) for i, v in enumerate(values)] if len(values) > 1 else [(0, values[0]), (1, values[0])]]
    plot.lines[0].strokeColor = BRAND
    plot.lines[0].strokeWidth = 1.5
    plot.xValueAxis.labels.fontSize = 8
    plot.yValueAxis.labels.fontSize = 8
    plot.yValueAxis.valueMin = 0
    drawing.add(plot)
    return drawing
