"""Demo deliveries with traced units: a factory and its line, a production batch, two orders
packed with scanned units, shipped with the sandbox carrier and delivered (carrier events
applied through the tracking service), green packaging types and recycling points."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from passerelle.accounts.models import Role, User
from passerelle.errors import DomainError
from passerelle.logistics.models import PackagingType, Shipment
from passerelle.logistics.service import packaging, recycling, shipments
from passerelle.orders.service import placement
from passerelle.payments import service as payments
from passerelle.payments.providers.base import WebhookEvent
from passerelle.seed import shipping
from passerelle.seed.picks import buyable_skus, owner_of
from passerelle.state import AppState
from passerelle.traceability import service as traceability

POINTS_CSV = Path(__file__).resolve().parent.parent / "logistics" / "data" / "recycling_points_demo.csv"
PACKAGING = [
    ("Carton kraft", "cardboard", True, 180),
    ("Pochette papier", "paper", True, 60),
    ("Enveloppe plastique", "plastic", False, 40),
]


async def seed_traced_deliveries(state: AppState, *, orders: int = 2, buyer_email: str | None = None) -> int:
    """Returns the number of delivered orders made (0 when already there or no catalog).
    The buyer is `buyer_email`'s account, else the first buyer."""
    async with state.db.sessions() as session:
        if (await session.execute(select(func.count()).select_from(Shipment))).scalar_one():
            return 0
        if not (await session.execute(select(func.count()).select_from(PackagingType))).scalar_one():
            for name, material, recyclable, grams in PACKAGING:
                await packaging.add_type(
                    session, merchant_id=None, name=name, material=material, recyclable=recyclable, weight_g=grams
                )
            await recycling.import_csv(session, text=POINTS_CSV.read_text(encoding="utf-8"))
        pick = (await session.execute(buyable_skus(min_stock=5).limit(1))).first()
        who = (
            select(User).where(User.email == buyer_email)
            if buyer_email
            else select(User).where(User.role == Role.buyer)
        )
        buyer = (await session.execute(who.order_by(User.id).limit(1))).scalar_one_or_none()
        await session.commit()
    if pick is None or buyer is None:
        return 0
    sku_id, merchant_id = pick
    made = 0
    for index in range(orders):
        try:
            await _one(state, buyer, sku_id, merchant_id, index)
            made += 1
        except DomainError:
            continue
    return made


async def _one(state: AppState, buyer: User, sku_id: int, merchant_id: int, index: int) -> None:
    secret = state.settings.resolved_secret_key
    now = state.clock.now() - timedelta(days=6 - index)
    async with state.db.sessions() as session:
        buyer = await session.merge(buyer)
        owner = await owner_of(session, merchant_id)
        factories = await traceability.factories(session, merchant_id=merchant_id)
        if factories:
            factory, lines = factories[0]
            line = lines[0]
        else:
            factory = await traceability.add_factory(
                session, merchant_id=merchant_id, name="Atelier Canut", city="Lyon", country="FR"
            )
            line = await traceability.add_line(
                session, merchant_id=merchant_id, factory_id=factory.id, number="3", name="Finition"
            )
        _batch, units = await traceability.record_batch(
            session,
            merchant_id=merchant_id,
            sku_id=sku_id,
            factory_id=factory.id,
            line_id=line.id,
            started_at=now - timedelta(days=20, hours=8),
            ended_at=now - timedelta(days=20),
            materials=[traceability.Material("coton biologique", "IN"), traceability.Material("soie", "FR")],
            unit_count=1,
            secret=secret,
        )
        fx = await state.fx()
        quote = await placement.price(
            session,
            requests=[placement.LineRequest(sku_id, 1)],
            country="FR",
            currency=buyer.currency,
            fx=fx,
            language=buyer.language,
        )
        address = placement.Address(buyer.display_name, f"{3 + index} rue Paul Bert", "Lyon", "69003", "FR")
        done = await placement.place(
            session, buyer=buyer, quote=quote, address=address, now=now, hold_for=timedelta(minutes=15)
        )
        provider = state.payment_providers["sandbox"]
        payment = await payments.open_payment(session, purchase=done.purchase, provider=provider)
        paid = WebhookEvent(
            f"evt_trace_{payment.public_id}",
            "payment.succeeded",
            payment.public_id,
            payment.amount,
            payment.currency,
            f"ch_trace_{index}",
            {"seed": True},
        )
        await payments.apply_webhook(session, provider=provider, event=paid, now=now + timedelta(minutes=1))
        order = done.orders[0]
        for unit in units:
            await traceability.pack_unit(
                session,
                merchant_id=merchant_id,
                order_id=order.id,
                serial=unit.serial,
                now=now + timedelta(hours=2),
                secret=secret,
            )
        kraft = (
            await session.execute(select(PackagingType.id).where(PackagingType.name == PACKAGING[0][0]))
        ).scalar_one()
        await shipping.ship(
            session,
            state,
            owner=owner,
            order_id=order.id,
            at=now + timedelta(hours=3),
            delivered_at=now + timedelta(hours=50),
            parcel=shipments.ParcelSpec(700, 300, 220, 90, kraft),
        )
        await session.commit()
