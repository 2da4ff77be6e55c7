"""The settings open data is published with, refused in production until each is set.

One check for every way out (the API's exports, the public endpoints, ``ledger export`` and OCDS
publication): development keeps its marked placeholders, production names what is missing.
"""

from __future__ import annotations

from ledger.config import Settings, current_settings
from ledger.errors import NotConfigured
from ledger.messages import translatable


def publication_settings() -> Settings:
    """The settings, if they let the service publish: in production every publication setting
    must be set (the placeholders stand in elsewhere); the refusal names each one missing."""
    settings = current_settings()
    if settings.is_production and settings.unset_publication:
        raise NotConfigured(
            translatable(
                "Open data is not published until these settings are set: %(names)s",
                names=", ".join(settings.unset_publication),
            ),
            errors={name: [translatable("must be set in production")] for name in settings.unset_publication},
            code="publication.not_configured",
        )
    return settings
