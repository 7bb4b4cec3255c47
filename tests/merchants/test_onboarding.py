"""Merchant onboarding: apply -> operator approves or rejects -> the merchant can publish."""

from __future__ import annotations

import httpx
import pytest

from passerelle.accounts.models import Role
from passerelle.state import AppState
from tests.factories import make_user, product_payload

APPLICATION = {
    "name": "Maison Lumière",
    "kind": "brand",
    "country": "FR",
    "ships_to": ["FR", "BE", "de"],
    "currency": "EUR",
    "description": "Parfums de Grasse",
}


@pytest.mark.both_backends
async def test_given_an_application_when_the_operator_approves_then_the_merchant_can_publish(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    operator = await make_user(state, role=Role.operator)

    applied = await client.post("/api/v1/merchants", json=APPLICATION, headers=seller.headers)
    assert applied.status_code == 201, applied.text
    merchant = applied.json()
    assert merchant["status"] == "pending"
    assert merchant["ships_to"] == ["BE", "DE", "FR"]

    blocked = await client.post(
        f"/api/v1/me/merchants/{merchant['id']}/products", json=product_payload(), headers=seller.headers
    )
    assert blocked.status_code == 409
    assert blocked.json()["code"] == "merchant_not_approved"
    assert (await client.get(f"/api/v1/merchants/{merchant['id']}")).status_code == 404

    queue = await client.get("/api/v1/operator/merchants", headers=operator.headers)
    assert [m["id"] for m in queue.json()["items"]] == [merchant["id"]]

    approved = await client.post(
        f"/api/v1/operator/merchants/{merchant['id']}/approve", json={}, headers=operator.headers
    )
    assert approved.json()["status"] == "approved"

    published = await client.post(
        f"/api/v1/me/merchants/{merchant['id']}/products", json=product_payload(), headers=seller.headers
    )
    assert published.status_code == 201, published.text
    assert (await client.get(f"/api/v1/merchants/{merchant['id']}")).status_code == 200


async def test_given_a_rejected_application_then_it_stays_unpublishable_and_cannot_be_reviewed_twice(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    operator = await make_user(state, role=Role.operator)
    merchant = (await client.post("/api/v1/merchants", json=APPLICATION, headers=seller.headers)).json()

    rejected = await client.post(
        f"/api/v1/operator/merchants/{merchant['id']}/reject",
        json={"note": "Documents manquants"},
        headers=operator.headers,
    )
    assert rejected.json()["status"] == "rejected"
    again = await client.post(f"/api/v1/operator/merchants/{merchant['id']}/approve", json={}, headers=operator.headers)
    assert again.status_code == 409
    assert again.json()["code"] == "already_reviewed"


async def test_given_a_buyer_when_reviewing_merchants_then_forbidden(
    client: httpx.AsyncClient, state: AppState
) -> None:
    buyer = await make_user(state)
    assert (await client.get("/api/v1/operator/merchants", headers=buyer.headers)).status_code == 403
    assert (
        await client.post("/api/v1/operator/merchants/1/approve", json={}, headers=buyer.headers)
    ).status_code == 403


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"country": "ZZ"}, "unknown_country", "country"),
        ({"ships_to": ["FR", "QQ"]}, "unknown_country", "ships_to"),
        ({"currency": "ABC"}, "unknown_currency", "currency"),
        ({"kind": "franchise"}, "invalid_request", "kind"),
        ({"name": "x" * 500}, "invalid_request", "name"),
        ({"ships_to": []}, "invalid_request", "ships_to"),
    ],
)
async def test_given_a_bad_application_then_a_clear_error_and_no_merchant(
    client: httpx.AsyncClient, state: AppState, change: dict[str, object], code: str, field: str
) -> None:
    seller = await make_user(state)
    response = await client.post("/api/v1/merchants", json={**APPLICATION, **change}, headers=seller.headers)
    assert response.status_code in (400, 422)
    assert response.json()["code"] == code
    assert response.json()["field"] == field
    assert (await client.get("/api/v1/me/merchants", headers=seller.headers)).json()["total"] == 0
