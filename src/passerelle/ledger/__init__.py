"""Double-entry ledger: platform commission, merchant balances, payouts."""
