"""The seller console: apply, create products, stock, publish, images, CSV, and tenant isolation."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.merchants.models import MerchantKind
from passerelle.state import AppState
from tests.factories import make_merchant, make_user
from tests.web.helpers import log_in, submit, text_of
from tests.web.marketplace import Marketplace, add_reference_data, picture

NEW_PRODUCT = {
    "source_language": "fr",
    "title_fr": "Foulard en soie",
    "description_fr": "Imprimé à Lyon.",
    "title_en": "Silk scarf",
    "description_en": "Printed in Lyon.",
    "category": "mode",
    "sku_code": ["FOUL-B", "FOUL-R", ""],
    "sku_options": ["couleur=Bleu", "couleur=Rouge", ""],
    "sku_price": ["45,00", "45.50", ""],
    "sku_stock": ["7", "0", ""],
    "publish": "1",
}


async def sku(state: AppState, code: str) -> Sku:
    async with state.db.sessions() as session:
        return (await session.execute(select(Sku).where(Sku.code == code))).scalar_one()


async def product(state: AppState, product_id: int) -> Product:
    async with state.db.sessions() as session:
        found = await session.get(Product, product_id)
        assert found is not None
        return found


async def test_given_a_visitor_then_the_console_asks_to_log_in(web: httpx.AsyncClient) -> None:
    page = await web.get("/console")
    assert page.status_code == 401
    assert 'href="/login?next=/console"' in page.text


async def test_given_a_buyer_when_applying_to_sell_then_the_shop_is_pending_review(
    web: httpx.AsyncClient, state
) -> None:
    await add_reference_data(state)
    buyer = await make_user(state)
    await log_in(web, buyer.user.email)

    missing_countries = await submit(
        web, "/console/apply", {"name": "Thé Vert", "kind": "individual", "country": "FR", "currency": "EUR"}
    )
    assert missing_countries.status_code in (400, 422)
    assert "Indiquez au moins un pays" in missing_countries.text

    applied = await submit(
        web,
        "/console/apply",
        {
            "name": "Thé Vert",
            "kind": "individual",
            "country": "FR",
            "currency": "EUR",
            "ships_to": ["FR", "BE"],
            "description": "Thés du Japon",
        },
    )
    assert applied.status_code == 303
    console = await web.get(applied.headers["location"])
    assert "Merci, votre candidature a bien été envoyée." in console.text
    assert "En cours d'examen" in text_of((await web.get("/console")).text)


async def test_given_staff_when_creating_a_product_with_the_form_then_it_is_published_with_its_variants(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    await log_in(web, market.owner.user.email)
    form = await web.get(f"/console/m/{market.brand.id}/products/new")
    assert form.status_code == 200 and 'name="sku_code"' in form.text

    created = await submit(web, f"/console/m/{market.brand.id}/products/new", NEW_PRODUCT)
    assert created.status_code == 303, created.text
    product_id = int(re.search(r"/products/(\d+)", created.headers["location"]).group(1))

    manage = await web.get(created.headers["location"])
    assert "Foulard en soie" in manage.text and "FOUL-R" in manage.text
    public = text_of((await web.get(f"/p/{product_id}")).text)
    assert "Foulard en soie" in public and "45,00 €" in public and "45,50 €" in public and "Bleu" in public
    assert (await sku(state, "FOUL-R")).price_amount == 4550


async def test_given_mistakes_in_the_product_form_then_each_message_is_next_to_its_field(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    await log_in(web, market.owner.user.email)
    wrong = {**NEW_PRODUCT, "title_fr": "", "sku_price": ["douze", "45", ""], "sku_options": ["couleur", "", ""]}
    page = await submit(web, f"/console/m/{market.brand.id}/products/new", wrong)
    assert page.status_code == 422
    text = text_of(page.text)
    assert (
        "Donnez le titre dans la langue d'origine du produit" in text
        or "Donnez le titre dans la langue d&#39;origine" in page.text
    )
    assert "Saisissez un prix, par exemple 12,50" in text
    assert "nom=valeur" in text
    assert 'value="douze"' in page.text  # what was typed is kept


async def test_given_a_wholesaler_then_the_form_takes_a_minimum_order_and_volume_prices(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    await log_in(web, market.wholesaler_owner.user.email)
    data = {
        "source_language": "fr",
        "title_fr": "Huile d'olive 5 L",
        "min_order_quantity": "20",
        "sku_code": ["OLIVE-5L"],
        "sku_options": [""],
        "sku_price": ["30"],
        "sku_stock": ["400"],
        "sku_tiers": ["100=27.50, 300=25"],
        "publish": "1",
    }
    created = await submit(web, f"/console/m/{market.wholesaler.id}/products/new", data)
    assert created.status_code == 303, text_of(created.text)
    product_id = int(re.search(r"/products/(\d+)", created.headers["location"]).group(1))
    page = text_of((await web.get(f"/p/{product_id}", params={"lang": "en"})).text)
    assert "Minimum order: 20 units" in page and "€27.50" in page and "€25.00" in page


async def test_given_staff_when_editing_stock_inline_then_htmx_gets_the_updated_cell(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    await log_in(web, market.owner.user.email)
    rose = await sku(state, "ROSE-50")
    console = await web.get(f"/console/m/{market.brand.id}")
    assert f'hx-post="/console/m/{market.brand.id}/skus/{rose.id}/stock"' in console.text

    shown = f"http://testserver/console/m/{market.brand.id}?page=1"
    saved = await submit(
        web,
        f"/console/m/{market.brand.id}/skus/{rose.id}/stock",
        {"stock": "42"},
        headers={"hx-request": "true", "hx-current-url": shown},
    )
    assert saved.status_code == 200
    assert saved.text.lstrip().startswith('<form class="stock-form"') and 'value="42"' in saved.text
    assert (await sku(state, "ROSE-50")).stock == 42
    assert f'name="next" value="/console/m/{market.brand.id}?page=1"' in saved.text

    refused = await submit(
        web, f"/console/m/{market.brand.id}/skus/{rose.id}/stock", {"stock": "-3"}, headers={"hx-request": "true"}
    )
    assert refused.status_code == 422 and "stock-error" in refused.text
    assert (await sku(state, "ROSE-50")).stock == 42

    without_js = await submit(
        web, f"/console/m/{market.brand.id}/skus/{rose.id}/stock", {"stock": "5", "next": "/console"}
    )
    assert without_js.status_code == 303 and (await sku(state, "ROSE-50")).stock == 5


async def test_given_staff_when_unpublishing_then_the_product_leaves_the_shop(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    await log_in(web, market.owner.user.email)
    rose = market.products["rose"]
    path = f"/console/m/{market.brand.id}/products/{rose}/status"
    assert (await submit(web, path, {"status": "draft"})).status_code == 303
    assert (await product(state, rose)).status == ProductStatus.draft
    web.cookies.clear()
    assert rose not in [int(n) for n in re.findall(r"/p/(\d+)", (await web.get("/search?q=rose")).text)]

    await log_in(web, market.owner.user.email)
    assert (await submit(web, path, {"status": "published"})).status_code == 303
    assert (await product(state, rose)).status == ProductStatus.published


async def test_given_staff_when_uploading_a_picture_then_it_shows_and_bad_files_are_refused(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    await log_in(web, market.owner.user.email)
    figue = market.products["figue"]
    path = f"/console/m/{market.brand.id}/products/{figue}/images"
    uploaded = await submit(
        web, path, {"alt": "Flacon"}, files={"file": ("f.png", picture((10, 20, 30), (200, 100, 50)), "image/png")}
    )
    assert uploaded.status_code == 303
    manage = await web.get(uploaded.headers["location"])
    assert manage.text.count('src="/media/') >= 2 and 'alt="Flacon"' in manage.text

    refused = await submit(web, path, {}, files={"file": ("evil.png", b"<?php echo 1; ?>", "image/png")})
    assert refused.status_code == 422
    assert (
        "Ce fichier n'est pas une image lisible" in refused.text
        or "Ce fichier n&#39;est pas une image lisible" in refused.text
    )


async def test_given_staff_then_the_catalog_exports_and_imports_back_as_csv(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    await log_in(web, market.owner.user.email)
    exported = await web.get(f"/console/m/{market.brand.id}/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "ROSE-50" in exported.text and "SAUGE-S" not in exported.text

    changed = exported.text.replace("Eau de parfum Rose de Grasse", "Eau de parfum Rose de Mai")
    imported = await submit(
        web, f"/console/m/{market.brand.id}/import", {}, files={"file": ("catalog.csv", changed.encode(), "text/csv")}
    )
    assert imported.status_code == 303, text_of(imported.text)
    done = await web.get(imported.headers["location"])
    assert "Import terminé" in done.text
    assert "Eau de parfum Rose de Mai" in (await web.get(f"/p/{market.products['rose']}")).text

    broken = "product_ref,sku_code,price,stock,title_fr\nthe-ref,BAD CODE!,abc,-1,Titre\n"
    rejected = await submit(
        web, f"/console/m/{market.brand.id}/import", {}, files={"file": ("bad.csv", broken.encode(), "text/csv")}
    )
    assert rejected.status_code == 422
    assert "Le fichier n'a pas été importé" in rejected.text or "Le fichier n&#39;a pas été importé" in rejected.text
    assert "<td>2</td>" in rejected.text  # the CSV line of the problem


async def test_given_staff_of_merchant_a_then_every_merchant_b_console_page_and_form_is_not_found(
    web: httpx.AsyncClient, market: Marketplace, state
) -> None:
    # The wholesaler's owner works for merchant A (the wholesaler) only; B is Maison Lumière.
    await log_in(web, market.wholesaler_owner.user.email)
    a, b = market.wholesaler.id, market.brand.id
    rose_b = market.products["rose"]
    sku_b = await sku(state, "ROSE-50")
    png = picture((1, 2, 3), (4, 5, 6))

    pages = [
        f"/console/m/{b}",
        f"/console/m/{b}/products/new",
        f"/console/m/{b}/products/{rose_b}",
        f"/console/m/{b}/export.csv",
        f"/console/m/{a}/products/{rose_b}",
    ]
    for path in pages:
        assert (await web.get(path)).status_code == 404, path

    forms = [
        (f"/console/m/{b}/products/new", NEW_PRODUCT, None),
        (f"/console/m/{b}/products/{rose_b}/status", {"status": "draft"}, None),
        (f"/console/m/{b}/skus/{sku_b.id}/stock", {"stock": "0"}, None),
        (f"/console/m/{b}/products/{rose_b}/images", {}, {"file": ("x.png", png, "image/png")}),
        (f"/console/m/{b}/import", {}, {"file": ("c.csv", b"product_ref,sku_code,price,stock\n", "text/csv")}),
        (f"/console/m/{a}/products/{rose_b}/status", {"status": "draft"}, None),
        (f"/console/m/{a}/skus/{sku_b.id}/stock", {"stock": "0"}, None),
        (f"/console/m/{a}/products/{rose_b}/images", {}, {"file": ("x.png", png, "image/png")}),
    ]
    for path, data, files in forms:
        response = await submit(web, path, data, files=files)
        assert response.status_code == 404, path

    assert (await product(state, rose_b)).status == ProductStatus.published
    assert (await sku(state, "ROSE-50")).stock == 12
    assert "Foulard" not in (await web.get("/search?q=foulard")).text


async def test_given_a_pending_shop_then_products_can_be_drafted_but_not_published(
    web: httpx.AsyncClient, state
) -> None:
    await add_reference_data(state)
    seller = await make_user(state)
    pending = await make_merchant(state, seller, approved=False, kind=MerchantKind.individual, name="Jeune Pousse")
    await log_in(web, seller.user.email)
    console = await web.get(f"/console/m/{pending.id}")
    assert "Un opérateur examine votre candidature" in console.text
    form = await web.get(f"/console/m/{pending.id}/products/new")
    assert 'name="publish"' not in form.text
    draft = await submit(web, f"/console/m/{pending.id}/products/new", {**NEW_PRODUCT, "publish": ""})
    assert draft.status_code == 303


async def test_given_an_oversized_upload_then_it_is_refused_before_parsing(
    web: httpx.AsyncClient, market: Marketplace
) -> None:
    await log_in(web, market.owner.user.email)
    huge = b"product_ref,sku_code,price,stock\n" + b"x" * (12 * 1024 * 1024)
    refused = await submit(
        web, f"/console/m/{market.brand.id}/import", {}, files={"file": ("big.csv", huge, "text/csv")}
    )
    assert refused.status_code == 413
    assert "Ce fichier est trop volumineux" in refused.text
