"""The live rooms' moving parts of one process, started and stopped with the app."""

from __future__ import annotations

from dataclasses import dataclass

from passerelle.live.analytics import Recorder
from passerelle.live.chat import Chat, ChatWriter
from passerelle.live.hub import Backend, Hub, LocalBackend, RedisBackend
from passerelle.state import AppState


@dataclass
class LiveRuntime:
    hub: Hub
    chat: Chat
    writer: ChatWriter
    recorder: Recorder

    async def stop(self) -> None:
        await self.hub.stop()
        await self.writer.stop()
        await self.recorder.stop()


async def start_live(state: AppState) -> LiveRuntime:
    """In-process hub, or Redis pub/sub when PASSERELLE_REDIS_URL is set."""
    if state.live is None:
        url = state.settings.redis_url
        backend: Backend = RedisBackend(url) if url else LocalBackend()
        hub = Hub(backend)
        writer = ChatWriter(state.db)
        recorder = Recorder(state.db, state.clock)
        chat = Chat(hub, state.db, state.clock, writer)
        state.live = LiveRuntime(hub=hub, chat=chat, writer=writer, recorder=recorder)
        await hub.start()
        writer.start()
        recorder.start()
    return state.live
