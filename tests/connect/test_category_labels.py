"""Creator categories are stored and exchanged as slugs, and shown to people as translated labels."""

from __future__ import annotations

import httpx
from babel.messages.pofile import read_po

from passerelle.connect.features import CATEGORIES, CATEGORY_CONTEXT, CATEGORY_LABELS, category_labels
from passerelle.i18n.messages import po_paths, translations
from passerelle.state import AppState
from tests.connect.helpers import make_creator, make_shop
from tests.factories import make_merchant, make_user
from tests.web.helpers import HTML, log_in, text_of


def test_given_every_category_slug_then_it_has_a_label_translated_in_both_catalogs() -> None:
    assert list(CATEGORY_LABELS) == list(CATEGORIES)
    for language in ("fr", "en"):
        found: dict[str, str] = {}
        for path in po_paths(language):
            with path.open("rb") as handle:
                found |= {m.id: m.string for m in read_po(handle) if m.context == CATEGORY_CONTEXT}
        assert all(found.get(label) for label in CATEGORY_LABELS.values()), language
    french = category_labels(translations("fr"))
    assert french["beauty"] == "Beauté" and french["home"] == "Maison et déco"
    assert category_labels(translations("en"))["home"] == "Home & living"
    # The context keeps the category apart from the page called "Home".
    assert translations("fr").gettext("Home") == "Accueil"


async def test_given_a_french_seller_then_the_category_checkboxes_show_labels_and_keep_slugs_as_values(
    client: httpx.AsyncClient, state: AppState
) -> None:
    seller = await make_user(state)
    shop = await make_merchant(state, seller)
    client.headers.update(HTML)
    await log_in(client, seller.user.email)
    french = (await client.get(f"/console/m/{shop.id}/creators")).text
    assert 'value="beauty"> Beauté</label>' in french
    assert 'value="home"> Maison et déco</label>' in french and "> beauty<" not in french
    english = (await client.get(f"/console/m/{shop.id}/creators", params={"lang": "en"})).text
    assert 'value="beauty"> Beauty</label>' in english and 'value="home"> Home &amp; living</label>' in english
    apply_form = text_of((await client.get("/creators/apply")).text)
    assert "Beauté" in apply_form and "Maison et déco" in apply_form


async def test_given_a_french_creator_then_the_dashboard_and_public_page_name_their_categories_in_french(
    client: httpx.AsyncClient, state: AppState
) -> None:
    await make_shop(client, state)  # an open campaign in "beauty"
    creator, _ = await make_creator(client, state, categories=["beauty", "home"])
    handle = (await client.get("/api/v1/creators/me", headers=creator.headers)).json()["handle"]
    client.headers.update(HTML)
    await log_in(client, creator.user.email)
    french = text_of((await client.get("/connect")).text)
    assert "Vos catégories : Beauté" in french and "beauty" not in french
    english = text_of((await client.get("/connect", params={"lang": "en"})).text)
    assert "Your categories: Beauty" in english
    public = text_of((await client.get(f"/creators/{handle}")).text)
    assert "Beauté, Maison et déco" in public
