"""Creator <-> campaign matching.

Recommended creators come from an in-memory index of every approved creator (columns of
numpy arrays: category bits, main audience country and language, smoothed conversion,
followers), built once from the database and refreshed in the background. A query is a few
vectorised passes over the arrays plus a partial sort: milliseconds for a million creators,
no per-creator Python.
Score = 3 x share of the campaign's categories the creator covers + 2 x audience country fit
+ 1 x language fit + 2 x conversion relative to the best + a follower tie-breaker.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.connect.features import BIT, CATEGORIES, category_mask
from passerelle.connect.models import Campaign, CampaignMember, Creator
from passerelle.db.engine import Database

REFRESH_SECONDS = 600.0
CHUNK = 200_000


@dataclass(frozen=True)
class Match:
    id: int  # a creator's id, or a campaign's for recommended_campaigns
    score: float
    reasons: dict[str, Any]


def conversion(orders: Any, clicks: Any) -> Any:
    """Smoothed so a creator with 1 click and 1 order does not top everyone."""
    return (orders + 1.0) / (clicks + 50.0)


class MatchIndex:
    def __init__(self) -> None:
        self.ids: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.masks: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.countries: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self.languages: npt.NDArray[np.int16] = np.zeros(0, dtype=np.int16)
        self.conv: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self.reach: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self.base: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self.country_codes: dict[str, int] = {}
        self.language_codes: dict[str, int] = {}
        self.built_at = 0.0
        self._building: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return int(self.ids.size)

    @staticmethod
    def _code(table: dict[str, int], value: str) -> int:
        return table.setdefault(value, len(table) + 1)

    async def build(self, db: Database) -> None:
        """Load every approved creator in chunks by id (keyset), then swap the arrays in at once."""
        ids: list[int] = []
        masks: list[int] = []
        countries: list[int] = []
        languages: list[int] = []
        orders: list[int] = []
        clicks: list[int] = []
        followers: list[int] = []
        country_codes: dict[str, int] = {}
        language_codes: dict[str, int] = {}
        last = 0
        async with db.read_sessions() as session:
            while True:
                rows = (
                    await session.execute(
                        select(
                            Creator.id,
                            Creator.category_mask,
                            Creator.main_country,
                            Creator.main_language,
                            Creator.orders,
                            Creator.clicks,
                            Creator.followers,
                        )
                        .where(Creator.id > last, Creator.status == "approved")
                        .order_by(Creator.id)
                        .limit(CHUNK)
                    )
                ).all()
                if not rows:
                    break
                for cid, mask, country, language, n_orders, n_clicks, n_followers in rows:
                    ids.append(cid)
                    masks.append(mask)
                    countries.append(self._code(country_codes, country))
                    languages.append(self._code(language_codes, language))
                    orders.append(n_orders)
                    clicks.append(n_clicks)
                    followers.append(n_followers)
                last = rows[-1][0]
                await asyncio.sleep(0)  # let requests through while a big index builds
        self.ids = np.array(ids, dtype=np.int64)
        self.masks = np.array(masks, dtype=np.int64)
        self.countries = np.array(countries, dtype=np.int16)
        self.languages = np.array(languages, dtype=np.int16)
        self.conv = conversion(np.array(orders, dtype=np.float32), np.array(clicks, dtype=np.float32))
        self.reach = np.log10(np.array(followers, dtype=np.float32) + 10.0).astype(np.float32)
        self._precompute()
        self.country_codes, self.language_codes = country_codes, language_codes
        self.built_at = time.monotonic()

    def _precompute(self) -> None:
        best = float(self.conv.max()) if len(self) else 1.0
        self.base = (2.0 * self.conv / (best or 1.0) + 0.01 * self.reach).astype(np.float32)

    def refresh_if_stale(self, db: Database) -> None:
        if time.monotonic() - self.built_at > REFRESH_SECONDS and (self._building is None or self._building.done()):
            self._building = asyncio.create_task(self.build(db), name="connect-match-index")

    def recommend(
        self, *, categories: list[str], countries: list[str], languages: list[str], limit: int = 20
    ) -> list[Match]:
        if not len(self):
            return []
        wanted = np.int64(category_mask(categories))
        n_wanted = max(1, int(wanted).bit_count())
        # Lookup tables indexed by code: one gather per column instead of a search per creator.
        country_ok = np.zeros(len(self.country_codes) + 1, dtype=np.float32)
        country_ok[[self.country_codes[c] for c in countries if c in self.country_codes]] = 2.0
        language_ok = np.zeros(len(self.language_codes) + 1, dtype=np.float32)
        language_ok[[self.language_codes[x] for x in languages if x in self.language_codes]] = 1.0
        score = np.bitwise_count(self.masks & wanted).astype(np.float32)
        score *= np.float32(3.0 / n_wanted)
        score += country_ok[self.countries]
        score += language_ok[self.languages]
        score += self.base  # conversion and reach, precomputed at build
        k = min(limit, len(self))
        top = np.argpartition(score, len(score) - k)[-k:]
        top = top[np.argsort(-score[top], kind="stable")]
        country_fit = country_ok[self.countries[top]] > 0
        language_fit = language_ok[self.languages[top]] > 0
        names = {v: k for k, v in self.country_codes.items()}
        langs = {v: k for k, v in self.language_codes.items()}
        out = []
        for rank, i in enumerate(top.tolist()):
            shared = [c for c in CATEGORIES if int(self.masks[i]) & BIT[c] and int(wanted) & BIT[c]]
            reasons: dict[str, Any] = {"categories": shared, "conversion_bp": round(float(self.conv[i]) * 10_000)}
            if country_fit[rank]:
                reasons["country"] = names[int(self.countries[i])]
            if language_fit[rank]:
                reasons["language"] = langs[int(self.languages[i])]
            out.append(Match(int(self.ids[i]), round(float(score[i]), 4), reasons))
        return out


async def recommended_creators(
    session: AsyncSession, index: MatchIndex, *, campaign: Campaign, limit: int = 20
) -> list[tuple[Match, str | None]]:
    """The creators whose audience best fits `campaign`, best first, with their handles."""
    found = index.recommend(
        categories=campaign.categories, countries=campaign.countries, languages=campaign.languages, limit=limit
    )
    handles = dict(
        (await session.execute(select(Creator.id, Creator.handle).where(Creator.id.in_([m.id for m in found])))).all()
    )
    return [(match, handles.get(match.id)) for match in found]


async def recommended_campaigns(session: AsyncSession, *, creator: Creator, limit: int = 10) -> list[Match]:
    """Campaigns for a creator to join: few enough (thousands) to score in Python. Campaigns
    the creator already works on (or is done with) are not suggested again."""
    settled = select(CampaignMember.campaign_id).where(
        CampaignMember.creator_id == creator.id, CampaignMember.status.in_(("active", "done"))
    )
    rows = await session.execute(
        select(Campaign)
        .where(
            Campaign.status == "active",
            Campaign.kind.in_(("open", "task", "sample")),
            Campaign.id.not_in(settled),
        )
        .limit(5000)
    )
    mine = set(creator.categories)
    out = []
    for c in rows.scalars():
        shared = [x for x in c.categories if x in mine]
        country = creator.main_country in c.countries
        language = creator.main_language in c.languages
        score = (
            3.0 * len(shared) / max(1, len(c.categories)) + 2.0 * country + 1.0 * language + c.default_rate_bp / 1000
        )
        reasons: dict[str, Any] = {"categories": shared, "rate_bp": c.default_rate_bp}
        if country:
            reasons["country"] = creator.main_country
        if language:
            reasons["language"] = creator.main_language
        out.append(Match(c.id, round(score, 4), reasons))
    out.sort(key=lambda m: (-m.score, m.id))
    return out[:limit]
