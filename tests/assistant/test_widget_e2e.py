"""The chat widget in a real Chromium: on every page, answers a French question with product
cards, shows text as text, and fits a phone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from passerelle.state import AppState
from tests import live_server as live
from tests.assistant.catalog import SeedCatalog, seed_catalog
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, _in_thread
from tests.services import unavailable

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def shop_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, SeedCatalog]]:
    data_dir = tmp_path_factory.mktemp("assistant-e2e")
    built: list[SeedCatalog] = []

    async def seed(state: AppState) -> None:
        built.append(await seed_catalog(state))

    _in_thread(lambda: live.prepare(data_dir, seed))
    server = live.start(data_dir)
    try:
        yield server.url, built[0]
    finally:
        server.stop()


@pytest.fixture(scope="module")
async def chromium_browser() -> AsyncIterator[Any]:
    if not CHROMIUM.exists():
        unavailable(f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.async_api import async_playwright
    except ImportError:
        unavailable("Playwright for Python is not installed")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        await browser.close()


async def test_given_a_page_when_asking_the_widget_in_french_then_it_answers_with_product_cards(
    shop_server: tuple[str, SeedCatalog], chromium_browser: Any
) -> None:
    from playwright.async_api import expect

    url, shop = shop_server
    context = await chromium_browser.new_context(viewport={"width": 375, "height": 740}, locale="fr-FR")
    page = await context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    await page.goto(f"{url}/search?q=robe")

    await page.click(".assistant-toggle")
    await page.fill("#assistant-text", "je cherche un parfum floral à moins de 60 €")
    await page.press("#assistant-text", "Enter")
    answer = page.locator(".assistant-bot").last
    await expect(answer).to_contain_text("à moins de 60,00")
    cards = answer.locator(".assistant-card")
    await expect(cards.first).to_be_visible()
    titles = await cards.locator(".assistant-card-title").all_text_contents()
    assert "Eau de parfum Rose & Jasmin" in titles
    href = await cards.first.locator("a").get_attribute("href")
    assert href is not None and href.startswith("/p/")

    # Markup typed by the buyer is shown as text, never run.
    await page.fill("#assistant-text", "<img src=x onerror=alert(1)>")
    await page.press("#assistant-text", "Enter")
    await expect(page.locator(".assistant-me").last).to_have_text("Vous : <img src=x onerror=alert(1)>")
    assert await page.locator(".assistant-log img[src='x']").count() == 0

    # Phone width: the open panel stays inside the viewport.
    box = await page.locator(".assistant-panel").bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 375
    assert not problems, problems
    await context.close()
