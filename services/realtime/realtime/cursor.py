"""Opaque keyset cursors for REST pagination: (timestamp or None, id), base64url JSON."""

import base64
from datetime import datetime
from uuid import UUID

import orjson

from realtime.errors import Unprocessable


def encode_cursor(at: datetime | None, row_id: UUID) -> str:
    raw = orjson.dumps([at.isoformat() if at else None, str(row_id)])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at, row_id = orjson.loads(raw)
        return (datetime.fromisoformat(at) if at is not None else None), UUID(row_id)
    except (ValueError, TypeError, orjson.JSONDecodeError):
        raise Unprocessable(
            "the cursor is not one this API issued", code="invalid_cursor"
        ) from None
