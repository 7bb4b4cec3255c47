"""A small, realistic marketplace for page and browser tests, built through the services.

Categories and FX rates have no service of their own yet: they are written as reference
data, the way an operator's import would leave them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from PIL import Image, ImageDraw

from passerelle.accounts.models import Role
from passerelle.catalog import service as catalog
from passerelle.catalog.models import Category
from passerelle.catalog.schemas import ProductIn
from passerelle.i18n import fx
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.state import AppState
from tests.factories import Actor, make_user

RATES = {"USD": Decimal("1.0850"), "GBP": Decimal("0.8450"), "JPY": Decimal("162.50"), "CHF": Decimal("0.9550")}
CATEGORIES = [
    ("beaute", None, {"fr": "Beauté", "en": "Beauty"}),
    ("parfums", "beaute", {"fr": "Parfums", "en": "Perfume"}),
    ("maison", None, {"fr": "Maison", "en": "Home"}),
    ("mode", None, {"fr": "Mode", "en": "Fashion"}),
]


async def add_reference_data(state: AppState) -> None:
    """FX rates (EUR base) and a small category tree."""
    async with state.db.sessions() as session:
        await fx.import_rates(session, as_of=date(2024, 11, 8), rates=dict(RATES), base=state.settings.base_currency)
        ids: dict[str, int] = {}
        for position, (slug, parent, names) in enumerate(CATEGORIES):
            category = Category(slug=slug, parent_id=ids.get(parent or ""), names=names, position=position)
            session.add(category)
            await session.flush()
            ids[slug] = category.id
        await session.commit()
    state.invalidate_fx()


def picture(colour: tuple[int, int, int], accent: tuple[int, int, int], size: int = 480) -> bytes:
    """A simple product-like picture: a soft background and a bottle-ish shape."""
    image = Image.new("RGB", (size, size), colour)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((size * 0.33, size * 0.30, size * 0.67, size * 0.85), radius=size // 14, fill=accent)
    draw.rectangle((size * 0.44, size * 0.18, size * 0.56, size * 0.30), fill=(60, 60, 70))
    draw.ellipse((size * 0.40, size * 0.48, size * 0.60, size * 0.68), fill=(255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


async def add_product(
    state: AppState, merchant: Merchant, payload: dict[str, Any], *, images: Sequence[bytes] = ()
) -> int:
    async with state.db.sessions() as session:
        merchant = await session.merge(merchant)
        product = await catalog.create_product_for(session, merchant=merchant, data=ProductIn(**payload))
        for data in images:
            await catalog.add_image_for(session, product=product, data=data, storage=state.storage)
        await session.commit()
        return product.id


def texts(fr: tuple[str, str] | None = None, en: tuple[str, str] | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    if fr:
        found["fr"] = {"title": fr[0], "description": fr[1]}
    if en:
        found["en"] = {"title": en[0], "description": en[1]}
    return found


async def approved_merchant(
    state: AppState,
    owner: Actor,
    operator: Actor,
    *,
    name: str,
    ships_to: tuple[str, ...],
    kind: MerchantKind = MerchantKind.brand,
    description: str = "",
) -> Merchant:
    """Like tests.factories.make_merchant, with one operator for the whole marketplace."""
    async with state.db.sessions() as session:
        applicant = await session.merge(owner.user)
        merchant = await merchants.apply(
            session,
            applicant=applicant,
            name=name,
            kind=kind,
            country="FR",
            ships_to=list(ships_to),
            currency="EUR",
            description=description,
        )
        reviewer = await session.merge(operator.user)
        await merchants.review(session, operator=reviewer, merchant_id=merchant.id, approve=True)
        await session.commit()
        return merchant


@dataclass
class Marketplace:
    owner: Actor
    wholesaler_owner: Actor
    brand: Merchant
    maker: Merchant
    wholesaler: Merchant
    products: dict[str, int] = field(default_factory=dict)


async def build_marketplace(state: AppState) -> Marketplace:
    await add_reference_data(state)
    owner = await make_user(state)
    wholesaler_owner = await make_user(state)
    operator = await make_user(state, role=Role.operator)
    brand = await approved_merchant(
        state, owner, operator, name="Maison Lumière", ships_to=("FR", "DE", "BE", "US", "GB")
    )
    maker = await approved_merchant(
        state, owner, operator, name="Atelier Sauge", kind=MerchantKind.individual, ships_to=("FR",)
    )
    wholesaler = await approved_merchant(
        state,
        wholesaler_owner,
        operator,
        name="Savonnerie du Midi",
        kind=MerchantKind.wholesale,
        ships_to=("FR", "ES", "IT"),
        description="Savonnerie familiale depuis 1924.\nVente aux professionnels.",
    )
    market = Marketplace(owner, wholesaler_owner, brand, maker, wholesaler)
    market.products["rose"] = await add_product(
        state,
        brand,
        {
            "source_language": "fr",
            "category": "parfums",
            "status": "published",
            "texts": texts(
                fr=(
                    "Eau de parfum Rose de Grasse",
                    "Un parfum floral et lumineux.\nNotes de rose, de litchi et de musc blanc.",
                ),
                en=("Grasse Rose eau de parfum", "A bright floral perfume.\nNotes of rose, lychee and white musk."),
            ),
            "skus": [
                {"code": "ROSE-50", "options": {"size": "50 ml"}, "price_amount": 7900, "stock": 12},
                {"code": "ROSE-100", "options": {"size": "100 ml"}, "price_amount": 11900, "stock": 3},
            ],
        },
        images=[picture((250, 232, 228), (232, 120, 130)), picture((240, 240, 250), (200, 90, 120))],
    )
    market.products["figue"] = await add_product(
        state,
        brand,
        {
            "source_language": "fr",
            "category": "parfums",
            "status": "published",
            "texts": texts(fr=("Parfum d'intérieur Figue", "Une brume pour la maison, verte et lactée.")),
            "skus": [{"code": "FIGUE-1", "options": {}, "price_amount": 3500, "stock": 40}],
        },
        images=[picture((232, 242, 230), (110, 150, 100))],
    )
    market.products["bougie"] = await add_product(
        state,
        maker,
        {
            "source_language": "fr",
            "category": "maison",
            "status": "published",
            "texts": texts(
                fr=("Bougie à la sauge, cire de colza", "Coulée à la main à Lyon."),
                en=("Sage candle, rapeseed wax", "Hand-poured in Lyon."),
            ),
            "skus": [
                {"code": "SAUGE-S", "options": {"size": "S", "colour": "Blanc"}, "price_amount": 1800, "stock": 8},
                {"code": "SAUGE-M", "options": {"size": "M", "colour": "Blanc"}, "price_amount": 2600, "stock": 0},
                {"code": "SAUGE-MV", "options": {"size": "M", "colour": "Vert"}, "price_amount": 2800, "stock": 5},
            ],
        },
        images=[picture((245, 240, 228), (170, 190, 150))],
    )
    market.products["savon"] = await add_product(
        state,
        wholesaler,
        {
            "source_language": "fr",
            "category": "beaute",
            "status": "published",
            "min_order_quantity": 50,
            "texts": texts(
                fr=("Savon de Marseille 300 g, carton", "Savon cuit au chaudron, 72 % d'huiles végétales."),
                en=("Marseille soap 300 g, by the case", "Cauldron-made soap, 72% vegetable oils."),
            ),
            "skus": [
                {
                    "code": "SAVON-300",
                    "options": {},
                    "price_amount": 420,
                    "stock": 5000,
                    "tiers": [{"min_quantity": 200, "unit_amount": 380}, {"min_quantity": 1000, "unit_amount": 340}],
                }
            ],
        },
        images=[picture((236, 230, 214), (214, 196, 150))],
    )
    market.products["draft"] = await add_product(
        state,
        brand,
        {
            "source_language": "fr",
            "status": "draft",
            "texts": texts(fr=("Parfum secret en préparation", "Pas encore en vente.")),
            "skus": [{"code": "SECRET-1", "options": {}, "price_amount": 9900, "stock": 1}],
        },
    )
    return market
