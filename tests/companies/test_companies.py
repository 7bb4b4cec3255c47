"""Buyer companies: the creator is admin, admins add members by e-mail, VAT numbers are checked."""

from __future__ import annotations

import httpx
import pytest

from passerelle.companies.vat import check_vat_number
from passerelle.errors import DomainError
from passerelle.state import AppState
from tests.commerce import make_buyers
from tests.factories import api_json


@pytest.mark.both_backends
async def test_given_a_buyer_when_creating_a_company_then_they_are_its_admin_and_can_add_members(
    client: httpx.AsyncClient, state: AppState
) -> None:
    founder, colleague, stranger = await make_buyers(state, 3)
    company = await api_json(
        await client.post(
            "/api/v1/companies",
            json={"name": "Garage Martin", "country": "FR", "vat_number": "fr 40 303 265 045"},
            headers=founder.headers,
        ),
        201,
    )
    assert company["vat_number"] == "FR40303265045" and company["my_role"] == "admin"
    assert [m["user_id"] for m in company["members"]] == [founder.user.id]

    added = await api_json(
        await client.post(
            f"/api/v1/companies/{company['id']}/members",
            json={"email": colleague.user.email.upper()},
            headers=founder.headers,
        ),
        201,
    )
    assert {(m["user_id"], m["role"]) for m in added["members"]} == {
        (founder.user.id, "admin"),
        (colleague.user.id, "buyer"),
    }
    mine = await api_json(await client.get("/api/v1/me/companies", headers=colleague.headers), 200)
    assert [(c["id"], c["my_role"]) for c in mine["items"]] == [(company["id"], "buyer")]

    again = await client.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": colleague.user.email}, headers=founder.headers
    )
    assert again.status_code == 409 and again.json()["code"] == "already_member"
    by_buyer = await client.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": stranger.user.email}, headers=colleague.headers
    )
    assert by_buyer.status_code == 403
    assert (await client.get(f"/api/v1/companies/{company['id']}", headers=stranger.headers)).status_code == 404
    by_stranger = await client.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": stranger.user.email}, headers=stranger.headers
    )
    assert by_stranger.status_code == 404
    unknown = await client.post(
        f"/api/v1/companies/{company['id']}/members", json={"email": "nobody@nowhere.fr"}, headers=founder.headers
    )
    assert unknown.status_code == 404


async def test_given_a_bad_vat_number_then_422_with_a_stable_code_and_no_company(
    client: httpx.AsyncClient, state: AppState
) -> None:
    (buyer,) = await make_buyers(state, 1)
    for vat, code in (
        ("FR40303265046", "invalid_vat_number"),
        ("DE136695976", "vat_country_mismatch"),
        ("FR<script>", "invalid_vat_number"),
    ):
        refused = await client.post(
            "/api/v1/companies", json={"name": "Garage", "country": "FR", "vat_number": vat}, headers=buyer.headers
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == code and refused.json()["field"] == "vat_number"
    assert (await client.get("/api/v1/me/companies", headers=buyer.headers)).json()["total"] == 0


async def test_given_the_last_admin_then_they_cannot_be_removed(client: httpx.AsyncClient, state: AppState) -> None:
    founder, colleague = await make_buyers(state, 2)
    company = await api_json(
        await client.post("/api/v1/companies", json={"name": "SARL Dupont", "country": "BE"}, headers=founder.headers),
        201,
    )
    assert company["vat_number"] is None
    await api_json(
        await client.post(
            f"/api/v1/companies/{company['id']}/members", json={"email": colleague.user.email}, headers=founder.headers
        ),
        201,
    )
    last = await client.delete(f"/api/v1/companies/{company['id']}/members/{founder.user.id}", headers=founder.headers)
    assert last.status_code == 409 and last.json()["code"] == "last_admin"
    removed = await client.delete(
        f"/api/v1/companies/{company['id']}/members/{colleague.user.id}", headers=founder.headers
    )
    assert removed.status_code == 204
    assert (await client.get(f"/api/v1/companies/{company['id']}", headers=colleague.headers)).status_code == 404


@pytest.mark.parametrize(
    ("number", "country", "expected"),
    [
        ("FR 40 303 265 045", "FR", "FR40303265045"),
        ("40303265045", "FR", "FR40303265045"),  # own prefix left out
        ("094259216", "GR", "EL094259216"),  # Greece's EU prefix is EL
        ("DE-136.695.976", "DE", "DE136695976"),
        ("GB 980 7806 84", "GB", "GB980780684"),
        ("XI 980 7806 84", "GB", "XI980780684"),  # Northern Ireland
        ("CHE-107.787.577 IVA", "CH", "CHE107787577IVA"),
    ],
)
def test_given_well_formed_vat_numbers_then_they_are_stored_compact(number: str, country: str, expected: str) -> None:
    assert check_vat_number(number, country=country) == expected


@pytest.mark.parametrize(
    ("number", "country", "code"),
    [
        ("FR40303265046", "FR", "invalid_vat_number"),
        ("BE0123456789", "FR", "vat_country_mismatch"),
        ("12-3456789", "US", "vat_country_unsupported"),
        ("", "FR", "invalid_vat_number"),
        ("ÉÉ123", "FR", "invalid_vat_number"),
    ],
)
def test_given_bad_vat_numbers_then_a_stable_code(number: str, country: str, code: str) -> None:
    with pytest.raises(DomainError) as error:
        check_vat_number(number, country=country)
    assert error.value.code == code and error.value.status_code == 422
