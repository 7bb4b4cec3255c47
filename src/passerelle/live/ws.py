"""The room's WebSocket: viewers receive frames (JSON arrays of events) and send commands.

Client -> server, one JSON object per message:
  {"type": "message", "text": "..."}          post to the chat (logged-in viewers)
  {"type": "react", "kind": "heart"}          a reaction (counted, sent out once a second)
  {"type": "mute" | "ban", "user_id": 12}     moderators only
  {"type": "caption_language", "lang": "es"}  captions and chat translations wanted (live/captions.py)
Server -> client: frames such as [{"type": "history", "messages": [...]}, ...]; see hub.py.

Guests (no session cookie, no bearer token) watch and react but may not post. A cookie
counts only when the handshake comes from this site (Origin check), so another site cannot
open a socket as the visitor.
"""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

import orjson
from fastapi import WebSocket, WebSocketDisconnect

from passerelle.accounts import service as accounts
from passerelle.accounts.models import User
from passerelle.deps import SESSION_COOKIE
from passerelle.infra.ratelimit import MemoryTokenBucket
from passerelle.live.captions import live_captions
from passerelle.live.direct import DirectSocket
from passerelle.live.hub import KICKED, SENTINELS, Connection
from passerelle.live.runtime import LiveRuntime
from passerelle.state import AppState

MAX_FRAME = 4096
COMMANDS_PER_SECOND = 10.0
CLOSE_BANNED = 4403
CLOSE_GONE = 4404


async def _viewer(websocket: WebSocket, state: AppState) -> User | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, bearer = header.partition(" ")
    cookie = websocket.cookies.get(SESSION_COOKIE)
    async with state.db.read_sessions() as session:
        if scheme.lower() == "bearer" and bearer.strip():
            return await accounts.user_for_api_token(session, token=bearer.strip())
        origin = websocket.headers.get("origin")
        if cookie and (origin is None or urlsplit(origin).netloc == websocket.headers.get("host")):
            return await accounts.user_for_web_session(session, token=cookie)
    return None


async def room_socket(websocket: WebSocket, room_id: int) -> None:
    state: AppState = websocket.app.state.passerelle
    live = state.live
    if live is None:
        await websocket.close(code=1013)
        return
    user = await _viewer(websocket, state)
    policy = await live.chat.policy(room_id)
    await websocket.accept()
    if policy is None:
        await websocket.close(code=CLOSE_GONE, reason="no such room")
        return
    if user is not None and user.id in policy.banned:
        await websocket.send_text(orjson.dumps([{"type": "error", "code": "banned"}]).decode())
        await websocket.close(code=CLOSE_BANNED, reason="banned")
        return
    connection = Connection(room_id, user.id if user else None, user.display_name if user else "")
    connection.send_now(
        {
            "type": "hello",
            "user": {"id": user.id, "name": user.display_name} if user else None,
            "moderator": bool(user and policy.may_moderate(user.id)),
        },
        {"type": "history", "messages": await live.chat.history(room_id)},
        {"type": "viewers", "count": live.hub.viewers(room_id) + 1},
    )
    # The hub may write room frames to this socket itself (see live/direct.py).
    connection.direct = DirectSocket.of(websocket.scope)
    live.hub.join(connection)
    live.recorder.joined(id(connection), room_id=room_id, user_id=connection.user_id)
    writer = asyncio.create_task(_write(websocket, connection))
    try:
        await _read(websocket, connection, live)
    except WebSocketDisconnect:
        pass
    finally:
        live.hub.leave(connection)
        if (captions := live_captions(websocket.app)) is not None:
            captions.leave(connection)
        live.recorder.left(id(connection))
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer


async def _write(websocket: WebSocket, connection: Connection) -> None:
    queue = connection.queue
    while True:
        frames = [await queue.get()]
        # A viewer that fell behind gets what piled up as one frame: fewer, larger writes
        # under load, which is what keeps a busy process from falling further behind.
        while not queue.empty() and frames[-1] not in SENTINELS:
            frames.append(queue.get_nowait())
        sentinel = frames.pop() if frames[-1] in SENTINELS else None
        if frames:
            await websocket.send_text(frames[0] if len(frames) == 1 else "[" + ",".join(f[1:-1] for f in frames) + "]")
        if sentinel is not None:
            with contextlib.suppress(Exception):
                if sentinel == KICKED:
                    await websocket.send_text(orjson.dumps([{"type": "error", "code": "banned"}]).decode())
                    await websocket.close(code=CLOSE_BANNED, reason="banned")
                else:
                    await websocket.close(code=1001, reason="server restarting")  # the page reconnects
            return


async def _read(websocket: WebSocket, connection: Connection, live: LiveRuntime) -> None:
    # Any command costs a token (reactions included): a flooding client is ignored, not served.
    budget = MemoryTokenBucket(rate=COMMANDS_PER_SECOND, burst=COMMANDS_PER_SECOND * 2, max_keys=1)
    while True:
        raw = await websocket.receive_text()
        if not budget.allow("")[0]:
            continue
        if len(raw) > MAX_FRAME:
            connection.send_now({"type": "error", "code": "message_too_long"})
            continue
        try:
            command = orjson.loads(raw)
        except orjson.JSONDecodeError:
            command = None
        if not isinstance(command, dict):
            connection.send_now({"type": "error", "code": "invalid_request"})
            continue
        kind = command.get("type")
        rejected = None
        if kind == "message":
            rejected = await live.chat.post(connection, command.get("text"))
        elif kind == "react":
            if not live.hub.react(connection.room_id, str(command.get("kind"))):
                connection.send_now({"type": "error", "code": "unknown_reaction"})
        elif kind in ("mute", "ban"):
            rejected = await live.chat.moderate(connection, str(kind), command.get("user_id"))
        elif kind == "caption_language":
            captions = live_captions(websocket.app)
            if captions is not None and not captions.choose(connection, command.get("lang")):
                connection.send_now({"type": "error", "code": "unknown_language"})
        elif kind != "ping":
            connection.send_now({"type": "error", "code": "unknown_command"})
        if rejected is not None:
            connection.send_now(rejected.event())
