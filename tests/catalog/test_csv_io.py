"""Catalog CSV over the JSON API: import, export, row errors, round trip, tenancy."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from passerelle.catalog.models import Category
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.state import AppState
from tests.factories import Actor, api_json, make_merchant, make_user, product_payload

API = "/api/v1"
CSV_PATH = "/api/v1/me/merchants/{}/catalog.csv"


async def add_categories(state: AppState, *slugs: str) -> None:
    async with state.db.sessions() as session:
        session.add_all(Category(slug=slug, names={"fr": slug.title(), "en": slug.title()}) for slug in slugs)
        await session.commit()


async def seller_with_shop(state: AppState, kind: MerchantKind = MerchantKind.brand) -> tuple[Actor, Merchant]:
    seller = await make_user(state)
    return seller, await make_merchant(state, seller, kind=kind)


async def upload(client: httpx.AsyncClient, actor: Actor, merchant_id: int, content: str | bytes) -> httpx.Response:
    data = content.encode("utf-8") if isinstance(content, str) else content
    files = {"file": ("catalogue.csv", data, "text/csv")}
    return await client.post(CSV_PATH.format(merchant_id), files=files, headers=actor.headers)


async def export(client: httpx.AsyncClient, actor: Actor, merchant_id: int, **params: Any) -> str:
    response = await client.get(CSV_PATH.format(merchant_id), headers=actor.headers, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    return response.content.decode("utf-8")


async def product_count(client: httpx.AsyncClient, actor: Actor, merchant_id: int) -> int:
    listing = await client.get(f"{API}/me/merchants/{merchant_id}/products", headers=actor.headers)
    return int((await api_json(listing, 200))["total"])


async def staff_products(client: httpx.AsyncClient, actor: Actor, merchant_id: int) -> list[dict[str, Any]]:
    listing = await client.get(f"{API}/me/merchants/{merchant_id}/products", headers=actor.headers)
    ids = [card["id"] for card in (await api_json(listing, 200))["items"]]
    return [
        await api_json(await client.get(f"{API}/me/products/{pid}?lang=fr", headers=actor.headers), 200)
        for pid in sorted(ids)
    ]


FRENCH_EXCEL_FILE = (
    "\ufeffproduct_ref;sku_code;status;category;source_language;title_fr;description_fr;"
    "title_en;description_en;option_taille;price;stock\r\n"
    'robe-ete;ROBE-S;published;robes;fr;Robe d\'été en lin;"Coupe évasée ; légère, idéale en été.";'
    "Linen summer dress;Flared and light.;S;89,90;3\r\n"
    "robe-ete;ROBE-M;;;;;;;;M;89,90;5\r\n"
    "terrine;TERR-1;published;epicerie;fr;Terrine de bœuf façon grand-mère;"
    "\"Cœur de bœuf, crème brûlée à l'œuf ;\nrecette de Provence.\";Grandma's beef terrine;;;"
    "12,50;40\r\n"
)


async def test_given_a_french_excel_file_when_importing_then_products_keep_their_accents(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await add_categories(state, "robes", "epicerie")
    seller, shop = await seller_with_shop(state)

    report = await api_json(await upload(client, seller, shop.id, FRENCH_EXCEL_FILE), 200)

    assert report == {"created": 2, "updated": 0, "errors": []}
    dress, terrine = await staff_products(client, seller, shop.id)
    assert dress["title"] == "Robe d'été en lin"
    assert dress["description"] == "Coupe évasée ; légère, idéale en été."
    assert [(s["code"], s["options"], s["original_price"]["amount"], s["stock"]) for s in dress["skus"]] == [
        ("ROBE-S", {"taille": "S"}, 8990, 3),
        ("ROBE-M", {"taille": "M"}, 8990, 5),
    ]
    assert terrine["title"] == "Terrine de bœuf façon grand-mère"
    assert terrine["description"] == "Cœur de bœuf, crème brûlée à l'œuf ;\nrecette de Provence."
    assert terrine["available_languages"] == ["en", "fr"]
    exported = await export(client, seller, shop.id)
    assert "Terrine de bœuf façon grand-mère" in exported and "Robe d'été en lin" in exported


def bad_file(third_product_tiers: str) -> str:
    return (
        "product_ref,sku_code,status,title_fr,price,stock,tiers\n"
        "savon-lavande,SAV-1,published,Savon à la lavande,6.50,100,\n"
        "savon-olive,SAV-2,published,Savon à l'huile d'olive,6.90,80,\n"
        f"savon-miel,SAV-3,published,Savon au miel,7.20,50,{third_product_tiers}\n"
    )


async def test_given_a_bad_row_among_good_ones_then_every_problem_is_named_and_nothing_is_written(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await add_categories(state, "cosmetiques")
    seller, shop = await seller_with_shop(state)
    content = (
        "product_ref,sku_code,category,title_fr,price,stock\n"
        "savon-lavande,SAV-1,cosmetiques,Savon à la lavande,6.50,100\n"
        "savon-olive,SAV-2,cosmetiques,Savon à l'huile d'olive,six euros,80\n"
        "savon-miel,SAV-3,savons,Savon au miel,7.20,50\n"
        "savon-rose,SAV-1,cosmetiques,,7.20,-4\n"
    )

    response = await upload(client, seller, shop.id, content)

    body = await api_json(response, 422)
    assert body["code"] == "invalid_csv" and body["created"] == 0
    found = {(e["line"], e["field"], e["code"]) for e in body["errors"]}
    assert found == {
        (3, "price", "invalid_price"),
        (4, "category", "unknown_category"),
        (5, "sku_code", "duplicate_sku_code"),
        (5, "stock", "invalid_stock"),
        (5, "title_fr", "missing_title"),
    }
    assert await product_count(client, seller, shop.id) == 0


@pytest.mark.both_backends
async def test_given_a_rule_broken_by_the_last_product_then_the_products_before_it_are_rolled_back(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, shop = await seller_with_shop(state)  # a brand store: quantity tiers are for wholesalers

    response = await upload(client, seller, shop.id, bad_file("10:6.00"))

    body = await api_json(response, 422)
    assert [(e["line"], e["field"], e["code"]) for e in body["errors"]] == [(4, "tiers", "wholesale_only")]
    assert await product_count(client, seller, shop.id) == 0
    fixed = await api_json(await upload(client, seller, shop.id, bad_file("")), 200)
    assert fixed["created"] == 3 and await product_count(client, seller, shop.id) == 3


async def test_given_a_catalog_when_exported_and_imported_again_then_it_is_the_same_catalog(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await add_categories(state, "parfums", "mode")
    seller, shop = await seller_with_shop(state)
    twin = await make_merchant(state, seller)
    excel_twin = await make_merchant(state, seller)
    perfume = product_payload(title_fr="Eau de parfum Fleur d'oranger", title_en="Orange blossom eau de parfum")
    perfume["category"] = "parfums"
    perfume["texts"]["es"] = {
        "title": "Agua de perfume Azahar",
        "description": 'Floral, con "notas" de neroli.',
    }
    perfume["skus"] = [
        {"code": "EDP-30", "options": {"Contenance": "30 ml"}, "price_amount": 4990, "stock": 12},
        {"code": "EDP-100", "options": {"Contenance": "100 ml"}, "price_amount": 11900, "stock": 0},
    ]
    shirt = product_payload(title_fr="Chemise à col mao, rayée", title_en=None, status="draft", category="mode")
    shirt["skus"] = [
        {
            "code": "CH-M",
            "options": {"taille": "M", "couleur": "écru"},
            "price_amount": 6500,
            "stock": 1,
        }
    ]
    for payload in (perfume, shirt):
        created = await client.post(f"{API}/me/merchants/{shop.id}/products", json=payload, headers=seller.headers)
        await api_json(created, 201)
    original = await export(client, seller, shop.id)

    into_twin = await api_json(await upload(client, seller, twin.id, original), 200)
    again = await api_json(await upload(client, seller, shop.id, original), 200)
    excel = await export(client, seller, shop.id, excel="true")
    into_excel_twin = await api_json(await upload(client, seller, excel_twin.id, excel), 200)

    assert into_twin == {"created": 2, "updated": 0, "errors": []}
    assert again == {"created": 0, "updated": 2, "errors": []}
    assert into_excel_twin["created"] == 2
    assert excel.startswith("\ufeffproduct_ref;") and "49,90" in excel
    assert await export(client, seller, twin.id) == original
    assert await export(client, seller, shop.id) == original
    assert await export(client, seller, excel_twin.id) == original


async def test_given_a_short_file_then_the_columns_it_leaves_out_keep_their_values(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller, shop = await seller_with_shop(state)
    payload = product_payload(title_fr="Bougie parfumée Figuier", title_en="Fig tree scented candle", code="BOUGIE-1")
    await api_json(
        await client.post(f"{API}/me/merchants/{shop.id}/products", json=payload, headers=seller.headers),
        201,
    )
    product_id = (await staff_products(client, seller, shop.id))[0]["id"]
    ref = (await export(client, seller, shop.id)).splitlines()[1].split(",")[0]

    report = await upload(client, seller, shop.id, f"product_ref,sku_code,price,stock\n{ref},BOUGIE-1,32.00,7\n")

    assert (await api_json(report, 200))["updated"] == 1
    (product,) = await staff_products(client, seller, shop.id)
    assert product["id"] == product_id and product["status"] == "published"
    assert product["available_languages"] == ["en", "fr"] and product["title"] == "Bougie parfumée Figuier"
    assert (product["skus"][0]["original_price"]["amount"], product["skus"][0]["stock"]) == (
        3200,
        7,
    )


async def test_given_a_wholesaler_when_importing_tiers_then_they_apply_and_a_brand_store_gets_422(
    client: httpx.AsyncClient, state: AppState
) -> None:
    wholesaler, depot = await seller_with_shop(state, MerchantKind.wholesale)
    brand_seller, boutique = await seller_with_shop(state)
    content = (
        "product_ref;sku_code;status;title_fr;title_en;min_order_quantity;price;stock;tiers\n"
        "savon-marseille-carton;SM-48;published;Savon de Marseille, carton de 48;"
        "Marseille soap, case of 48;5;96,00;400;20:90,00|50:84,50\n"
    )

    imported = await api_json(await upload(client, wholesaler, depot.id, content), 200)
    refused = await api_json(await upload(client, brand_seller, boutique.id, content), 422)

    assert imported["created"] == 1
    (product,) = await staff_products(client, wholesaler, depot.id)
    assert product["min_order_quantity"] == 5
    assert [(t["min_quantity"], t["unit_price"]["amount"]) for t in product["skus"][0]["tiers"]] == [
        (20, 9000),
        (50, 8450),
    ]
    assert "20:90.00|50:84.50" in await export(client, wholesaler, depot.id)
    assert {(e["line"], e["code"]) for e in refused["errors"]} == {(2, "wholesale_only")}


async def test_given_staff_of_another_merchant_then_its_csv_routes_answer_404(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller_a, _ = await seller_with_shop(state)
    seller_b, shop_b = await seller_with_shop(state)
    payload = product_payload(code="B-1")
    await api_json(
        await client.post(f"{API}/me/merchants/{shop_b.id}/products", json=payload, headers=seller_b.headers),
        201,
    )

    download = await client.get(CSV_PATH.format(shop_b.id), headers=seller_a.headers)
    upload_b = await upload(client, seller_a, shop_b.id, "product_ref,sku_code,price,stock\nintrus,B-1,1.00,1\n")

    assert download.status_code == 404 and upload_b.status_code == 404
    assert "B-1" in await export(client, seller_b, shop_b.id)
    assert "intrus" not in await export(client, seller_b, shop_b.id)
    anonymous = await client.get(CSV_PATH.format(shop_b.id))
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            b"product_ref,sku_code,price,stock\nok,A-1,1.00,1\nrobe,A-2,1.00,1,\xe9t\xe9\n",
            (3, None, "not_utf8"),
        ),
        (
            b"product_ref,sku_code,stock,title_fr\nrobe,A-1,1,Robe\n",
            (1, "price", "missing_column"),
        ),
        (
            b"product_ref,sku_code,price,stock,titre_fr\nrobe,A-1,1,1,x\n",
            (1, "titre_fr", "unknown_column"),
        ),
        (
            b"product_ref,sku_code,price,stock,title_fr\nrobe,A-1,1.001,1,Robe\n",
            (2, "price", "invalid_price"),
        ),
        (b"product_ref,sku_code,price,stock,title_fr\n", (2, None, "empty_file")),
    ],
    ids=["latin-1", "missing-price-column", "misspelt-column", "three-decimals-in-eur", "no-rows"],
)
async def test_given_an_unusable_file_then_the_report_says_where_and_why(
    client: httpx.AsyncClient,
    state: AppState,
    content: bytes,
    expected: tuple[int, str | None, str],
) -> None:
    seller, shop = await seller_with_shop(state)

    body = await api_json(await upload(client, seller, shop.id, content), 422)

    assert (
        body["errors"][0]["line"],
        body["errors"][0]["field"],
        body["errors"][0]["code"],
    ) == expected
