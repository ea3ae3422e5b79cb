"""Object keys in the private bucket (pure).

Stored media lives under its tenant and its content: ``{tenant_id}/sha256/{hex}``, so identical
bytes are stored once per tenant and one tenant's key never names another's object. Files being
received go to ``staging/{tenant_id}/{uuid}`` first (their hash is known only at the end); one
bucket lifecycle rule on ``staging/`` clears what a crash leaves behind.
"""

import re
from uuid import UUID, uuid4

_SHA256 = re.compile(r"^[0-9a-f]{64}$")


def content_key(tenant_id: UUID, sha256: str) -> str:
    if not _SHA256.match(sha256):
        raise ValueError("not a sha256 hex digest")
    return f"{tenant_id}/sha256/{sha256}"


def staging_key(tenant_id: UUID) -> str:
    return f"staging/{tenant_id}/{uuid4()}"


def belongs_to(tenant_id: UUID, key: str) -> bool:
    """True when ``key`` is one of ``tenant_id``'s stored objects."""
    prefix = f"{tenant_id}/sha256/"
    return key.startswith(prefix) and bool(_SHA256.match(key[len(prefix) :]))
