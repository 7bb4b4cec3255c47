"""Carrier integrations. Adding a real carrier = one module implementing `Carrier`,
listed in `registry.py`."""
