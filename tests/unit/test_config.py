"""Settings come from LEDGER_* variables and are validated at start."""

from __future__ import annotations

from pathlib import Path

import pytest

from ledger.config import ConfigError, load_settings, write_secret_key


def test_production_without_a_secret_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEDGER_SECRET_KEY is not set"):
        load_settings({"LEDGER_ENV": "production", "LEDGER_INSTANCE_PATH": str(tmp_path)})


def test_production_reads_the_instance_secret_written_by_init(tmp_path: Path) -> None:
    write_secret_key(tmp_path)
    settings = load_settings({"LEDGER_ENV": "production", "LEDGER_INSTANCE_PATH": str(tmp_path)})
    assert len(settings.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="at least 32"):
        load_settings({"LEDGER_SECRET_KEY": "short", "LEDGER_INSTANCE_PATH": str(tmp_path)})


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("LEDGER_ENV", "staging", "LEDGER_ENV must be one of"),
        ("LEDGER_TOKEN_TTL_HOURS", "twelve", "LEDGER_TOKEN_TTL_HOURS must be a whole number"),
        ("LEDGER_TOKEN_TTL_HOURS", "0", "LEDGER_TOKEN_TTL_HOURS must be between"),
        ("LEDGER_DATABASE_URL", "mysql://x/y", "LEDGER_DATABASE_URL must be a postgresql"),
        ("LEDGER_LOG_ORIGIN", "has space", "LEDGER_LOG_ORIGIN must be"),
        ("LEDGER_TIME_ZONE", "Mars/Olympus", "LEDGER_TIME_ZONE must be an IANA time zone"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({name: value, "LEDGER_INSTANCE_PATH": str(tmp_path)})


def test_postgresql_urls_use_psycopg_3(tmp_path: Path) -> None:
    settings = load_settings(
        {"LEDGER_DATABASE_URL": "postgresql://u@localhost/x", "LEDGER_INSTANCE_PATH": str(tmp_path)}
    )
    assert settings.database_url == "postgresql+psycopg://u@localhost/x"


def test_default_database_is_sqlite_in_the_instance_folder(tmp_path: Path) -> None:
    settings = load_settings({"LEDGER_INSTANCE_PATH": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'ledger.sqlite3'}"


def test_weak_password_hashing_is_refused_in_production(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEDGER_ARGON2_MEMORY_KIB"):
        load_settings(
            {
                "LEDGER_ENV": "production",
                "LEDGER_SECRET_KEY": "x" * 40,
                "LEDGER_ARGON2_MEMORY_KIB": "8",
                "LEDGER_INSTANCE_PATH": str(tmp_path),
            }
        )


def test_publication_settings_left_unset_are_named_and_checked(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "LEDGER_INSTANCE_PATH": str(tmp_path),
            "LEDGER_PUBLISHER_NAME": "江岸区社会组织服务中心",
            "LEDGER_OCDS_PREFIX": "ocds-ab12cd",
        }
    )
    assert settings.unset_publication == (
        "LEDGER_PUBLISHER_ID",
        "LEDGER_360G_PREFIX",
        "LEDGER_DATA_LICENCE",
        "LEDGER_PUBLIC_URL",
    )
    assert (settings.publisher_name, settings.ocds_prefix) == ("江岸区社会组织服务中心", "ocds-ab12cd")
    assert settings.grant_id_prefix == "360G-EXAMPLEDEV"
    with pytest.raises(ConfigError, match="LEDGER_DATA_LICENCE"):
        load_settings({"LEDGER_INSTANCE_PATH": str(tmp_path), "LEDGER_DATA_LICENCE": "CC-BY-4.0"})
    with pytest.raises(ConfigError, match="LEDGER_PUBLISHER_ID"):
        load_settings({"LEDGER_INSTANCE_PATH": str(tmp_path), "LEDGER_PUBLISHER_ID": "CN USCI"})
