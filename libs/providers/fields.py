"""Typed readers for untrusted JSON: every provider parser reads webhook bodies through these so a
wrong type anywhere becomes ``None`` instead of an exception."""

import math
from datetime import UTC, datetime
from typing import Any

import orjson


def load_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not valid JSON or not an object."""
    try:
        value = orjson.loads(body)
    except (orjson.JSONDecodeError, TypeError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def obj(value: Any, key: str) -> dict[str, Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, dict) else {}


def arr(value: Any, key: str) -> list[Any]:
    found = value.get(key) if isinstance(value, dict) else None
    return found if isinstance(found, list) else []


def text(value: Any, key: str) -> str | None:
    found = value.get(key) if isinstance(value, dict) else None
    if isinstance(found, str):
        return found
    if isinstance(found, int | float) and not isinstance(found, bool):
        return str(found)
    return None


def number(value: Any, key: str) -> float | None:
    """A finite number (JSON number or numeric string); NaN and infinities count as absent."""
    found = value.get(key) if isinstance(value, dict) else None
    if isinstance(found, bool) or not isinstance(found, int | float | str):
        return None
    try:
        result = float(found)
    except (ValueError, OverflowError):
        return None
    return result if math.isfinite(result) else None


def flag(value: Any, key: str) -> bool:
    return isinstance(value, dict) and value.get(key) is True


def epoch(seconds: float | None) -> datetime | None:
    """A UTC datetime from Unix seconds; None when absent or out of range."""
    if seconds is None or seconds != seconds:  # NaN
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def digits(jid: str | None) -> str | None:
    """The user part of a WhatsApp JID (``5511...@s.whatsapp.net`` → ``5511...``)."""
    if not jid:
        return None
    return jid.split("@", 1)[0].split(":", 1)[0] or None
