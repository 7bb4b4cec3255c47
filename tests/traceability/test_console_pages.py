"""The seller records factories, lines and a batch from the console; its units get serials
whose public pages verify. Another merchant's console is a 404."""

from __future__ import annotations

import re

import httpx

from passerelle.state import AppState
from tests.logistics.helpers import paid_order
from tests.web.helpers import HTML, log_in, submit, text_of


async def test_given_the_traceability_console_when_a_batch_is_recorded_then_its_units_have_public_pages(
    client: httpx.AsyncClient, state: AppState, app: object
) -> None:
    paid = await paid_order(client, state)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40002))  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=HTML) as seller:
        await log_in(seller, paid.seller.user.email)
        path = f"/console/m/{paid.merchant.id}/traceability"
        made = await submit(
            seller, f"{path}/factories", {"name": "Filature du Rhône", "city": "Lyon", "country": "FR"}, token_from=path
        )
        assert made.status_code == 303, made.text
        factory_id = (
            await client.get(f"/api/v1/me/merchants/{paid.merchant.id}/factories", headers=paid.seller.headers)
        ).json()[0]["id"]
        line = await submit(seller, f"{path}/factories/{factory_id}/lines", {"number": "7"}, token_from=path)
        assert line.status_code == 303
        line_id = (
            await client.get(f"/api/v1/me/merchants/{paid.merchant.id}/factories", headers=paid.seller.headers)
        ).json()[0]["lines"][0]["id"]
        bad = await submit(seller, f"{path}/factories", {"name": "X", "city": "Y", "country": "ZZ"}, token_from=path)
        assert bad.status_code == 400 and "alert-error" in bad.text
        batch = await submit(
            seller,
            f"{path}/batches",
            {
                "sku_id": str(paid.sku_id),
                "line": f"{factory_id}:{line_id}",
                "started_at": "2026-11-02T08:00",
                "ended_at": "2026-11-02T16:00",
                "materials": "laine: FR\ncoton: EG",
                "unit_count": "3",
            },
            token_from=path,
        )
        assert batch.status_code == 303, batch.text
        page = await seller.get(path)
        serials = re.findall(r'href="/trace/([A-Z0-9-]+)"', page.text)
        assert len(serials) == 3
        unit = text_of((await seller.get(f"/trace/{serials[0]}?lang=en")).text)
        assert "Filature du Rhône, Lyon" in unit and "line 7" in unit and "Egypt" in unit and "November 2, 2026" in unit
        assert (await seller.get(f"/console/m/{paid.merchant.id + 999}/traceability")).status_code == 404
