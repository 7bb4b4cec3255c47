"""Outbox consumer of the cart: a declined payment puts the order's items back in the cart,
so the buyer can try another card without shopping again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from passerelle.cart import service
from passerelle.cart.models import CartItem
from passerelle.errors import DomainError
from passerelle.orders.models import Order, OrderLine


async def restore_cart(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        order = await session.get(Order, int(payload["order_id"]))
        if order is None:
            return
        cart = await service.cart_for(session, user_id=order.buyer_id, guest_token=None, create=True)
        assert cart is not None
        lines = (await session.execute(select(OrderLine).where(OrderLine.order_id == order.id))).scalars()
        for line in lines:
            existing = (
                await session.execute(
                    select(CartItem).where(CartItem.cart_id == cart.id, CartItem.sku_id == line.sku_id)
                )
            ).scalar_one_or_none()
            if existing is not None:
                # Idempotent on redelivery: never more than the order had.
                existing.quantity = max(existing.quantity, line.quantity)
                continue
            try:
                await service.add_item(
                    session, cart=cart, sku_id=line.sku_id, quantity=line.quantity, attribution=line.attribution
                )
            except DomainError:
                continue  # off sale since: it stays out
