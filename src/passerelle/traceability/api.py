"""JSON routes for traceability: factories, lines, batches, packing scans, public keys and
chain verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import StringConstraints

from passerelle.deps import CurrentUser, Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.http import PathId
from passerelle.merchants import service as merchants
from passerelle.orders.models import Order
from passerelle.traceability import service
from passerelle.traceability.schemas import BatchIn, BatchOut, CreatedOut, FactoryIn, LineIn, PackIn
from passerelle.traceability.verify import verify_serial

router = APIRouter(tags=["traceability"], route_class=UnitOfWorkRoute)
Serial = Annotated[str, StringConstraints(min_length=1, max_length=64)]


@router.post("/me/merchants/{merchant_id}/factories", status_code=201, response_model=CreatedOut)
async def add_factory(merchant_id: PathId, body: FactoryIn, user: CurrentUser, session: Session) -> CreatedOut:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    factory = await service.add_factory(session, merchant_id=merchant_id, **body.model_dump())
    return CreatedOut(id=factory.id)


@router.get("/me/merchants/{merchant_id}/factories")
async def list_factories(merchant_id: PathId, user: CurrentUser, session: Session) -> list[dict[str, Any]]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return [
        {
            "id": f.id,
            "name": f.name,
            "city": f.city,
            "country": f.country,
            "lines": [{"id": li.id, "number": li.number, "name": li.name} for li in lines],
        }
        for f, lines in await service.factories(session, merchant_id=merchant_id)
    ]


@router.post("/me/merchants/{merchant_id}/factories/{factory_id}/lines", status_code=201, response_model=CreatedOut)
async def add_line(
    merchant_id: PathId, factory_id: PathId, body: LineIn, user: CurrentUser, session: Session
) -> CreatedOut:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    line = await service.add_line(session, merchant_id=merchant_id, factory_id=factory_id, **body.model_dump())
    return CreatedOut(id=line.id)


@router.post("/me/merchants/{merchant_id}/batches", status_code=201, response_model=BatchOut)
async def record_batch(
    merchant_id: PathId, body: BatchIn, user: CurrentUser, session: Session, state: State
) -> BatchOut:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    batch, units = await service.record_batch(
        session,
        merchant_id=merchant_id,
        sku_id=body.sku_id,
        factory_id=body.factory_id,
        line_id=body.line_id,
        started_at=body.started_at,
        ended_at=body.ended_at,
        materials=[service.Material(m.material, m.origin) for m in body.materials],
        unit_count=body.unit_count,
        serials=body.serials,
        secret=state.settings.resolved_secret_key,
    )
    return BatchOut(
        id=batch.id,
        sku_id=batch.sku_id,
        factory_id=batch.factory_id,
        line_id=batch.line_id,
        serials=[u.serial for u in units],
    )


@router.post("/orders/{order_id}/units", status_code=201)
async def pack_unit(
    order_id: PathId, body: PackIn, user: CurrentUser, session: Session, state: State
) -> dict[str, Any]:
    """Scan a unit onto the order (at packing). Seller staff only."""
    order = await session.get(Order, order_id)
    if order is None:
        raise NotFound("order")
    await merchants.require_staff(session, user=user, merchant_id=order.merchant_id)
    unit = await service.pack_unit(
        session,
        merchant_id=order.merchant_id,
        order_id=order_id,
        serial=body.serial,
        now=state.clock.now(),
        secret=state.settings.resolved_secret_key,
    )
    return {"serial": unit.serial, "order_line_id": unit.order_line_id, "trace_url": f"/trace/{unit.serial}"}


@router.get("/trace/merchants/{merchant_id}/keys")
async def public_keys(merchant_id: PathId, session: Session) -> dict[str, Any]:
    """The merchant's Ed25519 public keys (raw 32 bytes, base64url): anyone can check a chain."""
    await merchants.get(session, merchant_id=merchant_id)
    return {
        "merchant_id": merchant_id,
        "keys": [
            {
                "key_id": k.key_id,
                "algorithm": "Ed25519",
                "public_key": k.public_key,
                "created_at": k.created_at.isoformat(),
            }
            for k in await service.public_keys(session, merchant_id=merchant_id)
        ],
    }


@router.get("/trace/units/{serial}")
async def unit_records(serial: Serial, session: Session) -> dict[str, Any]:
    """The unit's provenance chain as stored: what a third party needs to verify it."""
    unit = await service.unit_by_serial(session, serial=serial)
    return {
        "serial": unit.serial,
        "merchant_id": unit.merchant_id,
        "head": {"count": unit.record_count, "hash": unit.head_hash, "signature": unit.head_signature},
        "records": [
            {
                "seq": r.seq,
                "kind": r.kind,
                "occurred_at": r.occurred_at.isoformat(),
                "data": r.data,
                "prev_hash": r.prev_hash,
                "hash": r.hash,
                "key_id": r.key_id,
                "signature": r.signature,
            }
            for r in await service.records(session, unit_id=unit.id)
        ],
    }


@router.get("/trace/units/{serial}/verify")
async def verify_unit(serial: Serial, session: Session) -> dict[str, object]:
    return (await verify_serial(session, serial=serial)).as_dict()
