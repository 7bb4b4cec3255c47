"""Factory-to-parcel provenance: factories, production batches, serial units, and
signed hash-chained provenance records per unit."""
