"""E-mail through a real SMTP server (aiosmtpd on loopback) when PASSERELLE_SMTP_URL is set."""

from __future__ import annotations

import shutil
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import httpx
import pytest

from passerelle.config import Settings
from passerelle.notifications.mail import FileMailer, SmtpMailer, build_message, make_mailer
from passerelle.state import AppState
from tests.commerce import add_to_cart, checkout, make_buyers, pay, sku_of
from tests.factories import make_merchant, make_product, make_user
from tests.services import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted for delivery"


def test_given_no_smtp_url_then_mail_goes_to_files_and_with_one_to_smtp(tmp_path: Path) -> None:
    assert isinstance(make_mailer(smtp_url=None, mail_dir=tmp_path), FileMailer)
    assert isinstance(make_mailer(smtp_url="smtp://127.0.0.1:2525", mail_dir=tmp_path), SmtpMailer)


async def test_given_an_smtp_server_when_an_order_is_paid_then_the_buyer_gets_the_mail(
    client: httpx.AsyncClient, state: AppState, settings: Settings
) -> None:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        state.mailer = make_mailer(smtp_url=f"smtp://127.0.0.1:{port}", mail_dir=settings.data_dir / "mail")
        await state.mailer.send(
            build_message(to="test@acheteurs.fr", subject="Bonjour", body="Été", key="k1"), key="k1"
        )
        seller = await make_user(state)
        shop = await make_merchant(state, seller)
        sku = (await sku_of(client, await make_product(state, shop)))["id"]
        (buyer,) = await make_buyers(state, 1)
        await add_to_cart(client, buyer, sku)
        body = (await checkout(client, buyer)).json()
        await pay(client, state, body["payment"]["id"])
    finally:
        controller.stop()
    first = inbox.messages[0]
    assert first["To"] == "test@acheteurs.fr" and first.get_content().strip() == "Été"
    assert any(m["To"] == buyer.user.email and "confirmée" in m["Subject"] for m in inbox.messages)
    assert not (settings.data_dir / "mail").exists() or not list((settings.data_dir / "mail").glob("*.eml"))


def test_given_french_texts_then_the_message_parses_back_to_the_same_headers_and_body() -> None:
    built = build_message(
        to="camille@acheteurs.fr", subject="Commande n°12 confirmée", body="Reçu : 12,00 €\n", key="o:1"
    )
    parsed = message_from_bytes(bytes(built), policy=default)
    assert (parsed["To"], parsed["Subject"], parsed["X-Passerelle-Key"]) == (
        "camille@acheteurs.fr",
        "Commande n°12 confirmée",
        "o:1",
    )
    assert parsed.get_content() == "Reçu : 12,00 €\n"
    assert all(byte < 128 for byte in bytes(built))  # 7-bit: any SMTP server takes it


def test_given_a_line_break_in_a_header_value_then_no_message_is_built() -> None:
    with pytest.raises(ValueError, match="line breaks"):
        build_message(to="a@b.fr\r\nBcc: everyone@example.com", subject="Hi", body="x", key="k")


def test_given_a_non_ascii_address_then_it_is_encoded_not_written_raw() -> None:
    built = build_message(to="José <josé@exemple.fr>", subject="Bonjour", body="x", key="k")
    raw = bytes(built)
    assert all(byte < 128 for byte in raw.split(b"\n\n", 1)[0])


async def two_orders(client: httpx.AsyncClient, state: AppState, *, paid: bool) -> list[int]:
    """Two buyers' orders from one shop (one staff member), paid or not."""
    shop = await make_merchant(state, await make_user(state))
    sku = (await sku_of(client, await make_product(state, shop, stock=10)))["id"]
    order_ids = []
    for buyer in await make_buyers(state, 2):
        await add_to_cart(client, buyer, sku)
        placed = (await checkout(client, buyer)).json()
        if paid:
            await pay(client, state, placed["payment"]["id"])
        order_ids.append(int(placed["orders"][0]["id"]))
    return order_ids


async def test_given_a_group_of_paid_orders_then_each_buyer_and_each_staff_member_gets_one_mail(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.notifications.tasks import on_paid_many
    from tests.commerce import read_mails

    order_ids = await two_orders(client, state, paid=True)  # paying drains the outbox: mails written once
    before = len(read_mails(state))
    assert before == 4  # per order: the buyer and the shop's one staff member
    # Redelivered as a group (after a crash, say), plus an order that does not exist.
    outcomes = await on_paid_many(state, [{"order_id": i} for i in [*order_ids, 999_999]])
    assert outcomes == [None, None, None]
    assert len(read_mails(state)) == before  # one mail per key, whatever the redeliveries
    subjects = sorted(str(m["Subject"]) for m in read_mails(state))
    assert subjects == sorted(
        [f"Commande n°{i} confirmée" for i in order_ids] + [f"Nouvelle commande n°{i}" for i in order_ids]
    )


def test_given_a_long_french_subject_then_it_is_split_into_encoded_words_that_parse_back() -> None:
    subject = "Votre commande chez « Maison Éclat, créations françaises » est confirmée et expédiée"
    raw = bytes(build_message(to="camille@acheteurs.fr", subject=subject, body="ok", key="o:2"))
    head = raw.split(b"\n\n", 1)[0].decode("ascii")
    assert all(len(line) <= 78 for line in head.splitlines() if "Subject" in line or line.startswith(" =?"))
    assert message_from_bytes(raw, policy=default)["Subject"] == subject


@pytest.mark.parametrize("unnamed_files", [True, False], ids=["O_TMPFILE then link", "temporary name then rename"])
async def test_given_a_file_mailer_then_each_key_is_written_once_whole_with_no_temporary_file_left(
    tmp_path: Path, unnamed_files: bool
) -> None:
    mailer = FileMailer(tmp_path / "mail")
    assert mailer._unnamed_files, "this machine (Linux, /proc) writes unnamed files"
    mailer._unnamed_files = unnamed_files
    for body in ("first", "second"):
        await mailer.send(build_message(to="a@b.fr", subject="Hello", body=body, key="k:1"), key="k:1")
    (written,) = list((tmp_path / "mail").iterdir())
    assert written.name == "k_1.eml" and written.stat().st_mode & 0o777 == 0o600
    parsed = message_from_bytes(written.read_bytes(), policy=default)
    assert parsed["Subject"] == "Hello" and parsed.get_content() == "first"
    # The directory removed under a running mailer (an operator emptying it) is made again.
    shutil.rmtree(tmp_path / "mail")
    outcomes = await mailer.send_many([(build_message(to="a@b.fr", subject="Again", body="x", key="k:2"), "k:2")])
    assert outcomes == [None] and [p.name for p in (tmp_path / "mail").iterdir()] == ["k_2.eml"]


async def test_given_one_order_whose_mail_cannot_be_written_then_only_that_order_is_retried(
    client: httpx.AsyncClient, state: AppState
) -> None:
    from passerelle.notifications.tasks import on_paid_many
    from tests.commerce import read_mails

    order_ids = await two_orders(client, state, paid=False)
    mail_dir = state.settings.data_dir / "mail"
    # Writing the first order's buyer mail fails (a full disk, say); the rest is written.
    blocked = FileMailer(mail_dir)
    real_write = blocked._write

    def write(directory: int, message: Any, key: str) -> None:
        if key == f"order-{order_ids[0]}-paid-buyer":
            raise OSError(28, "No space left on device")
        real_write(directory, message, key)

    blocked._write = write  # type: ignore[method-assign]
    state.mailer = blocked
    outcomes = await on_paid_many(state, [{"order_id": i} for i in order_ids])
    assert isinstance(outcomes[0], OSError) and outcomes[1] is None
    keys = sorted(str(m["X-Passerelle-Key"]) for m in read_mails(state))
    assert f"order-{order_ids[0]}-paid-buyer" not in keys
    assert f"order-{order_ids[1]}-paid-buyer" in keys and f"order-{order_ids[0]}-paid-staff-" in " ".join(keys)


def _self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as PEM files."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp.crt", directory / "smtp.key"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


async def test_given_a_server_offering_starttls_then_the_login_and_mail_go_over_tls_with_its_certificate_checked(
    tmp_path: Path,
) -> None:
    import ssl

    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

    cert, key = _self_signed(tmp_path)
    served = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    served.load_cert_chain(cert, key)
    logins: list[tuple[bytes, bool]] = []

    def authenticator(_server: Any, session: Any, _envelope: Any, _mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        logins.append((data.login, session.ssl is not None))
        return AuthResult(success=data.login == b"shop" and data.password == b"s3cret")

    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=served,
        require_starttls=True,
        authenticator=authenticator,
        auth_require_tls=True,
    )
    controller.start()
    try:
        url = f"smtp://shop:s3cret@127.0.0.1:{port}"
        trusting = make_mailer(smtp_url=url, mail_dir=tmp_path / "mail", smtp_ca_file=cert)  # PASSERELLE_SMTP_CA_FILE
        message = build_message(to="camille@acheteurs.fr", subject="Commande confirmée", body="Merci", key="t:1")
        assert await trusting.send_many([(message, "t:1")]) == [None]
        # The default trusts the system's authorities only: a self-signed server is refused.
        with pytest.raises(ssl.SSLCertVerificationError):
            await SmtpMailer(url).send_many([(message, "t:2")])
    finally:
        controller.stop()
    assert logins == [(b"shop", True)]
    assert [m["Subject"] for m in inbox.messages] == ["Commande confirmée"]
