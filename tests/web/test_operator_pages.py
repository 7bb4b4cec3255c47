"""The operators' review queue: only operators see it; decisions are recorded once."""

from __future__ import annotations

import httpx

from passerelle.accounts.models import Role
from passerelle.merchants import service as merchants
from passerelle.merchants.models import MerchantStatus
from tests.factories import make_merchant, make_user
from tests.web.helpers import log_in, submit, text_of


async def status_of(state, merchant_id: int) -> MerchantStatus:
    async with state.db.sessions() as session:
        return (await merchants.get(session, merchant_id=merchant_id)).status


async def test_given_a_non_operator_then_the_review_queue_is_refused(web: httpx.AsyncClient, state) -> None:
    seller = await make_user(state)
    pending = await make_merchant(state, seller, approved=False, name="Candidat")

    anonymous = await web.get("/operator/merchants")
    assert anonymous.status_code == 401

    for role in (Role.buyer, Role.seller):
        user = await make_user(state, role=role)
        await log_in(web, user.user.email)
        assert (await web.get("/operator/merchants")).status_code == 403
        decided = await submit(web, f"/operator/merchants/{pending.id}/review", {"decision": "approve"})
        assert decided.status_code == 403
    assert await status_of(state, pending.id) == MerchantStatus.pending


async def test_given_an_operator_when_approving_then_the_decision_moves_to_the_history(
    web: httpx.AsyncClient, state
) -> None:
    seller = await make_user(state)
    first = await make_merchant(state, seller, approved=False, name="Première Boutique")
    second = await make_merchant(state, seller, approved=False, name="Seconde Boutique")
    operator = await make_user(state, role=Role.operator)
    await log_in(web, operator.user.email)

    queue = await web.get("/operator/merchants")
    assert queue.status_code == 200
    assert "Première Boutique" in queue.text and "Seconde Boutique" in queue.text

    approved = await submit(web, f"/operator/merchants/{first.id}/review", {"decision": "approve", "note": "Bienvenue"})
    assert approved.status_code == 303
    rejected = await submit(web, f"/operator/merchants/{second.id}/review", {"decision": "reject", "note": "Incomplet"})
    assert rejected.status_code == 303
    assert await status_of(state, first.id) == MerchantStatus.approved
    assert await status_of(state, second.id) == MerchantStatus.rejected

    history = text_of((await web.get("/operator/merchants")).text)
    assert "Aucune candidature en attente" in history
    assert "Bienvenue" in history and "Incomplet" in history

    again = await submit(web, f"/operator/merchants/{first.id}/review", {"decision": "reject"})
    assert again.status_code == 409
    assert "Cette candidature a déjà été examinée" in again.text
    assert await status_of(state, first.id) == MerchantStatus.approved
