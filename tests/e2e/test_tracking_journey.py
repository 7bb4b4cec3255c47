"""Tracking and provenance in a real browser: the buyer opens the tracking page of a delivered
order and sees the carrier timeline (phone width too), then opens a unit's QR link and sees
when and where it was made."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role
from passerelle.logistics.models import Shipment
from passerelle.seed.traced import seed_traced_deliveries
from passerelle.state import AppState
from passerelle.traceability.models import Unit
from tests import live_server as live
from tests.e2e.conftest import _in_thread
from tests.e2e.test_checkout_journey import no_sideways_scroll
from tests.e2e.test_shopping_journey import PHONE, new_page
from tests.factories import PASSWORD, make_merchant, make_product, make_user

pytestmark = pytest.mark.e2e
BUYER = "ines@acheteurs.fr"


@pytest.fixture(scope="module")
def traced_shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    data_dir = tmp_path_factory.mktemp("e2e-tracking")
    found: dict[str, Any] = {}

    async def seed(state: AppState) -> None:
        # A small shop is enough (the full demo marketplace takes far longer to build).
        seller = await make_user(state, role=Role.seller)
        await make_product(state, await make_merchant(state, seller, name="Maison Canut"), title_fr="Foulard en soie")
        async with state.db.sessions() as session:
            await accounts.register(
                session, email=BUYER, password=PASSWORD, country="FR", language="fr", currency="EUR", role=Role.buyer
            )
            await session.commit()
        assert await seed_traced_deliveries(state, orders=1, buyer_email=BUYER) == 1
        async with state.db.read_sessions() as session:
            found["order_id"] = (await session.execute(select(Shipment.order_id))).scalar_one()
            found["serial"] = (
                await session.execute(select(Unit.serial).where(Unit.order_line_id.is_not(None)))
            ).scalar_one()

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield {"url": server.url, **found}
    finally:
        server.stop()


async def test_given_a_delivered_traced_order_when_the_buyer_tracks_it_and_opens_the_unit_link_then_both_pages_tell_the_story(
    traced_shop: dict[str, Any], browser: Any, artifacts: Path
) -> None:
    from playwright.async_api import expect

    base = traced_shop["url"]
    page, problems = await new_page(browser, viewport=PHONE)
    await page.goto(f"{base}/login")
    await page.fill("#login-email", BUYER)
    await page.fill("#login-password", PASSWORD)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator(".menu-name")).to_have_count(1)  # logged in (hidden in the phone menu)

    await page.goto(f"{base}/orders/{traced_shop['order_id']}")
    await page.click("a[href$='/tracking']")
    timeline = page.locator(".tracking-timeline .timeline-label")
    await expect(timeline).to_have_text(
        ["Colis livré", "En cours de livraison", "En transit", "Pris en charge par le transporteur"]
    )
    await expect(page.locator("[data-parcel-status]")).to_have_text("Colis livré")
    await expect(page.locator(".recycling-point").first).to_contain_text("Lyon")
    await no_sideways_scroll(page, "tracking page")
    await page.screenshot(path=str(artifacts / "tracking-phone.png"), full_page=True)

    # The packing slip's QR code for the unit opens its public page.
    await page.goto(f"{base}/trace/{traced_shop['serial']}")
    made = page.locator("[data-made]")
    await expect(made).to_contain_text("Fabriqué le")
    await expect(made).to_contain_text("Atelier Canut, Lyon")
    await expect(made).to_contain_text("ligne 3")
    await expect(page.locator("[data-delivered]")).to_contain_text("Livré le")
    await expect(page.locator(".badge-ok")).to_have_text("Vérifié")
    await page.screenshot(path=str(artifacts / "trace-unit-phone.png"), full_page=True)
    assert not problems, problems
