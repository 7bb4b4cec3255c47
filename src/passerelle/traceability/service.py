"""Traceability rules: factories, lines, batches and units; scanning units onto order lines;
provenance records appended to each unit's signed hash chain; chain verification."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.catalog.models import Product, Sku
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.i18n.countries import check_country
from passerelle.orders.models import Order, OrderLine, OrderStatus
from passerelle.traceability import signing
from passerelle.traceability.models import (
    Factory,
    ProductionBatch,
    ProductionLine,
    ProvenanceRecord,
    SigningKey,
    Unit,
)

MAX_UNITS_PER_BATCH = 10_000
PACKABLE = frozenset({OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped})


@dataclass(frozen=True)
class Material:
    material: str
    origin: str  # ISO country code


async def add_factory(session: AsyncSession, *, merchant_id: int, name: str, city: str, country: str) -> Factory:
    if not name.strip() or not city.strip():
        raise Invalid("invalid_factory", "Give the factory's name and city", field="name")
    factory = Factory(
        merchant_id=merchant_id, name=name.strip()[:120], city=city.strip()[:120], country=check_country(country)
    )
    session.add(factory)
    await session.flush()
    return factory


async def _factory(session: AsyncSession, *, merchant_id: int, factory_id: int) -> Factory:
    factory = await session.get(Factory, factory_id)
    if factory is None or factory.merchant_id != merchant_id:
        raise NotFound("factory")
    return factory


async def add_line(
    session: AsyncSession, *, merchant_id: int, factory_id: int, number: str, name: str = ""
) -> ProductionLine:
    await _factory(session, merchant_id=merchant_id, factory_id=factory_id)
    if not number.strip():
        raise Invalid("invalid_line", "Give the line number", field="number")
    exists = await session.execute(
        select(ProductionLine.id).where(
            ProductionLine.factory_id == factory_id, ProductionLine.number == number.strip()
        )
    )
    if exists.first():
        raise Conflict("line_exists", "This factory already has a line with this number", field="number")
    line = ProductionLine(factory_id=factory_id, number=number.strip()[:20], name=name.strip()[:120])
    session.add(line)
    await session.flush()
    return line


async def factories(session: AsyncSession, *, merchant_id: int) -> list[tuple[Factory, list[ProductionLine]]]:
    found = list(
        (
            await session.execute(select(Factory).where(Factory.merchant_id == merchant_id).order_by(Factory.id))
        ).scalars()
    )
    lines = (
        await session.execute(
            select(ProductionLine)
            .where(ProductionLine.factory_id.in_([f.id for f in found]))
            .order_by(ProductionLine.number)
        )
    ).scalars()
    by_factory: dict[int, list[ProductionLine]] = {f.id: [] for f in found}
    for line in lines:
        by_factory[line.factory_id].append(line)
    return [(f, by_factory[f.id]) for f in found]


async def record_batch(
    session: AsyncSession,
    *,
    merchant_id: int,
    sku_id: int,
    factory_id: int,
    line_id: int,
    started_at: datetime,
    ended_at: datetime,
    materials: Sequence[Material],
    unit_count: int = 0,
    serials: Sequence[str] = (),
    secret: str,
) -> tuple[ProductionBatch, list[Unit]]:
    """A production run and its units (serials imported, or `unit_count` generated); each
    unit's chain starts with a signed "made" record."""
    factory = await _factory(session, merchant_id=merchant_id, factory_id=factory_id)
    line = await session.get(ProductionLine, line_id)
    if line is None or line.factory_id != factory.id:
        raise NotFound("production line")
    sku = (
        await session.execute(
            select(Sku.id, Sku.code)
            .join(Product, Product.id == Sku.product_id)
            .where(Sku.id == sku_id, Product.merchant_id == merchant_id)
        )
    ).first()
    if sku is None:
        raise NotFound("sku")
    if started_at.tzinfo is None or ended_at.tzinfo is None or ended_at < started_at:
        raise Invalid("invalid_period", "The batch must end after it starts (with a time zone)", field="ended_at")
    wanted = [s.strip() for s in serials if s.strip()] or [_new_serial() for _ in range(unit_count)]
    if not 0 < len(wanted) <= MAX_UNITS_PER_BATCH or len(set(wanted)) != len(wanted):
        raise Invalid("invalid_units", f"Between 1 and {MAX_UNITS_PER_BATCH} distinct serials", field="serials")
    if any(len(s) > 64 for s in wanted):
        raise Invalid("invalid_units", "Serials are at most 64 characters", field="serials")
    taken = (await session.execute(select(Unit.serial).where(Unit.serial.in_(wanted)))).scalars().first()
    if taken is not None:
        raise Conflict("serial_taken", f"Serial {taken} already exists", field="serials")
    checked = [{"material": m.material.strip()[:60], "origin": check_country(m.origin)} for m in materials]
    batch = ProductionBatch(
        merchant_id=merchant_id,
        sku_id=sku_id,
        factory_id=factory.id,
        line_id=line.id,
        started_at=started_at,
        ended_at=ended_at,
        materials=checked,
    )
    session.add(batch)
    await session.flush()
    units = [Unit(serial=s, merchant_id=merchant_id, batch_id=batch.id, sku_id=sku_id) for s in wanted]
    session.add_all(units)
    await session.flush()
    made = {
        "sku": sku.code,
        "batch": batch.id,
        "factory": factory.name,
        "city": factory.city,
        "country": factory.country,
        "line": line.number,
        "started_at": started_at.isoformat(),
        "materials": checked,
    }
    key, private = await _signing_key(session, merchant_id=merchant_id, secret=secret)
    for unit in units:
        _append(session, unit, key, private, kind="made", at=ended_at, data=made)
    await session.flush()
    return batch, units


def _new_serial() -> str:
    return f"PSL-{secrets.token_hex(6).upper()}"


async def _signing_key(session: AsyncSession, *, merchant_id: int, secret: str) -> tuple[SigningKey, Any]:
    key = (
        await session.execute(
            select(SigningKey).where(SigningKey.merchant_id == merchant_id).order_by(SigningKey.id.desc()).limit(1)
        )
    ).scalar_one_or_none()
    if key is None:
        key_id, public, sealed = signing.new_keypair(secret)
        key = SigningKey(key_id=key_id, merchant_id=merchant_id, public_key=public, private_key_encrypted=sealed)
        session.add(key)
        await session.flush()
    return key, signing.open_private(secret, key_id=key.key_id, sealed=key.private_key_encrypted)


def _append(
    session: AsyncSession, unit: Unit, key: SigningKey, private: Any, *, kind: str, at: datetime, data: dict[str, Any]
) -> None:
    seq = unit.record_count + 1
    prev = unit.head_hash or signing.GENESIS
    body = signing.canonical(
        serial=unit.serial, seq=seq, kind=kind, occurred_at=at, data=data, prev_hash=prev, key_id=key.key_id
    )
    record_hash = signing.digest(body)
    session.add(
        ProvenanceRecord(
            unit_id=unit.id,
            seq=seq,
            kind=kind,
            occurred_at=at,
            data=data,
            prev_hash=prev,
            hash=record_hash,
            key_id=key.key_id,
            signature=signing.sign(private, body),
        )
    )
    unit.record_count = seq
    unit.head_hash = record_hash
    unit.head_signature = signing.sign(private, signing.head_message(unit.serial, seq, record_hash))


async def pack_unit(
    session: AsyncSession, *, merchant_id: int, order_id: int, serial: str, now: datetime, secret: str
) -> Unit:
    """Scan a unit onto the order line of its SKU (at packing)."""
    order = await session.get(Order, order_id)
    if order is None or order.merchant_id != merchant_id:
        raise NotFound("order")
    if order.status not in PACKABLE:
        raise Conflict("not_packable", f"An order that is {order.status.value} is not being packed")
    unit = (
        await session.execute(select(Unit).where(Unit.serial == serial.strip(), Unit.merchant_id == merchant_id))
    ).scalar_one_or_none()
    if unit is None:
        raise NotFound("unit")
    lines = list(
        (
            await session.execute(
                select(OrderLine).where(OrderLine.order_id == order_id, OrderLine.sku_id == unit.sku_id)
            )
        ).scalars()
    )
    for line in lines:
        packed = len((await session.execute(select(Unit.id).where(Unit.order_line_id == line.id))).all())
        if packed < line.quantity:
            break
    else:
        raise Conflict("unit_not_expected", "No line of this order is waiting for this unit", field="serial")
    claimed = await session.execute(
        update(Unit)
        .where(Unit.id == unit.id, Unit.order_line_id.is_(None))
        .values(order_line_id=line.id)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("unit_already_packed", "This unit is already packed in an order", field="serial")
    unit.order_line_id = line.id
    key, private = await _signing_key(session, merchant_id=merchant_id, secret=secret)
    _append(session, unit, key, private, kind="packed", at=now, data={"order_line": line.id})
    await session.flush()
    return unit


async def units_of_order(session: AsyncSession, *, order_id: int) -> list[Unit]:
    rows = await session.execute(
        select(Unit)
        .join(OrderLine, OrderLine.id == Unit.order_line_id)
        .where(OrderLine.order_id == order_id)
        .order_by(Unit.id)
    )
    return list(rows.scalars())


async def record_for_order(
    session: AsyncSession, *, order_id: int, kind: str, at: datetime, data: dict[str, Any], secret: str
) -> int:
    """Append a record (shipped, delivered...) to every unit packed in the order."""
    units = await units_of_order(session, order_id=order_id)
    if not units:
        return 0
    key, private = await _signing_key(session, merchant_id=units[0].merchant_id, secret=secret)
    for unit in units:
        _append(session, unit, key, private, kind=kind, at=at, data=data)
    await session.flush()
    return len(units)


async def public_keys(session: AsyncSession, *, merchant_id: int) -> list[SigningKey]:
    rows = await session.execute(
        select(SigningKey).where(SigningKey.merchant_id == merchant_id).order_by(SigningKey.id)
    )
    return list(rows.scalars())


async def unit_by_serial(session: AsyncSession, *, serial: str) -> Unit:
    unit = (await session.execute(select(Unit).where(Unit.serial == serial))).scalar_one_or_none()
    if unit is None:
        raise NotFound("unit")
    return unit


async def records(session: AsyncSession, *, unit_id: int) -> list[ProvenanceRecord]:
    rows = await session.execute(
        select(ProvenanceRecord)
        .where(ProvenanceRecord.unit_id == unit_id)
        .order_by(ProvenanceRecord.seq, ProvenanceRecord.id)
    )
    return list(rows.scalars())
