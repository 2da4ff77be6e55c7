"""Settings, read once at start from ``LEDGER_*`` environment variables.

Configuration is data, never code: every setting is a string in the environment, parsed and
validated here, and a bad or missing value stops the service at start with a message that says
which variable is wrong and what it should be. ``create_app(config)`` layers its ``config``
mapping (of the same ``LEDGER_*`` names) over the environment, which is how tests configure it.
"""

from __future__ import annotations

import enum
import logging
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ledger.audit.cosignature import CosignatureVerifier
from ledger.audit.note import KeyFormatError

log = logging.getLogger(__name__)

SECRET_KEY_FILE = "secret_key"  # noqa: S105 (a file name)
MIN_SECRET_KEY_LENGTH = 32


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable."""


@dataclass(frozen=True)
class WitnessEndpoint:
    """A witness the log sends its checkpoints to (one entry of ``LEDGER_WITNESSES``)."""

    name: str
    """A short local label (logs, the ``ledger audit witness`` output)."""
    url: str
    """The witness's submission prefix; the log POSTs to ``<url>/add-checkpoint``."""
    verifier: CosignatureVerifier
    """The witness's cosignature/v1 key: only its cosignatures are kept."""


class Environment(enum.StrEnum):
    DEVELOPMENT = "development"
    TESTING = "testing"
    PRODUCTION = "production"


@dataclass(frozen=True)
class Settings:
    """Validated settings of one running service."""

    environment: Environment
    instance_path: Path
    database_url: str
    secret_key: str
    log_origin: str
    token_ttl_hours: int
    max_request_bytes: int
    argon2_time_cost: int
    argon2_memory_kib: int
    login_max_failures: int
    login_lockout_max_seconds: int
    checkpoint_every_entries: int
    checkpoint_every_seconds: int
    default_page_size: int
    max_page_size: int
    audit_sequencing: str
    secure_cookies: bool
    publisher_name: str
    ocds_prefix: str
    grant_id_prefix: str
    public_url: str
    publisher_identifier: str = "example-publisher-development"
    licence_url: str = "https://licence.example.invalid/development-placeholder"
    unset_publication: tuple[str, ...] = ()
    """The publication settings left unset (each ``LEDGER_*`` name): their placeholders stand in
    outside production; in production nothing is published until they are set."""
    witnesses: tuple[WitnessEndpoint, ...] = ()
    smtp_url: str | None = None
    mail_from: str = "Community Fund Ledger <ledger@localhost>"
    notify_worker: str = "off"
    # "auto": the background worker publishes the OCDS releases a change implies (production's
    # default); "manual": only `ledger export ocds` does (elsewhere, so tests and demos decide).
    publish_ocds: str = "manual"
    # The deployment's business time zone (an IANA name): what day it is for the books and the open data.
    time_zone: str = "Asia/Shanghai"

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.PRODUCTION


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the ``LEDGER_*`` variables of ``environ`` (default: the process)."""
    env = dict(os.environ if environ is None else environ)
    environment = _parse_environment(env.get("LEDGER_ENV", "development"))
    instance_path = Path(env.get("LEDGER_INSTANCE_PATH") or Path.cwd() / "instance").resolve()
    argon2_memory_kib = _int(env, "LEDGER_ARGON2_MEMORY_KIB", 65536, minimum=8)
    argon2_time_cost = _int(env, "LEDGER_ARGON2_TIME_COST", 3, minimum=1)
    if environment is Environment.PRODUCTION and (argon2_memory_kib < 19456 or argon2_time_cost < 2):
        raise ConfigError(
            "LEDGER_ARGON2_MEMORY_KIB must be at least 19456 and LEDGER_ARGON2_TIME_COST at "
            "least 2 in production (the OWASP minimum for Argon2id)"
        )
    default_page_size = _int(env, "LEDGER_DEFAULT_PAGE_SIZE", 50, minimum=1)
    max_page_size = _int(env, "LEDGER_MAX_PAGE_SIZE", 500, minimum=1)
    if default_page_size > max_page_size:
        raise ConfigError("LEDGER_DEFAULT_PAGE_SIZE must not exceed LEDGER_MAX_PAGE_SIZE")
    return Settings(
        environment=environment,
        instance_path=instance_path,
        database_url=_database_url(env.get("LEDGER_DATABASE_URL"), instance_path),
        secret_key=_secret_key(env.get("LEDGER_SECRET_KEY"), instance_path, environment),
        log_origin=_log_origin(env.get("LEDGER_LOG_ORIGIN", "community-fund-ledger.local/audit")),
        token_ttl_hours=_int(env, "LEDGER_TOKEN_TTL_HOURS", 12, minimum=1, maximum=24 * 90),
        max_request_bytes=_int(env, "LEDGER_MAX_REQUEST_BYTES", 16 * 1024 * 1024, minimum=1024),
        argon2_time_cost=argon2_time_cost,
        argon2_memory_kib=argon2_memory_kib,
        login_max_failures=_int(env, "LEDGER_LOGIN_MAX_FAILURES", 5, minimum=1),
        login_lockout_max_seconds=_int(env, "LEDGER_LOGIN_LOCKOUT_MAX_SECONDS", 900, minimum=1),
        checkpoint_every_entries=_int(env, "LEDGER_CHECKPOINT_EVERY_ENTRIES", 1000, minimum=1),
        checkpoint_every_seconds=_int(env, "LEDGER_CHECKPOINT_EVERY_SECONDS", 1, minimum=1),
        default_page_size=default_page_size,
        max_page_size=max_page_size,
        audit_sequencing=_choice(
            env,
            "LEDGER_AUDIT_SEQUENCING",
            ("inline", "background"),
            "background" if environment is Environment.PRODUCTION else "inline",
        ),
        # Browsers keep Secure cookies from http://127.0.0.1 and localhost too, so the default
        # suits development; turn it off only behind a plain-HTTP test harness.
        secure_cookies=_choice(env, "LEDGER_SECURE_COOKIES", ("true", "false"), "true") == "true",
        publisher_name=_setting(env, "LEDGER_PUBLISHER_NAME"),
        publisher_identifier=_publisher_identifier(_setting(env, "LEDGER_PUBLISHER_ID")),
        ocds_prefix=_ocds_prefix(_setting(env, "LEDGER_OCDS_PREFIX")),
        grant_id_prefix=_grant_prefix(_setting(env, "LEDGER_360G_PREFIX")),
        licence_url=_http_url("LEDGER_DATA_LICENCE", _setting(env, "LEDGER_DATA_LICENCE")),
        public_url=_http_url("LEDGER_PUBLIC_URL", _setting(env, "LEDGER_PUBLIC_URL")).rstrip("/"),
        unset_publication=tuple(
            name for name in PUBLICATION_PLACEHOLDERS if not (env.get(name) or "").strip()
        ),
        witnesses=_witnesses(env.get("LEDGER_WITNESSES")),
        smtp_url=_smtp_url(env.get("LEDGER_SMTP_URL")),
        mail_from=(env.get("LEDGER_MAIL_FROM") or "Community Fund Ledger <ledger@localhost>").strip(),
        # In development `ledger run` (the pages' first request) starts a notifier thread, so the
        # demo shows notifications without a second process; elsewhere `ledger notify run` does it.
        notify_worker=_choice(
            env,
            "LEDGER_NOTIFY_WORKER",
            ("thread", "off"),
            "thread" if environment is Environment.DEVELOPMENT else "off",
        ),
        time_zone=_time_zone(env.get("LEDGER_TIME_ZONE") or "Asia/Shanghai"),
        publish_ocds=_choice(
            env,
            "LEDGER_PUBLISH_OCDS",
            ("auto", "manual"),
            "auto" if environment is Environment.PRODUCTION else "manual",
        ),
    )


PUBLICATION_PLACEHOLDERS: dict[str, str] = {
    # Marked as examples wherever they appear, so that nobody mistakes a development export
    # for a publication; production refuses to publish with any of them (see unset_publication).
    "LEDGER_PUBLISHER_NAME": "示例发布者（开发用）Example publisher (development)",
    "LEDGER_PUBLISHER_ID": "example-publisher-development",
    "LEDGER_OCDS_PREFIX": "ocds-xxxxxx",
    "LEDGER_360G_PREFIX": "360G-EXAMPLEDEV",
    "LEDGER_DATA_LICENCE": "https://licence.example.invalid/development-placeholder",
    "LEDGER_PUBLIC_URL": "http://127.0.0.1:5000",
}
"""The publication settings and their development placeholders."""


def _setting(env: Mapping[str, str], name: str) -> str:
    return (env.get(name) or "").strip() or PUBLICATION_PLACEHOLDERS[name]


def _publisher_identifier(value: str) -> str:
    """The publisher's own organisation identifier (org-id.guide form, e.g. ``CN-USCI-<code>``);
    the ids of parties without a registered identifier are made under it."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{1,99}", value):
        raise ConfigError(
            f"LEDGER_PUBLISHER_ID must be letters, digits and '-' (such as CN-USCI-<credit code>), not {value!r}"
        )
    return value


def _http_url(name: str, value: str) -> str:
    address = urlsplit(value)
    if address.scheme not in ("http", "https") or not address.netloc:
        raise ConfigError(f"{name} must be an http(s) URL, not {value!r}")
    return value


def _time_zone(name: str) -> str:
    """``LEDGER_TIME_ZONE``: an IANA time zone name the system knows (``Asia/Shanghai``)."""
    try:
        ZoneInfo(name.strip())
    except (ValueError, ZoneInfoNotFoundError):
        raise ConfigError(
            f"LEDGER_TIME_ZONE must be an IANA time zone such as Asia/Shanghai, not {name!r}"
        ) from None
    return name.strip()


def _smtp_url(raw: str | None) -> str | None:
    """``LEDGER_SMTP_URL``: ``smtp://[user:password@]host[:port][?starttls=true]`` or ``smtps://...``.

    Unset: mail is kept in the database's outbox (development) instead of being sent.
    """
    if raw is None or not raw.strip():
        return None
    address = urlsplit(raw.strip())
    if address.scheme not in ("smtp", "smtps") or not address.hostname:
        raise ConfigError(f"LEDGER_SMTP_URL must be an smtp:// or smtps:// URL with a host, not {raw!r}")
    try:
        address.port  # noqa: B018 (raises on a port that is not a number)
    except ValueError:
        raise ConfigError(f"LEDGER_SMTP_URL has a port that is not a number: {raw!r}") from None
    return raw.strip()


def _witnesses(raw: str | None) -> tuple[WitnessEndpoint, ...]:
    """``LEDGER_WITNESSES``: entries ``name=url=vkey`` separated by commas or whitespace.

    ``name`` is a local label (letters, digits, ``.``, ``_``, ``-``), ``url`` the witness's
    http(s) submission prefix (without ``=`` or ``,``), ``vkey`` its cosignature/v1 verifier
    key (type 0x04). Empty or unset: no witnesses.
    """
    if raw is None or not raw.strip():
        return ()
    endpoints: list[WitnessEndpoint] = []
    for item in re.split(r"[\s,]+", raw.strip()):
        parts = item.split("=", 2)
        if len(parts) != 3:
            raise ConfigError(f"LEDGER_WITNESSES entries are name=url=vkey, not {item!r}")
        name, url, vkey = parts
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", name):
            raise ConfigError(f"LEDGER_WITNESSES: {name!r} is not a name (letters, digits, '.', '_', '-')")
        address = urlsplit(url)
        if address.scheme not in ("http", "https") or not address.netloc:
            raise ConfigError(f"LEDGER_WITNESSES: witness {name}'s url {url!r} is not an http(s) URL")
        try:
            verifier = CosignatureVerifier.from_vkey(vkey)
        except KeyFormatError as error:
            raise ConfigError(
                f"LEDGER_WITNESSES: witness {name}'s key is not a witness vkey: {error}"
            ) from None
        if any(e.name == name or e.verifier == verifier for e in endpoints):
            raise ConfigError(f"LEDGER_WITNESSES: witness {name} or its key is listed twice")
        endpoints.append(WitnessEndpoint(name, url.rstrip("/"), verifier))
    return tuple(endpoints)


def _ocds_prefix(value: str) -> str:
    """An OCDS ocid prefix: ``ocds-`` and six letters or digits, as the OCDS helpdesk registers them."""
    if not re.fullmatch(r"ocds-[a-z0-9]{6}", value):
        raise ConfigError(
            f"LEDGER_OCDS_PREFIX must be ocds- and six lowercase letters or digits, not {value!r}"
        )
    return value


def _grant_prefix(value: str) -> str:
    """A 360Giving identifier prefix: ``360G-`` and the publisher's short name."""
    if not re.fullmatch(r"360G-[A-Za-z0-9]+", value):
        raise ConfigError(f"LEDGER_360G_PREFIX must be 360G- and letters or digits, not {value!r}")
    return value


def _choice(env: Mapping[str, str], name: str, choices: tuple[str, ...], default: str) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _parse_environment(value: str) -> Environment:
    try:
        return Environment(value.strip().lower())
    except ValueError:
        choices = ", ".join(e.value for e in Environment)
        raise ConfigError(f"LEDGER_ENV must be one of {choices}, not {value!r}") from None


def _int(env: Mapping[str, str], name: str, default: int, *, minimum: int, maximum: int | None = None) -> int:
    raw = env.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum} and {maximum}" if maximum is not None else f"at least {minimum}"
        raise ConfigError(f"{name} must be {bound}, not {value}")
    return value


def _database_url(raw: str | None, instance_path: Path) -> str:
    if not raw:
        return f"sqlite:///{instance_path / 'ledger.sqlite3'}"
    scheme = urlsplit(raw).scheme
    # psycopg 3 is the one PostgreSQL driver we support; plain postgresql:// means it.
    if scheme in ("postgresql", "postgres"):
        return "postgresql+psycopg://" + raw.split("://", 1)[1]
    if scheme in ("postgresql+psycopg", "sqlite"):
        return raw
    raise ConfigError(
        f"LEDGER_DATABASE_URL must be a postgresql:// or sqlite:/// URL, not one with scheme {scheme!r}"
    )


def _secret_key(raw: str | None, instance_path: Path, environment: Environment) -> str:
    if raw:
        if len(raw) < MIN_SECRET_KEY_LENGTH:
            raise ConfigError(f"LEDGER_SECRET_KEY must be at least {MIN_SECRET_KEY_LENGTH} characters")
        return raw
    key_file = instance_path / SECRET_KEY_FILE
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    if environment is Environment.PRODUCTION:
        raise ConfigError(
            "LEDGER_SECRET_KEY is not set and the instance folder has no secret_key file: "
            "set LEDGER_SECRET_KEY (at least 32 random characters) or run `ledger init`"
        )
    log.warning(
        "no LEDGER_SECRET_KEY and no secret_key file in the instance folder yet (`ledger init` "
        "creates one); using a temporary key until then"
    )
    return secrets.token_urlsafe(48)


def _log_origin(value: str) -> str:
    origin = value.strip()
    if not origin or any(c.isspace() for c in origin) or "+" in origin:
        raise ConfigError(
            "LEDGER_LOG_ORIGIN must be a non-empty name without spaces or '+', "
            f"such as example.org/audit, not {value!r}"
        )
    return origin


def write_secret_key(instance_path: Path) -> Path:
    """Create the instance folder's secret key file once; never overwrite it."""
    instance_path.mkdir(parents=True, exist_ok=True)
    key_file = instance_path / SECRET_KEY_FILE
    if not key_file.exists():
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
    return key_file


def current_settings() -> Settings:
    """The settings of the running app (inside an app context)."""
    from flask import current_app

    settings: Settings = current_app.extensions["ledger.settings"]
    return settings
