"""C2C "make an offer": buyer and individual seller haggle over one item; the agreed price is checked out once."""
