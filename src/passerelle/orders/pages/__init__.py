"""HTML routes for orders: checkout, the buyer's orders, and the merchant console's orders."""

from passerelle.orders.pages.buyer import router as buyer_router
from passerelle.orders.pages.checkout import router as checkout_router
from passerelle.orders.pages.console import console_router

__all__ = ["buyer_router", "checkout_router", "console_router"]
