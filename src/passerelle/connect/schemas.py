"""JSON shapes of the influencer program API. Amounts are integer minor units."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

Code2 = Annotated[str, StringConstraints(min_length=2, max_length=2)]
Lang = Annotated[str, StringConstraints(min_length=2, max_length=8)]
Slug = Annotated[str, StringConstraints(min_length=2, max_length=30)]
Rate = Annotated[int, Field(ge=0, le=5000, description="Basis points: 1000 = 10 %")]


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    network: Annotated[str, StringConstraints(max_length=20)]
    url: Annotated[str, StringConstraints(max_length=200)] = ""
    followers: int = Field(ge=0, le=10**10)


class CreatorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    display_name: Annotated[str, StringConstraints(max_length=80)] = ""
    bio: Annotated[str, StringConstraints(max_length=500)] = ""
    channels: list[ChannelIn] = Field(min_length=1, max_length=10)
    posts: int = Field(default=0, ge=0, le=10**7)
    countries: list[Code2] = Field(default_factory=list, max_length=20)
    languages: list[Lang] = Field(default_factory=list, max_length=10)
    categories: list[Slug] = Field(default_factory=list, max_length=10)


class CreatorOut(BaseModel):
    id: int
    handle: str
    display_name: str
    bio: str
    status: str
    tier: str
    followers: int
    channels: list[dict[str, Any]]
    countries: list[str]
    languages: list[str]
    categories: list[str]


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_ids: list[int] = Field(min_length=1, max_length=1000)
    approve: bool


class TierIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tier: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    rank: int = Field(ge=0, le=100)
    min_followers: int = Field(ge=0, le=10**10)
    min_posts: int = Field(ge=0, le=10**7)


class PayoutDetailsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    iban: Annotated[str, StringConstraints(strip_whitespace=True, min_length=15, max_length=42)]
    account_holder: Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=70)]


class LinkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    target_kind: Annotated[str, StringConstraints(max_length=10)]
    target_id: int = Field(ge=1, le=2**62)
    campaign_id: int | None = Field(default=None, ge=1, le=2**62)


class LinkOut(BaseModel):
    id: int
    code: str
    short_url: str
    target_kind: str
    target_id: int
    url: str


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merchant_id: int = Field(ge=1, le=2**62)
    kind: Annotated[str, StringConstraints(max_length=10)]
    title: Annotated[str, StringConstraints(max_length=120)]
    rate_bp: Rate = 0
    window_days: int = Field(default=30, ge=1, le=90)
    attribution_mode: Annotated[str, StringConstraints(max_length=5)] = "last"
    notice_days: int = Field(default=30, ge=0, le=90)
    fixed_fee_amount: int = Field(default=0, ge=0, le=10**10)
    task: Annotated[str, StringConstraints(max_length=300)] = ""
    sample_sku_id: int | None = Field(default=None, ge=1, le=2**62)
    sample_stock: int = Field(default=0, ge=0, le=100_000, description="Samples to give (sample campaigns)")
    sample_limit: int = Field(default=1, ge=1, le=100, description="Samples one creator may ask for")
    categories: list[Slug] = Field(default_factory=list, max_length=10)
    countries: list[Code2] = Field(default_factory=list, max_length=50)
    languages: list[Lang] = Field(default_factory=list, max_length=20)


class CampaignOut(BaseModel):
    id: int
    merchant_id: int
    kind: str
    title: str
    status: str
    currency: str
    rate_bp: int
    window_days: int
    attribution_mode: str
    notice_days: int
    fixed_fee_amount: int
    categories: list[str]
    sample_sku_id: int | None = None
    sample_stock: int = 0
    sample_limit: int = 1


class RateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Annotated[str, StringConstraints(max_length=10)]
    scope_id: int = Field(default=0, ge=0, le=2**62)
    rate_bp: Rate


class InviteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_ids: list[int] = Field(min_length=1, max_length=500)
    rate_bp: Rate | None = None


class PromoCodeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    creator_id: int = Field(ge=1, le=2**62)
    code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=40)]
    discount_amount: int = Field(ge=1, le=10**12)
    min_spend_amount: int = Field(ge=1, le=10**12)
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class MatchOut(BaseModel):
    id: int
    score: float
    reasons: dict[str, Any]
    handle: str | None = None
    title: str | None = None


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)]
    threshold: int = Field(default=5000, ge=1, le=10**12, description="Pay creators owed at least this much")


class PayoutOut(BaseModel):
    id: int
    creator_id: int
    currency: str
    amount: int
    created_at: datetime


class BatchOut(BaseModel):
    id: int
    currency: str
    payouts: list[PayoutOut]
    total: int


class PayoutRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    currency: Annotated[str, StringConstraints(min_length=3, max_length=3)] = "EUR"


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    line1: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20)]
    city: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    country: Code2


class SampleRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    address: AddressIn
    note: Annotated[str, StringConstraints(max_length=300)] = ""


class SampleRequestOut(BaseModel):
    id: int
    campaign_id: int
    campaign_title: str
    creator_id: int
    creator_handle: str
    status: str = Field(description="requested | approved | declined | shipped | delivered")
    order_id: int | None
    created_at: datetime
