"""Secrets at rest (BMC passwords): Fernet tokens keyed by FIELD_ENCRYPTION_KEY.

The key is read from settings at each call, never cached, so a test's
override_settings (or a key rotated by a restart) takes effect at once. Fernet
authenticates what it decrypts: a token made under another key fails loudly
instead of turning into a wrong password sent to a BMC."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from core.errors import PortalError


class SecretUnreadable(PortalError):
    """A stored secret no longer decrypts: a server-side problem, not the
    client's, hence 503 like other "cannot do this right now" answers."""

    status_code = 503
    code = "secret_unreadable"


def _fernet() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEY.encode())


def encrypt_secret(plain: str) -> str:
    """The token to store for `plain`; "" (no secret set) stays "" so a blank
    field still reads as "nothing stored"."""
    if plain == "":
        return ""
    return _fernet().encrypt(plain.encode()).decode()


def decrypt_secret(token: str) -> str:
    """The plain text of a token made by `encrypt_secret`. Raises
    SecretUnreadable when the key changed since it was stored (or the token
    was damaged): Fernet cannot tell those apart, and both need the same fix."""
    if token == "":
        return ""
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: FIELD_ENCRYPTION_KEY has changed since it "
            "was saved (or the stored value is damaged). Restore the previous key, or enter "
            "the secret again."
        ) from None
