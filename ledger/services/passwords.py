"""Password hashing with Argon2id, a memory-hard KDF, at the cost the settings ask for."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ledger.config import current_settings
from ledger.errors import ValidationFailed
from ledger.messages import translatable

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


def _hasher() -> PasswordHasher:
    settings = current_settings()
    return PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib, parallelism=1
    )


def check_password_rules(password: str, field: str = "password") -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.field(
            field, translatable("must be at least %(limit)s characters", limit=MIN_PASSWORD_LENGTH)
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise ValidationFailed.field(
            field, translatable("must be at most %(limit)s characters", limit=MAX_PASSWORD_LENGTH)
        )


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verified against when the username is unknown, so a wrong username costs as long as a
# wrong password and response times do not reveal which usernames exist.
_DUMMY_HASH: dict[tuple[int, int], str] = {}


def spend_equal_time(password: str) -> None:
    hasher = _hasher()
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY_HASH:
        _DUMMY_HASH[key] = hasher.hash("not a real password")
    password_matches(_DUMMY_HASH[key], password)
