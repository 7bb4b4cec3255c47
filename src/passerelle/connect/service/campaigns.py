"""Merchant campaigns: open rates (store, category, product), targeted collaborations, fixed-fee
tasks, free samples; rate cuts reach existing participants after the notice period."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.catalog.models import Sku
from passerelle.connect import rules
from passerelle.connect.features import CATEGORIES
from passerelle.connect.models import Campaign, CampaignMember, CampaignRate, Commission, Creator
from passerelle.connect.service import ledger
from passerelle.connect.service.ledger import owed_account
from passerelle.errors import Conflict, Invalid, NotFound
from passerelle.merchants import service as merchants

KINDS = frozenset({"open", "targeted", "task", "sample"})
MAX_RATE_BP = 5000


def _check_rate(rate_bp: int) -> int:
    if not 0 <= rate_bp <= MAX_RATE_BP:
        raise Invalid("invalid_rate", "A commission rate is between 0 and 50 %", field="rate_bp")
    return rate_bp


async def create(
    session: AsyncSession,
    *,
    actor: User,
    merchant_id: int,
    kind: str,
    title: str,
    rate_bp: int = 0,
    window_days: int = 30,
    attribution_mode: str = "last",
    notice_days: int = 30,
    fixed_fee_amount: int = 0,
    task: str = "",
    sample_sku_id: int | None = None,
    sample_stock: int = 0,
    sample_limit: int = 1,
    categories: Sequence[str] = (),
    countries: Sequence[str] = (),
    languages: Sequence[str] = (),
) -> Campaign:
    merchant = await merchants.require_staff(session, user=actor, merchant_id=merchant_id)
    if kind not in KINDS:
        raise Invalid("invalid_kind", "Kind is open, targeted, task or sample", field="kind")
    if attribution_mode not in ("last", "first") or not 1 <= window_days <= 90 or not 0 <= notice_days <= 90:
        raise Invalid("invalid_terms", "Window 1-90 days, notice 0-90 days, mode last or first", field="window_days")
    if kind == "task" and fixed_fee_amount <= 0:
        raise Invalid("invalid_fee", "A task pays a positive fixed fee", field="fixed_fee_amount")
    if any(c not in CATEGORIES for c in categories):
        raise Invalid("unknown_category", "Unknown category", field="categories")
    if kind == "sample":
        sku = await session.get(Sku, sample_sku_id) if sample_sku_id else None
        if sku is None or sku.merchant_id != merchant.id:
            raise Invalid("invalid_sample_sku", "A sample campaign sends one of your products", field="sample_sku_id")
        if not (0 <= sample_stock <= 100_000 and 1 <= sample_limit <= 100):
            raise Invalid("invalid_sample_terms", "Samples 0-100000, per creator 1-100", field="sample_stock")
    else:
        sample_sku_id, sample_stock, sample_limit = None, 0, 1
    campaign = Campaign(
        merchant_id=merchant.id,
        kind=kind,
        title=title.strip()[:120] or "Campaign",
        currency=merchant.currency,
        default_rate_bp=_check_rate(rate_bp),
        window_days=window_days,
        attribution_mode=attribution_mode,
        notice_days=notice_days,
        fixed_fee_amount=max(0, fixed_fee_amount),
        task=task.strip()[:300],
        sample_sku_id=sample_sku_id,
        sample_stock=sample_stock,
        sample_limit=sample_limit,
        categories=list(categories),
        countries=[c.upper()[:2] for c in countries],
        languages=[lang.lower()[:8] for lang in languages],
    )
    session.add(campaign)
    await session.flush()
    if kind in ("open", "targeted"):
        session.add(CampaignRate(campaign_id=campaign.id, scope="store", scope_id=0, rate_bp=campaign.default_rate_bp))
        await session.flush()
    return campaign


async def owned(session: AsyncSession, *, actor: User, campaign_id: int) -> Campaign:
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound("campaign")
    await merchants.require_staff(session, user=actor, merchant_id=campaign.merchant_id)
    return campaign


async def set_rate(
    session: AsyncSession, *, actor: User, campaign_id: int, scope: str, scope_id: int, rate_bp: int, now: datetime
) -> CampaignRate:
    """Set the rate of one scope. The previous rate is kept so a cut waits out the notice period."""
    campaign = await owned(session, actor=actor, campaign_id=campaign_id)
    if scope not in rules.SPECIFICITY:
        raise Invalid("invalid_scope", "Scope is store, category or product", field="scope")
    _check_rate(rate_bp)
    found = await session.execute(
        select(CampaignRate).where(
            CampaignRate.campaign_id == campaign.id, CampaignRate.scope == scope, CampaignRate.scope_id == scope_id
        )
    )
    rate = found.scalar_one_or_none()
    if rate is None:
        rate = CampaignRate(campaign_id=campaign.id, scope=scope, scope_id=scope_id, rate_bp=rate_bp, changed_at=now)
        session.add(rate)
    else:
        # The rate members were promised before this change (a cut during a notice keeps the older promise).
        promised = rules.effective_rate(
            _rule(rate), joined_at=0.0, at=now.timestamp(), notice_s=campaign.notice_days * 86400
        )
        rate.previous_rate_bp, rate.rate_bp, rate.changed_at = promised, rate_bp, now
    await session.flush()
    return rate


def _rule(rate: CampaignRate) -> rules.RateRule:
    return rules.RateRule(
        rate.campaign_id, rate.scope, rate.scope_id, rate.rate_bp, rate.previous_rate_bp, rate.changed_at.timestamp()
    )


async def join(session: AsyncSession, *, creator: Creator, campaign_id: int, now: datetime) -> CampaignMember:
    """A creator joins an open campaign (or accepts a targeted invitation). Idempotent."""
    campaign = await session.get(Campaign, campaign_id)
    if campaign is None or campaign.status != "active":
        raise NotFound("campaign")
    member = await session.get(CampaignMember, (campaign_id, creator.id))
    if member is None:
        if campaign.kind == "targeted":
            raise Conflict("invitation_only", "This collaboration is by invitation")
        member = CampaignMember(campaign_id=campaign_id, creator_id=creator.id, status="active", joined_at=now)
        session.add(member)
    elif member.status == "invited":
        await session.execute(
            update(CampaignMember)
            .where(
                CampaignMember.campaign_id == campaign_id,
                CampaignMember.creator_id == creator.id,
                CampaignMember.status == "invited",
            )
            .values(status="active", joined_at=now)
        )
        await session.refresh(member)
    await session.flush()
    return member


async def invite(
    session: AsyncSession,
    *,
    actor: User,
    campaign_id: int,
    creator_ids: Sequence[int],
    rate_bp: int | None,
    now: datetime,
) -> int:
    """Offer chosen creators a targeted collaboration (its own, usually higher, rate)."""
    campaign = await owned(session, actor=actor, campaign_id=campaign_id)
    if rate_bp is not None:
        _check_rate(rate_bp)
    invited = 0
    for creator_id in dict.fromkeys(creator_ids):
        if await session.get(CampaignMember, (campaign.id, creator_id)) is None:
            creator = await session.get(Creator, creator_id)
            if creator is None or creator.status != "approved":
                continue
            session.add(
                CampaignMember(
                    campaign_id=campaign.id, creator_id=creator_id, status="invited", rate_bp=rate_bp, joined_at=now
                )
            )
            invited += 1
    await session.flush()
    return invited


async def rates_for(
    session: AsyncSession, *, merchant_id: int, creator_id: int
) -> tuple[list[rules.RateRule], dict[int, float], dict[int, int], dict[int, Campaign]]:
    """Everything `rules.resolve_rate` needs for one creator selling for one merchant."""
    campaigns = {
        c.id: c
        for c in (
            await session.execute(
                select(Campaign).where(Campaign.merchant_id == merchant_id, Campaign.status == "active")
            )
        ).scalars()
    }
    if not campaigns:
        return [], {}, {}, {}
    members = (
        await session.execute(
            select(CampaignMember).where(
                CampaignMember.campaign_id.in_(list(campaigns)),
                CampaignMember.creator_id == creator_id,
                CampaignMember.status == "active",
            )
        )
    ).scalars()
    joined: dict[int, float] = {}
    targeted: dict[int, int] = {}
    for m in members:
        joined[m.campaign_id] = m.joined_at.timestamp()
        if campaigns[m.campaign_id].kind == "targeted" and m.rate_bp is not None:
            targeted[m.campaign_id] = m.rate_bp
    open_ids = [cid for cid, c in campaigns.items() if c.kind == "open"]
    rates = (await session.execute(select(CampaignRate).where(CampaignRate.campaign_id.in_(open_ids)))).scalars()
    return [_rule(r) for r in rates], joined, targeted, campaigns


async def of_merchant(session: AsyncSession, *, merchant_id: int) -> list[Campaign]:
    rows = await session.execute(
        select(Campaign).where(Campaign.merchant_id == merchant_id).order_by(Campaign.id.desc())
    )
    return list(rows.scalars())


async def complete_task(
    session: AsyncSession, *, actor: User, campaign_id: int, creator_id: int, now: datetime
) -> Commission | None:
    """The merchant confirms a creator did a fixed-fee task: the fee is owed at once (no return
    window). Only the first confirmation pays (conditional move active -> done)."""
    campaign = await owned(session, actor=actor, campaign_id=campaign_id)
    if campaign.kind != "task":
        raise Invalid("not_a_task", "Only task campaigns pay a fixed fee", field="campaign_id")
    moved = await session.execute(
        update(CampaignMember)
        .where(
            CampaignMember.campaign_id == campaign.id,
            CampaignMember.creator_id == creator_id,
            CampaignMember.status == "active",
        )
        .values(status="done")
    )
    if moved.rowcount == 0:  # type: ignore[attr-defined]
        return None
    fee = Commission(
        kind="task",
        creator_id=creator_id,
        campaign_id=campaign.id,
        merchant_id=campaign.merchant_id,
        currency=campaign.currency,
        base_amount=campaign.fixed_fee_amount,
        rate_bp=0,
        amount=campaign.fixed_fee_amount,
        reversed_amount=0,
        rule="task",
        detail={"task": campaign.task},
        status="approved",
        approve_at=now,
        created_at=now,
    )
    session.add(fee)
    await session.flush()
    await ledger.post(
        session,
        kind="connect_task",
        reference=f"connect:task:{campaign.id}:{creator_id}",
        currency=campaign.currency,
        postings=[
            ledger.Posting(ledger.merchant_account(campaign.merchant_id), fee.amount, campaign.merchant_id),
            ledger.Posting(owed_account(creator_id), -fee.amount),
        ],
        memo=f"task fee to creator {creator_id}",
    )
    return fee
