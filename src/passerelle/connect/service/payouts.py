"""Payout batches per currency: every creator owed at least the threshold (with valid bank
details) is paid what the ledger says is owed. Paying a batch again pays nobody twice: one
payout row per (batch, creator) and one ledger reference per payout; and each creator's row is
locked while what they are owed is read and paid, so two batches at once (the monthly run, an
operator, a creator's own request) cannot both pay the same money.

Monthly runs schedule themselves through the outbox: one `connect_payout_runs` row per period
(its primary key is the lock), one `connect.monthly_payouts` message due on the configured day
at midnight in the operator's time zone; the run schedules the next one."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sepaxml  # type: ignore[import-untyped]
from sepaxml import SepaTransfer
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator, Payout, PayoutBatch, PayoutRun
from passerelle.connect.service.ledger import CLEARING, Posting, owed_account, owed_by_creator, post
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.infra import outbox
from passerelle.ledger import service as ledger
from passerelle.ledger.models import LedgerAccount

if TYPE_CHECKING:
    from passerelle.config import Settings

MONTHLY_TOPIC = "connect.monthly_payouts"

SCHEMA = "pain.001.001.03"
XSD_PATH = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"


async def create_batch(
    session: AsyncSession,
    *,
    currency: str,
    threshold: int,
    now: datetime,
    kind: str = "manual",
    creator_id: int | None = None,
) -> PayoutBatch:
    batch = PayoutBatch(currency=currency.upper(), status="open", kind=kind, creator_id=creator_id, created_at=now)
    session.add(batch)
    await session.flush()
    await pay_batch(session, batch_id=batch.id, threshold=threshold, now=now)
    return batch


async def owed_to(session: AsyncSession, *, creator_id: int, currency: str) -> int:
    """What the creator is owed now in `currency` (approved, unpaid)."""
    return -await ledger.balance(session, account=owed_account(creator_id), currency=currency.upper())


async def pay_batch(session: AsyncSession, *, batch_id: int, threshold: int, now: datetime) -> int:
    """Pay, in this batch, each creator owed >= threshold who is not in it yet. Returns the total."""
    batch = await session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound("payout batch")
    already = set((await session.execute(select(Payout.creator_id).where(Payout.batch_id == batch_id))).scalars())
    owed = await owed_by_creator(session, currency=batch.currency)
    candidates = [
        cid
        for cid, amount in owed.items()
        if amount >= max(threshold, 1) and cid not in already and batch.creator_id in (None, cid)
    ]
    creators = {
        c.id: c
        for c in (await session.execute(select(Creator).where(Creator.id.in_(candidates)))).scalars()
        if c.iban and c.account_holder
    }
    total = 0
    for creator_id in sorted(creators):  # id order: concurrent batches lock rows in the same order
        await session.execute(select(Creator.id).where(Creator.id == creator_id).with_for_update())
        amount = await owed_to(session, creator_id=creator_id, currency=batch.currency)  # read under the lock
        if amount < max(threshold, 1):
            continue  # another batch paid it meanwhile
        creator = creators[creator_id]
        payout = Payout(
            batch_id=batch.id,
            creator_id=creator_id,
            currency=batch.currency,
            amount=amount,
            iban=creator.iban,
            account_holder=creator.account_holder,
            created_at=now,
        )
        session.add(payout)
        await session.flush()
        await post(
            session,
            kind="connect_payout",
            reference=f"connect:payout:{batch.id}:{creator_id}",
            currency=batch.currency,
            postings=[Posting(owed_account(creator_id), amount), Posting(CLEARING, -amount)],
            memo=f"payout {payout.id} to creator {creator_id}",
        )
        await session.execute(
            update(Commission)
            .where(
                Commission.creator_id == creator_id,
                Commission.currency == batch.currency,
                Commission.status == "approved",
            )
            .values(status="paid", payout_id=payout.id)
        )
        total += amount
    return total


async def request_payout(
    session: AsyncSession, *, creator: Creator, currency: str, threshold: int, now: datetime
) -> PayoutBatch:
    """A creator asks to be paid now: a batch of one, when they are owed at least the threshold."""
    currency = currency.upper()
    if not (creator.iban and creator.account_holder):
        raise Invalid("no_bank_details", "Add your bank details before asking for a payout", field="iban")
    owed = await owed_to(session, creator_id=creator.id, currency=currency)
    if owed < threshold:
        raise Conflict(
            "below_threshold",
            "You can ask for a payout once you are owed at least the threshold",
            extra={"owed": owed, "threshold": threshold, "currency": currency},
        )
    batch = await create_batch(
        session, currency=currency, threshold=threshold, now=now, kind="on_demand", creator_id=creator.id
    )
    if not await payouts_of(session, batch_id=batch.id):
        raise Conflict("payout_in_progress", "Another payout took this money meanwhile; reload")
    return batch


async def owed_currencies(session: AsyncSession) -> list[str]:
    rows = await session.execute(select(LedgerAccount.currency).where(LedgerAccount.code.like("creator:%")).distinct())
    return sorted(rows.scalars())


def run_time(*, now: datetime, day: int, time_zone: str) -> tuple[str, datetime]:
    """The next monthly run strictly after `now`: ("YYYY-MM", midnight of `day` in the zone, as UTC)."""
    zone = ZoneInfo(time_zone)
    local = now.astimezone(zone)
    year, month = local.year, local.month
    for _ in range(2):
        at = datetime(year, month, day, tzinfo=zone)
        if at > local:
            return f"{year:04d}-{month:02d}", at.astimezone(now.tzinfo)
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise AssertionError("unreachable: next month's run is always ahead")


async def ensure_scheduled(session: AsyncSession, *, now: datetime, day: int, time_zone: str) -> PayoutRun | None:
    """Schedule the next monthly run unless it is already: one row per period, so every process
    may call this at start-up. Returns the run when this call scheduled it."""
    period, due_at = run_time(now=now, day=day, time_zone=time_zone)
    if await session.get(PayoutRun, period) is not None:
        return None
    run = PayoutRun(period=period, due_at=due_at, ran_at=None, batch_ids=[])
    try:
        async with session.begin_nested():
            session.add(run)
    except IntegrityError:
        return None  # another process scheduled it first
    outbox.emit(session, topic=MONTHLY_TOPIC, payload={"period": period}, at=due_at)
    return run


async def run_monthly(session: AsyncSession, *, period: str, now: datetime, threshold: int) -> list[PayoutBatch]:
    """The period's run: one batch per currency with someone to pay. Runs once per period (a
    replayed message finds the run claimed); the batches themselves never pay anyone twice."""
    claimed = await session.execute(
        update(PayoutRun)
        .where(PayoutRun.period == period, PayoutRun.ran_at.is_(None))
        .values(ran_at=now)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount == 0:  # type: ignore[attr-defined]
        return []
    made: list[PayoutBatch] = []
    for currency in await owed_currencies(session):
        batch = await create_batch(session, currency=currency, threshold=threshold, now=now, kind="monthly")
        if await payouts_of(session, batch_id=batch.id):
            made.append(batch)
        else:
            await session.delete(batch)  # nobody to pay in this currency: no empty batch
            await session.flush()
    await session.execute(update(PayoutRun).where(PayoutRun.period == period).values(batch_ids=[b.id for b in made]))
    return made


async def batches(session: AsyncSession, *, limit: int = 100) -> list[tuple[PayoutBatch, int, int]]:
    """Newest batches first, each with its number of payouts and its total."""
    rows = await session.execute(
        select(PayoutBatch, func.count(Payout.id), func.coalesce(func.sum(Payout.amount), 0))
        .outerjoin(Payout, Payout.batch_id == PayoutBatch.id)
        .group_by(PayoutBatch.id)
        .order_by(PayoutBatch.id.desc())
        .limit(limit)
    )
    return [(batch, int(n), int(total)) for batch, n, total in rows.all()]


async def payouts_of(session: AsyncSession, *, batch_id: int) -> list[Payout]:
    rows = await session.execute(select(Payout).where(Payout.batch_id == batch_id).order_by(Payout.id))
    return list(rows.scalars())


def _amount(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def csv_export(payouts: list[Payout]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["payout_id", "creator_id", "account_holder", "iban", "currency", "amount_minor", "amount"])
    for p in payouts:
        writer.writerow([p.id, p.creator_id, p.account_holder, p.iban, p.currency, p.amount, _amount(p.amount)])
    return out.getvalue()


async def batch_sepa_file(session: AsyncSession, *, batch_id: int, settings: Settings, now: datetime) -> bytes:
    """A batch's SEPA file, paid from the operator's account the next day."""
    return sepa_export(
        await payouts_of(session, batch_id=batch_id),
        batch_id=batch_id,
        debtor_name=settings.connect_debtor_name,
        debtor_iban=settings.connect_debtor_iban,
        debtor_bic=settings.connect_debtor_bic,
        execution=(now + timedelta(days=1)).date(),
    )


def sepa_export(
    payouts: list[Payout], *, batch_id: int, debtor_name: str, debtor_iban: str, debtor_bic: str, execution: date
) -> bytes:
    """SEPA credit transfer (pain.001.001.03), validated against the XSD sepaxml ships."""
    if any(p.currency != "EUR" for p in payouts):
        raise Invalid("not_sepa", "SEPA transfers are in euros only")
    transfer = SepaTransfer(
        {"name": debtor_name, "IBAN": debtor_iban, "BIC": debtor_bic, "batch": True, "currency": "EUR"},
        schema=SCHEMA,
    )
    for p in payouts:
        transfer.add_payment(
            {
                "name": p.account_holder,
                "IBAN": p.iban,
                "amount": p.amount,
                "execution_date": execution,
                "description": f"Passerelle creator payout {batch_id}-{p.id}",
                "endtoend_id": f"PSRL{batch_id}X{p.id}",
            }
        )
    xml: bytes = transfer.export(validate=True)
    return xml
