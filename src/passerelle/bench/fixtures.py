"""Marketplace data for benchmarks, written straight through the services."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from passerelle.accounts.models import ApiToken, Role, User
from passerelle.accounts.tokens import token_hash
from passerelle.catalog import service as catalog
from passerelle.catalog.models import Sku
from passerelle.catalog.schemas import ProductIn
from passerelle.db.base import utcnow
from passerelle.merchants import service as merchants
from passerelle.merchants.models import MerchantKind
from passerelle.state import AppState


@dataclass
class BenchCatalog:
    sku_ids: list[int]
    scarce_sku_id: int
    scarce_stock: int


async def make_catalog(
    state: AppState, *, merchants_count: int = 5, products_each: int = 10, scarce_stock: int = 50
) -> BenchCatalog:
    sku_ids: list[int] = []
    async with state.db.sessions() as session:
        operator = User(
            email="bench-op@passerelle.fr",
            password_hash="!",
            display_name="bench",
            role=Role.operator,
            country="FR",
            language="fr",
            currency="EUR",
        )
        session.add(operator)
        await session.flush()
        scarce = 0
        for m in range(merchants_count):
            owner = User(
                email=f"bench-seller{m}@passerelle.fr",
                password_hash="!",
                display_name=f"s{m}",
                role=Role.seller,
                country="FR",
                language="fr",
                currency="EUR",
            )
            session.add(owner)
            await session.flush()
            shop = await merchants.apply(
                session,
                applicant=owner,
                name=f"Bench shop {m}",
                kind=MerchantKind.brand,
                country="FR",
                ships_to=["FR", "DE", "US"],
                currency="EUR",
            )
            await merchants.review(session, operator=operator, merchant_id=shop.id, approve=True)
            for p in range(products_each):
                stock = scarce_stock if (m, p) == (0, 0) else 1_000_000
                product = await catalog.create_product_for(
                    session,
                    merchant=shop,
                    data=ProductIn(
                        source_language="fr",
                        texts={"fr": {"title": f"Article {m}-{p}"}},
                        skus=[{"code": f"B{m}-{p}", "price_amount": 1000 + p * 100, "stock": stock}],
                        status="published",
                    ),
                )
                await session.flush()
                sku_id = (await session.execute(select(Sku.id).where(Sku.product_id == product.id))).scalar_one()
                if (m, p) == (0, 0):
                    scarce = sku_id
                else:
                    sku_ids.append(sku_id)
        await session.commit()
    return BenchCatalog(sku_ids=sku_ids, scarce_sku_id=scarce, scarce_stock=scarce_stock)


async def make_buyers(state: AppState, count: int) -> list[str]:
    """Buyers with API tokens (no password: benchmarks never log in through argon2)."""
    tokens: list[str] = []
    async with state.db.sessions() as session:
        users = [
            User(
                email=f"bench-buyer{i}@passerelle.fr",
                password_hash="!",
                display_name=f"b{i}",
                role=Role.buyer,
                country="FR",
                language="fr",
                currency="EUR",
            )
            for i in range(count)
        ]
        session.add_all(users)
        await session.flush()
        expires = utcnow().replace(year=utcnow().year + 1)
        for user in users:
            token = secrets.token_urlsafe(32)
            tokens.append(token)
            session.add(ApiToken(token_hash=token_hash(token), user_id=user.id, name="bench", expires_at=expires))
        await session.commit()
    return tokens
