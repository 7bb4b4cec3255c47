"""Argon2id password hashing (argon2-cffi; defaults follow RFC 9106's second recommendation).

The cost is configurable (PASSERELLE_ARGON2_TIME_COST / _MEMORY_KIB) so operators can tune
it to their hardware; hashes made with other parameters still verify and are upgraded at
the next login.
"""

from __future__ import annotations

from functools import cache

from argon2 import DEFAULT_MEMORY_COST, DEFAULT_TIME_COST, PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def configure(*, time_cost: int = DEFAULT_TIME_COST, memory_kib: int = DEFAULT_MEMORY_COST) -> None:
    global _hasher
    if (_hasher.time_cost, _hasher.memory_cost) != (time_cost, memory_kib):
        _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
        _dummy_hash.cache_clear()


@cache
def _dummy_hash() -> str:
    # Verified against when the e-mail is unknown, so both paths cost the same time.
    return _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _dummy_hash(), password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)
