"""passerelle: social-commerce marketplace and shopping-festival engine."""

__version__ = "0.1.0"
