"""FX reference rates: ECB CSV import and the in-memory table used for display."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import DomainError
from passerelle.i18n.models import FxRate
from passerelle.money import FxTable, is_currency


def parse_ecb_csv(text: str) -> tuple[date, dict[str, Decimal]]:
    """Parse the ECB reference-rates CSV (daily `eurofxref.csv` or `eurofxref-hist.csv`).

    The first column is the date; the others are currency codes, each value being the
    units of that currency for one euro. The newest row (the first) is used.
    """
    rows = [row for row in csv.reader(io.StringIO(text.strip())) if any(c.strip() for c in row)]
    if len(rows) < 2 or rows[0][0].strip().lower() != "date":
        raise DomainError("invalid_fx_file", "Expected an ECB CSV with a 'Date' header row")
    header = [c.strip() for c in rows[0]]
    values = [c.strip() for c in rows[1]]
    as_of = _parse_date(values[0])
    rates: dict[str, Decimal] = {}
    for code, raw in zip(header[1:], values[1:], strict=False):
        # Codes the ISO data no longer lists (BGN after the euro switch) are skipped, not fatal.
        if not code or not is_currency(code) or raw in ("", "N/A"):
            continue
        try:
            rate = Decimal(raw)
        except InvalidOperation:
            raise DomainError("invalid_fx_file", f"Bad rate for {code}: {raw!r}") from None
        if rate <= 0:
            raise DomainError("invalid_fx_file", f"Rate for {code} must be positive")
        rates[code] = rate
    if not rates:
        raise DomainError("invalid_fx_file", "No rates in the file")
    return as_of, rates


def _parse_date(raw: str) -> date:
    for fmt in ("%Y-%m-%d", "%d %B %Y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise DomainError("invalid_fx_file", f"Unreadable date: {raw!r}")


async def import_rates(session: AsyncSession, *, as_of: date, rates: dict[str, Decimal], base: str) -> int:
    """Replace the rate table (rates are per one unit of `base`)."""
    await session.execute(delete(FxRate))
    session.add_all(FxRate(currency=code, rate=str(rate), as_of=as_of) for code, rate in rates.items() if code != base)
    await session.flush()
    return len(rates)


async def load_table(session: AsyncSession, *, base: str) -> FxTable:
    rows = (await session.execute(select(FxRate.currency, FxRate.rate))).all()
    return FxTable(base, {code: Decimal(rate) for code, rate in rows})
