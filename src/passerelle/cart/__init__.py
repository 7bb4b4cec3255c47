"""Cross-merchant carts: guest carts by cookie, merged into the account at login."""
