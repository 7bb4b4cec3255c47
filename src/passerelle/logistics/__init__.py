"""Shipments, carriers and parcel tracking, returns, green packaging, recycling points."""
