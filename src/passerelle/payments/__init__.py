"""Payments behind a provider interface; the built-in sandbox PSP; signed webhooks."""
