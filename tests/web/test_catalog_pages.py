"""Home, search, category, product and storefront pages as a buyer sees them."""

from __future__ import annotations

import re

import httpx

from passerelle.merchants.models import MerchantKind
from tests.factories import make_merchant, make_product, make_user
from tests.web.helpers import log_in, submit, text_of
from tests.web.marketplace import Marketplace, add_reference_data


def product_links(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'class="product-card-link" href="/p/(\d+)"', html)]


async def test_given_published_products_then_the_home_page_shows_them_and_the_categories(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    home = await web.get("/")
    assert home.status_code == 200
    shown = product_links(home.text)
    assert market.products["rose"] in shown and market.products["savon"] in shown
    assert market.products["draft"] not in shown
    assert 'href="/c/beaute"' in home.text and "festival" not in home.text.lower()


async def test_given_a_query_then_the_search_page_lists_matching_products(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    found = await web.get("/search", params={"q": "parfum"})
    assert found.status_code == 200
    assert set(product_links(found.text)) == {market.products["rose"], market.products["figue"]}
    assert "Eau de parfum Rose de Grasse" in found.text

    nothing = await web.get("/search", params={"q": "tracteur"})
    assert product_links(nothing.text) == []


async def test_given_filters_then_results_narrow_and_htmx_gets_only_the_results_block(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    wholesale = await web.get("/search", params={"kind": "wholesale"})
    assert product_links(wholesale.text) == [market.products["savon"]]

    ships_to_spain = await web.get("/search", params={"ships_to": "ES"})
    assert product_links(ships_to_spain.text) == [market.products["savon"]]

    in_category = await web.get("/c/parfums")
    assert set(product_links(in_category.text)) == {market.products["rose"], market.products["figue"]}
    parent = await web.get("/search", params={"category": "beaute"})
    assert set(product_links(parent.text)) == {
        market.products["rose"],
        market.products["figue"],
        market.products["savon"],
    }

    partial = await web.get("/search", params={"kind": "individual"}, headers={"hx-request": "true"})
    assert partial.text.lstrip().startswith('<div id="results"')
    assert "<html" not in partial.text
    assert product_links(partial.text) == [market.products["bougie"]]


async def test_given_a_price_range_in_the_buyers_currency_then_it_is_converted_to_minor_units(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    # 30 to 80 EUR keeps the figue (35 €) and the rose (from 79 €).
    in_euros = await web.get("/search", params={"min_price": "30", "max_price": "80,00"})
    assert set(product_links(in_euros.text)) == {market.products["rose"], market.products["figue"]}

    # In USD (1 EUR = 1.085 USD) 85.60 USD is 78.89 EUR: the rose drops out.
    in_dollars = await web.get("/search", params={"min_price": "30", "max_price": "85.60", "currency": "USD"})
    assert product_links(in_dollars.text) == [market.products["figue"]]

    bad = await web.get("/search", params={"min_price": "douze"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text


async def test_given_sorting_and_many_results_then_pages_link_to_each_other(web: httpx.AsyncClient, state) -> None:
    await add_reference_data(state)
    owner = await make_user(state)
    merchant = await make_merchant(state, owner)
    for n in range(27):
        await make_product(state, merchant, title_fr=f"Carnet {n}", title_en=f"Notebook {n}", price=1000 + n)

    first = await web.get("/search", params={"sort": "price_asc"})
    assert "27" in text_of(first.text)
    assert len(product_links(first.text)) == 24
    assert 'href="/search?sort=price_asc&amp;page=2"' in first.text
    second = await web.get("/search", params={"sort": "price_asc", "page": "2"})
    assert len(product_links(second.text)) == 3
    assert "Carnet 26" in second.text


async def test_given_a_product_then_its_page_shows_price_variants_stock_and_delivery(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    page = await web.get(f"/p/{market.products['rose']}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Eau de parfum Rose de Grasse" in text
    assert "79,00 €" in text and "119,00 €" in text
    assert "50 ml" in text and "100 ml" in text
    assert "Maison Lumière" in text and 'href="/m/maison-lumiere"' in page.text
    assert "Royaume-Uni" in text  # ships-to countries, named in the viewer's language

    chosen = await web.get(f"/p/{market.products['rose']}", params={"o.size": "100 ml"})
    visible = re.search(r'data-sku-panel data-sku-id="\d+" data-options=\'[^\']*\'>(.*?)</div>', chosen.text, re.S)
    assert visible and "119,00 €" in text_of(visible.group(1))


async def test_given_the_buyer_currency_is_usd_then_the_product_page_shows_dollars_and_the_original_price(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    token = await submit(web, "/prefs", {"currency": "USD", "next": f"/p/{market.products['rose']}"}, token_from="/")
    assert token.status_code == 303 and token.headers["location"] == f"/p/{market.products['rose']}"
    page = await web.get(token.headers["location"])
    text = text_of(page.text)
    assert "85,72 $US" in text  # 79.00 EUR * 1.085, formatted for a French reader
    assert "79,00 €" in text  # the seller's own price, in small


async def test_given_a_wholesale_product_then_tiers_and_minimum_order_are_shown(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    page = await web.get(f"/p/{market.products['savon']}", params={"lang": "en"})
    text = text_of(page.text)
    assert "Minimum order: 50 units" in text
    assert "From 200" in text and "€3.80" in text and "From 1,000" in text and "€3.40" in text


async def test_given_an_english_reader_and_a_french_only_product_then_the_original_language_is_flagged(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    page = await web.get(f"/p/{market.products['figue']}", params={"lang": "en"})
    text = text_of(page.text)
    assert "Parfum d'intérieur Figue" in text or "Parfum d&#39;intérieur Figue" in page.text
    assert "(original: fr)" in text
    assert "No translation in English yet" in text

    card = await web.get("/search", params={"q": "figue", "lang": "en"})
    assert "(original: fr)" in text_of(card.text)


async def test_given_a_draft_then_only_the_merchants_staff_can_open_its_page(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    draft = f"/p/{market.products['draft']}"
    assert (await web.get(draft)).status_code == 404

    stranger = await make_user(state)
    await log_in(web, stranger.user.email)
    assert (await web.get(draft)).status_code == 404

    await log_in(web, market.owner.user.email)
    staff_view = await web.get(draft)
    assert staff_view.status_code == 200
    assert "Seule votre équipe voit cette page" in staff_view.text


async def test_given_a_storefront_then_it_shows_the_kind_badge_and_only_that_merchants_products(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    store = await web.get("/m/savonnerie-du-midi", params={"lang": "en"})
    assert store.status_code == 200
    assert "Wholesaler" in store.text
    assert product_links(store.text) == [market.products["savon"]]

    pending_owner = await make_user(state)
    await make_merchant(state, pending_owner, name="Pas Encore", approved=False, kind=MerchantKind.individual)
    assert (await web.get("/m/pas-encore")).status_code == 404


async def test_given_a_hostile_product_title_then_every_page_escapes_it(web: httpx.AsyncClient, state) -> None:
    await add_reference_data(state)
    owner = await make_user(state)
    merchant = await make_merchant(state, owner, name='<img src=x onerror="alert(2)">')
    product_id = await make_product(state, merchant, title_fr="<script>alert(1)</script>", title_en=None)

    for path in ("/", "/search?q=alert", f"/p/{product_id}", f"/m/{merchant.slug}"):
        page = await web.get(path)
        assert page.status_code == 200, path
        assert "<script>alert(1)</script>" not in page.text, path
        assert '<img src=x onerror="alert(2)">' not in page.text, path
    product_page = await web.get(f"/p/{product_id}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in product_page.text
    assert "script-src 'self'" in product_page.headers["content-security-policy"]
