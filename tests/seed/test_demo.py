"""The demo seed, run once for the module on a fresh SQLite database (it takes seconds)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from passerelle.accounts.models import User
from passerelle.app import create_app
from passerelle.catalog.models import Product, ProductImage, ProductStatus, ProductTranslation
from passerelle.config import Settings
from passerelle.connect.models import (
    Campaign,
    Click,
    Commission,
    Creator,
    FraudFlag,
    Link,
    Payout,
    PayoutBatch,
    PayoutRun,
    SampleRequest,
)
from passerelle.ledger import service as ledger
from passerelle.logistics.models import Shipment
from passerelle.merchants.models import Merchant, MerchantKind, MerchantShipsTo, MerchantStatus
from passerelle.orders.models import Order, OrderStatus
from passerelle.seed.demo import SeedReport, seed_demo, seed_demo_if_empty
from passerelle.state import AppState
from tests.web.helpers import HTML, log_in

API = "/api/v1"


@dataclass
class Demo:
    state: AppState
    first: SeedReport
    second: SeedReport
    client: httpx.AsyncClient


@pytest.fixture(scope="module")
async def demo(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> AsyncIterator[Demo]:
    root = tmp_path_factory.mktemp("demo")
    shutil.copyfile(sqlite_template, root / "passerelle.db")
    settings = Settings(
        data_dir=root / "var", database_url=f"sqlite+aiosqlite:///{root / 'passerelle.db'}", secret_key="test-secret"
    )
    state = AppState.from_settings(settings)
    first = await seed_demo_if_empty(state)
    second = await seed_demo_if_empty(state)
    transport = httpx.ASGITransport(app=create_app(state=state), client=("127.0.0.1", 40001))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield Demo(state, first, second, client)
    await state.db.dispose()


async def test_given_a_fresh_database_when_seeding_then_a_dozen_approved_merchants_of_every_kind(demo: Demo) -> None:
    async with demo.state.db.read_sessions() as session:
        merchants = list((await session.execute(select(Merchant))).scalars())
        reach = dict(
            (
                await session.execute(
                    select(MerchantShipsTo.merchant_id, func.count()).group_by(MerchantShipsTo.merchant_id)
                )
            ).all()
        )

    assert len(merchants) >= 12
    assert {m.kind for m in merchants} == set(MerchantKind)
    assert all(m.status == MerchantStatus.approved for m in merchants)
    assert {m.currency for m in merchants} >= {"EUR", "CHF"}
    assert min(reach.values()) < 30 < 200 < max(reach.values())  # EU-only shops and worldwide ones


async def test_given_the_demo_then_300_published_products_in_french_and_english_each_with_a_served_image(
    demo: Demo,
) -> None:
    async with demo.state.db.read_sessions() as session:
        published = list(
            (await session.execute(select(Product.id).where(Product.status == ProductStatus.published))).scalars()
        )
        languages: dict[int, set[str]] = {}
        for product_id, language in (
            await session.execute(select(ProductTranslation.product_id, ProductTranslation.language))
        ).all():
            languages.setdefault(product_id, set()).add(language)
        images = dict((await session.execute(select(ProductImage.product_id, ProductImage.storage_key))).all())

    assert len(published) >= 300
    assert all({"fr", "en"} <= languages[pid] for pid in published)
    assert any("es" in langs for langs in languages.values()) and any("es" not in langs for langs in languages.values())
    assert set(published) <= set(images)
    for key in sorted(set(images.values())):
        served = await demo.client.get(f"/media/{key}")
        assert served.status_code == 200 and served.headers["content-type"] == "image/jpeg"


async def test_given_the_demo_when_searching_parfum_in_french_then_perfumes_come_back_in_any_currency(
    demo: Demo,
) -> None:
    found = await demo.client.get(f"{API}/products", params={"q": "parfum", "lang": "fr", "currency": "USD"})
    spanish = await demo.client.get(f"{API}/products", params={"category": "parfums", "lang": "es", "per_page": 100})

    assert found.status_code == 200, found.text
    body = found.json()
    assert body["total"] >= 20
    assert all(item["price"]["currency"] == "USD" for item in body["items"])
    assert {item["category"] for item in body["items"]} == {"Parfums"}
    fallbacks = {item["fallback"] for item in spanish.json()["items"]}
    assert fallbacks == {True, False}  # some products are written in Spanish, others show the French text


async def test_given_seed_demo_if_empty_run_twice_then_it_seeds_once(demo: Demo) -> None:
    again = await seed_demo(demo.state)  # forced: keeps what is there, adds nothing twice

    async with demo.state.db.read_sessions() as session:
        users = (await session.execute(select(func.count()).select_from(User))).scalar_one()
        merchants = (await session.execute(select(func.count()).select_from(Merchant))).scalar_one()
    assert not demo.first.skipped and demo.second.skipped
    assert "already has" in demo.second.summary()
    assert users == demo.first.users
    assert merchants == sum(demo.first.merchants.values())
    assert (again.users, again.products, again.merchants) == (0, 0, {})


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("operator", "operator"),
        ("buyer", "buyer"),
        ("seller (brand store)", "seller"),
        ("seller (wholesaler)", "seller"),
        ("seller (individual)", "seller"),
        ("influencer", "influencer"),
    ],
)
async def test_given_the_documented_demo_logins_then_they_get_an_api_token(
    demo: Demo, role: str, expected: str
) -> None:
    login = next(login for login in demo.first.logins if login.role == role)
    assert login.email in demo.first.summary() and login.password in demo.first.summary()

    token = await demo.client.post(f"{API}/auth/token", json={"email": login.email, "password": login.password})

    assert token.status_code == 200, token.text
    me = await demo.client.get(f"{API}/me", headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    assert me.json()["role"] == expected


async def test_given_the_demo_then_a_running_festival_with_live_and_presale_deals_and_open_auctions(
    demo: Demo,
) -> None:
    deals = (await demo.client.get("/api/v1/deals?festival=current")).json()["items"]
    now = datetime.now(UTC)
    live = [d for d in deals if datetime.fromisoformat(d["starts_at"]) <= now < datetime.fromisoformat(d["ends_at"])]
    assert len(live) >= 20 and all(d["stock"] > 0 for d in live)  # (no engine runs in this test: no "remaining")
    presales = [d for d in deals if d["presale"]]
    assert presales and all(d["presale"]["remaining"] > 0 for d in presales)
    auctions = (await demo.client.get("/api/v1/auctions")).json()["items"]
    assert len(auctions) >= 3 and {a["status"] for a in auctions} == {"open"}


# The influencer program (seed/connect.py).

DEMO_PASSWORD = "passerelle-demo"
OPERATOR = "operateur@demo.passerelle.fr"
LEA = "lea.influence@demo.passerelle.fr"
CONNECT_TABLES = (Creator, Campaign, Link, Click, Commission, PayoutBatch, Payout, PayoutRun, FraudFlag, SampleRequest)


@asynccontextmanager
async def browser(demo: Demo, email: str) -> AsyncIterator[httpx.AsyncClient]:
    """A browser of its own (cookies apart from the module's client), logged in as `email`."""
    transport = httpx.ASGITransport(app=create_app(state=demo.state), client=("127.0.0.1", 40002))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver", headers=HTML) as client:
        await log_in(client, email, DEMO_PASSWORD)
        yield client


async def token_headers(demo: Demo, email: str) -> dict[str, str]:
    token = await demo.client.post(f"{API}/auth/token", json={"email": email, "password": DEMO_PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def connect_counts(state: AppState) -> dict[str, int]:
    async with state.db.read_sessions() as session:
        return {
            table.__name__: (await session.execute(select(func.count()).select_from(table))).scalar_one()
            for table in CONNECT_TABLES
        }


async def test_given_the_demo_then_the_operator_sees_a_paid_monthly_batch_and_the_next_run(demo: Demo) -> None:
    async with demo.state.db.read_sessions() as session:
        batch = (await session.execute(select(PayoutBatch))).scalar_one()
        paid = list((await session.execute(select(Payout).where(Payout.batch_id == batch.id))).scalars())
        runs = list((await session.execute(select(PayoutRun).order_by(PayoutRun.period))).scalars())

    assert batch.kind == "monthly" and batch.currency == "EUR" and len(paid) == 2
    assert runs[0].ran_at is not None and runs[0].batch_ids == [batch.id]
    assert runs[-1].ran_at is None and runs[-1].due_at > datetime.now(UTC)  # the next run is scheduled
    async with browser(demo, OPERATOR) as client:
        page = await client.get("/operator/payouts")
        sepa = await client.get(f"/operator/payouts/{batch.id}/sepa.xml")
    assert page.status_code == 200, page.text
    assert 'data-testid="payout-batches"' in page.text and 'data-testid="payout-totals"' in page.text
    assert f"#{batch.id}</td>" in page.text
    assert sepa.status_code == 200 and b"<IBAN>FR7630006000011234567890189</IBAN>" in sepa.content


async def test_given_the_demo_then_the_review_page_shows_a_click_flood_and_the_commissions_it_holds(
    demo: Demo,
) -> None:
    async with demo.state.db.read_sessions() as session:
        flag = (await session.execute(select(FraudFlag))).scalar_one()
        held = list((await session.execute(select(Commission).where(Commission.status == "held"))).scalars())

    assert flag.kind == "click_flood" and flag.status == "open" and flag.detail["capped_clicks"] >= 100
    assert held and {(c.creator_id, c.hold_reason) for c in held} == {(flag.creator_id, "under_review")}
    async with browser(demo, OPERATOR) as client:
        page = await client.get("/operator/connect/review")
    assert page.status_code == 200, page.text
    assert f'id="flag-{flag.id}"' in page.text
    capped = f"{flag.detail['capped_clicks']} clics au-delà du plafond"  # not the raw "link:<id>"
    assert capped in page.text and flag.subject not in page.text
    assert all(f'id="commission-{c.id}"' in page.text for c in held)


async def test_given_the_demo_then_a_creator_has_clicks_and_earnings_in_every_state_and_the_ledger_balances(
    demo: Demo,
) -> None:
    dashboard = await demo.client.get(f"{API}/creators/me/dashboard", headers=await token_headers(demo, LEA))
    async with demo.state.db.read_sessions() as session:
        states = set((await session.execute(select(Commission.status))).scalars())
        totals = await ledger.total_of_all_entries(session)

    assert dashboard.status_code == 200, dashboard.text
    body = dashboard.json()
    assert {"pending", "approved", "paid"} <= set(body["earnings"])
    assert all(amount > 0 for by_currency in body["earnings"].values() for amount in by_currency.values())
    assert body["clicks"] >= 100 and body["orders"] >= 5
    assert sum(day["clicks"] for day in body["clicks_by_day"]) > 0  # the chart's last 30 days
    assert {"pending", "approved", "paid", "held"} <= states
    assert demo.first.credited_orders >= 15
    assert totals and all(total == 0 for total in totals.values())
    async with browser(demo, LEA) as client:
        page = await client.get("/connect")
    assert page.status_code == 200 and "lea.endirect" in page.text
    # Linked products are named by their title in the reader's language, not their slug.
    assert "Sérum au lait d&#39;ânesse" in page.text and "serum au lait d anesse" not in page.text
    assert ">/live/" not in page.text  # the live room's link shows the room's title


async def test_given_the_demo_then_a_shop_sees_its_creators_sales_and_a_sample_request(demo: Demo) -> None:
    headers = await token_headers(demo, "vendeur.marque@demo.passerelle.fr")  # Maison Ambrelune
    async with demo.state.db.read_sessions() as session:
        ambrelune = (await session.execute(select(Merchant.id).where(Merchant.slug == "maison-ambrelune"))).scalar_one()
        sample = (await session.execute(select(SampleRequest))).scalar_one()

    stats = await demo.client.get(f"{API}/merchants/{ambrelune}/connect/dashboard", headers=headers)
    assert stats.status_code == 200, stats.text
    assert stats.json()["creators"] >= 1
    assert [row["handle"] for row in stats.json()["gmv_by_creator"]] == ["lea.endirect"]
    assert sample.status == "requested"


async def test_given_the_demo_seeded_again_then_no_connect_data_is_duplicated(demo: Demo) -> None:
    before = await connect_counts(demo.state)

    again = await seed_demo(demo.state)

    assert again.credited_orders == 0
    assert await connect_counts(demo.state) == before


async def test_given_the_demo_then_every_shipped_order_has_its_parcel_and_delivered_ones_were_delivered_by_it(
    demo: Demo,
) -> None:
    async with demo.state.db.read_sessions() as session:
        orders = (await session.execute(select(Order.id, Order.status))).all()
        parcels = {
            s.order_id: s for s in (await session.execute(select(Shipment))).scalars() if s.direction == "outbound"
        }

    gone = {OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed}
    shipped = [(order_id, status) for order_id, status in orders if status in gone]
    assert {status for _, status in shipped} == gone  # the history seed's journeys
    for order_id, status in shipped:
        assert order_id in parcels, f"order {order_id} is {status.value} without a shipment"
        assert (parcels[order_id].delivered_at is not None) == (status != OrderStatus.shipped)
