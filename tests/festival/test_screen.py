"""Big-screen aggregates: counted once per paid order from the order events, equal to the
database's own totals; the public view carries no money."""

from __future__ import annotations

import httpx
import orjson
from sqlalchemy import select

from passerelle.festival import screen
from passerelle.money import Money
from passerelle.orders.models import Order
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, drain, make_buyers, pay, sku_of
from tests.factories import make_merchant, make_product, make_user
from tests.festival.test_deals_api import festival_with_deal


async def database_totals(state: AppState) -> tuple[int, int, dict[str, int]]:
    """Paid orders, GMV in the base currency and orders per country, straight from the orders."""
    fx = await state.fx()
    async with state.db.read_sessions() as session:
        orders = list((await session.execute(select(Order).where(Order.status.in_(screen.PAID)))).scalars())
    base = state.settings.base_currency
    gmv = sum(fx.convert(Money(o.total_amount, o.currency), base).amount for o in orders)
    countries: dict[str, int] = {}
    for order in orders:
        countries[order.ship_to_country] = countries.get(order.ship_to_country, 0) + 1
    return len(orders), gmv, countries


async def test_given_paid_orders_then_the_screen_totals_equal_the_database_and_redelivery_counts_nothing(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await festival_with_deal(client, state)  # a running festival
    seller = await make_user(state)
    shop = await make_merchant(state, seller, ships_to=("FR", "DE", "US"))
    sku = (await sku_of(client, await make_product(state, shop, price=4200, stock=50)))["id"]
    buyers = [
        *await make_buyers(state, 2, country="FR"),
        *await make_buyers(state, 2, country="DE"),
        *await make_buyers(state, 1, country="US", currency="USD"),
    ]
    for index, buyer in enumerate(buyers):
        await add_to_cart(client, buyer, sku, 1 + index % 2)
        country = buyer.user.country
        placed = await checkout(client, buyer, address={**ADDRESS, "country": country})
        assert placed.status_code == 201, placed.text
        if index != 4:  # the last one never pays: not counted
            await pay(client, state, placed.json()["payment"]["id"])
    await drain(state)

    orders, gmv, countries = await database_totals(state)
    assert orders == 4
    data = await screen.read_snapshot(state, public=False)
    assert data["orders"] == orders and data["gmv"]["amount"] == gmv
    assert {c["code"]: c["orders"] for c in data["countries"]} == countries
    assert data["countries"][0]["numeric"] in ("250", "276")  # France, Germany: the map's ids
    assert sum(m["orders"] for m in data["merchants"]) == orders
    assert data["peak_orders_per_s"] >= 1 and sum(v for _, v in data["chart"]) <= orders

    # The same event delivered again (a crash between handling and acknowledging) adds nothing.
    async with state.db.writing() as session:
        paid = (await session.execute(select(Order).where(Order.status.in_(screen.PAID)))).scalars().first()
        assert paid is not None
        counted = await screen.count_paid_order(session, order=paid, now=state.clock.now())
    assert counted is False
    assert (await screen.read_snapshot(state, public=False))["orders"] == orders

    public = await screen.read_snapshot(state, public=True)
    assert "gmv" not in public and all("gmv" not in m for m in public["merchants"])
    assert public["orders"] == orders


async def test_given_the_screen_feed_then_operators_get_gmv_and_others_the_public_view(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.accounts.models import Role

    await festival_with_deal(client, state)
    operator = await make_user(state, role=Role.operator)
    feed = await client.get("/api/v1/festivals/current/screen?once=true", headers=operator.headers)
    assert feed.headers["content-type"].startswith("text/event-stream")
    data = orjson.loads(feed.text.split("data: ", 1)[1])
    assert data["public"] is False and data["gmv"] == {"amount": 0, "currency": "EUR"}
    anonymous = orjson.loads((await client.get("/api/v1/festivals/current/screen?once=true")).text.split("data: ")[1])
    assert anonymous["public"] is True and "gmv" not in anonymous
    page = await client.get("/festival/screen", headers={"accept": "text/html"})
    assert page.status_code == 200 and "data-screen" in page.text and "data-screen-gmv" not in page.text


ADDRESS = {"name": "Ada", "line1": "1 rue du Test", "city": "Paris", "postal_code": "75001", "country": "FR"}


async def test_given_a_festival_then_operators_export_its_report_as_csv_and_pdf(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.accounts.models import Role

    await festival_with_deal(client, state)
    seller = await make_user(state)
    shop = await make_merchant(state, seller, ships_to=("FR", "DE"))
    sku = (await sku_of(client, await make_product(state, shop, price=4200, stock=50)))["id"]
    for buyer in await make_buyers(state, 3, country="DE"):
        await add_to_cart(client, buyer, sku, 1)
        placed = await checkout(client, buyer, address={**ADDRESS, "country": "DE"})
        await pay(client, state, placed.json()["payment"]["id"])
    operator = await make_user(state, role=Role.operator)
    festival_id = (await client.get("/api/v1/festivals/current")).json()["id"]
    orders, gmv, _ = await database_totals(state)

    csv_report = await client.get(f"/api/v1/operator/festivals/{festival_id}/report.csv", headers=operator.headers)
    assert csv_report.status_code == 200 and csv_report.headers["content-type"].startswith("text/csv")
    lines = csv_report.text.splitlines()
    assert f"Volume d’affaires (unités mineures),{gmv}" in lines and f"Commandes payées,{orders}" in lines
    assert "DE,Allemagne,3," + str(gmv) in lines

    pdf = await client.get(f"/api/v1/operator/festivals/{festival_id}/report.pdf", headers=operator.headers)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-") and len(pdf.content) > 2000
    buyer = (await make_buyers(state, 1))[0]
    refused = await client.get(f"/api/v1/operator/festivals/{festival_id}/report.pdf", headers=buyer.headers)
    assert refused.status_code == 403


async def test_given_shipments_during_the_festival_then_the_screen_shows_deliveries_and_recyclable_share(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.app import create_app
    from tests.logistics.helpers import paid_order, ship

    create_app(state=state)  # installs the other domains' screen figures
    await festival_with_deal(client, state)
    data = await screen.read_snapshot(state, public=True)
    assert data["deliveries"] == 0 and data["recyclable_share"] is None
    for _ in range(2):
        await ship(client, await paid_order(client, state), parcels=2)
    data = await screen.read_snapshot(state, public=True)
    assert data["deliveries"] == 2 and 0.0 <= data["recyclable_share"] <= 1.0
