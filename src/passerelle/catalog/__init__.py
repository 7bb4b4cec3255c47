"""Products, variants (SKUs), stock, categories, images, multilingual content."""
