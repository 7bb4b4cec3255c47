"""Live auctions for C2C items: proxy bids, anti-sniping, the winner pays an order."""
