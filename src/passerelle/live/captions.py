"""Live captions in live rooms: the glue between passerelle.captions and the rooms' hub, socket and pages.

* Engines load only when PASSERELLE_CAPTIONS=true, in the lifespan, off the event loop (Whisper and the
  Apertium warm-up take seconds): processes and tests that do not use captions pay nothing. Without the
  flag, or without a speech model, rooms work as before and the page says captions are unavailable.
* Captions: nginx's on_publish starts the room's pipeline on the loopback RTMP stream, on_publish_done
  stops it. Every caption line is one hub event with its language: one frame per room per tick,
  each page shows the lines of the language its viewer picked.
* Chat: a message goes out untranslated at once (MT never delays chat); a task then translates it into
  the languages the room's viewers picked plus the room's language (for the host), once per language
  thanks to the cache, and publishes one ``chat_translation`` event with a ``texts`` map and the
  message id. One event for the whole room, not one per language, keeps the hub's single frame per
  tick; the page swaps in its viewer's text and keeps the original on hover/tap.
* In memory, per process: run one app process (or route nginx's callbacks and the room's viewers to the
  same one) for captions; the on/off switch resets to on after a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from passerelle.captions.engines import CHAT_LANGUAGES, build_engines
from passerelle.captions.service import CaptionRooms
from passerelle.i18n.languages import LANGUAGE_NAMES
from passerelle.live.hub import Connection, Event, Hub
from passerelle.live.media import media_paths, stream_name
from passerelle.state import AppState

log = logging.getLogger("passerelle.live")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
VIEWER_LANGUAGES = frozenset(CHAT_LANGUAGES)  # a client cannot invent targets: each costs MT work
OTHER_NAMES = {"pt": "Português", "ca": "Català", "nl": "Nederlands", "pl": "Polski", "ja": "日本語"}
OTHER_NAMES |= {"ko": "한국어", "ar": "العربية", "tr": "Türkçe"}


def language_choices() -> list[tuple[str, str]]:
    """(code, name in that language) for the pickers, sorted by code."""
    return [(code, LANGUAGE_NAMES.get(code) or OTHER_NAMES.get(code, code)) for code in sorted(VIEWER_LANGUAGES)]


def vtt_root(state: AppState) -> Path:
    return media_paths(state.settings).root / "captions"


class LiveCaptions:
    """Per process: which caption language each socket picked, and the rooms' caption pipelines."""

    def __init__(self, rooms: CaptionRooms, hub: Hub, rtmp_port: int) -> None:
        self.rooms = rooms
        self.hub = hub
        self.rtmp_port = rtmp_port
        self._chosen: dict[Connection, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._translating = asyncio.Semaphore(4)  # a chat burst queues here instead of forking many engines

    @property
    def available(self) -> bool:
        return self.rooms.engines.recognizer is not None

    # --- viewers (the room socket) ---

    def choose(self, connection: Connection, language: Any) -> bool:
        if not isinstance(language, str) or language not in VIEWER_LANGUAGES:
            return False
        previous = self._chosen.get(connection)
        if previous != language:
            room = str(connection.room_id)
            if previous is not None:
                self.rooms.viewer_left(room, previous)
            self.rooms.viewer_joined(room, language)
            self._chosen[connection] = language
        return True

    def leave(self, connection: Connection) -> None:
        previous = self._chosen.pop(connection, None)
        if previous is not None:
            self.rooms.viewer_left(str(connection.room_id), previous)

    def languages(self, room_id: int) -> set[str]:
        room = self.rooms.get(str(room_id))
        return {lang for lang, n in room.viewers.items() if n > 0} if room else set()

    # --- the stream (nginx callbacks) and the host's settings ---

    async def stream_started(self, room_id: int, spoken_language: str) -> None:
        source = f"rtmp://127.0.0.1:{self.rtmp_port}/live/{stream_name(room_id)}"
        await self.rooms.configure(str(room_id), spoken_language=spoken_language, source_url=source)

    async def stream_ended(self, room_id: int) -> None:
        await self.rooms.stop(str(room_id))

    async def host_settings(self, room_id: int, *, enabled: bool, spoken_language: str, on_air: bool) -> None:
        source = f"rtmp://127.0.0.1:{self.rtmp_port}/live/{stream_name(room_id)}" if on_air else None
        await self.rooms.configure(str(room_id), enabled=enabled, spoken_language=spoken_language, source_url=source)

    # --- chat ---

    def message_posted(self, room_id: int, event: Event) -> None:
        """Chat's hook: translation runs beside the chat, never in front of it."""
        task = asyncio.create_task(self._translate(room_id, event), name=f"chat-translate-{room_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _translate(self, room_id: int, event: Event) -> None:
        room = self.rooms.get(str(room_id))
        targets = self.languages(room_id) | ({room.spoken_language} if room else set())
        if not targets:
            return
        try:
            async with self._translating:
                result = await self.rooms.engines.chat.translate_message(
                    str(event["text"]), target_langs=sorted(targets)
                )
        except Exception:
            log.exception("chat translation failed in room %s", room_id)
            return
        if any(state == "translated" for state in result.status.values()):
            await self.hub.publish(room_id, {**result.as_event(), "message_id": event["id"]})

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.rooms.close()


def live_captions(app: FastAPI) -> LiveCaptions | None:
    found = getattr(app.state, "live_captions", None)
    return found if isinstance(found, LiveCaptions) else None


async def start_captions(app: FastAPI, state: AppState) -> LiveCaptions | None:
    """In the lifespan, after start_live. Sets app.state.captions for passerelle.captions' routes."""
    if not state.settings.captions or state.live is None:
        return None
    engines = await asyncio.to_thread(build_engines, state.settings)
    hub = state.live.hub

    async def publish(room_id: str, event: dict[str, object]) -> None:
        await hub.publish(int(room_id), event)

    rooms = CaptionRooms(engines, publish, vtt_root=vtt_root(state))
    app.state.captions = rooms
    app.state.live_captions = captions = LiveCaptions(rooms, hub, state.settings.media_rtmp_port)
    state.live.chat.posted.append(captions.message_posted)
    log.info("live captions: %s", engines.describe())
    return captions


async def stop_captions(app: FastAPI) -> None:
    captions = live_captions(app)
    if captions is not None:
        await captions.close()
        app.state.live_captions = app.state.captions = None
