"""Bytes ⇄ events for one topic; the only place that knows the wire is JSON."""

from functools import cache
from typing import Any

from pydantic import BaseModel, TypeAdapter

from contracts.topics import BY_NAME


@cache
def _adapter(topic: str) -> TypeAdapter[Any]:
    return TypeAdapter(BY_NAME[topic].schema)


def encode(event: BaseModel) -> bytes:
    return event.model_dump_json().encode()


def decode(topic: str, value: bytes) -> Any:
    """Validate ``value`` against ``topic``'s union; raises ``pydantic.ValidationError``."""
    return _adapter(topic).validate_json(value)
