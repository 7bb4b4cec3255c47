"""Captions in a live room, end to end: a real `passerelle serve` with PASSERELLE_CAPTIONS=true (Whisper test
model, Apertium), nginx-rtmp calling it back, ffmpeg pushing espeak-ng speech to the room's key, and
WebSocket viewers that picked their language."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from passerelle.captions.speech import speak_with_pauses
from tests.captions.conftest import apertium, need_commands, speech_tools, whisper_model_dir  # noqa: F401
from tests.captions.streams import publish
from tests.live.conftest import Viewer, api, connect
from tests.live.studio import Studio, open_studio


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Studio]:
    whisper_dir: Path = request.getfixturevalue("whisper_model_dir")
    request.getfixturevalue("apertium")  # the fr-es, en-es pairs are installed
    request.getfixturevalue("speech_tools")
    need_commands("ffmpeg")
    env = {
        "PASSERELLE_CAPTIONS": "true",
        "PASSERELLE_ASR_MODEL_DIR": str(whisper_dir),
        "PASSERELLE_MT_ENGINES": "apertium",
    }
    with open_studio(tmp_path_factory.mktemp("caption-studio"), viewers=2, extra_env=env) as opened:
        yield opened


def captions(viewer: Viewer, lang: str) -> list[dict[str, Any]]:
    return [e for e in viewer.of_type("caption") if e.get("lang") == lang]


async def test_given_a_spanish_viewer_when_the_host_speaks_english_then_spanish_captions_arrive_until_turned_off(
    studio: Studio, tmp_path: Path, browser: Any
) -> None:
    room, host = studio.cast.room_id, studio.cast.host
    settings = await api(studio.server.url, "PUT", f"/rooms/{room}/captions", host, json={"spoken_language": "en"})
    assert settings.status_code == 200 and settings.json()["spoken_language"] == "en", settings.text
    viewer = await connect(studio.server.url, room)
    await viewer.send(type="caption_language", lang="es")
    wav = speak_with_pauses(
        ["The price of this phone drops at midnight.", "Shipping is free for every order.", "Thank you."],
        tmp_path / "host.wav",
        pause_s=4.0,
        lead_s=1.5,
    )
    page = await browser.new_page(locale="es-ES")  # a Spanish guest: the picker defaults to Spanish
    await page.goto(f"{studio.server.url}/live/{room}")
    await page.wait_for_selector("[data-live-room][data-connected=true]")
    encoder = publish(wav, f"{studio.rtmp}/{studio.cast.stream_key}")
    try:
        first = await viewer.wait_for(lambda: captions(viewer, "es"), within=40)
        text = str(first[0]["text"]).lower()
        assert "precio" in text and "teléfono" in text, viewer.of_type("caption")
        await page.wait_for_function(
            "() => document.querySelector('[data-captions]').textContent.toLowerCase().includes('precio')",
            timeout=5_000,
        )
        assert await page.get_attribute("[data-captions]", "lang") == "es"
        async with httpx.AsyncClient(base_url=studio.server.url) as client:
            status = (await client.get(f"/api/v1/captions/rooms/{room}")).json()
        assert status["asr_engine"] == "faster-whisper" and status["targets"] == {"es": "ok"}, status

        off = await api(studio.server.url, "PUT", f"/rooms/{room}/captions", host, json={"enabled": False})
        assert off.status_code == 200 and off.json()["enabled"] is False
        await asyncio.sleep(0.5)  # a frame already queued in the hub may still go out
        seen = len(viewer.of_type("caption"))
        await asyncio.to_thread(encoder.wait, 30)  # the rest of the speech plays to nginx
        await asyncio.sleep(2)
        assert len(viewer.of_type("caption")) == seen, viewer.of_type("caption")[seen:]
        async with httpx.AsyncClient(base_url=studio.server.url) as client:
            assert (await client.get(f"/api/v1/captions/rooms/{room}")).json()["state"] == "off"
            track = await client.get(f"/live/{room}/captions/es.vtt")  # written while captions were on
            assert track.status_code == 200 and track.text.startswith("WEBVTT") and "precio" in track.text.lower()
            assert (await client.get(f"/live/{room}/captions/..%2f..%2fnginx.vtt")).status_code == 404
            deadline = time.monotonic() + 10
            while '<track kind="captions"' not in (html := (await client.get(f"/live/{room}")).text):
                assert time.monotonic() < deadline, "no replay track on the room page once off air"
                await asyncio.sleep(0.3)
            assert f'src="/live/{room}/captions/es.vtt" srclang="es"' in html
    finally:
        if encoder.poll() is None:
            encoder.kill()
        await viewer.close()
        await page.close()


async def test_given_a_french_chat_message_then_the_english_viewer_reads_it_translated_and_the_french_one_untouched(
    studio: Studio, browser: Any
) -> None:
    room = studio.cast.room_id
    poster, reader = studio.cast.viewers
    english = await connect(studio.server.url, room, reader)
    french = await connect(studio.server.url, room, poster)
    page = await browser.new_page(locale="en-US")
    await page.goto(f"{studio.server.url}/live/{room}")
    await page.wait_for_selector("[data-live-room][data-connected=true]")
    try:
        await english.send(type="caption_language", lang="en")
        await french.send(type="caption_language", lang="fr")
        await asyncio.sleep(0.3)  # the language commands are read before the message
        original = "Bonjour, le prix est intéressant et la livraison est gratuite ?"
        await french.send(type="message", text=original)
        event = await english.wait_for(lambda: english.of_type("chat_translation"), within=20)
        translation = event[0]
        message = english.of_type("message")[-1]
        assert translation["message_id"] == message["id"] and message["text"] == original  # original kept
        assert translation["original"] == original and translation["lang"] == "fr"
        english_text = str(translation["texts"]["en"]).lower()
        assert "delivery" in english_text and "free" in english_text, translation
        assert "*" not in english_text and "#" not in english_text  # Apertium's unknown-word marks
        assert translation["texts"]["fr"] == original and translation["status"]["fr"] == "original"
        assert french.texts()[-1] == original
        line = page.locator(f'[data-message-id="{message["id"]}"] .chat-text')
        await line.locator("xpath=self::*[@data-translated='true']").wait_for(timeout=5_000)
        assert "delivery" in (await line.text_content() or "") and await line.get_attribute("title") == original
    finally:
        await english.close()
        await french.close()
        await page.close()
