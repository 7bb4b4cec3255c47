"""Company tables: the buyer company and who buys for it."""

from __future__ import annotations

import enum

from sqlalchemy import Enum, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, TimestampMixin


class CompanyRole(enum.StrEnum):
    admin = "admin"  # manages members, buys
    buyer = "buyer"  # buys (asks for quotes) on the company's behalf


class Company(TimestampMixin, Base):
    __tablename__ = "companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    country: Mapped[str] = mapped_column(String(2))
    # Stored compact, with its country prefix ("FR40303265045"); null for a company without one.
    vat_number: Mapped[str | None] = mapped_column(String(20), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class CompanyMember(TimestampMixin, Base):
    __tablename__ = "company_members"

    company_id: Mapped[int] = mapped_column(ForeignKey("companies.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    role: Mapped[CompanyRole] = mapped_column(Enum(CompanyRole, native_enum=False, length=10))
