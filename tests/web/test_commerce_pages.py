"""The commerce pages as buyers and sellers use them: cart, checkout, the sandbox payment
page, the buyer's orders and the merchant console's orders."""

from __future__ import annotations

import html
import re
from pathlib import Path

import httpx
from babel.messages.extract import extract_from_dir
from sqlalchemy import func, select

import passerelle
from passerelle.cart.cookies import CART_COOKIE
from passerelle.catalog.models import Sku
from passerelle.orders.models import Order, OrderStatus, Purchase
from passerelle.state import AppState
from tests.commerce import DECLINED_CARD, GOOD_CARD, drain
from tests.factories import make_user
from tests.web.helpers import HTML, csrf_token, log_in, submit, text_of
from tests.web.marketplace import Marketplace
from tests.web.test_translations import KEYWORDS, catalog_ids

ADDRESS = {
    "name": "Camille Martin",
    "line1": "12 rue des Lilas",
    "city": "Lyon",
    "postal_code": "69003",
    "country": "FR",
}
HTMX = {"hx-request": "true"}
_KEY_FIELD = re.compile(r'name="idempotency_key" value="([^"]+)"')


def shown(page: str) -> str:
    """The visible text, entities decoded (titles such as « Parfum d'intérieur » are escaped)."""
    return html.unescape(text_of(page))


async def sku_id(state: AppState, code: str) -> int:
    async with state.db.sessions() as session:
        return int((await session.execute(select(Sku.id).where(Sku.code == code))).scalar_one())


async def stock_of(state: AppState, code: str) -> int:
    async with state.db.sessions() as session:
        return int((await session.execute(select(Sku.stock).where(Sku.code == code))).scalar_one())


async def orders_of(state: AppState, buyer_id: int) -> list[Order]:
    async with state.db.sessions() as session:
        rows = await session.execute(select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id))
        return list(rows.scalars())


async def add(web: httpx.AsyncClient, state: AppState, code: str, quantity: int = 1) -> httpx.Response:
    return await submit(web, "/cart/items", {"sku_id": str(await sku_id(state, code)), "quantity": str(quantity)})


async def buyer_with_two_merchants_cart(web: httpx.AsyncClient, state: AppState) -> int:
    """A logged-in buyer with a rose (Maison Lumière) and a sage candle (Atelier Sauge)."""
    buyer = await make_user(state)
    await log_in(web, buyer.user.email)
    assert (await add(web, state, "ROSE-50")).status_code == 303
    assert (await add(web, state, "SAUGE-S", 2)).status_code == 303
    return buyer.user.id


async def place_order(web: httpx.AsyncClient, address: dict[str, str] | None = None) -> httpx.Response:
    form = await web.get("/checkout")
    assert form.status_code == 200, form.text
    key = _KEY_FIELD.search(form.text)
    assert key
    token = await csrf_token(web, "/checkout")
    return await web.post(
        "/checkout", data={**(address or ADDRESS), "idempotency_key": key.group(1), "csrf_token": token}
    )


async def checkout_and_pay(web: httpx.AsyncClient, state: AppState, card: str = GOOD_CARD) -> str:
    placed = await place_order(web)
    assert placed.status_code == 303, placed.text
    pay_url = placed.headers["location"]
    paid = await submit(web, pay_url, {"card_number": card}, token_from=pay_url)
    assert paid.status_code == 303 and paid.headers["location"] == pay_url
    await drain(state)
    return pay_url


async def test_given_items_from_two_merchants_then_the_cart_page_groups_them_with_totals_and_warnings(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    await buyer_with_two_merchants_cart(web, state)
    await add(web, state, "SAVON-300", 10)

    page = await web.get("/cart")
    assert page.status_code == 200
    text = shown(page.text)
    assert "Maison Lumière" in text and "Atelier Sauge" in text and "Savonnerie du Midi" in text
    assert "Eau de parfum Rose de Grasse" in text and "Bougie à la sauge, cire de colza" in text
    assert re.search(r"Size : 50 ml", text)  # French puts a space before the colon
    # 79.00 + 2 × 18.00 + 10 × 4.20 in the buyer's euros.
    assert re.search(r"Sous-total \(13 articles\) 157,00\s€", text)
    assert "Commande minimum : 50 unités de ce produit." in text
    assert 'id="cart-count"' in page.text

    # Reaching the wholesale tier applies its unit price; the warning goes away.
    savon = await sku_id(state, "SAVON-300")
    token = await csrf_token(web, "/cart")
    stepped = await web.post(
        f"/cart/items/{savon}", data={"quantity": "199", "step": "+1", "csrf_token": token}, headers={**HTML, **HTMX}
    )
    assert stepped.status_code == 200
    assert stepped.text.lstrip().startswith('<div id="cart"')
    assert 'hx-swap-oob="true"' in stepped.text
    fragment = shown(stepped.text)
    assert "3,80 € l'unité" in fragment and "Prix de gros" in fragment
    assert "Commande minimum" not in fragment

    removed = await web.post(f"/cart/items/{savon}/remove", data={"csrf_token": token}, headers=HTML)
    assert removed.status_code == 303
    assert "Savonnerie du Midi" not in shown((await web.get("/cart")).text)


async def test_given_a_cart_then_checkout_previews_each_merchant_and_says_who_does_not_ship(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    await buyer_with_two_merchants_cart(web, state)
    page = await web.get("/checkout")
    assert page.status_code == 200
    text = shown(page.text)
    # Rose 79.00 + domestic shipping 4.90; candles 36.00 + 4.90.
    assert re.search(r"Maison Lumière .* Total 83,90\s€", text)
    assert re.search(r"Atelier Sauge .* Total 40,90\s€", text)
    assert re.search(r"À payer 124,80\s€", text)
    assert 'name="idempotency_key"' in page.text

    germany = await web.get("/checkout/preview", params={"country": "DE"}, headers=HTMX)
    assert germany.status_code == 200
    assert germany.text.lstrip().startswith('<section id="checkout-preview"')
    assert "Atelier Sauge ne livre pas dans ce pays (Allemagne)." in shown(germany.text)
    assert re.search(r'class="button button-block button-pay"\s+disabled', germany.text)


async def test_given_a_guest_then_the_cart_works_and_checkout_asks_to_log_in_and_the_cart_merges(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer = await make_user(state)
    added = await add(web, state, "FIGUE-1", 2)
    assert added.status_code == 303
    assert web.cookies.get(CART_COOKIE)
    assert "Parfum d'intérieur Figue" in shown((await web.get("/cart")).text)

    checkout = await web.get("/checkout")
    assert checkout.status_code == 303 and checkout.headers["location"] == "/login?next=/checkout"

    logged_in = await submit(
        web, "/login", {"email": buyer.user.email, "password": "correct horse battery", "next": "/checkout"}
    )
    assert logged_in.status_code == 303 and logged_in.headers["location"] == "/checkout"
    assert CART_COOKIE in logged_in.headers.get("set-cookie", "")
    web.cookies.delete(CART_COOKIE)
    cart = shown((await web.get("/cart")).text)
    assert "Parfum d'intérieur Figue" in cart and "Sous-total (2 articles)" in cart


async def test_given_a_checkout_when_placing_twice_with_the_same_form_then_one_purchase_goes_to_one_payment_page(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    form = await web.get("/checkout")
    key = _KEY_FIELD.search(form.text)
    assert key
    token = await csrf_token(web, "/checkout")
    data = {**ADDRESS, "idempotency_key": key.group(1), "csrf_token": token}

    first = await web.post("/checkout", data=data, headers=HTML)
    again = await web.post("/checkout", data=data, headers=HTML)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"].startswith("/pay/sandbox/pay_")
    assert again.headers["location"] == first.headers["location"]
    async with state.db.sessions() as session:
        purchases = (await session.execute(select(func.count()).select_from(Purchase))).scalar_one()
    assert purchases == 1
    assert [o.status for o in await orders_of(state, buyer_id)] == [OrderStatus.pending_payment] * 2
    assert "Votre panier est vide" in (await web.get("/cart")).text


async def test_given_missing_address_fields_then_checkout_shows_them_and_places_nothing(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    refused = await place_order(web, {**ADDRESS, "city": "", "postal_code": ""})
    assert refused.status_code == 422
    assert shown(refused.text).count("Ce champ est obligatoire") == 2
    nowhere = await place_order(web, {**ADDRESS, "country": "DE"})
    assert nowhere.status_code == 409
    assert "Atelier Sauge ne livre pas dans ce pays (Allemagne)." in shown(nowhere.text)
    assert await orders_of(state, buyer_id) == []


async def test_given_the_hosted_page_when_paying_with_the_test_card_then_the_orders_are_paid(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    placed = await place_order(web)
    pay_url = placed.headers["location"]

    hosted = await web.get(pay_url)
    assert hosted.status_code == 200
    text = shown(hosted.text)
    assert "passerelle sandbox" in text and "mode test" in text
    assert re.search(r"124,80\s€", text) and "Maison Lumière" in text and "Atelier Sauge" in text
    assert "4242 4242 4242 4242" in text and "4000 0000 0000 0002" in text
    assert "<script>" not in hosted.text

    bad = await submit(web, pay_url, {"card_number": "1234"}, token_from=pay_url)
    assert bad.status_code == 422 and "numéro de carte n'est pas valide" in shown(bad.text)

    paid = await submit(web, pay_url, {"card_number": GOOD_CARD}, token_from=pay_url)
    assert paid.status_code == 303
    processing = await web.get(pay_url)
    assert 'data-payment-status="processing"' in processing.text
    payment_id = pay_url.rsplit("/", 1)[1]
    assert f'data-payment-poll="/api/v1/payments/{payment_id}"' in processing.text

    await drain(state)
    status = await web.get(f"/api/v1/payments/{payment_id}", headers={"accept": "application/json"})
    assert status.json()["status"] == "succeeded"
    assert 'data-payment-status="succeeded"' in (await web.get(pay_url)).text
    history = await web.get("/orders")
    assert history.status_code == 200
    assert shown(history.text).count("Payée") == 2
    english = shown((await web.get("/orders", params={"lang": "en"})).text)
    assert "My orders" in english and english.count("Paid") == 2
    orders = await orders_of(state, buyer_id)
    order_page = shown((await web.get(f"/orders/{orders[0].id}")).text)
    assert "Camille Martin" in order_page and "Payée" in order_page and "Prestataire de paiement" in order_page


async def test_given_a_declined_card_then_the_page_says_so_and_the_orders_are_cancelled(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    pay_url = await checkout_and_pay(web, state, card=DECLINED_CARD)
    page = shown((await web.get(pay_url)).text)
    assert "Paiement refusé" in page and "La carte a été refusée." in page
    assert [o.status for o in await orders_of(state, buyer_id)] == [OrderStatus.cancelled] * 2
    assert await stock_of(state, "ROSE-50") == 12


async def test_given_an_unpaid_order_then_the_buyer_can_cancel_it(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    await place_order(web)
    order = (await orders_of(state, buyer_id))[0]
    page = await web.get(f"/orders/{order.id}")
    assert re.search(r'class="order-line-title">\s*<a href="/p/\d+">', page.text)
    assert "Aller au paiement" in page.text and f'action="/orders/{order.id}/cancel"' in page.text
    cancelled = await submit(web, f"/orders/{order.id}/cancel", {}, token_from=f"/orders/{order.id}")
    assert cancelled.status_code == 303
    assert "Annulée" in shown((await web.get(cancelled.headers["location"])).text)
    assert await stock_of(state, "ROSE-50") == 12


async def test_given_a_paid_order_then_the_merchant_accepts_and_ships_it_and_the_buyer_confirms(
    web: httpx.AsyncClient, market: Marketplace, state: AppState, app
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    await checkout_and_pay(web, state)
    rose_order = next(o for o in await orders_of(state, buyer_id) if o.merchant_id == market.brand.id)

    seller = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=HTML)
    async with seller:
        await log_in(seller, market.owner.user.email)
        console = await seller.get(f"/console/m/{market.brand.id}/orders")
        assert console.status_code == 200
        assert f'href="/console/m/{market.brand.id}/orders/{rose_order.id}"' in console.text
        assert "Payée" in shown(console.text)
        only_shipped = await seller.get(f"/console/m/{market.brand.id}/orders", params={"status": "shipped"})
        assert f"/orders/{rose_order.id}" not in only_shipped.text

        detail_url = f"/console/m/{market.brand.id}/orders/{rose_order.id}"
        detail_page = (await seller.get(detail_url)).text
        assert re.search(
            rf'class="order-line-title">\s*<a href="/console/m/{market.brand.id}/products/\d+">', detail_page
        )
        detail = shown(detail_page)
        assert "Camille Martin" in detail and "12 rue des Lilas" in detail and "Commission de la plateforme" in detail
        accepted = await submit(seller, f"{detail_url}/status", {"status": "accepted"}, token_from=detail_url)
        assert accepted.status_code == 303
        shipped = await submit(
            seller, f"{detail_url}/status", {"status": "shipped", "note": "Colissimo 6A123"}, token_from=detail_url
        )
        assert shipped.status_code == 303
        after = shown((await seller.get(shipped.headers["location"])).text)
        assert "Marquée comme expédiée" in after and "Colissimo 6A123" in after
        assert re.search(r"Acceptée par le vendeur .* Vendeur \(", after)

        statement = await seller.get(f"/console/m/{market.brand.id}/statement.csv")
        assert statement.status_code == 200 and statement.headers["content-type"].startswith("text/csv")
        assert f"sale:order:{rose_order.id}" in statement.text

    buyer_view = shown((await web.get(f"/orders/{rose_order.id}")).text)
    assert "Expédiée" in buyer_view and "Colissimo" not in buyer_view
    confirmed = await submit(web, f"/orders/{rose_order.id}/confirm", {}, token_from=f"/orders/{rose_order.id}")
    assert confirmed.status_code == 303
    assert (await orders_of(state, buyer_id))[0].status == OrderStatus.completed
    too_late = await submit(web, f"/orders/{rose_order.id}/cancel", {}, token_from=f"/orders/{rose_order.id}")
    assert too_late.status_code == 409 and "Cette commande a changé entre-temps" in shown(too_late.text)


async def test_given_a_paid_order_when_the_merchant_refunds_a_returned_item_then_stock_and_balance_follow(
    web: httpx.AsyncClient, app, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    await checkout_and_pay(web, state)
    candle_order = next(o for o in await orders_of(state, buyer_id) if o.merchant_id == market.maker.id)
    assert await stock_of(state, "SAUGE-S") == 6

    seller = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver", headers=HTML)
    async with seller:
        await log_in(seller, market.owner.user.email)
        detail_url = f"/console/m/{market.maker.id}/orders/{candle_order.id}"
        page = await seller.get(detail_url)
        line_id = re.search(r'name="return_(\d+)"', page.text)
        assert line_id
        too_much = await submit(seller, f"{detail_url}/refunds", {"amount": "999"}, token_from=detail_url)
        assert too_much.status_code == 422 and "Indiquez un montant entre" in shown(too_much.text)

        refunded = await submit(
            seller,
            f"{detail_url}/refunds",
            {f"return_{line_id.group(1)}": "1", f"restock_{line_id.group(1)}": "1", "reason": "Cassée"},
            token_from=detail_url,
        )
        assert refunded.status_code == 303, refunded.text
        after = shown((await seller.get(refunded.headers["location"])).text)
        assert "Remboursement envoyé à l'acheteur." in after and re.search(r"Montant remboursé − 18,00\s€", after)
    assert await stock_of(state, "SAUGE-S") == 7


async def test_given_another_merchants_staff_then_console_order_pages_and_actions_are_not_found(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    buyer_id = await buyer_with_two_merchants_cart(web, state)
    await checkout_and_pay(web, state)
    rose_order = next(o for o in await orders_of(state, buyer_id) if o.merchant_id == market.brand.id)
    web.cookies.clear()

    await log_in(web, market.wholesaler_owner.user.email)
    own = f"/console/m/{market.wholesaler.id}"
    theirs = f"/console/m/{market.brand.id}"
    assert (await web.get(f"{theirs}/orders")).status_code == 404
    assert (await web.get(f"{theirs}/orders/{rose_order.id}")).status_code == 404
    assert (await web.get(f"{theirs}/statement.csv")).status_code == 404
    # Through their own console URL, another shop's order does not exist either.
    assert (await web.get(f"{own}/orders/{rose_order.id}")).status_code == 404
    for path in (f"{own}/orders/{rose_order.id}/status", f"{theirs}/orders/{rose_order.id}/status"):
        assert (await submit(web, path, {"status": "accepted"}, token_from=f"{own}/orders")).status_code == 404
    assert (
        await submit(web, f"{own}/orders/{rose_order.id}/refunds", {"amount": "1"}, token_from=f"{own}/orders")
    ).status_code == 404
    # Nor is it one of this person's own orders.
    assert (await web.get(f"/orders/{rose_order.id}")).status_code == 404
    assert (await orders_of(state, buyer_id))[0].status == OrderStatus.paid


async def test_given_forms_without_the_csrf_field_then_they_are_refused(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    await buyer_with_two_merchants_cart(web, state)
    rose = await sku_id(state, "ROSE-50")
    for path, data in (
        ("/cart/items", {"sku_id": str(rose), "quantity": "1"}),
        (f"/cart/items/{rose}", {"quantity": "3"}),
        ("/checkout", {**ADDRESS, "idempotency_key": "k1"}),
        (f"/console/m/{market.brand.id}/orders/1/status", {"status": "accepted"}),
        ("/pay/sandbox/pay_x", {"card_number": GOOD_CARD}),
    ):
        refused = await web.post(path, data=data, headers=HTML)
        assert refused.status_code == 403, path
        assert "Ce formulaire a expiré" in refused.text
    assert "Sous-total (3 articles)" in shown((await web.get("/cart")).text)


async def test_given_the_product_page_then_it_offers_add_to_cart_with_the_minimum_and_shows_sold_one_offs(
    web: httpx.AsyncClient, market: Marketplace, state: AppState
) -> None:
    savon = await web.get(f"/p/{market.products['savon']}")
    assert re.search(r'name="quantity" value="50" min="50"', savon.text)
    assert 'action="/cart/items"' in savon.text

    # A one-off C2C item, bought and paid: its page says sold instead of offering it.
    buyer = await make_user(state)
    await log_in(web, buyer.user.email)
    async with state.db.sessions() as session:
        sku = (await session.execute(select(Sku).where(Sku.code == "SAUGE-S"))).scalar_one()
        sku.stock = 1
        await session.commit()
    await add(web, state, "SAUGE-S")
    await checkout_and_pay(web, state)
    candle = await web.get(f"/p/{market.products['bougie']}?sku={await sku_id(state, 'SAUGE-S')}")
    sold_sku = await sku_id(state, "SAUGE-S")
    panel = re.search(rf'data-sku-purchase="{sold_sku}">(.*?)</div>', candle.text, re.S)
    assert panel and "Vendu" in panel.group(1) and "add-to-cart" not in panel.group(1)


async def test_given_the_commerce_pages_then_their_messages_are_in_both_catalogs() -> None:
    src = Path(passerelle.__file__).parent
    used: set[str] = set()
    sources = [(src / "cart", "pages.py"), (src / "payments", "pages.py"), (src / "orders" / "pages", "**.py")]
    for directory, pattern in sources:
        for _name, _line, message, *_ in extract_from_dir(directory, [(pattern, "python")], keywords=KEYWORDS):
            used.add(message[0] if isinstance(message, tuple) else message)
    assert len(used) > 20
    for language in ("fr", "en"):
        known = catalog_ids(language)
        missing = sorted(m for m in used if not known.get(m, False))
        assert not missing, f"{language}.po lacks: {missing[:10]}"
