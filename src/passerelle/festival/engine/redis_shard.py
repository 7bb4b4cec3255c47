"""The deal shard on Redis, for several API processes sharing the same deals.

Same contract as `Shard`: claims wait in a list, the writer takes everything waiting and
answers once it is durable (Redis with `appendfsync always`). Each batch costs one Lua
call per deal it touches, all pipelined in one round trip; a deal's keys share the hash
tag `{deal:ID}`, so every call stays in one slot and Redis Cluster works.

Reservation ids are `deal_id << 32 | per-deal sequence`, unique across processes.

The cap on open holds per account spans deals, hence slots, so it lives in a per-buyer
sorted set `{buyer:ID}:open` (members: reservation ids or a pending ticket, scored by
when they stop counting). With a cap, a batch costs three pipelined round trips: admit
(take a ticket per claim while under the cap), claim (per deal, told which claims were
admitted), settle tickets (a ticket becomes the reservation id, or is dropped). Entries
expire on their own, so a crash between steps cannot lock a buyer out for longer than
a hold.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import redis.asyncio as aioredis

from passerelle.festival.engine import rules
from passerelle.festival.engine.batcher import ClaimBatcher
from passerelle.festival.engine.rules import Claim, Deal
from passerelle.festival.engine.shard import _CODES, Answer

logger = logging.getLogger(__name__)

CLAIM_SCRIPT = """
local meta = redis.call('HMGET', KEYS[1], 'limit', 'starts', 'ends', 'hold')
if not meta[1] then
  local out = {}
  for i = 1, (#ARGV - 2) / 5 do out[i] = 'unknown_deal' end
  return out
end
local limit, starts, ends, hold = tonumber(meta[1]), tonumber(meta[2]), tonumber(meta[3]), tonumber(meta[4])
local now, deal = tonumber(ARGV[1]), ARGV[2]
local remaining = tonumber(redis.call('GET', KEYS[2]))
local out = {}
local n = 0
for i = 3, #ARGV, 5 do
  n = n + 1
  local buyer, key, qty, fp, admitted = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3], ARGV[i + 4]
  local handle = buyer .. ':' .. key
  local known = redis.call('HGET', KEYS[4], handle)
  if known then
    local sep = string.find(known, ':', 1, true)
    if string.sub(known, 1, sep - 1) == fp then
      local seq = string.sub(known, sep + 1)
      local _, _, expires = string.match(redis.call('HGET', KEYS[6], seq), '([^:]+):([^:]+):([^:]+)')
      out[n] = 'reserved:' .. seq .. ':' .. expires
    else out[n] = 'idempotency_key_reused' end
  elseif remaining < qty then
    if now < starts then out[n] = 'not_started' elseif now >= ends then out[n] = 'ended' else out[n] = 'sold_out' end
  elseif now < starts then out[n] = 'not_started'
  elseif now >= ends then out[n] = 'ended'
  elseif qty <= 0 then out[n] = 'invalid_quantity'
  elseif admitted == '0' then out[n] = 'too_many_reservations'
  else
    local bought = tonumber(redis.call('HGET', KEYS[3], buyer) or '0')
    if bought + qty > limit then out[n] = 'limit_reached'
    else
      remaining = remaining - qty
      redis.call('HINCRBY', KEYS[3], buyer, qty)
      local seq = redis.call('INCR', KEYS[5])
      local expires = now + hold
      redis.call('HSET', KEYS[4], handle, fp .. ':' .. seq)
      redis.call('HSET', KEYS[6], seq, buyer .. ':' .. qty .. ':' .. expires .. ':0')
      redis.call('ZADD', KEYS[7], expires, seq)
      out[n] = 'reserved:' .. seq .. ':' .. expires
    end
  end
end
redis.call('SET', KEYS[2], remaining)
return out
"""

# status: 1 sold, 2 released; only a held (0) reservation changes.
SETTLE_SCRIPT = """
local row = redis.call('HGET', KEYS[3], ARGV[1])
if not row then return 0 end
local buyer, qty, expires, status = string.match(row, '([^:]+):([^:]+):([^:]+):([^:]+)')
if status ~= '0' then return 0 end
redis.call('HSET', KEYS[3], ARGV[1], buyer .. ':' .. qty .. ':' .. expires .. ':' .. ARGV[2])
redis.call('ZREM', KEYS[4], ARGV[1])
if ARGV[2] == '2' then
  redis.call('INCRBY', KEYS[1], qty)
  local left = redis.call('HINCRBY', KEYS[2], buyer, -tonumber(qty))
  if left <= 0 then redis.call('HDEL', KEYS[2], buyer) end
end
return 1
"""


# Take a ticket for each claim of this buyer while the buyer holds fewer than the cap.
# ARGV: now, cap, pending ticket lifetime, then one ticket name per claim. Returns 1/0 each.
ADMIT_SCRIPT = """
local now, cap, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local holding = redis.call('ZCARD', KEYS[1])
local out = {}
for i = 4, #ARGV do
  if holding < cap then
    redis.call('ZADD', KEYS[1], now + ttl, ARGV[i])
    holding = holding + 1
    out[i - 3] = 1
  else
    out[i - 3] = 0
  end
end
return out
"""

# Tickets become reservations (scored by the hold's expiry) or go away. ARGV: triples of
# ticket, reservation id ('' when refused), expiry.
SETTLE_TICKETS_SCRIPT = """
for i = 1, #ARGV, 3 do
  redis.call('ZREM', KEYS[1], ARGV[i])
  if ARGV[i + 1] ~= '' then redis.call('ZADD', KEYS[1], tonumber(ARGV[i + 2]), ARGV[i + 1]) end
end
return 1
"""

PENDING_TICKET_SECONDS = 30


def _buyer_key(buyer_id: int) -> str:
    return f"passerelle:{{buyer:{buyer_id}}}:open"


def _keys(deal_id: int) -> dict[str, str]:
    tag = f"passerelle:{{deal:{deal_id}}}"
    return {
        "meta": f"{tag}:meta",
        "remaining": f"{tag}:remaining",
        "bought": f"{tag}:bought",
        "keys": f"{tag}:keys",
        "seq": f"{tag}:seq",
        "res": f"{tag}:res",
        "exp": f"{tag}:exp",
    }


def reservation_id(deal_id: int, seq: int) -> int:
    return deal_id << 32 | seq


def split_id(reservation: int) -> tuple[int, int]:
    return reservation >> 32, reservation & 0xFFFFFFFF


class RedisShard(ClaimBatcher):
    def __init__(self, url: str, *, clock: Callable[[], float] = time.time, max_open_per_buyer: int = 0) -> None:
        super().__init__(clock=clock, name="deal-shard-writer-redis")
        self.redis = aioredis.from_url(url, decode_responses=True)
        self.max_open_per_buyer = max_open_per_buyer
        self._claim = self.redis.register_script(CLAIM_SCRIPT)
        self._settle = self.redis.register_script(SETTLE_SCRIPT)
        self._admit = self.redis.register_script(ADMIT_SCRIPT)
        self._settle_tickets = self.redis.register_script(SETTLE_TICKETS_SCRIPT)
        self._tickets = 0
        self._ticket_prefix = secrets.token_hex(8)  # tickets of several processes never collide

    async def stop(self) -> None:
        await super().stop()
        await self.redis.aclose()

    async def add_deals(self, deals: list[tuple[Deal, int]]) -> None:
        """Arm deals; a deal already in Redis keeps what was taken (SETNX on the counter)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for deal, stock in deals:
                keys = _keys(deal.deal_id)
                pipe.hset(
                    keys["meta"],
                    mapping={
                        "limit": deal.per_buyer_limit,
                        "starts": deal.starts_at,
                        "ends": deal.ends_at,
                        "hold": deal.hold_seconds,
                        "stock": stock,
                    },
                )
                pipe.setnx(keys["remaining"], stock)
            await pipe.execute()

    async def knows(self, deal_id: int) -> bool:
        return bool(await self.redis.exists(_keys(deal_id)["meta"]))

    async def remaining(self, deal_id: int) -> int:
        return int(await self.redis.get(_keys(deal_id)["remaining"]) or 0)

    async def counts(self, deal_id: int) -> tuple[int, int, int]:
        keys = _keys(deal_id)
        held = sold = 0
        for row in (await self.redis.hgetall(keys["res"])).values():
            _, qty, _, status = str(row).split(":")
            if status == "0":
                held += int(qty)
            elif status == "1":
                sold += int(qty)
        return await self.remaining(deal_id), held, sold

    async def reservation(self, reservation: int) -> tuple[int, int, int, float, int] | None:
        """(deal, buyer, quantity, expires_at, status) of a reservation id."""
        deal_id, seq = split_id(reservation)
        row = await self.redis.hget(_keys(deal_id)["res"], str(seq))
        if row is None:
            return None
        buyer, qty, expires, status = str(row).split(":")
        return deal_id, int(buyer), int(qty), float(expires), int(status)

    async def claim(self, claim: Claim) -> Answer:
        (outcome,) = await self.claim_many([claim])
        return await self.answer_of(outcome)

    async def answer_of(self, outcome: rules.Outcome) -> Answer:
        """An outcome as an answer, with its pay-by time (one read for a reservation)."""
        code, reservation = rules.outcome_pair(outcome)
        if not reservation:
            return _CODES[code]
        found = await self.reservation(reservation)
        return Answer(code, reservation, found[3] if found else 0.0)

    async def _settle_one(self, reservation: int, status: int) -> bool:
        deal_id, seq = split_id(reservation)
        keys = _keys(deal_id)
        found = await self.reservation(reservation) if self.max_open_per_buyer else None
        done = await self._settle(
            keys=[keys["remaining"], keys["bought"], keys["res"], keys["exp"]], args=[seq, status]
        )
        if done and found is not None and self.max_open_per_buyer:
            await self.redis.zrem(_buyer_key(found[1]), str(reservation))  # the hold no longer counts
        return bool(done)

    async def release(self, reservation: int) -> bool:
        return await self._settle_one(reservation, rules.RELEASED)

    async def confirm(self, reservation: int) -> bool:
        return await self._settle_one(reservation, rules.SOLD)

    async def expire_due(self, deal_ids: list[int]) -> list[int]:
        now = self.clock()
        released = []
        for deal_id in deal_ids:
            for seq in list(await self.redis.zrangebyscore(_keys(deal_id)["exp"], "-inf", now)):
                reservation = reservation_id(deal_id, int(str(seq)))
                if await self.release(reservation):
                    released.append(reservation)
        return released

    async def _one_batch(self) -> None:
        batch = self._take_batch()
        started = time.perf_counter()
        flat = [claim for claims, _ in batch for claim in claims]
        by_deal: dict[int, list[int]] = defaultdict(list)
        for index, claim in enumerate(flat):
            by_deal[claim[0]].append(index)
        answers: list[rules.Outcome] = [""] * len(flat)
        hold_ends: dict[int, float] = {}  # claim index -> when its reservation stops holding
        try:
            now = self.clock()
            tickets = await self._take_tickets(flat, now) if self.max_open_per_buyer else None
            async with self.redis.pipeline(transaction=False) as pipe:
                for deal_id, indexes in by_deal.items():
                    keys = _keys(deal_id)
                    args: list[Any] = [now, deal_id]
                    for i in indexes:
                        _, buyer, key, quantity, fingerprint = flat[i]
                        admitted = 1 if tickets is None or tickets[i] else 0
                        args += [buyer, key, quantity, fingerprint, admitted]
                    await self._claim(
                        keys=[
                            keys["meta"],
                            keys["remaining"],
                            keys["bought"],
                            keys["keys"],
                            keys["seq"],
                            keys["res"],
                            keys["exp"],
                        ],
                        args=args,
                        client=pipe,
                    )
                results = await pipe.execute()
        except Exception as error:  # noqa: BLE001 - every claim of the batch learns it failed
            self._fail(batch, error)
            return
        for (deal_id, indexes), outcome in zip(by_deal.items(), results, strict=True):
            for i, code in zip(indexes, outcome, strict=True):
                if code.startswith("reserved:"):
                    seq, expires = code[9:].split(":")
                    answers[i] = reservation_id(deal_id, int(seq))
                    hold_ends[i] = float(expires)
                else:
                    answers[i] = code
        if tickets is not None:
            try:
                await self._settle_ticket_batch(flat, tickets, answers, hold_ends)
            except Exception:  # noqa: BLE001 - the claims stand; pending tickets expire by themselves
                logger.exception("could not settle open-hold tickets")
        self.batch_seconds.append(time.perf_counter() - started)
        self._answer(batch, answers)

    async def _take_tickets(self, flat: list[Claim], now: float) -> list[str]:
        """One ticket per claim whose buyer is under the cap, '' for the others."""
        by_buyer: dict[int, list[int]] = defaultdict(list)
        for index, claim in enumerate(flat):
            by_buyer[claim[1]].append(index)
        names: list[str] = []
        for _ in flat:
            self._tickets += 1
            names.append(f"t:{self._ticket_prefix}:{self._tickets}")
        async with self.redis.pipeline(transaction=False) as pipe:
            for buyer, indexes in by_buyer.items():
                args: list[str | int | float] = [now, self.max_open_per_buyer, PENDING_TICKET_SECONDS]
                args += [names[i] for i in indexes]
                await self._admit(keys=[_buyer_key(buyer)], args=args, client=pipe)
            results = await pipe.execute()
        tickets = [""] * len(flat)
        for indexes, admitted in zip(by_buyer.values(), results, strict=True):
            for i, ok in zip(indexes, admitted, strict=True):
                if ok:
                    tickets[i] = names[i]
        return tickets

    async def _settle_ticket_batch(
        self, flat: list[Claim], tickets: list[str], answers: list[rules.Outcome], hold_ends: dict[int, float]
    ) -> None:
        by_buyer: dict[int, list[Any]] = defaultdict(list)
        for i, ticket in enumerate(tickets):
            if not ticket:
                continue
            held = answers[i]
            by_buyer[flat[i][1]] += [ticket, str(held) if type(held) is int else "", hold_ends.get(i, 0.0)]
        async with self.redis.pipeline(transaction=False) as pipe:
            for buyer, args in by_buyer.items():
                await self._settle_tickets(keys=[_buyer_key(buyer)], args=args, client=pipe)
            await pipe.execute()
