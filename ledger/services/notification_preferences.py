"""How a person wants to be told: a mail for each notification, a daily digest, or none; the language.

Each person sets their own (nobody sets another's): changing them is recorded in the audit trail
(``user.preferences_changed``) and the row travels in the entry, so the replay rebuilds it. A
person without a row is told in the app only, in Chinese.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.errors import Forbidden, ValidationFailed
from ledger.extensions import db
from ledger.messages import translatable
from ledger.models.base import utcnow
from ledger.models.notification import EmailMode, NotificationPreference
from ledger.services.access import Actor
from ledger.services.audit_subjects import record_event
from ledger.services.concurrency import check_version

LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Preferences:
    email: str | None
    email_mode: str
    language: str
    version: int


def _own(actor: Actor) -> NotificationPreference | None:
    if actor.user_id is None:
        raise Forbidden(
            translatable("Notification settings belong to a signed-in person."), code="access.not_a_person"
        )
    return db.session.get(NotificationPreference, actor.user_id)


def get_preferences(actor: Actor) -> Preferences:
    found = _own(actor)
    if found is None:
        return Preferences(None, EmailMode.OFF.value, "zh", 0)
    return Preferences(found.email, found.email_mode, found.language, found.version)


def set_preferences(
    actor: Actor, *, email: str | None, email_mode: str, language: str, expected_version: int | None
) -> Preferences:
    """Change the signed-in person's own settings (``expected_version``: 0 before any were set)."""
    found = _own(actor)
    email = (email or "").strip() or None
    if email_mode != EmailMode.OFF.value and email is None:
        raise ValidationFailed.field("email", translatable("Give an address to receive mail at."))
    if found is None:
        if expected_version not in (None, 0):
            check_version(NotificationPreference(version=0), expected_version)
        found = NotificationPreference(user_id=actor.user_id, email_mode=EmailMode.OFF.value, language="zh")
        db.session.add(found)
    else:
        check_version(found, expected_version)
    found.email, found.email_mode, found.language = email, email_mode, language
    found.updated_at = utcnow()
    db.session.flush()
    record_event(
        actor,
        "user.preferences_changed",
        "user",
        actor.user_id,
        {"state": {"email": email, "email_mode": email_mode, "language": language, "version": found.version}},
    )
    return Preferences(found.email, found.email_mode, found.language, found.version)
