"""The live rooms' moving parts of one process, started and stopped with the app."""

from __future__ import annotations

from dataclasses import dataclass

from passerelle.live.chat import Chat, ChatWriter
from passerelle.live.hub import Backend, Hub, LocalBackend, RedisBackend
from passerelle.state import AppState


@dataclass
class LiveRuntime:
    hub: Hub
    chat: Chat
    writer: ChatWriter

    async def stop(self) -> None:
        await self.hub.stop()
        await self.writer.stop()


async def start_live(state: AppState) -> LiveRuntime:
    """In-process hub, or Redis pub/sub when PASSERELLE_REDIS_URL is set."""
    if state.live is None:
        url = state.settings.redis_url
        backend: Backend = RedisBackend(url) if url else LocalBackend()
        hub = Hub(backend)
        writer = ChatWriter(state.db)
        state.live = LiveRuntime(hub=hub, chat=Chat(hub, state.db, state.clock, writer), writer=writer)
        await hub.start()
        writer.start()
    return state.live
