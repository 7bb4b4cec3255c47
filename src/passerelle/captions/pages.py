"""HTML fragment for the host console: caption state, engines and latency (htmx polls it)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from passerelle.captions.api import rooms_of
from passerelle.captions.service import CaptionRoom
from passerelle.config import SUPPORTED_LANGUAGES
from passerelle.i18n.languages import negotiate
from passerelle.i18n.messages import gettext_noop as N_
from passerelle.i18n.messages import translations
from passerelle.web.templating import render_template

router = APIRouter(prefix="/captions", tags=["captions"], include_in_schema=False)

STATE_LABELS = {
    "off": N_("Captions are off"),
    "idle": N_("Waiting for the stream"),
    "starting": N_("Starting"),
    "listening": N_("Captions are live"),
    "no_speech": N_("No speech recognised for a while"),
    "source_error": N_("The stream cannot be read"),
    "asr_error": N_("Speech recognition unavailable"),
    "stopped": N_("Stream ended"),
}
TARGET_LABELS = {
    "ok": N_("Translated"),
    "unsupported_pair": N_("No engine for this language pair: viewers see the original"),
    "error": N_("Translation failed on the last sentence"),
}


@router.get("/rooms/{room_id}/status", response_class=HTMLResponse)
async def status_fragment(room_id: str, request: Request) -> HTMLResponse:
    rooms = rooms_of(request)
    cookie = request.cookies.get("lang")
    language = cookie if cookie in SUPPORTED_LANGUAGES else negotiate(request.headers.get("accept-language"), "fr")
    status = (rooms.get(room_id) or CaptionRoom(room_id)).status(rooms.engines)  # a GET stores nothing
    html = render_template(
        "captions/_status.html",
        {
            "translations": translations(language),
            "status": status,
            "state_label": STATE_LABELS.get(str(status["state"]), str(status["state"])),
            "target_labels": TARGET_LABELS,
            "room_id": room_id,
        },
    )
    return HTMLResponse(html, headers={"Vary": "Cookie, Accept-Language"})
