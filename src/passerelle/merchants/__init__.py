"""Merchants (brand stores, individual sellers, wholesalers), onboarding and staff."""
