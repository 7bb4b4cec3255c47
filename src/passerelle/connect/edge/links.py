"""The links the edge answers from its map file: all of them at start, then the new ones
(links are only ever added, and never change target)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select

from passerelle.connect.models import Link
from passerelle.db.engine import Database


@dataclass
class LinkMap:
    links: list[tuple[str, str]] = field(default_factory=list)
    last_id: int = 0

    async def refresh(self, db: Database) -> bool:
        """Add the links made since the last call. True if there were any."""
        async with db.read_sessions() as session:
            rows = (
                await session.execute(
                    select(Link.id, Link.code, Link.url).where(Link.id > self.last_id).order_by(Link.id)
                )
            ).all()
        for link_id, code, url in rows:
            self.links.append((code, url))
            self.last_id = link_id
        return bool(rows)


async def all_links(url: str) -> list[tuple[str, str]]:
    """Every (code, target) of the database at `url`: the map an edge starts with."""
    db = Database(url)
    try:
        found = LinkMap()
        await found.refresh(db)
        return found.links
    finally:
        await db.dispose()
