"""Search documents: one row per (product, language) holding folded, stemmed tokens.

On SQLite the rows are mirrored into the FTS5 table `search_fts` (created by the
migration); on PostgreSQL the generated `tsv` column with a GIN index does the job.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base


class SearchDocument(Base):
    __tablename__ = "search_documents"

    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    tokens: Mapped[str] = mapped_column(Text)
