"""Categories as pages show them: localised names, in tree order for pickers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from passerelle.catalog.models import Category


@dataclass(frozen=True)
class CategoryOption:
    id: int
    slug: str
    name: str
    depth: int
    parent_id: int | None


def category_name(category: Category, language: str) -> str:
    return category.names.get(language) or category.names.get("en") or category.slug


def category_tree(categories: Sequence[Category], language: str) -> list[CategoryOption]:
    """Parents first, each followed by its children (depth-first, keeping `position` order)."""
    children: dict[int | None, list[Category]] = {}
    for category in categories:
        children.setdefault(category.parent_id, []).append(category)
    known = {c.id for c in categories}
    roots = [c for c in categories if c.parent_id is None or c.parent_id not in known]
    ordered: list[CategoryOption] = []
    seen: set[int] = set()

    def walk(category: Category, depth: int) -> None:
        if category.id in seen:  # a cycle in bad data must not hang the page
            return
        seen.add(category.id)
        ordered.append(
            CategoryOption(category.id, category.slug, category_name(category, language), depth, category.parent_id)
        )
        for child in children.get(category.id, []):
            walk(child, depth + 1)

    for root in roots:
        walk(root, 0)
    return ordered
