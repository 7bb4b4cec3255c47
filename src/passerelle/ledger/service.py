"""Posting balanced transactions and reading balances. Never commits.

Accounts (per currency):
- platform:clearing     money received from buyers, held at the payment provider (asset)
- platform:commission   the platform's commission revenue
- merchant:<id>         what the platform owes the merchant (credit balance = owed)
- merchant:<id>:paid    payouts made to the merchant
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.errors import Conflict, DomainError
from passerelle.ledger.models import LedgerAccount, LedgerEntry, LedgerTransaction

CLEARING = "platform:clearing"
COMMISSION = "platform:commission"
PROMOTIONS = "platform:promotions"  # coupons the platform pays for


def merchant_account(merchant_id: int) -> str:
    return f"merchant:{merchant_id}"


def merchant_paid_account(merchant_id: int) -> str:
    return f"merchant:{merchant_id}:paid"


@dataclass(frozen=True)
class Posting:
    account: str
    amount: int  # debit > 0, credit < 0
    merchant_id: int | None = None


async def _account(session: AsyncSession, *, code: str, currency: str, merchant_id: int | None) -> int:
    found = await session.execute(
        select(LedgerAccount.id).where(LedgerAccount.code == code, LedgerAccount.currency == currency)
    )
    account_id = found.scalar_one_or_none()
    if account_id is not None:
        return account_id
    account = LedgerAccount(code=code, currency=currency, merchant_id=merchant_id)
    try:
        async with session.begin_nested():
            session.add(account)
    except IntegrityError:
        # Another transaction created it first.
        return (
            await session.execute(
                select(LedgerAccount.id).where(LedgerAccount.code == code, LedgerAccount.currency == currency)
            )
        ).scalar_one()
    return account.id


# Built once (every paid order posts a sale): building costs about as much as running.
_POSTED = select(LedgerTransaction.id).where(LedgerTransaction.reference == bindparam("reference"))
_INSERT_TRANSACTION = insert(LedgerTransaction).returning(LedgerTransaction.id)
_INSERT_ENTRIES = insert(LedgerEntry)
_ACCOUNTS = select(LedgerAccount.code, LedgerAccount.id).where(
    LedgerAccount.code.in_(bindparam("codes", expanding=True)), LedgerAccount.currency == bindparam("currency")
)


async def post(
    session: AsyncSession,
    *,
    kind: str,
    reference: str,
    currency: str,
    postings: list[Posting],
    order_id: int | None = None,
    memo: str = "",
) -> int:
    """Write one balanced transaction; returns its id. `reference` is unique: posting it
    twice is refused."""
    if sum(p.amount for p in postings) != 0:
        raise DomainError("unbalanced_transaction", f"Ledger transaction {reference} does not balance", status=500)
    exists = await session.execute(_POSTED, {"reference": reference})
    if exists.first() is not None:
        raise Conflict("already_posted", f"Ledger transaction {reference} was already posted")
    inserted = await session.execute(
        _INSERT_TRANSACTION, {"kind": kind, "reference": reference, "order_id": order_id, "memo": memo[:200]}
    )
    transaction_id = int(inserted.scalar_one())
    moving = [p for p in postings if p.amount != 0]
    # Every account of the transaction in one query; only a missing one is created.
    found = await session.execute(_ACCOUNTS, {"codes": sorted({p.account for p in moving}), "currency": currency})
    accounts = {code: account_id for code, account_id in found.all()}
    for posting in moving:
        if posting.account not in accounts:
            accounts[posting.account] = await _account(
                session, code=posting.account, currency=currency, merchant_id=posting.merchant_id
            )
    if moving:
        await session.execute(
            _INSERT_ENTRIES,
            [
                {
                    "transaction_id": transaction_id,
                    "account_id": accounts[p.account],
                    "amount": p.amount,
                    "currency": currency,
                }
                for p in moving
            ],
        )
    return transaction_id


async def balance(session: AsyncSession, *, account: str, currency: str) -> int:
    result = await session.execute(
        select(func.coalesce(func.sum(LedgerEntry.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.code == account, LedgerAccount.currency == currency)
    )
    return int(result.scalar_one())


async def total_of_all_entries(session: AsyncSession) -> dict[str, int]:
    """Per currency, the sum of every entry: always zero in a healthy ledger."""
    rows = await session.execute(
        select(LedgerEntry.currency, func.sum(LedgerEntry.amount)).group_by(LedgerEntry.currency)
    )
    return {currency: int(total) for currency, total in rows.all()}


async def merchant_currencies(session: AsyncSession, *, merchant_id: int) -> list[str]:
    rows = await session.execute(
        select(LedgerAccount.currency)
        .where(LedgerAccount.code == merchant_account(merchant_id))
        .order_by(LedgerAccount.currency)
    )
    return list(rows.scalars())


async def record_payout(session: AsyncSession, *, merchant_id: int, currency: str, reference: str) -> int:
    """Pay the merchant what it is owed in `currency`; returns the amount (0 when nothing is owed)."""
    owed = -await balance(session, account=merchant_account(merchant_id), currency=currency)
    if owed <= 0:
        return 0
    await post(
        session,
        kind="payout",
        reference=reference,
        currency=currency,
        postings=[
            Posting(merchant_account(merchant_id), owed, merchant_id),
            Posting(CLEARING, -owed),
        ],
        memo=f"payout to merchant {merchant_id}",
    )
    return owed


async def merchant_statement_csv(session: AsyncSession, *, merchant_id: int) -> str:
    """Every movement of the merchant's balance, oldest first, with a running balance."""
    rows = await session.execute(
        select(
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            LedgerTransaction.reference,
            LedgerTransaction.order_id,
            LedgerEntry.amount,
            LedgerEntry.currency,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(LedgerAccount.code == merchant_account(merchant_id))
        .order_by(LedgerTransaction.id)
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["date", "kind", "reference", "order_id", "currency", "amount_minor", "balance_owed_minor"])
    running: dict[str, int] = {}
    for created_at, kind, reference, order_id, amount, currency in rows.all():
        # The merchant account is a credit account: what we owe is the negated balance.
        running[currency] = running.get(currency, 0) - amount
        writer.writerow([created_at.isoformat(), kind, reference, order_id or "", currency, -amount, running[currency]])
    return out.getvalue()
