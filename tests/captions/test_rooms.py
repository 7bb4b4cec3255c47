"""Caption rooms behind the JSON status route and the host's HTML fragment: viewers' languages drive the
pipeline's targets, events reach the room's publish function, the host turns captions off."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from passerelle.captions.api import router as api_router
from passerelle.captions.asr import FasterWhisperRecognizer
from passerelle.captions.chat import ChatTranslator
from passerelle.captions.engines import CHAT_LANGUAGES, CaptionEngines
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.router import Translator
from passerelle.captions.pages import router as pages_router
from passerelle.captions.service import CaptionRooms
from passerelle.captions.speech import speak


@pytest.fixture
def events() -> list[tuple[str, dict[str, object]]]:
    return []


@pytest.fixture
def rooms(
    recognizer: FasterWhisperRecognizer,
    translator: Translator,
    tmp_path: Path,
    events: list[tuple[str, dict[str, object]]],
) -> CaptionRooms:
    engines = CaptionEngines(
        recognizer, None, translator, ChatTranslator(translator, LanguageIdentifier(CHAT_LANGUAGES))
    )

    async def publish(room_id: str, event: dict[str, object]) -> None:  # stands in for the chat hub
        events.append((room_id, event))

    return CaptionRooms(engines, publish, vtt_root=tmp_path / "vtt", retry_delay_s=None)  # a file: read once


@pytest.fixture
async def client(rooms: CaptionRooms) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(api_router, prefix="/api/v1")
    app.include_router(pages_router)
    app.state.captions = rooms
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http
    await rooms.close()


@pytest.mark.usefixtures("speech_tools")
async def test_given_a_spanish_viewer_then_the_room_publishes_spanish_captions_and_reports_its_status(
    rooms: CaptionRooms, client: httpx.AsyncClient, events: list[tuple[str, dict[str, object]]], tmp_path: Path
) -> None:
    wav = speak("Shipping is free for every order.", tmp_path / "host.wav")
    rooms.viewer_joined("r1", "es")
    await rooms.configure("r1", spoken_language="en", source_url=str(wav))
    for _ in range(300):
        if any(e.get("type") == "caption" and e.get("lang") == "es" for _r, e in events):
            break
        await asyncio.sleep(0.1)
    captions = [e for room, e in events if room == "r1" and e.get("type") == "caption"]
    assert {e["lang"] for e in captions} == {"en", "es"}
    assert any(
        "gratis" in str(e["text"]).lower() or "libre" in str(e["text"]).lower() for e in captions if e["lang"] == "es"
    )
    status = (await client.get("/api/v1/captions/rooms/r1")).json()
    assert status["languages"] == ["es"] and status["targets"] == {"es": "ok"}
    assert status["asr_engine"] == "faster-whisper" and status["latency_p50_ms"] is not None
    fragment = await client.get("/captions/rooms/r1/status", headers={"Accept-Language": "fr"})
    assert "Sous-titres en direct" in fragment.text and "Español" in fragment.text
    engines = (await client.get("/api/v1/captions/engines")).json()
    assert engines["asr"] == "faster-whisper" and "fr-en" in engines["pairs"]

    await rooms.configure("r1", enabled=False)
    assert rooms.room("r1").pipeline is None
    assert (await client.get("/api/v1/captions/rooms/r1")).json()["state"] == "off"
    fragment = await client.get("/captions/rooms/r1/status", headers={"Accept-Language": "en"})
    assert "Captions are off" in fragment.text


async def test_given_no_captions_configured_then_routes_answer_503_and_unknown_rooms_404(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/api/v1/captions/rooms/nope")).status_code == 404
    bare = FastAPI()
    bare.include_router(api_router, prefix="/api/v1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=bare), base_url="http://test") as http:
        assert (await http.get("/api/v1/captions/engines")).status_code == 503
