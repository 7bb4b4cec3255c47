"""Build the people and things tests need, through the real services."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role, User
from passerelle.catalog import service as catalog
from passerelle.catalog.schemas import ProductIn
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.state import AppState

PASSWORD = "correct horse battery"
_n = itertools.count(1)


@dataclass
class Actor:
    user: User
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_user(
    state: AppState, *, role: Role = Role.buyer, country: str = "FR", language: str = "fr", currency: str = "EUR"
) -> Actor:
    async with state.db.sessions() as session:
        user = await accounts.register(
            session,
            email=f"user{next(_n)}@acheteurs.fr",
            password=PASSWORD,
            country=country,
            language=language,
            currency=currency,
            role=role,
        )
        token = await accounts.issue_api_token(session, user=user, days=1)
        await session.commit()
    return Actor(user, token)


async def make_merchant(
    state: AppState,
    owner: Actor,
    *,
    kind: MerchantKind = MerchantKind.brand,
    approved: bool = True,
    name: str | None = None,
    ships_to: tuple[str, ...] = ("FR", "DE", "US"),
    currency: str = "EUR",
) -> Merchant:
    async with state.db.sessions() as session:
        user = await session.merge(owner.user)
        merchant = await merchants.apply(
            session,
            applicant=user,
            name=name or f"Maison {next(_n)}",
            kind=kind,
            country="FR",
            ships_to=list(ships_to),
            currency=currency,
        )
        if approved:
            operator = await make_operator_in(session)
            await merchants.review(session, operator=operator, merchant_id=merchant.id, approve=True)
        await session.commit()
        return merchant


async def make_operator_in(session: Any) -> User:
    return await accounts.register(
        session,
        email=f"op{next(_n)}@acheteurs.fr",
        password=PASSWORD,
        country="FR",
        language="fr",
        currency="EUR",
        role=Role.operator,
    )


def product_payload(
    *,
    title_fr: str = "Eau de parfum Rose",
    title_en: str | None = "Rose eau de parfum",
    price: int = 4900,
    stock: int = 10,
    code: str | None = None,
    status: str = "published",
    **extra: Any,
) -> dict[str, Any]:
    texts: dict[str, Any] = {"fr": {"title": title_fr, "description": f"{title_fr}, fait en France."}}
    if title_en:
        texts["en"] = {"title": title_en, "description": f"{title_en}, made in France."}
    payload: dict[str, Any] = {
        "source_language": "fr",
        "texts": texts,
        "skus": [{"code": code or f"SKU-{next(_n)}", "options": {}, "price_amount": price, "stock": stock}],
        "status": status,
    }
    payload.update(extra)
    return payload


async def make_product(state: AppState, merchant: Merchant, **kwargs: Any) -> int:
    async with state.db.sessions() as session:
        merchant = await session.merge(merchant)
        product = await catalog.create_product_for(
            session, merchant=merchant, data=ProductIn(**product_payload(**kwargs))
        )
        await session.commit()
        return product.id


async def api_json(response: httpx.Response, status: int) -> Any:
    assert response.status_code == status, response.text
    return response.json()
