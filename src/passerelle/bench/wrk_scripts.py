"""Lua scripts for wrk: rotate buyers, deals and idempotency keys; print JSON when done."""

from __future__ import annotations

DONE = """
local counts = {}
response = function(status, headers, body)
  local class = math.floor(status / 100)
  counts[class] = (counts[class] or 0) + 1
end
"""

SUMMARY = """
done = function(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format('{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "socket_errors": %d, "status_5xx": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), errors, 0))
end
"""


def claims_script(tokens: list[str], deal_ids: list[int], quantity: int = 1) -> str:
    token_list = ",".join(f'"{t}"' for t in tokens)
    deal_list = ",".join(str(d) for d in deal_ids)
    return (
        f"""
local tokens = {{{token_list}}}
local deals = {{{deal_list}}}
local counter = 0
local thread_tag = "t"
function setup(thread)
  thread:set("thread_tag", "t" .. tostring(math.random(1, 1000000000)))
end
request = function()
  counter = counter + 1
  local token = tokens[(counter % #tokens) + 1]
  local deal = deals[(counter % #deals) + 1]
  return wrk.format("POST", "/api/v1/deals/" .. deal .. "/claims",
    {{["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json",
      ["Idempotency-Key"] = thread_tag .. "-" .. counter}},
    '{{"quantity":{quantity}}}')
end
"""
        + SUMMARY
    )


def noop_script() -> str:
    return (
        """
request = function()
  return wrk.format("POST", "/api/v1/noop", {["Content-Type"] = "application/json"}, '{"quantity":1}')
end
"""
        + SUMMARY
    )


def batch_script(gateway_token: str, deal_ids: list[int], buyers: int, batch: int) -> str:
    deal_list = ",".join(str(d) for d in deal_ids)
    return (
        f"""
local deals = {{{deal_list}}}
local counter = 0
local thread_tag = "g"
function setup(thread)
  thread:set("thread_tag", "g" .. tostring(math.random(1, 1000000000)))
end
request = function()
  local parts = {{}}
  for i = 1, {batch} do
    counter = counter + 1
    parts[i] = string.format('[%d,%d,"%s-%d",1]',
      deals[(counter % #deals) + 1], (counter % {buyers}) + 1, thread_tag, counter)
  end
  return wrk.format("POST", "/api/v1/claims:batch",
    {{["Authorization"] = "Bearer {gateway_token}", ["Content-Type"] = "application/json"}},
    '{{"rows":[' .. table.concat(parts, ",") .. ']}}')
end
"""
        + SUMMARY
    )
