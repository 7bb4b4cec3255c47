"""The demo marketplace: categories, FX rates, accounts, merchants, products and images.

Everything goes through the real services (registration, merchant application and
review, product creation, image upload), so the demo obeys the same rules as real data.
The data lives in seed/data/*.json; the products are written from word lists by
seed/products.py. One transaction per merchant keeps the seed fast and restartable:
running it again skips what is already there (merchants are matched by their slug).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from importlib import resources
from typing import Any

import pycountry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts import service as accounts
from passerelle.accounts.models import Role, User
from passerelle.catalog import service as catalog
from passerelle.catalog.models import Category
from passerelle.i18n.fx import import_rates, parse_ecb_csv
from passerelle.merchants import service as merchants
from passerelle.merchants.models import Merchant, MerchantKind
from passerelle.seed.auctions import ensure_open_auctions
from passerelle.seed.connect import ensure_connect_demo
from passerelle.seed.festival import ensure_running_festival
from passerelle.seed.history import seed_order_history
from passerelle.seed.images import placeholder_jpeg
from passerelle.seed.live import ensure_live_rooms
from passerelle.seed.products import Line, generate_line, load
from passerelle.seed.traced import seed_traced_deliveries
from passerelle.slugs import slugify
from passerelle.state import AppState

FX_FILE = "ecb-reference-rates.csv"
KIND_LABELS = {
    MerchantKind.brand: "brand stores",
    MerchantKind.individual: "individual sellers",
    MerchantKind.wholesale: "wholesalers",
}


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str


@dataclass
class SeedReport:
    skipped: bool = False
    reason: str = ""
    users: int = 0
    categories: int = 0
    currencies: int = 0
    merchants: dict[str, int] = field(default_factory=dict)  # created, by kind
    products: int = 0
    images: int = 0
    deals: int = 0
    orders: int = 0
    credited_orders: int = 0  # past orders credited to creators (influencer program)
    seconds: float = 0.0
    logins: list[DemoLogin] = field(default_factory=list)

    def summary(self) -> str:
        """One paragraph for the terminal, with the demo logins."""
        logins = "; ".join(f"{login.role} {login.email}" for login in self.logins)
        password = self.logins[0].password if self.logins else ""
        if self.skipped:
            return (
                f"Demo seed skipped: {self.reason}. Demo logins (password {password!r}), if seeded earlier: {logins}."
            )
        kinds = ", ".join(
            f"{count} {KIND_LABELS[MerchantKind(kind)]}" for kind, count in sorted(self.merchants.items())
        )
        return (
            f"Demo marketplace seeded in {self.seconds:.1f} s: {sum(self.merchants.values())} merchants"
            f" ({kinds or 'none new'}), {self.products} products with {self.images} images,"
            f" {self.categories} new categories, {self.currencies} exchange rates, {self.users} new accounts,"
            f" {self.deals} live festival deals and {self.orders} past orders"
            f" ({self.credited_orders} of them credited to creators)."
            f" Log in with the password {password!r} as: {logins}. See docs/demo.md."
        )


def demo_logins() -> list[DemoLogin]:
    """The accounts worth trying, as docs/demo.md lists them."""
    people = load("accounts.json")
    by_kind = {m["kind"]: m["owner"]["email"] for m in reversed(load("merchants.json"))}
    password = people["password"]
    return [
        DemoLogin("operator", people["operator"]["email"], password),
        *(DemoLogin("buyer", buyer["email"], password) for buyer in people["buyers"][:2]),
        DemoLogin("seller (brand store)", by_kind["brand"], password),
        DemoLogin("seller (wholesaler)", by_kind["wholesale"], password),
        DemoLogin("seller (individual)", by_kind["individual"], password),
        DemoLogin("influencer", people["influencers"][0]["email"], password),
    ]


async def seed_demo_if_empty(state: AppState) -> SeedReport:
    """Seed only a database without accounts, so `passerelle demo` can run it on every start."""
    async with state.db.read_sessions() as session:
        users = await accounts.count_users(session)
    if users:
        reason = f"the database already has {users} account{'s' if users > 1 else ''} (use --force to seed anyway)"
        # The demo's festival runs around the time it was seeded: start a new one when it is over.
        return SeedReport(skipped=True, reason=reason, logins=demo_logins(), deals=await ensure_running_festival(state))
    return await seed_demo(state)


async def seed_demo(state: AppState) -> SeedReport:
    """Load the demo marketplace; parts already present are kept, not duplicated."""
    started = time.perf_counter()
    report = SeedReport(logins=demo_logins())
    people = load("accounts.json")
    async with state.db.sessions() as session:
        report.categories = await _seed_categories(session)
        report.currencies = await _seed_rates(session, base=state.settings.base_currency)
        operator = await _account(session, people["operator"], people["password"], Role.operator, report)
        for buyer in people["buyers"]:
            await _account(session, buyer, people["password"], Role.buyer, report)
        for influencer in people["influencers"]:
            await _account(session, influencer, people["password"], Role.influencer, report)
        await session.commit()
    state.invalidate_fx()
    for spec in load("merchants.json"):
        # One transaction per merchant: a failure leaves whole merchants, never half of one.
        async with state.db.sessions() as session:
            await _seed_merchant(
                session, state=state, spec=spec, operator_id=operator.id, password=people["password"], report=report
            )
            await session.commit()
    report.deals = await ensure_running_festival(state)
    await ensure_open_auctions(state)
    await ensure_live_rooms(state)
    report.orders = await seed_order_history(state)
    report.orders += await seed_traced_deliveries(state)
    # Last: the history step above seeds only a database without orders.
    report.credited_orders = await ensure_connect_demo(state)
    report.orders += report.credited_orders
    report.seconds = time.perf_counter() - started
    return report


async def _seed_categories(session: AsyncSession) -> int:
    created = 0

    async def add(nodes: list[dict[str, Any]], parent_id: int | None) -> None:
        nonlocal created
        for position, node in enumerate(nodes):
            category = (
                await session.execute(select(Category).where(Category.slug == node["slug"]))
            ).scalar_one_or_none()
            if category is None:
                category = Category(slug=node["slug"], names=node["names"], parent_id=parent_id, position=position)
                session.add(category)
                await session.flush()
                created += 1
            await add(node.get("children", []), category.id)

    await add(load("categories.json"), None)
    return created


async def _seed_rates(session: AsyncSession, *, base: str) -> int:
    text = (resources.files("passerelle.i18n") / "data" / FX_FILE).read_text("utf-8")
    as_of, per_euro = parse_ecb_csv(text)
    rates = {"EUR": Decimal(1), **per_euro}
    if base not in rates:
        return 0  # the bundled ECB rates cannot price this base currency: leave the table alone
    # ECB rates are per euro; the table wants them per unit of the configured base currency.
    rebased = {code: rate / rates[base] for code, rate in rates.items()}
    return await import_rates(session, as_of=as_of, rates=rebased, base=base)


async def _account(
    session: AsyncSession, person: dict[str, str], password: str, role: Role, report: SeedReport
) -> User:
    existing = await accounts.get_by_email(session, email=person["email"])
    if existing is not None:
        return existing
    report.users += 1
    return await accounts.register(
        session,
        email=person["email"],
        password=password,
        country=person["country"],
        language=person["language"],
        currency=person["currency"],
        display_name=person["name"],
        role=role,
    )


def _countries(tokens: list[str]) -> list[str]:
    """'@world' = every ISO country, '@eu' = the 27 EU members, else country codes."""
    groups: dict[str, list[str]] = load("common.json")["country_groups"]
    countries: set[str] = set()
    for token in tokens:
        if token == "@world":
            countries.update(c.alpha_2 for c in pycountry.countries)
        elif token.startswith("@"):
            countries.update(groups[token[1:]])
        else:
            countries.add(token)
    return sorted(countries)


async def _seed_merchant(
    session: AsyncSession,
    *,
    state: AppState,
    spec: dict[str, Any],
    operator_id: int,
    password: str,
    report: SeedReport,
) -> None:
    slug = slugify(spec["name"])
    if (await session.execute(select(Merchant.id).where(Merchant.slug == slug))).first() is not None:
        return
    owner = await _account(session, spec["owner"], password, Role.seller, report)
    merchant = await merchants.apply(
        session,
        applicant=owner,
        name=spec["name"],
        kind=MerchantKind(spec["kind"]),
        country=spec["country"],
        ships_to=_countries(spec["ships_to"]),
        currency=spec["currency"],
        description=spec["description"],
    )
    operator = await session.get(User, operator_id)
    assert operator is not None
    await merchants.review(session, operator=operator, merchant_id=merchant.id, approve=True, note="Dossier complet")
    report.merchants[merchant.kind.value] = report.merchants.get(merchant.kind.value, 0) + 1
    taken_titles: set[str] = set()
    number = 1
    for index, raw_line in enumerate(spec["lines"]):
        products = generate_line(
            merchant_code=spec["code"],
            currency=merchant.currency,
            line=Line.from_json(raw_line),
            line_index=index,
            first_number=number,
            taken_titles=taken_titles,
        )
        number += len(products)
        for product_spec in products:
            product = await catalog.create_product_for(session, merchant=merchant, data=product_spec.data)
            photo = placeholder_jpeg(shape=product_spec.shape, colour=product_spec.colour, mark=product_spec.mark)
            alt = product_spec.data.texts["fr"].title
            await catalog.add_image_for(session, product=product, data=photo, storage=state.storage, alt=alt)
            report.products += 1
            report.images += 1
