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

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.db.prepared import Prepared, bound
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


# Built once (every paid order posts a sale): building costs about as much as running;
# prepared (db/prepared.py): SQLAlchemy's execution cost many times SQLite's.
_TRANSACTIONS: Table = LedgerTransaction.__table__  # type: ignore[assignment]
_ENTRIES: Table = LedgerEntry.__table__  # type: ignore[assignment]
_ACCOUNTS_TABLE: Table = LedgerAccount.__table__  # type: ignore[assignment]
_POSTED = Prepared(select(_TRANSACTIONS.c.id).where(_TRANSACTIONS.c.reference == bindparam("b_reference")))
_INSERT_TRANSACTION = Prepared(
    insert(_TRANSACTIONS).values(bound("kind", "reference", "order_id", "memo")).returning(_TRANSACTIONS.c.id)
)
_INSERT_ENTRIES = Prepared(insert(_ENTRIES).values(bound("transaction_id", "account_id", "amount", "currency")))
# Every account of a transaction in one query: `code IN` a fixed number of values (a shorter
# list is padded with its last code, which matches nothing more), as a Prepared takes no
# expanding list. A sale names four accounts at most.
_MOST_CODES = 4
_ACCOUNTS = Prepared(
    select(_ACCOUNTS_TABLE.c.code, _ACCOUNTS_TABLE.c.id).where(
        _ACCOUNTS_TABLE.c.code.in_([bindparam(f"code{i}") for i in range(_MOST_CODES)]),
        _ACCOUNTS_TABLE.c.currency == bindparam("b_currency"),
    )
)


async def is_posted(session: AsyncSession, *, reference: str) -> bool:
    """Whether a transaction with this reference was written."""
    return await _POSTED.first(session, {"b_reference": reference}) is not None


async def account_ids(session: AsyncSession, *, codes: list[str], currency: str) -> dict[str, int]:
    """The ids of those accounts that exist, by code."""
    found: dict[str, int] = {}
    for start in range(0, len(codes), _MOST_CODES):
        chunk = codes[start : start + _MOST_CODES]
        params: dict[str, str] = {f"code{i}": chunk[min(i, len(chunk) - 1)] for i in range(_MOST_CODES)}
        params["b_currency"] = currency
        found.update((row.code, row.id) for row in await _ACCOUNTS.rows(session, params))
    return found


def _check_balanced(reference: str, postings: list[Posting]) -> None:
    if sum(p.amount for p in postings) != 0:
        raise DomainError("unbalanced_transaction", f"Ledger transaction {reference} does not balance", status=500)


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
    _check_balanced(reference, postings)
    if await is_posted(session, reference=reference):
        raise Conflict("already_posted", f"Ledger transaction {reference} was already posted")
    inserted = await _INSERT_TRANSACTION.scalar(
        session, {"kind": kind, "reference": reference, "order_id": order_id, "memo": memo[:200]}
    )
    assert inserted is not None
    transaction_id = int(inserted)
    moving = [p for p in postings if p.amount != 0]
    # Every account of the transaction in one query; only a missing one is created.
    accounts = await account_ids(session, codes=sorted({p.account for p in moving}), currency=currency)
    for posting in moving:
        if posting.account not in accounts:
            accounts[posting.account] = await _account(
                session, code=posting.account, currency=currency, merchant_id=posting.merchant_id
            )
    if moving:
        await _INSERT_ENTRIES.run_many(
            session,
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


@dataclass(frozen=True)
class NewTransaction:
    kind: str
    reference: str
    currency: str
    postings: list[Posting]
    order_id: int | None = None
    memo: str = ""


async def post_many(
    session: AsyncSession, transactions: list[NewTransaction], *, accounts: dict[tuple[str, str], int]
) -> None:
    """Write several balanced transactions whose accounts all exist (`accounts`: their ids by
    (code, currency), read beforehand): one INSERT per transaction, one for all the entries.
    A reference already posted fails the whole call on its unique constraint (IntegrityError),
    rather than being looked up first as `post` does."""
    entries: list[dict[str, object]] = []
    for transaction in transactions:
        _check_balanced(transaction.reference, transaction.postings)
        inserted = await _INSERT_TRANSACTION.scalar(
            session,
            {
                "kind": transaction.kind,
                "reference": transaction.reference,
                "order_id": transaction.order_id,
                "memo": transaction.memo[:200],
            },
        )
        assert inserted is not None
        entries += [
            {
                "transaction_id": int(inserted),
                "account_id": accounts[(p.account, transaction.currency)],
                "amount": p.amount,
                "currency": transaction.currency,
            }
            for p in transaction.postings
            if p.amount != 0
        ]
    await _INSERT_ENTRIES.run_many(session, entries)


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
