"""Infrastructure behind small interfaces: clock, rate limits, blob storage."""
