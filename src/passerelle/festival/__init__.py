"""Festivals (11.11), flash deals, coupons; engine/ is the hot path for deal claims."""
