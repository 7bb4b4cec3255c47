"""The room socket's caption languages: only the picker's languages count, a change or a disconnect moves
the viewer's count, so the pipeline translates into what is watched and nothing else."""

from __future__ import annotations

from passerelle.captions.chat import ChatTranslator
from passerelle.captions.engines import CHAT_LANGUAGES, CaptionEngines
from passerelle.captions.langid import LanguageIdentifier
from passerelle.captions.mt.router import Translator
from passerelle.captions.service import CaptionRooms
from passerelle.live.captions import LiveCaptions
from passerelle.live.hub import Connection, Event, Hub, LocalBackend


def test_given_viewers_picking_languages_then_counts_follow_changes_and_disconnects() -> None:
    translator = Translator([])
    engines = CaptionEngines(
        None, "no model", translator, ChatTranslator(translator, LanguageIdentifier(CHAT_LANGUAGES))
    )
    published: list[Event] = []

    async def publish(room_id: str, event: dict[str, object]) -> None:
        published.append(event)

    captions = LiveCaptions(CaptionRooms(engines, publish), Hub(LocalBackend()), 1935)
    one, two = Connection(7, None, ""), Connection(7, 3, "Ana")
    assert captions.choose(one, "es") and captions.choose(two, "es") and captions.choose(one, "es")
    assert captions.languages(7) == {"es"} and captions.rooms.room("7").viewers["es"] == 2
    assert not captions.choose(two, "xx") and not captions.choose(two, ["es"]) and not captions.choose(two, "../x")
    assert captions.choose(two, "en") and captions.languages(7) == {"es", "en"}
    captions.leave(one)
    captions.leave(one)  # a second disconnect path must not count twice
    assert captions.languages(7) == {"en"} and captions.languages(8) == set()
    assert not published
