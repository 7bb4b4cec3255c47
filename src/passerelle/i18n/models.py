"""FX reference rates: units of `currency` per one unit of the base currency."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class FxRate(Base):
    __tablename__ = "fx_rates"

    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    # Decimal kept as text: exact on every backend (SQLite has no decimal type).
    rate: Mapped[str] = mapped_column(String(32))
    as_of: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)
