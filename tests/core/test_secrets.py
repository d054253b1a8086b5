"""Secrets at rest: Fernet under FIELD_ENCRYPTION_KEY, loud on a changed key."""

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from core.errors import PortalError
from core.secrets import SecretUnreadable, decrypt_secret, encrypt_secret


def test_it_decrypts_what_it_encrypted():
    for plain in ["s3cret", "pässwörd with spaces", "x" * 200]:
        assert decrypt_secret(encrypt_secret(plain)) == plain


def test_it_never_stores_the_plain_text():
    token = encrypt_secret("hunter2-bmc")
    assert "hunter2" not in token
    # Fernet adds a random IV: the same secret never gives the same token twice.
    assert encrypt_secret("hunter2-bmc") != token


def test_it_keeps_an_empty_secret_empty():
    assert encrypt_secret("") == ""
    assert decrypt_secret("") == ""


def test_it_refuses_a_token_made_under_another_key_and_says_the_key_changed():
    token = encrypt_secret("s3cret")
    with override_settings(FIELD_ENCRYPTION_KEY=Fernet.generate_key().decode()):
        with pytest.raises(SecretUnreadable) as caught:
            decrypt_secret(token)
    error = caught.value
    assert isinstance(error, PortalError) and error.code == "secret_unreadable"
    assert "FIELD_ENCRYPTION_KEY has changed" in error.detail
    assert "s3cret" not in error.detail


def test_it_refuses_a_damaged_token_instead_of_returning_garbage():
    with pytest.raises(SecretUnreadable):
        decrypt_secret("not-a-fernet-token")
