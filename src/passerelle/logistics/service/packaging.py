"""Packaging types, green-packaging figures and the merchant's logistics settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import Invalid, NotFound
from passerelle.logistics.models import Direction, LogisticsSettings, PackagingType, Parcel, Shipment

DEFAULT_RETURN_WINDOW_DAYS = 30


async def add_type(
    session: AsyncSession, *, merchant_id: int | None, name: str, material: str, recyclable: bool, weight_g: int
) -> PackagingType:
    if not name.strip() or not material.strip():
        raise Invalid("invalid_packaging", "Give the packaging's name and material", field="name")
    if not 0 <= weight_g <= 100_000:
        raise Invalid("invalid_weight", "Packaging weight is between 0 and 100 000 g", field="weight_g")
    packaging = PackagingType(
        merchant_id=merchant_id,
        name=name.strip()[:100],
        material=material.strip().lower()[:40],
        recyclable=recyclable,
        weight_g=weight_g,
    )
    session.add(packaging)
    await session.flush()
    return packaging


async def types_for(session: AsyncSession, *, merchant_id: int) -> list[PackagingType]:
    """The merchant's own packaging types and the platform-wide ones."""
    rows = await session.execute(
        select(PackagingType)
        .where(or_(PackagingType.merchant_id == merchant_id, PackagingType.merchant_id.is_(None)))
        .order_by(PackagingType.merchant_id.is_(None), PackagingType.name)
    )
    return list(rows.scalars())


async def usable_type(session: AsyncSession, *, merchant_id: int, packaging_type_id: int) -> PackagingType:
    packaging = await session.get(PackagingType, packaging_type_id)
    if packaging is None or packaging.merchant_id not in (None, merchant_id):
        raise NotFound("packaging type")
    return packaging


@dataclass(frozen=True)
class PackagingStats:
    parcels: int
    recyclable_parcels: int
    packaging_g: int
    recyclable_g: int

    @property
    def recyclable_share(self) -> float:
        """Share of parcels shipped in recyclable packaging, 0..1."""
        return round(self.recyclable_parcels / self.parcels, 4) if self.parcels else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {
            "parcels": self.parcels,
            "recyclable_parcels": self.recyclable_parcels,
            "recyclable_share": self.recyclable_share,
            "recyclable_weight_share": round(self.recyclable_g / self.packaging_g, 4) if self.packaging_g else 0.0,
            "packaging_kg": round(self.packaging_g / 1000, 3),
            "recyclable_packaging_kg": round(self.recyclable_g / 1000, 3),
        }


async def stats(session: AsyncSession, *, merchant_id: int | None = None) -> PackagingStats:
    """Outbound parcels only (a return re-uses the buyer's packaging). None: platform-wide."""
    recyclable = case((Parcel.packaging_recyclable.is_(True), 1), else_=0)
    query = (
        select(
            func.count(Parcel.id),
            func.coalesce(func.sum(recyclable), 0),
            func.coalesce(func.sum(Parcel.packaging_weight_g), 0),
            func.coalesce(func.sum(Parcel.packaging_weight_g * recyclable.cast(Integer)), 0),
        )
        .join(Shipment, Shipment.id == Parcel.shipment_id)
        .where(Shipment.direction == Direction.outbound)
    )
    if merchant_id is not None:
        query = query.where(Shipment.merchant_id == merchant_id)
    parcels, recyclable_count, grams, recyclable_grams = (await session.execute(query)).one()
    return PackagingStats(int(parcels), int(recyclable_count), int(grams), int(recyclable_grams))


async def return_window_days(session: AsyncSession, *, merchant_id: int) -> int:
    found = await session.get(LogisticsSettings, merchant_id)
    return found.return_window_days if found is not None else DEFAULT_RETURN_WINDOW_DAYS


async def set_return_window(session: AsyncSession, *, merchant_id: int, days: int) -> int:
    if not 0 <= days <= 365:
        raise Invalid("invalid_return_window", "The return window is between 0 and 365 days", field="days")
    found = await session.get(LogisticsSettings, merchant_id)
    if found is None:
        session.add(LogisticsSettings(merchant_id=merchant_id, return_window_days=days))
    else:
        found.return_window_days = days
    await session.flush()
    return days
