"""Provider credentials encrypted at rest with Fernet, with key rotation.

``CREDENTIAL_KEYS`` holds several keys, newest first: the first encrypts, every one decrypts,
so a new key is added in front, ``omni credentials rotate`` re-encrypts the stored rows, and
the old key is then removed.
"""

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from config.shared import CredentialSettings


class CredentialError(ValueError):
    """Stored credentials cannot be decrypted with any configured key."""


class Vault:
    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ValueError("at least one credential key is required")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @classmethod
    def from_settings(cls, settings: CredentialSettings) -> "Vault":
        keys = [k.strip() for k in settings.credential_keys.get_secret_value().split(",")]
        return cls([k for k in keys if k])

    def seal(self, credentials: dict[str, Any]) -> bytes:
        return self._fernet.encrypt(json.dumps(credentials, sort_keys=True).encode())

    def open(self, token: bytes) -> dict[str, Any]:
        try:
            value: dict[str, Any] = json.loads(self._fernet.decrypt(bytes(token)))
        except InvalidToken:
            raise CredentialError("no configured key decrypts these credentials") from None
        return value

    def rotate(self, token: bytes) -> bytes:
        """Re-encrypt under the newest key (no-op in content)."""
        try:
            return self._fernet.rotate(bytes(token))
        except InvalidToken:
            raise CredentialError("no configured key decrypts these credentials") from None


def new_key() -> str:
    return Fernet.generate_key().decode()
