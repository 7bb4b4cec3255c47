"""Tables of the influencer program. Amounts are integer minor units; rates are basis points."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from passerelle.db.base import Base, UTCDateTime, utcnow


class TierRule(Base):
    """The operator's published entry rules: the best tier whose minimums a creator meets."""

    __tablename__ = "connect_tier_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    tier: Mapped[str] = mapped_column(String(20), unique=True)
    rank: Mapped[int] = mapped_column(Integer)  # higher is better
    min_followers: Mapped[int] = mapped_column(BigInteger, default=0)
    min_posts: Mapped[int] = mapped_column(Integer, default=0)


class Creator(Base):
    __tablename__ = "connect_creators"
    __table_args__ = (Index("ix_connect_creators_status_tier", "status", "tier"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # Null for profiles imported in bulk (no account yet); unique otherwise.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), unique=True)
    handle: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    bio: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default="applied")  # applied | approved | rejected
    tier: Mapped[str] = mapped_column(String(20), default="")
    # [{"network": "instagram", "url": "...", "followers": 1200}]
    channels: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    followers: Mapped[int] = mapped_column(BigInteger, default=0)
    posts: Mapped[int] = mapped_column(Integer, default=0)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Precomputed matching features (see matching.py): one bit per category slug, main country/language.
    category_mask: Mapped[int] = mapped_column(BigInteger, default=0)
    main_country: Mapped[str] = mapped_column(String(2), default="")
    main_language: Mapped[str] = mapped_column(String(8), default="")
    clicks: Mapped[int] = mapped_column(BigInteger, default=0)
    orders: Mapped[int] = mapped_column(BigInteger, default=0)
    iban: Mapped[str] = mapped_column(String(34), default="")
    account_holder: Mapped[str] = mapped_column(String(70), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Campaign(Base):
    __tablename__ = "connect_campaigns"
    __table_args__ = (
        CheckConstraint("default_rate_bp >= 0 AND default_rate_bp <= 5000", name="rate_range"),
        CheckConstraint("sample_stock >= 0", name="sample_stock_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))  # open | targeted | task | sample
    title: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10), default="active")  # active | ended
    currency: Mapped[str] = mapped_column(String(3))
    default_rate_bp: Mapped[int] = mapped_column(Integer, default=0)  # the whole store
    window_days: Mapped[int] = mapped_column(Integer, default=30)
    attribution_mode: Mapped[str] = mapped_column(String(5), default="last")  # last | first
    notice_days: Mapped[int] = mapped_column(Integer, default=30)
    fixed_fee_amount: Mapped[int] = mapped_column(BigInteger, default=0)  # task campaigns
    task: Mapped[str] = mapped_column(String(300), default="")
    sample_sku_id: Mapped[int | None] = mapped_column(ForeignKey("skus.id"))
    # Sample campaigns: samples still to give (taken by a conditional UPDATE at approval) and
    # how many one creator may have (requested or approved) at once.
    sample_stock: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    sample_limit: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignRate(Base):
    """A rate for one product or category of the campaign; changes keep the previous rate so a cut
    reaches existing participants only after the notice period."""

    __tablename__ = "connect_campaign_rates"
    __table_args__ = (UniqueConstraint("campaign_id", "scope", "scope_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("connect_campaigns.id", ondelete="CASCADE"), index=True)
    scope: Mapped[str] = mapped_column(String(10))  # store | category | product
    scope_id: Mapped[int] = mapped_column(Integer, default=0)
    rate_bp: Mapped[int] = mapped_column(Integer)
    previous_rate_bp: Mapped[int | None] = mapped_column(Integer)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class CampaignMember(Base):
    __tablename__ = "connect_campaign_members"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("connect_campaigns.id", ondelete="CASCADE"), primary_key=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(String(10), default="active")  # invited | active | declined | done
    rate_bp: Mapped[int | None] = mapped_column(Integer)  # a targeted collaboration's own rate
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Link(Base):
    __tablename__ = "connect_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("connect_campaigns.id"))
    merchant_id: Mapped[int | None] = mapped_column(Integer)  # None: a live room (any merchant)
    target_kind: Mapped[str] = mapped_column(String(10))  # product | store | room
    target_id: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PromoCode(Base):
    """A creator's personal code: a merchant coupon whose use credits the creator."""

    __tablename__ = "connect_promo_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("connect_campaigns.id"))
    coupon_id: Mapped[int | None] = mapped_column(ForeignKey("coupons.id"), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Click(Base):
    """A counted click (bots, floods and repeats within the dedup window are not stored)."""

    __tablename__ = "connect_clicks"
    __table_args__ = (
        Index("ix_connect_clicks_visitor_at", "visitor", "at"),
        Index("ix_connect_clicks_creator_at", "creator_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    link_id: Mapped[int] = mapped_column(Integer, index=True)
    creator_id: Mapped[int] = mapped_column(Integer)
    campaign_id: Mapped[int | None] = mapped_column(Integer)
    visitor: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int | None] = mapped_column(Integer)
    referrer_host: Mapped[str] = mapped_column(String(100), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Commission(Base):
    __tablename__ = "connect_commissions"
    __table_args__ = (
        UniqueConstraint("order_line_id", "creator_id", "kind"),
        Index("ix_connect_commissions_status_due", "status", "approve_at"),
        CheckConstraint("amount >= 0", name="amount_non_negative"),
        CheckConstraint("reversed_amount >= 0 AND reversed_amount <= amount", name="reversal_within_amount"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10), default="sale")  # sale | task
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    order_line_id: Mapped[int | None] = mapped_column(ForeignKey("order_lines.id"))
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("connect_campaigns.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"), index=True)
    buyer_id: Mapped[int | None] = mapped_column(Integer)
    room_id: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    base_amount: Mapped[int] = mapped_column(BigInteger)
    rate_bp: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(BigInteger)
    reversed_amount: Mapped[int] = mapped_column(BigInteger, default=0)
    # Why this creator is credited: last_click | first_click | promo_code | live_room_host | live_room_cohost | task
    rule: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10))  # pending | held | approved | reversed | paid
    hold_reason: Mapped[str] = mapped_column(String(40), default="")
    # Set when the order is delivered (delivery + return window); null until then: an order
    # never delivered keeps its commissions pending.
    approve_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    payout_id: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayoutBatch(Base):
    __tablename__ = "connect_payout_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | exported
    # manual (operator or CLI) | monthly (the scheduler) | on_demand (one creator's request)
    kind: Mapped[str] = mapped_column(String(10), default="manual", server_default="manual")
    creator_id: Mapped[int | None] = mapped_column(Integer)  # on_demand: the only creator it pays
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PayoutRun(Base):
    """One monthly payout run per period ("2026-12"): the row is the schedule's lock, so however
    many processes start, one message is scheduled and one run pays."""

    __tablename__ = "connect_payout_runs"

    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ran_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    batch_ids: Mapped[list[int]] = mapped_column(JSON, default=list)


class Payout(Base):
    __tablename__ = "connect_payouts"
    __table_args__ = (
        UniqueConstraint("batch_id", "creator_id"),
        CheckConstraint("amount > 0", name="amount_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("connect_payout_batches.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    amount: Mapped[int] = mapped_column(BigInteger)
    iban: Mapped[str] = mapped_column(String(34))
    account_holder: Mapped[str] = mapped_column(String(70))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class FraudFlag(Base):
    __tablename__ = "connect_fraud_flags"
    __table_args__ = (UniqueConstraint("kind", "subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # self_referral | click_flood | refund_abuse | code_leak
    kind: Mapped[str] = mapped_column(String(20))
    subject: Mapped[str] = mapped_column(String(80))  # "order:12", "link:3", "creator:5", "code:ANNA10"
    creator_id: Mapped[int | None] = mapped_column(Integer, index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | cleared | confirmed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SampleRequest(Base):
    """A creator asks a sample campaign for a free sample; the merchant approves (a zero-price
    order with source "sample", shipped through logistics) or declines.

    `slot` numbers a creator's live requests in the campaign (1..sample_limit); the unique key
    makes the per-creator limit hold under concurrent requests. A declined request frees it."""

    __tablename__ = "connect_sample_requests"
    __table_args__ = (
        UniqueConstraint("campaign_id", "creator_id", "slot"),
        Index("ix_connect_sample_requests_merchant_status", "merchant_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("connect_campaigns.id"), index=True)
    creator_id: Mapped[int] = mapped_column(ForeignKey("connect_creators.id"), index=True)
    merchant_id: Mapped[int] = mapped_column(ForeignKey("merchants.id"))
    slot: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="requested")  # requested | approved | declined
    # Where to ship: {"name", "line1", "postal_code", "city", "country"}
    address: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(300), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class EdgeCursor(Base):
    """How far the server has read the edge's click log: updated in the same transaction as the
    clicks read up to there, so a restart neither loses nor counts a line twice."""

    __tablename__ = "connect_edge_cursors"

    source: Mapped[str] = mapped_column(String(40), primary_key=True)
    inode: Mapped[int] = mapped_column(BigInteger, default=0)  # which file: a rotated log is a new inode
    offset: Mapped[int] = mapped_column(BigInteger, default=0)  # bytes of whole lines already ingested
