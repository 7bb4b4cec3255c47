"""Accounts over the JSON API: register, token, me, bad input."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import PASSWORD

REGISTER = {"email": "Alice@Acheteurs.fr", "password": PASSWORD, "country": "FR", "language": "fr", "currency": "EUR"}


@pytest.mark.both_backends
async def test_given_a_new_buyer_when_registering_and_asking_a_token_then_me_answers(client: httpx.AsyncClient) -> None:
    created = await client.post("/api/v1/auth/register", json=REGISTER)
    assert created.status_code == 201, created.text
    assert created.json()["email"] == "alice@acheteurs.fr"

    token = await client.post("/api/v1/auth/token", json={"email": "alice@acheteurs.fr", "password": PASSWORD})
    assert token.status_code == 200
    bearer = token.json()["access_token"]

    me = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {bearer}"})
    assert me.status_code == 200
    assert me.json()["country"] == "FR" and me.json()["role"] == "buyer"


async def test_given_an_account_when_registering_the_same_email_then_conflict(client: httpx.AsyncClient) -> None:
    assert (await client.post("/api/v1/auth/register", json=REGISTER)).status_code == 201
    again = await client.post("/api/v1/auth/register", json={**REGISTER, "email": "alice@ACHETEURS.fr"})
    assert again.status_code == 409
    assert again.json()["code"] == "email_taken"


async def test_given_a_wrong_password_then_401_with_a_stable_code(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/auth/register", json=REGISTER)
    wrong = await client.post("/api/v1/auth/token", json={"email": REGISTER["email"], "password": "nope-nope-nope"})
    assert wrong.status_code == 401
    assert wrong.json()["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("change", "code", "field"),
    [
        ({"country": "XX"}, "unknown_country", "country"),
        ({"currency": "ZZZ"}, "unknown_currency", "currency"),
        ({"language": "tlh"}, "unsupported_language", "language"),
        ({"password": "short"}, "weak_password", "password"),
        ({"email": "not-an-email"}, "invalid_request", "email"),
        ({"country": 33}, "invalid_request", "country"),
        ({"display_name": "x" * 5000}, "invalid_request", "display_name"),
    ],
)
async def test_given_bad_registration_input_then_a_clear_error_and_nothing_written(
    client: httpx.AsyncClient, change: dict[str, object], code: str, field: str
) -> None:
    response = await client.post("/api/v1/auth/register", json={**REGISTER, **change})
    assert response.status_code in (400, 422)
    body = response.json()
    assert body["code"] == code
    assert body["field"] == field
    assert (
        await client.post("/api/v1/auth/token", json={"email": REGISTER["email"], "password": PASSWORD})
    ).status_code == 401


async def test_given_malformed_json_then_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


async def test_given_no_or_a_bad_token_then_401(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/v1/me")).status_code == 401
    bad = await client.get("/api/v1/me", headers={"Authorization": "Bearer forged"})
    assert bad.status_code == 401


async def test_given_repeated_wrong_passwords_then_rate_limited(client: httpx.AsyncClient) -> None:
    await client.post("/api/v1/auth/register", json=REGISTER)
    statuses = [
        (
            await client.post("/api/v1/auth/token", json={"email": REGISTER["email"], "password": "wrong-wrong"})
        ).status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429


async def test_given_a_stored_password_then_it_is_an_argon2id_hash(client: httpx.AsyncClient, state) -> None:  # type: ignore[no-untyped-def]
    from passerelle.accounts.service import get_by_email

    await client.post("/api/v1/auth/register", json=REGISTER)
    async with state.db.sessions() as session:
        user = await get_by_email(session, email=REGISTER["email"])
    assert user is not None and user.password_hash.startswith("$argon2id$")
