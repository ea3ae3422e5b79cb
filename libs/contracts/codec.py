"""Bytes ⇄ events for one topic; the only place that knows the wire is JSON."""

from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from contracts.topics import BY_NAME


@cache
def _adapter(topic: str) -> TypeAdapter[Any]:
    return TypeAdapter(BY_NAME[topic].schema)


def encode(event: BaseModel) -> bytes:
    # The serializer's bytes as they are (``model_dump_json`` decodes them to ``str``).
    encoded: bytes = event.__pydantic_serializer__.to_json(event)
    return encoded


def decode(topic: str, value: bytes) -> Any:
    """Validate ``value`` against ``topic``'s union; raises ``pydantic.ValidationError``."""
    return _adapter(topic).validate_json(value)
