"""The guest cart cookie: a random token; the server keeps only its hash."""

CART_COOKIE = "passerelle_cart"
