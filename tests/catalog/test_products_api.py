"""Products over the API: variants, stock, B2B tiers, languages with fallback, currencies."""

from __future__ import annotations

import io

import httpx
import pytest
from PIL import Image

from passerelle.merchants.models import MerchantKind
from passerelle.state import AppState
from tests.factories import make_merchant, make_user, product_payload
from tests.i18n_fixtures import load_rates


@pytest.mark.both_backends
async def test_given_a_product_with_variants_then_its_page_lists_each_sku_with_stock_and_price(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    payload = product_payload(
        skus=[
            {"code": "ROBE-S-ROUGE", "options": {"taille": "S", "couleur": "rouge"}, "price_amount": 8900, "stock": 3},
            {"code": "ROBE-M-ROUGE", "options": {"taille": "M", "couleur": "rouge"}, "price_amount": 9900, "stock": 0},
        ]
    )
    created = await client.post(f"/api/v1/me/merchants/{merchant.id}/products", json=payload, headers=seller.headers)
    assert created.status_code == 201, created.text
    product = (await client.get(f"/api/v1/products/{created.json()['id']}")).json()
    assert [(s["code"], s["stock"], s["price"]["amount"]) for s in product["skus"]] == [
        ("ROBE-S-ROUGE", 3, 8900),
        ("ROBE-M-ROUGE", 0, 9900),
    ]
    assert product["price"] == {"amount": 8900, "currency": "EUR"}
    assert product["merchant"]["kind"] == "brand"


async def test_given_a_missing_translation_then_the_source_text_is_shown_and_marked(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    created = await client.post(
        f"/api/v1/me/merchants/{merchant.id}/products",
        json=product_payload(title_fr="Savon à l'huile d'olive", title_en=None),
        headers=seller.headers,
    )
    pid = created.json()["id"]
    german = (await client.get(f"/api/v1/products/{pid}?lang=de")).json()
    assert german["title"] == "Savon à l'huile d'olive"
    assert german["fallback"] is True and german["language"] == "fr"
    french = (await client.get(f"/api/v1/products/{pid}?lang=fr")).json()
    assert french["fallback"] is False


async def test_given_fx_rates_then_prices_show_in_the_buyer_currency_as_integer_minor_units(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await load_rates(state)
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    created = await client.post(
        f"/api/v1/me/merchants/{merchant.id}/products", json=product_payload(price=10000), headers=seller.headers
    )
    pid = created.json()["id"]
    usd = (await client.get(f"/api/v1/products/{pid}?currency=USD")).json()
    assert usd["price"] == {"amount": 10412, "currency": "USD"}  # 100.00 EUR * 1.0412
    assert usd["original_price"] == {"amount": 10000, "currency": "EUR"}
    jpy = (await client.get(f"/api/v1/products/{pid}?currency=JPY")).json()
    assert jpy["price"] == {"amount": 16078, "currency": "JPY"}  # no minor unit in yen
    unknown = await client.get(f"/api/v1/products/{pid}?currency=XYZ")
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_currency"


async def test_given_a_wholesaler_then_tiers_and_moq_are_published(client: httpx.AsyncClient, state: AppState) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller, kind=MerchantKind.wholesale)
    payload = product_payload(
        min_order_quantity=12,
        skus=[
            {
                "code": "ASSIETTE-27",
                "options": {},
                "price_amount": 1200,
                "stock": 5000,
                "tiers": [{"min_quantity": 50, "unit_amount": 1000}, {"min_quantity": 200, "unit_amount": 850}],
            }
        ],
    )
    created = await client.post(f"/api/v1/me/merchants/{merchant.id}/products", json=payload, headers=seller.headers)
    assert created.status_code == 201, created.text
    sku = created.json()["skus"][0]
    assert [(t["min_quantity"], t["unit_price"]["amount"]) for t in sku["tiers"]] == [(50, 1000), (200, 850)]
    assert created.json()["min_order_quantity"] == 12


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"min_order_quantity": 10}, "wholesale_only"),
        (
            {
                "skus": [
                    {"code": "A", "price_amount": 100, "stock": 1, "tiers": [{"min_quantity": 10, "unit_amount": 90}]}
                ]
            },
            "wholesale_only",
        ),
        ({"skus": [{"code": "A", "price_amount": 100, "stock": -1}]}, "invalid_request"),
        ({"skus": [{"code": "A", "price_amount": 1.5, "stock": 1}]}, "invalid_request"),
        (
            {"skus": [{"code": "A", "price_amount": 100, "stock": 1}, {"code": "A", "price_amount": 100, "stock": 1}]},
            "duplicate_sku_code",
        ),
        ({"category": "nope"}, "unknown_category"),
        ({"source_language": "de"}, "missing_source_text"),
        ({"texts": {"fr": {"title": "x" * 201}}}, "invalid_request"),
        ({"texts": {"xx": {"title": "Bonjour"}}, "source_language": "xx"}, "unsupported_language"),
    ],
)
async def test_given_bad_product_input_then_a_clear_error_and_nothing_written(
    client: httpx.AsyncClient, state: AppState, change: dict[str, object], code: str
) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    response = await client.post(
        f"/api/v1/me/merchants/{merchant.id}/products", json={**product_payload(), **change}, headers=seller.headers
    )
    assert response.status_code in (400, 409, 422), response.text
    assert response.json()["code"] == code
    listing = await client.get(f"/api/v1/me/merchants/{merchant.id}/products", headers=seller.headers)
    assert listing.json()["total"] == 0


async def test_given_stock_updates_then_the_new_stock_is_shown_and_negative_is_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    sku_id = (
        await client.post(
            f"/api/v1/me/merchants/{merchant.id}/products", json=product_payload(), headers=seller.headers
        )
    ).json()["skus"][0]["id"]
    updated = await client.put(f"/api/v1/me/skus/{sku_id}/stock", json={"stock": 42}, headers=seller.headers)
    assert updated.json()["stock"] == 42
    negative = await client.put(f"/api/v1/me/skus/{sku_id}/stock", json={"stock": -1}, headers=seller.headers)
    assert negative.status_code == 422


async def test_given_an_image_upload_then_it_is_stored_and_served_and_non_images_are_refused(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    merchant = await make_merchant(state, seller)
    pid = (
        await client.post(
            f"/api/v1/me/merchants/{merchant.id}/products", json=product_payload(), headers=seller.headers
        )
    ).json()["id"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 90)).save(buffer, "PNG")
    uploaded = await client.post(
        f"/api/v1/me/products/{pid}/images",
        files={"file": ("rose.png", buffer.getvalue(), "image/png")},
        headers=seller.headers,
    )
    assert uploaded.status_code == 201, uploaded.text
    assert (uploaded.json()["width"], uploaded.json()["height"]) == (64, 48)
    served = await client.get(uploaded.json()["url"])
    assert served.status_code == 200 and served.content == buffer.getvalue()
    fake = await client.post(
        f"/api/v1/me/products/{pid}/images",
        files={"file": ("x.png", b"<?php echo 1; ?>", "image/png")},
        headers=seller.headers,
    )
    assert fake.status_code == 422 and fake.json()["code"] == "invalid_image"


async def test_given_a_draft_then_only_the_merchant_staff_see_it(client: httpx.AsyncClient, state: AppState) -> None:
    seller = await make_user(state)
    stranger = await make_user(state)
    merchant = await make_merchant(state, seller)
    pid = (
        await client.post(
            f"/api/v1/me/merchants/{merchant.id}/products", json=product_payload(status="draft"), headers=seller.headers
        )
    ).json()["id"]
    assert (await client.get(f"/api/v1/products/{pid}")).status_code == 404
    assert (await client.get(f"/api/v1/products/{pid}", headers=stranger.headers)).status_code == 404
    assert (await client.get(f"/api/v1/products/{pid}", headers=seller.headers)).status_code == 200
