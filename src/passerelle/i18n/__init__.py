"""Languages, message catalogs, country and currency data, FX rates."""
