"""Captions on the room page and the host console, in process: without engines the room still works and says
captions are unavailable; with them the host (only) sets the spoken language and turns captions off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from passerelle.app import create_app
from passerelle.captions.chat import ChatTranslator
from passerelle.captions.engines import CHAT_LANGUAGES, CaptionEngines
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.router import Translator
from passerelle.captions.service import CaptionRooms
from passerelle.live.captions import LiveCaptions, vtt_root
from passerelle.live.hub import Hub, LocalBackend
from passerelle.state import AppState
from tests.factories import make_user
from tests.web.helpers import HTML, log_in, submit


async def _room(client: httpx.AsyncClient, state: AppState) -> tuple[Any, int]:
    host = await make_user(state, language="en")
    made = await client.post(
        "/api/v1/live/rooms", json={"title": "Live", "starts_at": "2030-01-02T18:30:00Z"}, headers=host.headers
    )
    return host, int(made.json()["id"])


async def test_given_no_caption_engines_then_the_room_works_and_says_captions_are_unavailable(
    client: httpx.AsyncClient, state: AppState
) -> None:
    host, room_id = await _room(client, state)
    page = await client.get(f"/live/{room_id}", headers={**HTML, "accept-language": "fr"})
    assert page.status_code == 200 and "data-captions-unavailable" in page.text
    assert "Les sous-titres ne sont pas disponibles sur ce serveur." in page.text
    assert "data-caption-language" in page.text and '<option value="es"' in page.text
    refused = await client.put(f"/api/v1/live/rooms/{room_id}/captions", json={"enabled": False}, headers=host.headers)
    assert refused.status_code == 404  # no caption routes without PASSERELLE_CAPTIONS
    form = await client.post(f"/live/{room_id}/host/captions", data={"enabled": "on"}, headers=host.headers)
    assert form.status_code in (403, 409)  # CSRF first, then "unavailable": never a 5xx
    for name in ("es.vtt", "..%2F..%2Fsecret.vtt", "es.txt", "%2E%2E.vtt", "ES.vtt"):
        assert (await client.get(f"/live/{room_id}/captions/{name}")).status_code == 404


@pytest.fixture
async def captions_client(state: AppState) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(state.settings.model_copy(update={"captions": True}), state=state)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield app, http


async def test_given_caption_engines_then_only_the_host_sets_the_spoken_language_and_turns_captions_off(
    captions_client: tuple[Any, httpx.AsyncClient], state: AppState
) -> None:
    app, client = captions_client
    translator = Translator([])
    engines = CaptionEngines(
        None, "no model", translator, ChatTranslator(translator, LanguageIdentifier(CHAT_LANGUAGES))
    )
    hub = Hub(LocalBackend())
    rooms = CaptionRooms(engines, lambda room_id, event: hub.publish(int(room_id), event))
    app.state.captions, app.state.live_captions = rooms, LiveCaptions(rooms, hub, 1935)
    host, room_id = await _room(client, state)
    other = await make_user(state)
    assert (
        await client.put(f"/api/v1/live/rooms/{room_id}/captions", json={"enabled": False}, headers=other.headers)
    ).status_code in (403, 404)
    bad = await client.put(
        f"/api/v1/live/rooms/{room_id}/captions", json={"spoken_language": "xx"}, headers=host.headers
    )
    assert bad.status_code == 422

    client.headers.update(HTML)
    await log_in(client, host.user.email)
    console = await client.get(f"/live/{room_id}/host")
    assert f'action="/live/{room_id}/host/captions"' in console.text and 'name="csrf_token"' in console.text
    assert f'hx-get="/captions/rooms/{room_id}/status"' in console.text
    saved = await submit(
        client, f"/live/{room_id}/host/captions", {"spoken_language": "es"}, token_from=f"/live/{room_id}/host"
    )
    assert saved.status_code == 303
    assert (await client.get(f"/api/v1/live/rooms/{room_id}")).json()["language"] == "es"
    assert rooms.room(str(room_id)).enabled is False and rooms.room(str(room_id)).spoken_language == "es"
    fragment = await client.get(f"/captions/rooms/{room_id}/status")
    assert 'data-caption-state="off"' in fragment.text

    page = await client.get(f"/live/{room_id}")
    assert "data-captions-unavailable" in page.text  # no speech model: chat translation only
    track = vtt_root(state) / str(room_id) / "es.vtt"
    track.parent.mkdir(parents=True)
    track.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHola\n")
    page = await client.get(f"/live/{room_id}")
    assert f'<track kind="captions" src="/live/{room_id}/captions/es.vtt" srclang="es"' in page.text
    served = await client.get(f"/live/{room_id}/captions/es.vtt")
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/vtt") and "Hola" in served.text
