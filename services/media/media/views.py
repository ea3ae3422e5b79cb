"""Stored message rows → the realtime snapshot agents see (pure).

The same mapping as the persister's (ingest) on purpose: the worker's ``message.updated`` must
carry the whole message exactly as the inbox shows it, not only the media part.
"""

from collections.abc import Mapping
from typing import Any
from uuid import UUID, uuid5

import asyncpg

Row = asyncpg.Record | Mapping[str, Any]

_NAMESPACE = UUID("0b7e3f52-3d0c-4d7e-9a55-6c1f4b9e2d73")


def update_event_id(request_id: UUID, state: str) -> UUID:
    """The id of the ``message.updated`` a fetch request caused, so a redelivered request finds
    (and re-publishes) the event its first delivery recorded."""
    return uuid5(_NAMESPACE, f"{request_id}:media:{state}")
