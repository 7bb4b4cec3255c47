"""The commerce journey in a real browser: a guest fills a cart from two merchants, signs up,
checks out with the sandbox card, sees two paid orders; the merchant accepts and ships one."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Shop
from tests.e2e.test_shopping_journey import DESKTOP, PHONE, new_page

pytestmark = pytest.mark.e2e

CHECKOUT_BUYER = "lucas@acheteurs.fr"


async def no_sideways_scroll(page: Any, label: str) -> None:
    overflow = await page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{label} scrolls sideways by {overflow}px"


async def test_given_items_from_two_merchants_when_paying_with_the_sandbox_card_then_two_orders_and_the_merchant_ships_one(
    live_server: Shop, browser: Any, password: str, artifacts: Path
) -> None:
    from playwright.async_api import expect

    base, market = live_server.url, live_server.market
    page, problems = await new_page(browser)

    # As a guest: the rose from Maison Lumière, a sage candle from Atelier Sauge (HTMX add).
    await page.goto(f"{base}/p/{market.products['rose']}")
    await page.click("[data-sku-purchase]:visible button:has-text('Ajouter au panier')")
    await expect(page.locator("[data-sku-purchase]:visible .add-result")).to_contain_text("Ajouté à votre panier")
    await expect(page.locator("#cart-count")).to_contain_text("1")
    await page.goto(f"{base}/p/{market.products['bougie']}")
    await page.click(".option-chip:has-text('Vert')")
    await page.click(".option-chip:has-text('M')")
    await page.click("[data-sku-purchase]:visible button:has-text('Ajouter au panier')")
    await expect(page.locator("#cart-count")).to_contain_text("2")

    # The cart groups the lines by merchant; the stepper updates totals in place.
    await page.click("a.cart-link")
    await expect(page.locator(".cart-group")).to_have_count(2)
    await expect(page.locator("[data-cart-subtotal]")).to_have_text(re.compile(r"107,00\s€"))
    candle = page.locator(".cart-line", has_text="Bougie à la sauge")
    await candle.locator("button[value='+1']").click()
    await expect(page.locator("[data-cart-subtotal]")).to_have_text(re.compile(r"135,00\s€"))
    await expect(page.locator("#cart-count")).to_contain_text("3")
    await page.screenshot(path=str(artifacts / "cart-desktop.png"), full_page=True)

    # Checking out asks to log in; signing up keeps the guest cart and comes back to checkout.
    await page.click(".cart-summary a[href^='/register']")
    await page.fill("#reg-email", CHECKOUT_BUYER)
    await page.fill("#reg-name", "Lucas")
    await page.fill("#reg-password", password)
    await page.click("button[type=submit]:has-text('Créer mon compte')")
    await expect(page).to_have_url(re.compile(r"/checkout$"))
    await expect(page.locator(".preview-merchant")).to_have_count(2)

    # Germany: Atelier Sauge does not deliver there, and paying is not offered.
    await page.select_option("#ship-country", "DE")
    await expect(page.locator(".preview-error")).to_contain_text("Atelier Sauge ne livre pas")
    await expect(page.locator(".button-pay")).to_be_disabled()
    await page.select_option("#ship-country", "FR")
    await expect(page.locator(".preview-error")).to_have_count(0)
    await expect(page.locator("[data-checkout-total]")).to_have_text(re.compile(r"144,80\s€"))
    await page.fill("#ship-line1", "8 quai Saint-Vincent")
    await page.fill("#ship-postal", "69001")
    await page.fill("#ship-city", "Lyon")
    await page.screenshot(path=str(artifacts / "checkout-desktop.png"), full_page=True)
    await page.click("button:has-text('Commander et payer')")

    # The sandbox's hosted page: pay with the success card, wait for the webhook to land.
    await expect(page).to_have_url(re.compile(r"/pay/sandbox/pay_"))
    await expect(page.locator(".psp-banner")).to_contain_text("passerelle sandbox")
    await expect(page.locator("[data-payment-amount]")).to_have_text(re.compile(r"144,80\s€"))
    await page.fill("#card-number", "4242 4242 4242 4242")
    await page.fill("#card-expiry", "12/34")
    await page.fill("#card-cvc", "123")
    await page.click("button.psp-pay")
    await expect(page.locator("[data-payment-state=succeeded]")).to_be_visible(timeout=10_000)
    await page.screenshot(path=str(artifacts / "payment-desktop.png"), full_page=True)
    await page.click("[data-payment-state=succeeded] a:has-text('Voir mes commandes')")
    await expect(page.locator(".order-row")).to_have_count(2)
    await expect(page.locator(".order-row .order-status")).to_have_text(["Payée", "Payée"])

    # The merchant accepts and ships the rose's order.
    seller, seller_problems = await new_page(browser)
    await seller.goto(f"{base}/login")
    await seller.fill("#login-email", market.owner.user.email)
    await seller.fill("#login-password", password)
    await seller.click("form[action='/login'] button[type=submit]")
    await seller.goto(f"{base}/console/m/{market.brand.id}")
    await seller.click(".console-tabs a:has-text('Commandes')")
    await expect(seller.locator(".console-orders tbody tr")).to_have_count(1)
    await seller.click(".console-orders a")
    await expect(seller.locator(".address")).to_contain_text("8 quai Saint-Vincent")
    await seller.click("button:has-text('Accepter la commande')")
    await expect(seller.locator(".order-head .order-status")).to_have_text("Acceptée par le vendeur")
    await seller.fill("input[name=note]", "Colissimo 6A0012")
    await seller.click("button:has-text('Marquer comme expédiée')")
    await expect(seller.locator(".order-head .order-status")).to_have_text("Expédiée")
    await expect(seller.locator(".timeline-step")).to_have_count(4)
    await seller.screenshot(path=str(artifacts / "console-order-desktop.png"), full_page=True)

    # The buyer sees one order shipped, the other still paid, with its timeline.
    await page.reload()
    await expect(page.locator(".order-row .order-status")).to_have_text(["Payée", "Expédiée"])
    await page.click(".order-row:has-text('Maison Lumière') a")
    await expect(page.locator(".timeline-label")).to_have_text(
        ["En attente de paiement", "Payée", "Acceptée par le vendeur", "Expédiée"]
    )
    await expect(page.locator("button:has-text('Confirmer la réception')")).to_be_visible()
    assert not problems, problems
    assert not seller_problems, seller_problems


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_given_the_commerce_pages_then_they_fit_the_screen(
    live_server: Shop, browser: Any, password: str, artifacts: Path, viewport: dict[str, int]
) -> None:
    """Cart, checkout, payment, orders and the console's orders at phone and desktop widths."""
    from playwright.async_api import expect

    name = "phone" if viewport is PHONE else "desktop"
    base, market = live_server.url, live_server.market
    page, problems = await new_page(browser, viewport=viewport)
    await page.goto(f"{base}/login")
    await page.fill("#login-email", market.owner.user.email)
    await page.fill("#login-password", password)
    await page.click("form[action='/login'] button[type=submit]")
    await expect(page.locator(".menu-button")).to_be_visible()

    await page.goto(f"{base}/p/{market.products['savon']}")
    await no_sideways_scroll(page, f"product {name}")
    await page.screenshot(path=str(artifacts / f"product-buy-{name}.png"), full_page=True)
    await page.click("[data-sku-purchase]:visible button:has-text('Ajouter au panier')")
    await expect(page.locator("#cart-count")).not_to_have_text("")
    await page.goto(f"{base}/p/{market.products['figue']}")
    await page.click("[data-sku-purchase]:visible button:has-text('Ajouter au panier')")
    await expect(page.locator("[data-sku-purchase]:visible .add-result")).to_be_visible()

    for label, path in (("cart", "/cart"), ("checkout", "/checkout")):
        response = await page.goto(f"{base}{path}")
        assert response is not None and response.status == 200, path
        await no_sideways_scroll(page, f"{label} {name}")
        await page.screenshot(path=str(artifacts / f"{label}-{name}.png"), full_page=True)
    await page.fill("#ship-line1", "3 rue Mercière")
    await page.fill("#ship-postal", "69002")
    await page.fill("#ship-city", "Lyon")
    await page.click("button:has-text('Commander et payer')")
    await expect(page).to_have_url(re.compile(r"/pay/sandbox/"))
    await no_sideways_scroll(page, f"payment {name}")
    await page.screenshot(path=str(artifacts / f"payment-form-{name}.png"), full_page=True)
    await page.fill("#card-number", "4000 0000 0000 0002")
    await page.click("button.psp-pay")
    await expect(page.locator("[data-payment-state=failed]")).to_be_visible(timeout=10_000)
    await expect(page.locator("[data-payment-state=failed]")).to_contain_text("La carte a été refusée")
    await page.screenshot(path=str(artifacts / f"payment-declined-{name}.png"), full_page=True)

    await page.goto(f"{base}/orders")
    await no_sideways_scroll(page, f"orders {name}")
    await page.screenshot(path=str(artifacts / f"orders-{name}.png"), full_page=True)
    await page.click(".order-row a >> nth=0")
    await no_sideways_scroll(page, f"order {name}")
    await page.screenshot(path=str(artifacts / f"order-{name}.png"), full_page=True)
    await page.goto(f"{base}/console/m/{market.brand.id}/orders")
    await no_sideways_scroll(page, f"console orders {name}")
    await page.screenshot(path=str(artifacts / f"console-orders-{name}.png"), full_page=True)
    assert not problems, problems
