"""B2B buyer companies: a company, its VAT number, its members (admins and buyers)."""
