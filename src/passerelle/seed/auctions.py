"""Open C2C auctions for the demo: a few individual sellers' items, ending at staggered times."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from passerelle.accounts.models import User
from passerelle.auctions import service as auctions
from passerelle.auctions.models import Auction, AuctionStatus
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.merchants.models import MemberRole, Merchant, MerchantKind, MerchantMember, MerchantStatus
from passerelle.state import AppState

AUCTIONS = 3


async def ensure_open_auctions(state: AppState) -> int:
    """Open auctions after seeding: tops up to `AUCTIONS` open ones. Returns how many are open."""
    now = state.clock.now()
    async with state.db.sessions() as session:
        open_now = len(
            list((await session.execute(select(Auction.id).where(Auction.status == AuctionStatus.open))).scalars())
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
                    Merchant.kind == MerchantKind.individual,
                    Merchant.status == MerchantStatus.approved,
                    Product.status == ProductStatus.published,
                    Sku.stock >= 1,
                )
                .order_by(Sku.id)
                .limit(AUCTIONS - open_now if open_now < AUCTIONS else 0)
            )
        ).all()
        for index, (sku, merchant, owner) in enumerate(rows):
            await auctions.create(
                session,
                actor=owner,
                merchant_id=merchant.id,
                sku_id=sku.id,
                starting_amount=max(100, sku.price_amount // 2 // 100 * 100),
                increment_amount=100 if sku.price_amount < 10_000 else 500,
                starts_at=now - timedelta(minutes=10),
                ends_at=now + timedelta(minutes=30 + 45 * index),
            )
        await session.commit()
    return open_now + len(rows)
