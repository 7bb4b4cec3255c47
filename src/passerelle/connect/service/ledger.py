"""Creator accounts in the shared double-entry ledger (per currency).

- creator:<id>:pending  commissions earned, inside the return window (credit = owed later)
- creator:<id>          approved commissions, owed now (credit = owed); a payout debits it
A commission moves money out of the merchant's account (merchant:<id>): platform commission,
creator commission and merchant net always add up to what the buyer paid.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.ledger import service as ledger
from passerelle.ledger.models import LedgerAccount, LedgerEntry


def pending_account(creator_id: int) -> str:
    return f"creator:{creator_id}:pending"


def owed_account(creator_id: int) -> str:
    return f"creator:{creator_id}"


async def owed_by_creator(session: AsyncSession, *, currency: str) -> dict[int, int]:
    """Approved, unpaid amounts per creator in `currency` (only creators owed something)."""
    rows = await session.execute(
        select(LedgerAccount.code, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.currency == currency, LedgerAccount.code.like("creator:%"))
        .group_by(LedgerAccount.code)
    )
    owed: dict[int, int] = {}
    for code, total in rows.all():
        parts = code.split(":")
        if len(parts) == 2 and parts[1].isdigit() and -int(total) > 0:
            owed[int(parts[1])] = -int(total)
    return owed


async def balances(session: AsyncSession, *, creator_id: int) -> dict[str, dict[str, int]]:
    """{"pending": {currency: amount}, "owed": {...}} as positive amounts owed to the creator."""
    out: dict[str, dict[str, int]] = {"pending": {}, "owed": {}}
    rows = await session.execute(
        select(LedgerAccount.code, LedgerAccount.currency, func.sum(LedgerEntry.amount))
        .join(LedgerEntry, LedgerEntry.account_id == LedgerAccount.id)
        .where(LedgerAccount.code.in_([pending_account(creator_id), owed_account(creator_id)]))
        .group_by(LedgerAccount.code, LedgerAccount.currency)
    )
    for code, currency, total in rows.all():
        out["pending" if code.endswith(":pending") else "owed"][currency] = -int(total)
    return out


Posting = ledger.Posting
post = ledger.post
merchant_account = ledger.merchant_account
CLEARING = ledger.CLEARING
