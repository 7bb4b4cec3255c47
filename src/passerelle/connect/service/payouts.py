"""Payout batches per currency: every creator owed at least the threshold (with valid bank
details) is paid what the ledger says is owed. Paying a batch again pays nobody twice: one
payout row per (batch, creator) and one ledger reference per payout."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

import sepaxml  # type: ignore[import-untyped]
from sepaxml import SepaTransfer
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.models import Commission, Creator, Payout, PayoutBatch
from passerelle.connect.service.ledger import CLEARING, Posting, owed_account, owed_by_creator, post
from passerelle.errors import Invalid, NotFound

SCHEMA = "pain.001.001.03"
XSD_PATH = Path(sepaxml.__file__).parent / "schemas" / f"{SCHEMA}.xsd"


async def create_batch(session: AsyncSession, *, currency: str, threshold: int, now: datetime) -> PayoutBatch:
    batch = PayoutBatch(currency=currency.upper(), status="open", created_at=now)
    session.add(batch)
    await session.flush()
    await pay_batch(session, batch_id=batch.id, threshold=threshold, now=now)
    return batch


async def pay_batch(session: AsyncSession, *, batch_id: int, threshold: int, now: datetime) -> int:
    """Pay, in this batch, each creator owed >= threshold who is not in it yet. Returns the total."""
    batch = await session.get(PayoutBatch, batch_id)
    if batch is None:
        raise NotFound("payout batch")
    already = set((await session.execute(select(Payout.creator_id).where(Payout.batch_id == batch_id))).scalars())
    owed = await owed_by_creator(session, currency=batch.currency)
    candidates = [cid for cid, amount in owed.items() if amount >= max(threshold, 1) and cid not in already]
    creators = {
        c.id: c
        for c in (await session.execute(select(Creator).where(Creator.id.in_(candidates)))).scalars()
        if c.iban and c.account_holder
    }
    total = 0
    for creator_id in sorted(creators):
        creator, amount = creators[creator_id], owed[creator_id]
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
