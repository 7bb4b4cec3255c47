"""A buyer's journey in a real browser, and the pages' JavaScript enhancements."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import BUYER_EMAIL, Shop

pytestmark = pytest.mark.e2e

PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


async def new_page(browser: Any, *, viewport: dict[str, int] = DESKTOP, locale: str = "fr-FR") -> tuple[Any, list[str]]:
    """A fresh browser profile; page errors and console errors (CSP violations too) are collected."""
    context = await browser.new_context(viewport=viewport, locale=locale)
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    return page, problems


async def test_given_a_new_buyer_when_searching_and_switching_language_and_currency_then_the_product_page_follows(
    live_server: Shop, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser)
    base = live_server.url

    # Register (the form logs the new buyer in), then log out and back in.
    await page.goto(f"{base}/register")
    await page.fill("#reg-email", BUYER_EMAIL)
    await page.fill("#reg-name", "Margaux")
    await page.fill("#reg-password", password)
    await page.select_option("#reg-country", "FR")
    await page.select_option("#reg-language", "fr")
    await page.select_option("#reg-currency", "EUR")
    await page.click("button[type=submit]:has-text('Créer mon compte')")
    await expect(page.locator(".menu-name")).to_have_text("Margaux")

    await page.click(".menu-button")
    await page.click("text=Se déconnecter")
    await expect(page.locator("a.nav-link[href^='/login']")).to_be_visible()
    await page.click("a.nav-link[href^='/login']")
    await page.fill("#login-email", BUYER_EMAIL)
    await page.fill("#login-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator(".menu-name")).to_have_text("Margaux")

    # Search "parfum" from the header and open the rose.
    await page.fill("#header-q", "parfum")
    await page.press("#header-q", "Enter")
    await expect(page.locator("#results h1")).to_contain_text("parfum")
    card = page.locator(".product-card", has_text="Eau de parfum Rose de Grasse")
    await expect(card).to_be_visible()
    await page.screenshot(path=str(artifacts / "search-desktop.png"), full_page=True)
    await card.click()
    await expect(page.locator("h1.product-title")).to_have_text("Eau de parfum Rose de Grasse")
    price = page.locator("[data-sku-panel]:visible .price")
    await expect(price).to_have_text(re.compile(r"79,00\s€"))
    await expect(page.locator("html")).to_have_attribute("lang", "fr")

    # Switch to English: the title is the English translation and the interface changes.
    await page.select_option("#switch-lang", "en")
    await expect(page.locator("h1.product-title")).to_have_text("Grasse Rose eau de parfum")
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#delivery-title")).to_have_text("Delivery")

    # Switch to USD: the price is converted and the seller's own price shows in small.
    await page.select_option("#switch-currency", "USD")
    await expect(price).to_have_text("$85.72")
    await expect(page.locator("[data-sku-panel]:visible .price-original")).to_contain_text("€79.00")
    await page.screenshot(path=str(artifacts / "product-desktop-en-usd.png"), full_page=True)

    assert not problems, problems


async def test_given_a_product_with_options_then_choosing_them_updates_price_and_stock_without_reload(
    live_server: Shop, browser: Any
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser)
    await page.goto(f"{live_server.url}/p/{live_server.market.products['bougie']}")
    await page.evaluate("window.__samePage = true")
    panel = page.locator("[data-sku-panel]:visible")
    await expect(panel.locator(".price")).to_have_text(re.compile(r"18,00\s€"))

    await page.click(".option-chip:has-text('M')")
    await expect(panel.locator(".stock")).to_have_text("Épuisé")
    await page.click(".option-chip:has-text('Vert')")
    await expect(panel.locator(".price")).to_have_text(re.compile(r"28,00\s€"))
    await expect(panel.locator(".stock")).to_contain_text("Plus que 5")
    await page.click(".option-chip:has-text('S')")
    await expect(page.locator("[data-sku-missing]")).to_be_visible()
    assert await page.evaluate("window.__samePage") is True
    assert not problems, problems


async def test_given_the_search_filters_then_htmx_swaps_the_results_and_keeps_the_url(
    live_server: Shop, browser: Any
) -> None:
    from playwright.async_api import expect

    page, problems = await new_page(browser)
    await page.goto(f"{live_server.url}/search")
    await page.evaluate("window.__samePage = true")
    await page.check("input[name=kind][value=wholesale]")
    await expect(page.locator(".product-card")).to_have_count(1)
    await expect(page.locator(".product-card")).to_contain_text("Savon de Marseille")
    assert "kind=wholesale" in page.url
    assert await page.evaluate("window.__samePage") is True

    await page.select_option("#f-sort", "price_desc")
    await expect(page).to_have_url(re.compile(r"sort=price_desc"))
    assert not problems, problems


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["desktop", "phone"])
async def test_given_main_pages_then_they_fit_the_screen_and_load_cleanly(
    live_server: Shop, browser: Any, artifacts: Path, viewport: dict[str, int]
) -> None:
    page, problems = await new_page(browser, viewport=viewport)
    name = "phone" if viewport is PHONE else "desktop"
    for label, path in (
        ("home", "/"),
        ("search", "/search?q=parfum"),
        ("product", f"/p/{live_server.market.products['savon']}"),
        ("store", "/m/maison-lumiere"),
    ):
        response = await page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == 200, path
        overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px at {viewport['width']}px"
        await page.screenshot(path=str(artifacts / f"{label}-{name}.png"), full_page=True)
    assert not problems, problems


async def test_given_any_width_then_the_assistant_launcher_floats_over_the_page(
    live_server: Shop, browser: Any
) -> None:
    # Guards the stylesheet's structure too: an unclosed @media block once swallowed every
    # rule after it (live rooms, assistant) at desktop width.
    for viewport in (DESKTOP, PHONE):
        page, problems = await new_page(browser, viewport=viewport)
        await page.goto(f"{live_server.url}/")
        position = await page.evaluate("getComputedStyle(document.querySelector('.assistant')).position")
        top_level_media = await page.evaluate(
            """() => [...document.styleSheets].filter(s => (s.href || '').includes('/app.css'))
                 .flatMap(s => [...s.cssRules]).filter(r => r instanceof CSSMediaRule)
                 .map(r => r.cssRules.length)"""
        )
        assert position == "fixed", viewport
        assert top_level_media and max(top_level_media) < 40, top_level_media
        # Beside the launcher, a tap reaches the page under it (on phones the widget is a
        # full-width strip); on the launcher, it opens the assistant.
        height, width = viewport["height"], viewport["width"]
        beside = await page.evaluate(f"!!document.elementFromPoint(30, {height - 20}).closest('.assistant')")
        launcher = await page.evaluate(
            f"document.elementFromPoint({width - 30}, {height - 30}).closest('.assistant-toggle') !== null"
        )
        assert (beside, launcher) == (False, True), viewport
        assert problems == []
        await page.context.close()
