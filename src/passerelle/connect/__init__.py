"""Influencer program ("Connect"): creators, campaigns, tracked links and codes,
attribution, a commission ledger, payouts and fraud rules."""
