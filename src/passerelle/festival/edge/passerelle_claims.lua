-- The claim route at `passerelle edge` (nginx + lua-nginx-module, one state per worker).
--
-- Each POST /api/v1/deals/{id}/claims is queued here and waits. One flusher per worker hands
-- everything waiting to the server in one POST /api/v1/claims:edge over a kept-alive
-- connection, then answers each buyer with the line the server wrote for them. While one
-- exchange is out, new claims gather for the next, so the batches grow with the load and no
-- claim waits on a timer. The server applies every rule (festival/claims_edge.py); this file
-- only moves bytes.

local cjson = require("cjson.safe")
local semaphore = require("ngx.semaphore")

local M = {}
local find = string.find

local WAIT_SECONDS = 10 -- a buyer's longest wait for the server's answer
local queue_limit = 5000 -- claims waiting in this worker beyond which the edge sheds load (M.start)
local MAX_BODY = 16384 -- as the server's claim route (claims_api.MAX_CLAIM_BODY)
local MAX_ROWS = 2000 -- claims per exchange
local max_bytes = 1000000 -- claims' bytes per exchange (M.start may lower it)
local KEEPALIVE_MS = 2000 -- shorter than the server's keep-alive: the edge closes idle first

local host, port, authorization
local rows, waiters, count = {}, {}, 0
local wake = semaphore.new()

-- What the server's own 429 says, with the buyer's place: the claims waiting before them here.
local BUSY = '{"code":"busy","message":"Many buyers right now; retry in a moment","queue_position":%d}'
local UPSTREAM_FAILED = '{"code":"edge_upstream_failed","message":"The server did not answer; retry with the same Idempotency-Key"}'
local TIMED_OUT = '{"code":"edge_timeout","message":"No answer in time; retry with the same Idempotency-Key"}'
local NOT_ASCII = '{"code":"invalid_request","message":"Headers and body must be printable ASCII"}'
local TOO_LARGE = '{"code":"body_too_large","message":"A claim body is a few bytes"}'

local function answer(status, body, retry_after)
    ngx.status = status
    ngx.header["Content-Type"] = "application/json"
    ngx.header["X-Content-Type-Options"] = "nosniff"
    if retry_after then
        ngx.header["Retry-After"] = retry_after
    end
    ngx.print(body)
    return ngx.exit(status)
end

local function read_answer(sock)
    local line, err = sock:receive("*l")
    if not line then
        return nil, err
    end
    local status = tonumber(line:match("^HTTP/1%.[01] (%d%d%d)"))
    local length, close = nil, false
    while true do
        line, err = sock:receive("*l")
        if not line then
            return nil, err
        end
        if line == "" then
            break
        end
        local name, value = line:match("^([^:]+):%s*(.-)%s*$")
        if name then
            name = name:lower()
            if name == "content-length" then
                length = tonumber(value)
            elseif name == "connection" and value:lower() == "close" then
                close = true
            end
        end
    end
    if not status or not length then
        return nil, "malformed answer"
    end
    local body
    body, err = sock:receive(length)
    if not body then
        return nil, err
    end
    return status, body, close
end

local function exchange(payload)
    local sock = ngx.socket.tcp()
    sock:settimeouts(1000, 10000, WAIT_SECONDS * 1000)
    local ok, err = sock:connect(host, port)
    if not ok then
        return nil, err
    end
    ok, err = sock:send({
        "POST /api/v1/claims:edge HTTP/1.1\r\nHost: passerelle\r\nAuthorization: ", authorization,
        "\r\nContent-Type: application/json\r\nContent-Length: ", #payload, "\r\n\r\n", payload,
    })
    if not ok then
        sock:close()
        return nil, err
    end
    local status, body, close = read_answer(sock)
    if not status then
        sock:close()
        return nil, body
    end
    if close then
        sock:close()
    else
        sock:setkeepalive(KEEPALIVE_MS, 8)
    end
    return status, body
end

local function settle(waiter, status, body, retry_after)
    if waiter.status == nil then
        waiter.status, waiter.body, waiter.retry_after = status, body, retry_after
        waiter.sema:post(1)
    end
end

local function hand_back(list, n, status, body)
    if status == 200 then
        local pos = 1
        for i = 1, n do
            local stop = body:find("\n", pos, true)
            if not stop then
                break
            end
            local first = body:find(" ", pos, true)
            local second = body:find(" ", first + 1, true)
            local retry_after = body:sub(first + 1, second - 1)
            settle(list[i], tonumber(body:sub(pos, first - 1)), body:sub(second + 1, stop - 1),
                retry_after ~= "-" and retry_after or nil)
            pos = stop + 1
        end
    elseif status then
        -- The whole batch was refused (gateway token, engine offline or busy): every buyer
        -- gets the server's answer.
        local retry_after = (status == 429 or status == 503) and "1" or nil
        for i = 1, n do
            settle(list[i], status, body, retry_after)
        end
    end
    for i = 1, n do -- anything left unanswered (no answer, or a short one)
        settle(list[i], 502, UPSTREAM_FAILED)
    end
end

-- The longest run of queued claims that fits one exchange (the server takes 10,000 rows and
-- 4 MiB at most; JSON escaping can double a row's bytes). What is left waits for the next.
local function take()
    local n, size = 0, 0
    while n < count and n < MAX_ROWS do
        local row = rows[n + 1]
        size = size + #row[3] + #row[4] + #row[5] + #row[6] + #row[7] + 64
        if n > 0 and size > max_bytes then
            break
        end
        n = n + 1
    end
    if n == count then
        local batch, list = rows, waiters
        rows, waiters, count = {}, {}, 0
        return batch, list, n
    end
    local batch, list, rest_rows, rest_waiters = {}, {}, {}, {}
    for i = 1, n do
        batch[i], list[i] = rows[i], waiters[i]
    end
    for i = n + 1, count do
        rest_rows[i - n], rest_waiters[i - n] = rows[i], waiters[i]
    end
    rows, waiters, count = rest_rows, rest_waiters, count - n
    return batch, list, n
end

local function flush()
    local batch, list, n = take()
    local ok, failure = pcall(function()
        local payload = cjson.encode({ rows = batch })
        local status, body = exchange(payload)
        if not status then
            ngx.log(ngx.ERR, "passerelle claims: no answer from ", host, ":", port, ": ", body)
        end
        hand_back(list, n, status, body)
    end)
    if not ok then
        ngx.log(ngx.ERR, "passerelle claims: ", failure)
        hand_back(list, n, nil, nil)
    end
end

-- Set when this worker is shutting down (a reload: SIGHUP) and its flusher has left. A claim
-- that still reaches it, on a connection it had kept alive, hands the queue over itself.
local flusher_gone = false

local function flusher(premature)
    while true do
        if count == 0 then
            if premature or ngx.worker.exiting() then
                flusher_gone = true
                return
            end
            wake:wait(0.5)
        end
        if count > 0 then
            flush()
        end
    end
end

function M.start(upstream_host, upstream_port, batch_bytes, most_waiting)
    local loaded, process = pcall(require, "ngx.process")
    if loaded and process.type() ~= "worker" then
        return -- the proxy cache's manager and loader serve no requests
    end
    host, port = upstream_host, upstream_port
    max_bytes = batch_bytes or max_bytes
    queue_limit = most_waiting or queue_limit
    authorization = "Bearer " .. (os.getenv("PASSERELLE_EDGE_GATEWAY_TOKEN") or "")
    local ok, err = ngx.timer.at(0, flusher)
    if not ok then
        ngx.log(ngx.ERR, "passerelle claims: cannot start the flusher: ", err)
    end
end

function M.claim(deal_id)
    if ngx.req.get_method() ~= "POST" then
        return ngx.exec("@passerelle")
    end
    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if body == nil then
        if ngx.req.get_body_file() then
            return answer(413, TOO_LARGE)
        end
        body = ""
    end
    if #body > MAX_BODY then
        return answer(413, TOO_LARGE)
    end
    if count >= queue_limit then
        return answer(429, string.format(BUSY, count), "1")
    end
    local var = ngx.var
    local row = {
        tonumber(deal_id), var.remote_addr, var.http_authorization or "", var.http_cookie or "",
        var.http_x_csrf_token or "", var.http_idempotency_key or "", body,
    }
    -- Printable ASCII only (JSON's white space too in the body): a byte the server's JSON
    -- decoder refuses would fail the whole batch, every other buyer's claim with it.
    for i = 3, 6 do
        if find(row[i], "[^\32-\126]") then
            return answer(422, NOT_ASCII)
        end
    end
    if find(body, "[^\9\10\13\32-\126]") then
        return answer(422, NOT_ASCII)
    end
    local waiter = { sema = semaphore.new() }
    count = count + 1
    rows[count] = row
    waiters[count] = waiter
    if count == 1 then
        wake:post(1)
    end
    while flusher_gone and waiter.status == nil and count > 0 do
        flush()
    end
    if not waiter.sema:wait(WAIT_SECONDS) then
        waiter.status = 504 -- the flusher's late answer is dropped
        return answer(504, TIMED_OUT)
    end
    return answer(waiter.status, waiter.body, waiter.retry_after)
end

return M
