"""Checkout, purchases split into one order per merchant, lifecycle, refunds, reservations."""
