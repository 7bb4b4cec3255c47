"""JSON routes of the influencer program (under /api/v1). Owner checks: a creator sees only their
own data, a merchant's staff only their campaigns, operators the program."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from passerelle.connect import rules
from passerelle.connect.matching import recommended_campaigns, recommended_creators
from passerelle.connect.models import Campaign, Commission, Creator, Link
from passerelle.connect.schemas import (
    BatchIn,
    BatchOut,
    CampaignIn,
    CampaignOut,
    CreatorIn,
    CreatorOut,
    InviteIn,
    LinkIn,
    LinkOut,
    MatchOut,
    PayoutDetailsIn,
    PayoutOut,
    PayoutRequestIn,
    PromoCodeIn,
    RateIn,
    ReviewIn,
    SampleRequestIn,
    SampleRequestOut,
    TierIn,
)
from passerelle.connect.service import campaigns, commissions, creators, fraud, links, payouts, samples, stats
from passerelle.connect.service import review as flag_review
from passerelle.deps import CurrentUser, Operator, Session, State, UnitOfWorkRoute
from passerelle.errors import NotFound
from passerelle.http import PathId
from passerelle.merchants import service as merchants

router = APIRouter(tags=["connect"], route_class=UnitOfWorkRoute)


def creator_out(c: Creator) -> CreatorOut:
    return CreatorOut(
        id=c.id,
        handle=c.handle,
        display_name=c.display_name,
        bio=c.bio,
        status=c.status,
        tier=c.tier,
        followers=c.followers,
        channels=c.channels,
        countries=c.countries,
        languages=c.languages,
        categories=c.categories,
    )


def link_out(link: Link) -> LinkOut:
    return LinkOut(
        id=link.id,
        code=link.code,
        short_url=f"/r/{link.code}",
        target_kind=link.target_kind,
        target_id=link.target_id,
        url=link.url,
    )


def campaign_out(c: Campaign) -> CampaignOut:
    return CampaignOut(
        id=c.id,
        merchant_id=c.merchant_id,
        kind=c.kind,
        title=c.title,
        status=c.status,
        currency=c.currency,
        rate_bp=c.default_rate_bp,
        window_days=c.window_days,
        attribution_mode=c.attribution_mode,
        notice_days=c.notice_days,
        fixed_fee_amount=c.fixed_fee_amount,
        categories=c.categories,
        sample_sku_id=c.sample_sku_id,
        sample_stock=c.sample_stock,
        sample_limit=c.sample_limit,
    )


def sample_out(view: samples.SampleView) -> SampleRequestOut:
    r = view.request
    return SampleRequestOut(
        id=r.id,
        campaign_id=r.campaign_id,
        campaign_title=view.campaign_title,
        creator_id=r.creator_id,
        creator_handle=view.creator_handle,
        status=view.status,
        order_id=r.order_id,
        created_at=r.created_at,
    )


@router.post("/creators", status_code=201, response_model=CreatorOut)
async def apply(body: CreatorIn, session: Session, user: CurrentUser) -> CreatorOut:
    creator = await creators.apply(
        session,
        user=user,
        handle=body.handle,
        display_name=body.display_name,
        bio=body.bio,
        channels=[c.model_dump() for c in body.channels],
        posts=body.posts,
        countries=body.countries,
        languages=body.languages,
        categories=body.categories,
    )
    return creator_out(creator)


@router.get("/creators/me", response_model=CreatorOut)
async def me(session: Session, user: CurrentUser) -> CreatorOut:
    return creator_out(await creators.require_creator(session, user=user, approved=False))


@router.put("/creators/me/payout-details", status_code=204)
async def payout_details(body: PayoutDetailsIn, session: Session, user: CurrentUser) -> Response:
    creator = await creators.require_creator(session, user=user)
    await creators.set_payout_details(session, creator=creator, iban=body.iban, holder=body.account_holder)
    return Response(status_code=204)


@router.get("/creators/by-handle/{handle}", response_model=CreatorOut)
async def public_creator(handle: str, session: Session) -> CreatorOut:
    return creator_out(await creators.by_handle(session, handle=handle[:40]))


@router.get("/creator-tiers", response_model=list[TierIn])
async def published_tiers(session: Session) -> list[TierIn]:
    return [
        TierIn(tier=t.tier, rank=t.rank, min_followers=t.min_followers, min_posts=t.min_posts)
        for t in await creators.tier_rules(session)
    ]


@router.put("/operator/creator-tiers", status_code=204)
async def set_tiers(body: list[TierIn], session: Session, operator: Operator) -> Response:
    await creators.set_tier_rules(
        session, tiers=[rules.Tier(t.tier, t.rank, t.min_followers, t.min_posts) for t in body[:20]]
    )
    return Response(status_code=204)


@router.post("/operator/creators/review")
async def review(body: ReviewIn, session: Session, operator: Operator) -> dict[str, int]:
    return {"moved": await creators.review(session, creator_ids=body.creator_ids, approve=body.approve)}


@router.post("/creators/me/links", status_code=201, response_model=LinkOut)
async def make_link(body: LinkIn, session: Session, user: CurrentUser) -> LinkOut:
    creator = await creators.require_creator(session, user=user)
    link = await links.create_link(
        session, creator=creator, target_kind=body.target_kind, target_id=body.target_id, campaign_id=body.campaign_id
    )
    return link_out(link)


@router.get("/creators/me/links", response_model=list[LinkOut])
async def my_links(session: Session, user: CurrentUser) -> list[LinkOut]:
    creator = await creators.require_creator(session, user=user)
    return [link_out(link) for link in await links.links_of(session, creator_id=creator.id)]


@router.get("/creators/me/dashboard")
async def creator_dashboard(session: Session, user: CurrentUser, state: State) -> dict[str, Any]:
    creator = await creators.require_creator(session, user=user)
    return await stats.creator(session, creator_id=creator.id, now=state.clock.now())


@router.get("/creators/me/recommended-campaigns", response_model=list[MatchOut])
async def my_campaigns(session: Session, user: CurrentUser) -> list[MatchOut]:
    creator = await creators.require_creator(session, user=user)
    found = await recommended_campaigns(session, creator=creator)
    titles = dict(
        (await session.execute(select(Campaign.id, Campaign.title).where(Campaign.id.in_([m.id for m in found])))).all()
    )
    return [MatchOut(id=m.id, score=m.score, reasons=m.reasons, title=titles.get(m.id)) for m in found]


@router.post("/campaigns", status_code=201, response_model=CampaignOut)
async def create_campaign(body: CampaignIn, session: Session, user: CurrentUser) -> CampaignOut:
    fields = body.model_dump(exclude={"merchant_id"})
    campaign = await campaigns.create(session, actor=user, merchant_id=body.merchant_id, **fields)
    return campaign_out(campaign)


@router.get("/merchants/{merchant_id}/campaigns", response_model=list[CampaignOut])
async def merchant_campaigns(merchant_id: PathId, session: Session, user: CurrentUser) -> list[CampaignOut]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return [campaign_out(c) for c in await campaigns.of_merchant(session, merchant_id=merchant_id)]


@router.put("/campaigns/{campaign_id}/rates", status_code=204)
async def set_rate(campaign_id: PathId, body: RateIn, session: Session, user: CurrentUser, state: State) -> Response:
    await campaigns.set_rate(
        session,
        actor=user,
        campaign_id=campaign_id,
        scope=body.scope,
        scope_id=body.scope_id,
        rate_bp=body.rate_bp,
        now=state.clock.now(),
    )
    return Response(status_code=204)


@router.post("/campaigns/{campaign_id}/invitations")
async def invite(
    campaign_id: PathId, body: InviteIn, session: Session, user: CurrentUser, state: State
) -> dict[str, int]:
    invited = await campaigns.invite(
        session,
        actor=user,
        campaign_id=campaign_id,
        creator_ids=body.creator_ids,
        rate_bp=body.rate_bp,
        now=state.clock.now(),
    )
    return {"invited": invited}


@router.post("/campaigns/{campaign_id}/join", status_code=204)
async def join(campaign_id: PathId, session: Session, user: CurrentUser, state: State) -> Response:
    creator = await creators.require_creator(session, user=user)
    await campaigns.join(session, creator=creator, campaign_id=campaign_id, now=state.clock.now())
    return Response(status_code=204)


@router.post("/campaigns/{campaign_id}/tasks/{creator_id}/done")
async def task_done(
    campaign_id: PathId, creator_id: PathId, session: Session, user: CurrentUser, state: State
) -> dict[str, Any]:
    fee = await campaigns.complete_task(
        session, actor=user, campaign_id=campaign_id, creator_id=creator_id, now=state.clock.now()
    )
    return {"paid": fee is not None, "amount": fee.amount if fee is not None else 0}


@router.post("/campaigns/{campaign_id}/promo-codes", status_code=201)
async def promo_code(campaign_id: PathId, body: PromoCodeIn, session: Session, user: CurrentUser) -> dict[str, Any]:
    promo = await links.create_promo_code(
        session,
        actor=user,
        campaign_id=campaign_id,
        creator_id=body.creator_id,
        code=body.code,
        discount_amount=body.discount_amount,
        min_spend_amount=body.min_spend_amount,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
    )
    return {"id": promo.id, "code": promo.code, "creator_id": promo.creator_id}


@router.get("/campaigns/{campaign_id}/recommended-creators", response_model=list[MatchOut])
async def campaign_recommended_creators(
    campaign_id: PathId, session: Session, user: CurrentUser, state: State
) -> list[MatchOut]:
    campaign = await campaigns.owned(session, actor=user, campaign_id=campaign_id)
    found = await recommended_creators(session, await state.connect.index(), campaign=campaign)
    return [MatchOut(id=m.id, score=m.score, reasons=m.reasons, handle=handle) for m, handle in found]


@router.get("/merchants/{merchant_id}/connect/dashboard")
async def merchant_dashboard(merchant_id: PathId, session: Session, user: CurrentUser) -> dict[str, Any]:
    await merchants.require_staff(session, user=user, merchant_id=merchant_id)
    return await stats.merchant(session, merchant_id=merchant_id)


@router.get("/operator/connect/dashboard")
async def operator_dashboard(session: Session, operator: Operator) -> dict[str, Any]:
    return await stats.operator(session)


@router.get("/operator/connect/flags")
async def flags(session: Session, operator: Operator) -> list[dict[str, Any]]:
    return [
        {"id": f.id, "kind": f.kind, "subject": f.subject, "creator_id": f.creator_id, "detail": f.detail}
        for f in await fraud.open_flags(session)
    ]


@router.post("/operator/connect/flags/{flag_id}/clear")
async def clear_flag(flag_id: PathId, session: Session, operator: Operator, state: State) -> dict[str, int]:
    """A false alarm: the flag closes and the commissions it held are released."""
    return {"released": await flag_review.resolve_flag(session, flag_id=flag_id, confirm=False, now=state.clock.now())}


@router.post("/operator/connect/flags/{flag_id}/confirm")
async def confirm_flag(flag_id: PathId, session: Session, operator: Operator, state: State) -> dict[str, int]:
    """Fraud confirmed: the flag closes and the commissions it held go back to the merchant."""
    return {"voided": await flag_review.resolve_flag(session, flag_id=flag_id, confirm=True, now=state.clock.now())}


@router.post("/operator/connect/commissions/{commission_id}/void")
async def void_commission(commission_id: PathId, session: Session, operator: Operator) -> dict[str, int]:
    return {"reversed": await commissions.void_held(session, commission_id=commission_id)}


@router.post("/operator/connect/commissions/{commission_id}/release")
async def release(commission_id: PathId, session: Session, operator: Operator, state: State) -> dict[str, bool]:
    if await session.get(Commission, commission_id) is None:
        raise NotFound("commission")
    return {"released": await commissions.release(session, commission_id=commission_id, now=state.clock.now())}


async def _batch_out(session: Session, batch_id: int, currency: str) -> BatchOut:
    rows = await payouts.payouts_of(session, batch_id=batch_id)
    items = [
        PayoutOut(id=p.id, creator_id=p.creator_id, currency=p.currency, amount=p.amount, created_at=p.created_at)
        for p in rows
    ]
    return BatchOut(id=batch_id, currency=currency, payouts=items, total=sum(p.amount for p in rows))


@router.post("/operator/payout-batches", status_code=201, response_model=BatchOut)
async def create_batch(body: BatchIn, session: Session, operator: Operator, state: State) -> BatchOut:
    batch = await payouts.create_batch(session, currency=body.currency, threshold=body.threshold, now=state.clock.now())
    return await _batch_out(session, batch.id, batch.currency)


@router.post("/creators/me/payouts", status_code=201, response_model=BatchOut)
async def request_payout(body: PayoutRequestIn, session: Session, user: CurrentUser, state: State) -> BatchOut:
    """On demand: pay me now what I am owed, if it is at least the program's threshold."""
    creator = await creators.require_creator(session, user=user)
    batch = await payouts.request_payout(
        session,
        creator=creator,
        currency=body.currency,
        threshold=state.settings.connect_payout_threshold,
        now=state.clock.now(),
    )
    return await _batch_out(session, batch.id, batch.currency)


@router.post("/campaigns/{campaign_id}/samples", status_code=201, response_model=SampleRequestOut)
async def request_sample(
    campaign_id: PathId, body: SampleRequestIn, session: Session, user: CurrentUser, state: State
) -> SampleRequestOut:
    creator = await creators.require_creator(session, user=user)
    made = await samples.request_sample(
        session,
        creator=creator,
        campaign_id=campaign_id,
        address=body.address.model_dump(),
        note=body.note,
        now=state.clock.now(),
    )
    return sample_out(await samples.view_of(session, request_id=made.id))


@router.get("/creators/me/samples", response_model=list[SampleRequestOut])
async def my_samples(session: Session, user: CurrentUser) -> list[SampleRequestOut]:
    creator = await creators.require_creator(session, user=user, approved=False)
    return [sample_out(v) for v in await samples.of_creator(session, creator_id=creator.id)]


@router.get("/merchants/{merchant_id}/sample-requests", response_model=list[SampleRequestOut])
async def merchant_samples(merchant_id: PathId, session: Session, user: CurrentUser) -> list[SampleRequestOut]:
    return [sample_out(v) for v in await samples.of_merchant(session, actor=user, merchant_id=merchant_id)]


@router.post("/sample-requests/{request_id}/approve", response_model=SampleRequestOut)
async def approve_sample(request_id: PathId, session: Session, user: CurrentUser, state: State) -> SampleRequestOut:
    made = await samples.approve(session, actor=user, request_id=request_id, now=state.clock.now())
    return sample_out(await samples.view_of(session, request_id=made.id))


@router.post("/sample-requests/{request_id}/decline", response_model=SampleRequestOut)
async def decline_sample(request_id: PathId, session: Session, user: CurrentUser, state: State) -> SampleRequestOut:
    made = await samples.decline(session, actor=user, request_id=request_id, now=state.clock.now())
    return sample_out(await samples.view_of(session, request_id=made.id))


@router.post("/operator/payout-batches/{batch_id}/run", response_model=BatchOut)
async def rerun_batch(batch_id: PathId, body: BatchIn, session: Session, operator: Operator, state: State) -> BatchOut:
    await payouts.pay_batch(session, batch_id=batch_id, threshold=body.threshold, now=state.clock.now())
    return await _batch_out(session, batch_id, body.currency.upper())


@router.get("/operator/payout-batches/{batch_id}/sepa.xml")
async def sepa(batch_id: PathId, session: Session, operator: Operator, state: State) -> Response:
    xml = await payouts.batch_sepa_file(session, batch_id=batch_id, settings=state.settings, now=state.clock.now())
    return Response(
        xml,
        media_type="application/xml",
        headers={"content-disposition": f"attachment; filename=payouts-{batch_id}.xml"},
    )


@router.get("/operator/payout-batches/{batch_id}/payouts.csv")
async def payouts_csv(batch_id: PathId, session: Session, operator: Operator) -> Response:
    body = payouts.csv_export(await payouts.payouts_of(session, batch_id=batch_id))
    return Response(
        body, media_type="text/csv", headers={"content-disposition": f"attachment; filename=payouts-{batch_id}.csv"}
    )
