"""Settings read from the environment, each checked so that a bad value stops
start-up with a message that names it (instead of a traceback deep in Django)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

import environ
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
DATABASE_SCHEMES = {"sqlite", "postgres", "postgresql", "pgsql"}
REDIS_SCHEMES = {"redis", "rediss", "unix"}


class SettingError(ImproperlyConfigured):
    def __init__(self, name: str, problem: str):
        super().__init__(f"Setting {name} {problem}")
        self.name = name


def read_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise SettingError(name, f"must be true or false, not {raw!r}")


def read_database(default_sqlite: Path) -> dict:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{default_sqlite}"
    scheme = urlparse(url).scheme
    if scheme not in DATABASE_SCHEMES:
        raise SettingError(
            "DATABASE_URL", f"must be a sqlite:/// or postgres:// URL, not {url!r}"
        )
    database = environ.Env.db_url_config(url)
    if not database.get("NAME"):
        raise SettingError("DATABASE_URL", f"names no database: {url!r}")
    return database


def read_redis_url() -> str:
    url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    if urlparse(url).scheme not in REDIS_SCHEMES:
        raise SettingError("REDIS_URL", f"must be a redis:// URL, not {url!r}")
    return url


def read_list(name: str, default: str, required: bool = False) -> list[str]:
    raw = os.environ.get(name, default)
    items = [item.strip() for item in raw.split(",") if item.strip()]
    if required and not items:
        raise SettingError(name, "is empty: name at least one value")
    return items


def read_secret_key(generated_file: Path) -> str:
    """SECRET_KEY from the environment, else one generated once into var/ so
    that sessions survive restarts without anyone having to invent a key."""
    key = os.environ.get("SECRET_KEY")
    if key is not None:
        if len(key) < 32:
            raise SettingError("SECRET_KEY", "is shorter than 32 characters")
        return key
    if not generated_file.exists():
        generated_file.parent.mkdir(parents=True, exist_ok=True)
        generated_file.write_text(secrets.token_urlsafe(50))
        generated_file.chmod(0o600)
    return generated_file.read_text().strip()


def read_fernet_key(generated_file: Path) -> str:
    """FIELD_ENCRYPTION_KEY encrypts secrets at rest (BMC passwords). Apart
    from SECRET_KEY, so rotating that one never makes stored secrets unreadable."""
    from cryptography.fernet import Fernet

    key = os.environ.get("FIELD_ENCRYPTION_KEY")
    if key is None:
        if not generated_file.exists():
            generated_file.parent.mkdir(parents=True, exist_ok=True)
            generated_file.write_text(Fernet.generate_key().decode())
            generated_file.chmod(0o600)
        key = generated_file.read_text().strip()
    try:
        Fernet(key.encode())
    except ValueError:
        raise SettingError("FIELD_ENCRYPTION_KEY", "must be a Fernet key (32 url-safe base64-encoded bytes)")
    return key


def read_positive(name: str, default: int, unit: str) -> int:
    """A positive whole number of ``unit`` (seconds, bytes, levels ...)."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(name, f"must be a whole number of {unit}, not {raw!r}")
    if value <= 0:
        raise SettingError(name, f"must be positive, not {value}")
    return value


def read_seconds(name: str, default: int) -> int:
    return read_positive(name, default, "seconds")


WEBSOCKET_SCHEMES = {"ws", "wss"}


def read_websocket_url(name: str, default: str) -> str:
    """A ws:// (or wss://) URL with a host and port, such as the console proxy's."""
    url = os.environ.get(name, default)
    parts = urlparse(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme not in WEBSOCKET_SCHEMES or not parts.hostname or port is None:
        raise SettingError(name, f"must be a ws://host:port URL, not {url!r}")
    return url
