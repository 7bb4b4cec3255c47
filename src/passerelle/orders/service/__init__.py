"""Order services, one module per concern: placement, lifecycle, payment outcomes, refunds, expiry."""
