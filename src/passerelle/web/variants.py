"""The variant picker of a product page: option groups and which SKU a choice selects."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from passerelle.catalog.schemas import SkuOut

OPTION_PREFIX = "o."


@dataclass(frozen=True)
class OptionGroup:
    name: str
    values: list[str]


def option_groups(skus: Sequence[SkuOut]) -> list[OptionGroup]:
    """Option names in order of first appearance, each with its distinct values."""
    groups: dict[str, list[str]] = {}
    for sku in skus:
        for name, value in sku.options.items():
            values = groups.setdefault(str(name), [])
            if str(value) not in values:
                values.append(str(value))
    return [OptionGroup(name, values) for name, values in groups.items()]


def choose_sku(skus: Sequence[SkuOut], params: Mapping[str, str]) -> SkuOut | None:
    """?sku=<id>, else the first SKU matching the chosen options (?o.size=M), else the first in stock."""
    if not skus:
        return None
    wanted_id = params.get("sku", "")
    if wanted_id.isdigit():
        for sku in skus:
            if sku.id == int(wanted_id):
                return sku
    chosen = {k[len(OPTION_PREFIX) :]: v for k, v in params.items() if k.startswith(OPTION_PREFIX)}
    if chosen:
        for sku in skus:
            if all(str(sku.options.get(name)) == value for name, value in chosen.items()):
                return sku
    return next((sku for sku in skus if sku.stock > 0), skus[0])
