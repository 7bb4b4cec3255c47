"""Merchant A's staff can never read or change merchant B's data through the API."""

from __future__ import annotations

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.state import AppState
from tests.factories import make_merchant, make_user, product_payload


@pytest.mark.both_backends
async def test_given_two_merchants_then_staff_of_a_get_404_on_every_b_object(
    client: httpx.AsyncClient, state: AppState
) -> None:
    alice = await make_user(state, role=Role.seller)
    bob = await make_user(state, role=Role.seller)
    shop_a = await make_merchant(state, alice, name="Atelier A")
    shop_b = await make_merchant(state, bob, name="Boutique B")
    draft_b = (
        await client.post(
            f"/api/v1/me/merchants/{shop_b.id}/products", json=product_payload(status="draft"), headers=bob.headers
        )
    ).json()
    sku_b = draft_b["skus"][0]["id"]
    as_alice = alice.headers

    reads = [
        f"/api/v1/me/merchants/{shop_b.id}",
        f"/api/v1/me/merchants/{shop_b.id}/products",
        f"/api/v1/me/products/{draft_b['id']}",
        f"/api/v1/products/{draft_b['id']}",
    ]
    for url in reads:
        response = await client.get(url, headers=as_alice)
        assert response.status_code == 404, url

    writes = [
        ("POST", f"/api/v1/me/merchants/{shop_b.id}/products", product_payload()),
        ("PUT", f"/api/v1/me/products/{draft_b['id']}", product_payload(title_fr="Pirate")),
        ("PATCH", f"/api/v1/me/products/{draft_b['id']}/status", {"status": "published"}),
        ("PUT", f"/api/v1/me/skus/{sku_b}/stock", {"stock": 0}),
        ("PUT", f"/api/v1/me/merchants/{shop_b.id}/ships-to", {"countries": ["FR"]}),
        ("POST", f"/api/v1/me/merchants/{shop_b.id}/staff", {"email": alice.user.email}),
    ]
    for method, url, body in writes:
        response = await client.request(method, url, json=body, headers=as_alice)
        assert response.status_code == 404, (method, url, response.text)
    upload = await client.post(
        f"/api/v1/me/products/{draft_b['id']}/images", files={"file": ("x.png", b"x", "image/png")}, headers=as_alice
    )
    assert upload.status_code == 404

    # B's data is untouched and A's own console still works.
    mine = await client.get(f"/api/v1/me/merchants/{shop_b.id}/products", headers=bob.headers)
    assert mine.json()["total"] == 1
    assert mine.json()["items"][0]["title"] == "Eau de parfum Rose"
    assert (await client.get(f"/api/v1/me/products/{draft_b['id']}", headers=bob.headers)).json()["skus"][0][
        "stock"
    ] == 10
    assert (await client.get(f"/api/v1/me/merchants/{shop_a.id}/products", headers=as_alice)).status_code == 200


async def test_given_staff_added_by_the_owner_then_staff_manage_products_but_cannot_add_staff(
    client: httpx.AsyncClient, state: AppState
) -> None:
    owner = await make_user(state)
    helper = await make_user(state)
    other = await make_user(state)
    shop = await make_merchant(state, owner)
    added = await client.post(
        f"/api/v1/me/merchants/{shop.id}/staff", json={"email": helper.user.email}, headers=owner.headers
    )
    assert added.status_code == 201
    created = await client.post(
        f"/api/v1/me/merchants/{shop.id}/products", json=product_payload(), headers=helper.headers
    )
    assert created.status_code == 201
    refused = await client.post(
        f"/api/v1/me/merchants/{shop.id}/staff", json={"email": other.user.email}, headers=helper.headers
    )
    assert refused.status_code == 403
