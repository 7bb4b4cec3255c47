"""Request for quote: a buyer asks a wholesaler to price quantities; an accepted answer becomes an order."""
