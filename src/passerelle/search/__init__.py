"""Full-text product search: SQLite FTS5 embedded, PostgreSQL full-text at scale."""
