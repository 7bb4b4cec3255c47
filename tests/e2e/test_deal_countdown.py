"""A flash deal in a real browser: the countdown flips to "Buy now" at the start time (by the
server's clock), the claim reserves a unit, and the remaining counter drops."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.festival import service as festivals
from passerelle.state import AppState
from tests import live_server as live
from tests.e2e.conftest import _in_thread
from tests.e2e.test_shopping_journey import PHONE, new_page
from tests.factories import make_merchant, make_product, make_user

pytestmark = pytest.mark.e2e

STARTS_IN = 4.0


@dataclass
class DealShop:
    url: str
    seller_token: str
    merchant_id: int
    product_id: int
    festival_id: int
    buyer_email: str


@pytest.fixture(scope="module")
def deal_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DealShop]:
    """A live server with a running festival, a seller's product and a buyer (seeded through the services)."""
    data_dir = tmp_path_factory.mktemp("e2e-deal")
    seeded: dict[str, Any] = {}

    async def seed(state: AppState) -> None:
        operator = await make_user(state, role=Role.operator)
        seller = await make_user(state)
        buyer = await make_user(state)
        shop = await make_merchant(state, seller)
        product_id = await make_product(state, shop, price=5000, stock=20)
        now = datetime.now(UTC)
        async with state.db.sessions() as session:
            festival = await festivals.create_festival(
                session,
                actor=await session.merge(operator.user),
                name="Festival 11.11",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=6),
                time_zone="Europe/Paris",
            )
            await session.commit()
            seeded.update(
                seller_token=seller.token,
                merchant_id=shop.id,
                product_id=product_id,
                festival_id=festival.id,
                buyer_email=buyer.user.email,
            )

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield DealShop(url=server.url, **seeded)
    finally:
        server.stop()


async def _deal_starting_soon(shop: DealShop, starts_in: float, stock: int = 5) -> int:
    """Created and armed over the live API (by the seller), so its start is measured from now."""
    headers = {"Authorization": f"Bearer {shop.seller_token}"}
    async with httpx.AsyncClient(base_url=shop.url, headers=headers, timeout=10) as api:
        sku = (await api.get(f"/api/v1/products/{shop.product_id}")).json()["skus"][0]["id"]
        now = datetime.now(UTC)
        created = await api.post(
            f"/api/v1/me/merchants/{shop.merchant_id}/deals",
            json={
                "festival_id": shop.festival_id,
                "sku_id": sku,
                "price_amount": 2900,
                "stock": stock,
                "per_buyer_limit": 1,
                "starts_at": (now + timedelta(seconds=starts_in)).isoformat(),
                "ends_at": (now + timedelta(hours=2)).isoformat(),
            },
        )
        assert created.status_code == 201, created.text
        armed = await api.post(f"/api/v1/me/deals/{created.json()['id']}/arm")
        assert armed.status_code == 200, armed.text
        return int(armed.json()["id"])


async def test_given_a_deal_starting_in_seconds_then_the_countdown_flips_to_buy_now_and_the_claim_reserves(
    deal_server: DealShop, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser, viewport=PHONE)
    base = deal_server.url
    await page.goto(f"{base}/login")
    await page.fill("#login-email", deal_server.buyer_email)
    await page.fill("#login-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator("form[action='/login']")).to_have_count(0)  # redirected, logged in

    deal_id = await _deal_starting_soon(deal_server, STARTS_IN)
    await page.goto(f"{base}/deals/{deal_id}")
    deal = page.locator("[data-deal]")
    countdown = page.locator("[data-countdown-name='start']")
    buy = page.locator("[data-deal-buy]")
    remaining = page.locator("[data-deal-remaining]")

    # Before the start: the countdown runs (00:00:0x) and there is no button yet.
    await expect(deal).to_have_attribute("data-phase", "upcoming")
    await expect(countdown).to_be_visible()
    await expect(countdown).to_have_text(re.compile(r"^00:00:0[1-5]$"))
    await expect(buy).to_be_hidden()
    await expect(remaining).to_have_text("5")
    await page.screenshot(path=str(artifacts / "deal-countdown-phone.png"), full_page=True)

    # At the start time the countdown becomes "Buy now", without a reload.
    await expect(buy).to_be_visible(timeout=(STARTS_IN + 4) * 1000)
    await expect(countdown).to_be_hidden()
    await expect(buy).to_have_text("Acheter maintenant")

    await buy.click()
    result = page.locator("[data-deal-result]")
    await expect(result).to_have_attribute("data-result", "reserved")
    await expect(result).to_contain_text("Réservé ! Payez avant")
    await expect(remaining).to_have_text("4")
    pay_link = page.locator("[data-deal-pay]")
    await expect(pay_link).to_have_text("Payer maintenant")
    pay_href = await pay_link.get_attribute("href")
    await page.screenshot(path=str(artifacts / "deal-reserved-phone.png"), full_page=True)

    # A second claim is over the per-buyer limit of 1: said so, and the counter stays.
    await buy.click()
    await expect(result).to_have_attribute("data-result", "limit_reached")
    await expect(remaining).to_have_text("4")
    # Chromium logs the expected 409 answer as a failed resource; nothing else may fail.
    assert [p for p in problems if "status of 409" not in p] == []

    # "Pay now": the reservation's own payment form, then the sandbox PSP's page.
    await page.goto(f"{base}{pay_href}")
    await expect(page.locator("[data-pay-total]")).to_have_text(re.compile(r"29,00\s€"))
    await page.fill("#ship-line1", "8 quai Saint-Vincent")
    await page.fill("#ship-postal", "69001")
    await page.fill("#ship-city", "Lyon")
    await page.select_option("#ship-country", "FR")
    await page.screenshot(path=str(artifacts / "deal-pay-form-phone.png"), full_page=True)
    await page.click("button:has-text('Continuer vers le paiement')")
    await expect(page).to_have_url(re.compile(r"/pay/sandbox/pay_"))
    await page.fill("#card-number", "4242 4242 4242 4242")
    await page.fill("#card-expiry", "12/34")
    await page.fill("#card-cvc", "123")
    await page.click("button.psp-pay")
    await expect(page.locator("[data-payment-state=succeeded]")).to_be_visible(timeout=10_000)
