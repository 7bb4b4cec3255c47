"""Ed25519 keys per merchant and the canonical form of a provenance record.

The private key is stored encrypted with AES-256-GCM under a key derived (HKDF-SHA256)
from the server's secret key, so a database dump alone cannot sign anything."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

GENESIS = "0" * 64


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _wrapping_key(secret: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"passerelle-provenance-keys").derive(
        secret.encode()
    )


def new_keypair(secret: str) -> tuple[str, str, bytes]:
    """(key_id, public key b64, encrypted private key)."""
    private = Ed25519PrivateKey.generate()
    raw_public = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    raw_private = private.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    nonce = os.urandom(12)
    key_id = hashlib.sha256(raw_public).hexdigest()[:16]
    sealed = nonce + AESGCM(_wrapping_key(secret)).encrypt(nonce, raw_private, key_id.encode())
    return key_id, b64(raw_public), sealed


def open_private(secret: str, *, key_id: str, sealed: bytes) -> Ed25519PrivateKey:
    raw = AESGCM(_wrapping_key(secret)).decrypt(sealed[:12], sealed[12:], key_id.encode())
    return Ed25519PrivateKey.from_private_bytes(raw)


def canonical(
    *, serial: str, seq: int, kind: str, occurred_at: datetime, data: dict[str, Any], prev_hash: str, key_id: str
) -> bytes:
    """The exact bytes hashed and signed: sorted keys, UTC time, no whitespace."""
    return orjson.dumps(
        {
            "serial": serial,
            "seq": seq,
            "kind": kind,
            "occurred_at": occurred_at.astimezone(UTC).isoformat(),
            "data": data,
            "prev_hash": prev_hash,
            "key_id": key_id,
        },
        option=orjson.OPT_SORT_KEYS,
    )


def head_message(serial: str, count: int, head_hash: str) -> bytes:
    return f"head:{serial}:{count}:{head_hash}".encode()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def sign(private: Ed25519PrivateKey, message: bytes) -> str:
    return b64(private.sign(message))


def check(public_b64: str, message: bytes, signature: str) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(unb64(public_b64)).verify(unb64(signature), message)
    except (InvalidSignature, ValueError):
        return False
    return True
