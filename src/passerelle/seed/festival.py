"""A festival running now, with live flash deals, for the demo."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from passerelle.accounts.models import Role, User
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.festival import service as festivals
from passerelle.merchants.models import MemberRole, Merchant, MerchantKind, MerchantMember, MerchantStatus
from passerelle.state import AppState

DEALS = 24


async def ensure_running_festival(state: AppState) -> int:
    """Create an 11.11 festival around now with live deals unless one is running. Returns
    how many deals were armed (0 when a festival was already running)."""
    now = state.clock.now()
    async with state.db.sessions() as session:
        current = await festivals.current_festival(session, now=now)
        if current is not None and current.starts_at <= now:
            return 0
        operator = (await session.execute(select(User).where(User.role == Role.operator).limit(1))).scalar_one_or_none()
        if operator is None:
            return 0
        festival = await festivals.create_festival(
            session,
            actor=operator,
            name="11.11 — Fête des célibataires",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(hours=23),
            time_zone="Europe/Paris",
        )
        rows = (
            await session.execute(
                select(Sku, Merchant, User)
                .join(Product, Product.id == Sku.product_id)
                .join(Merchant, Merchant.id == Product.merchant_id)
                .join(
                    MerchantMember,
                    (MerchantMember.merchant_id == Merchant.id) & (MerchantMember.role == MemberRole.owner),
                )
                .join(User, User.id == MerchantMember.user_id)
                .where(
                    Product.status == ProductStatus.published,
                    Merchant.status == MerchantStatus.approved,
                    Merchant.kind == MerchantKind.brand,
                    Sku.stock >= 6,
                )
                .order_by(Merchant.id, Sku.id)
            )
        ).all()
        # Spread the deals over the brands: a few SKUs of each.
        chosen: list[tuple[Sku, Merchant, User]] = []
        per_merchant: dict[int, int] = {}
        for sku, merchant, owner in rows:
            if per_merchant.get(merchant.id, 0) < 3 and len(chosen) < DEALS:
                per_merchant[merchant.id] = per_merchant.get(merchant.id, 0) + 1
                chosen.append((sku, merchant, owner))
        armed = 0
        for index, (sku, merchant, owner) in enumerate(chosen):
            price = max(100, sku.price_amount * 7 // 10)
            stock = min(50, sku.stock // 2)
            upcoming = index % 6 == 0
            deal = await festivals.create_deal(
                session,
                actor=owner,
                merchant_id=merchant.id,
                festival_id=festival.id,
                sku_id=sku.id,
                price_amount=price,
                stock=stock,
                per_buyer_limit=2,
                # A few start later (the countdown shows) and take presale deposits until then.
                starts_at=now + timedelta(hours=3) if upcoming else now - timedelta(minutes=30),
                ends_at=now + timedelta(hours=20),
                presale=festivals.PresaleTerms(
                    deposit_amount=price // 10,
                    deposit_credit_amount=price // 5,
                    presale_starts_at=now - timedelta(hours=1),
                    balance_due_at=now + timedelta(hours=15),
                    presale_stock=max(1, stock // 2),
                )
                if upcoming
                else None,
            )
            await festivals.arm_deal(session, actor=owner, deal_id=deal.id)
            armed += 1
        await session.commit()
    return armed
