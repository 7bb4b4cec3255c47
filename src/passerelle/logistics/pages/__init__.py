"""Logistics pages: the buyer's tracking page and returns, the seller's shipping and logistics console."""

from passerelle.logistics.pages.buyer import router as buyer_router
from passerelle.logistics.pages.console import console_router

__all__ = ["buyer_router", "console_router"]
