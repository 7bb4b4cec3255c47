"""The logistics pages over HTTP like a browser: the seller ships from the console, the buyer
follows the parcel in their language and time zone, sees recycling points after delivery
and opens a return; strangers get a 404."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from passerelle.accounts.models import Role
from passerelle.state import AppState
from tests.factories import make_user
from tests.logistics.helpers import event, send
from tests.traceability.helpers import traced_order
from tests.web.helpers import HTML, log_in, submit, text_of

POINTS = "name,lat,lon,address,opening_hours,accepted_materials\nDéchèterie Lyon 3,45.7597,4.8422,Rue Paul Bert,Mo-Sa 9-18,cardboard;paper\n"


def _browser(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40001))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=HTML)


async def test_given_a_paid_order_when_the_seller_ships_from_the_console_and_it_is_delivered_then_the_buyer_follows_it(
    client: httpx.AsyncClient, state: AppState, app: object
) -> None:
    traced = await traced_order(client, state)
    paid = traced.paid
    operator = await make_user(state, role=Role.operator)
    await client.post("/api/v1/operator/logistics/recycling-points", content=POINTS.encode(), headers=operator.headers)
    async with _browser(app) as seller:
        await log_in(seller, paid.seller.user.email)
        console = await seller.get(f"/console/m/{paid.merchant.id}/logistics")
        assert console.status_code == 200 and "Green packaging" in text_of(console.text) or "Emballages" in console.text
        added = await submit(
            seller,
            f"/console/m/{paid.merchant.id}/logistics/packaging",
            {"name": "Kraft box", "material": "cardboard", "weight_g": "180", "recyclable": "yes"},
        )
        assert added.status_code == 303, added.text
        shipping_path = f"/console/m/{paid.merchant.id}/orders/{paid.order_id}/shipping"
        page = await seller.get(shipping_path)
        assert traced.serials[0] in page.text
        shipped = await submit(
            seller,
            f"/console/m/{paid.merchant.id}/orders/{paid.order_id}/shipments",
            {
                "service": "sandbox:standard",
                "parcels": "1",
                "weight_g": "900",
                "length_mm": "300",
                "width_mm": "200",
                "height_mm": "80",
            },
            token_from=shipping_path,
        )
        assert shipped.status_code == 303, shipped.text
        shipments = (await client.get(f"/api/v1/orders/{paid.order_id}/shipments", headers=paid.seller.headers)).json()
        tracking = shipments[0]["tracking_number"]
        assert tracking in (await seller.get(shipping_path)).text
        # Another merchant's staff: 404.
        assert (await seller.get(f"/console/m/{paid.merchant.id + 999}/logistics")).status_code == 404

    picked = datetime(2026, 11, 20, 13, 5, tzinfo=UTC)
    await send(client, state, event(tracking, "picked_up", picked))
    async with _browser(app) as buyer:
        await log_in(buyer, paid.buyer.user.email)
        in_transit = await buyer.get(f"/orders/{paid.order_id}/tracking?lang=en&tz=America/New_York")
        text = text_of(in_transit.text)
        assert "Picked up by the carrier" in text and "Estimated delivery" in text
        assert "8:05" in text and "America/New_York" in text  # 13:05 UTC in New York
        assert "Recycle the packaging" not in text
        await send(client, state, event(tracking, "delivered", datetime.now(UTC) - timedelta(hours=2)))
        french = text_of((await buyer.get(f"/orders/{paid.order_id}/tracking?lang=fr")).text)
        assert "Colis livré" in french and "Europe/Paris" in french
        assert "Déchèterie Lyon 3" in french
        opened = await submit(
            buyer,
            f"/orders/{paid.order_id}/returns",
            {f"qty_{paid.line_id}": "1", "reason": "trop petit"},
            token_from=f"/orders/{paid.order_id}/tracking",
        )
        assert opened.status_code == 303, opened.text
        after = text_of((await buyer.get(f"/orders/{paid.order_id}/tracking?lang=en")).text)
        assert "Return label issued" in after
        unit = text_of((await buyer.get(f"/trace/{traced.serials[0]}?lang=en")).text)
        assert "Atelier Canut, Lyon" in unit and "line 3" in unit and "Verified" in unit and "India" in unit

    async with _browser(app) as stranger_client:
        other = await make_user(state)
        await log_in(stranger_client, other.user.email)
        assert (await stranger_client.get(f"/orders/{paid.order_id}/tracking")).status_code == 404
