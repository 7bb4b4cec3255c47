"""What the demo's past orders may buy (published single-unit SKUs of approved merchants
that ship to France, with enough stock left for the seed's orders), and who sells it."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.models import Product, ProductStatus, Sku
from passerelle.merchants.models import MemberRole, Merchant, MerchantMember, MerchantShipsTo, MerchantStatus


def buyable_skus(*, min_stock: int, country: str = "FR") -> Select[int, int]:
    """(sku id, merchant id), merchant by merchant."""
    return (
        select(Sku.id, Merchant.id)
        .join(Product, Product.id == Sku.product_id)
        .join(Merchant, Merchant.id == Product.merchant_id)
        .join(MerchantShipsTo, (MerchantShipsTo.merchant_id == Merchant.id) & (MerchantShipsTo.country == country))
        .where(
            Product.status == ProductStatus.published,
            Merchant.status == MerchantStatus.approved,
            Sku.stock >= min_stock,
            Product.min_order_quantity == 1,
        )
        .order_by(Merchant.id, Sku.id)
    )


async def owner_of(session: AsyncSession, merchant_id: int) -> User:
    """The merchant's owner: who accepts and ships the demo's orders."""
    found = await session.execute(
        select(User)
        .join(MerchantMember, MerchantMember.user_id == User.id)
        .where(MerchantMember.merchant_id == merchant_id, MerchantMember.role == MemberRole.owner)
    )
    return found.scalar_one()
