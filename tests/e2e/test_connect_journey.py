"""The influencer journey in a real browser: a creator makes and copies a link to a product, a
buyer follows it and pays, the creator's dashboard shows the pending commission."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from passerelle.connect.service import campaigns, creators
from passerelle.state import AppState
from tests import live_server as live
from tests.connect.helpers import BROWSER
from tests.e2e.conftest import _in_thread
from tests.e2e.test_checkout_journey import no_sideways_scroll
from tests.e2e.test_shopping_journey import DESKTOP, PHONE, new_page
from tests.factories import Actor, make_user
from tests.web.marketplace import Marketplace, build_marketplace

pytestmark = pytest.mark.e2e


@dataclass
class Program:
    url: str
    market: Marketplace
    creator: Actor
    buyer: Actor


@pytest.fixture(scope="module")
def program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    data_dir = tmp_path_factory.mktemp("e2e-connect")
    built: list[Any] = []

    async def seed(state: AppState) -> None:
        market = await build_marketplace(state)
        creator, buyer = await make_user(state), await make_user(state)
        async with state.db.sessions() as session:
            owner = await session.merge(market.owner.user)
            await campaigns.create(
                session, actor=owner, merchant_id=market.brand.id, kind="open", title="Rentrée", rate_bp=1000
            )
            made = await creators.apply(
                session,
                user=await session.merge(creator.user),
                handle="anna.beaute",
                display_name="Anna",
                channels=[{"network": "instagram", "followers": 12_000}],
                posts=140,
                countries=["FR"],
                languages=["fr"],
                categories=["beauty"],
            )
            await creators.review(session, creator_ids=[made.id], approve=True)
            await session.commit()
        built.extend([market, creator, buyer])

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield Program(server.url, *built)
    finally:
        server.stop()


async def log_in(page: Any, base: str, email: str, password: str) -> None:
    await page.goto(f"{base}/login")
    await page.fill("#login-email", email)
    await page.fill("#login-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await page.wait_for_url(re.compile(r"^(?!.*/login).*$"))


async def painted_pixels(page: Any, selector: str) -> int:
    """Pixels a chart's canvas drew (non-transparent), once Chart.js has made it."""
    await page.wait_for_selector(selector, state="attached")
    return int(
        await page.evaluate(
            """(selector) => {
              const canvas = document.querySelector(selector);
              const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
              let ink = 0;
              for (let i = 3; i < pixels.length; i += 4) { if (pixels[i] > 0) ink++; }
              return ink;
            }""",
            selector,
        )
    )


async def test_given_a_creator_link_when_a_buyer_follows_it_and_pays_then_the_dashboard_shows_the_pending_commission(
    program: Program, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    base, market = program.url, program.market
    creator_page, problems = await new_page(browser)
    await creator_page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
    await log_in(creator_page, base, program.creator.user.email, password)
    await creator_page.goto(f"{base}/connect")
    await creator_page.fill("#link-target", f"{base}/p/{market.products['rose']}")
    await creator_page.click("button:has-text('Créer un lien')")
    await expect(creator_page.locator(".alert-ok")).to_contain_text("Votre lien est prêt")
    await creator_page.click("button.copy-link")
    await expect(creator_page.locator("button.copy-link")).to_have_text("Copié")
    link = await creator_page.evaluate("navigator.clipboard.readText()")
    assert re.fullmatch(rf"{re.escape(base)}/r/[A-Za-z0-9]{{8}}", link), link

    # Headless Chromium says "HeadlessChrome" in its user agent, which the bot filter rightly ignores.
    buyer_context = await browser.new_context(viewport=DESKTOP, locale="fr-FR", user_agent=BROWSER)
    buyer_page = await buyer_context.new_page()
    buyer_problems: list[str] = []
    buyer_page.on("pageerror", lambda error: buyer_problems.append(f"page error: {error}"))
    await log_in(buyer_page, base, program.buyer.user.email, password)
    await buyer_page.goto(link)
    await expect(buyer_page).to_have_url(re.compile(rf"/p/{market.products['rose']}"))
    await buyer_page.click("[data-sku-purchase]:visible button:has-text('Ajouter au panier')")
    await expect(buyer_page.locator("#cart-count")).to_contain_text("1")
    await buyer_page.goto(f"{base}/checkout")
    await buyer_page.fill("#ship-line1", "8 quai Saint-Vincent")
    await buyer_page.fill("#ship-postal", "69001")
    await buyer_page.fill("#ship-city", "Lyon")
    await buyer_page.click("button:has-text('Commander et payer')")
    await expect(buyer_page).to_have_url(re.compile(r"/pay/sandbox/pay_"))
    await buyer_page.fill("#card-number", "4242 4242 4242 4242")
    await buyer_page.fill("#card-expiry", "12/34")
    await buyer_page.fill("#card-cvc", "123")
    await buyer_page.click("button.psp-pay")
    await expect(buyer_page.locator("[data-payment-state=succeeded]")).to_be_visible(timeout=10_000)

    # The outbox attributes the paid order in the background: reload until it shows.
    commissions = creator_page.locator("[data-testid=commissions] tbody tr")
    for _ in range(20):
        await creator_page.goto(f"{base}/connect")
        if await commissions.count():
            break
        await creator_page.wait_for_timeout(250)
    await expect(commissions).to_have_count(1)
    await expect(commissions.first).to_contain_text("En attente")
    await expect(commissions.first).to_contain_text("Dernier clic sur votre lien")
    await expect(creator_page.locator("[data-testid=earnings] .stat-pending")).to_be_visible()
    assert await painted_pixels(creator_page, "[data-connect-chart=clicks]") > 500, "the clicks chart drew nothing"
    await creator_page.screenshot(path=str(artifacts / "connect-dashboard-desktop.png"), full_page=True)

    # The brand sees the sale under the creator's name, as bars.
    owner_page, owner_problems = await new_page(browser)
    await log_in(owner_page, base, market.owner.user.email, password)
    await owner_page.goto(f"{base}/console/m/{market.brand.id}/creators")
    await expect(owner_page.locator("table")).to_contain_text("@anna.beaute")
    assert await painted_pixels(owner_page, "[data-connect-chart=bars]") > 500, "the sales chart drew nothing"
    await owner_page.screenshot(path=str(artifacts / "connect-merchant-desktop.png"), full_page=True)
    assert not problems, problems
    assert not buyer_problems, buyer_problems
    assert not owner_problems, owner_problems


async def test_given_the_creator_pages_then_they_fit_a_phone(
    program: Program, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser, viewport=PHONE)
    await log_in(page, program.url, program.creator.user.email, password)
    for path in ("/connect", "/creators/anna.beaute"):
        await page.goto(f"{program.url}{path}")
        await expect(page.locator("h1")).to_be_visible()
        await no_sideways_scroll(page, path)
        name = "dashboard" if path == "/connect" else "creator"
        await page.screenshot(path=str(artifacts / f"connect-{name}-phone.png"), full_page=True)
    assert not problems, problems
