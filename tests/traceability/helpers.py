"""A traced unit: factory, line, batch, packed onto a paid order."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from passerelle.state import AppState
from tests.logistics.helpers import PaidOrder, paid_order


@dataclass
class Traced:
    paid: PaidOrder
    serials: list[str]
    factory_id: int


async def traced_order(client: httpx.AsyncClient, state: AppState, *, units: int = 2) -> Traced:
    paid = await paid_order(client, state, quantity=units)
    headers = paid.seller.headers
    mid = paid.merchant.id
    factory = await client.post(
        f"/api/v1/me/merchants/{mid}/factories",
        json={"name": "Atelier Canut", "city": "Lyon", "country": "FR"},
        headers=headers,
    )
    assert factory.status_code == 201, factory.text
    fid = factory.json()["id"]
    line = await client.post(f"/api/v1/me/merchants/{mid}/factories/{fid}/lines", json={"number": "3"}, headers=headers)
    batch = await client.post(
        f"/api/v1/me/merchants/{mid}/batches",
        json={
            "sku_id": paid.sku_id,
            "factory_id": fid,
            "line_id": line.json()["id"],
            "started_at": "2026-10-02T06:00:00+00:00",
            "ended_at": "2026-10-02T14:30:00+00:00",
            "materials": [{"material": "cotton", "origin": "IN"}, {"material": "silk", "origin": "FR"}],
            "unit_count": units + 1,
        },
        headers=headers,
    )
    assert batch.status_code == 201, batch.text
    serials = batch.json()["serials"][:units]
    for serial in serials:
        packed = await client.post(f"/api/v1/orders/{paid.order_id}/units", json={"serial": serial}, headers=headers)
        assert packed.status_code == 201, packed.text
    return Traced(paid, serials, fid)
