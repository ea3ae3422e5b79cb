"""Parsers never raise: arbitrary bytes, arbitrary JSON (also shaped like each provider's
envelope) and real webhooks (tests/fixtures) with values replaced or removed give a
ParsedWebhook or a Rejection."""

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.base import ParsedWebhook, Rejection
from providers.registry import codec

PROVIDERS = ("meta", "evolution", "zapi")

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=25,
)
keys = st.sampled_from(
    [
        "object", "entry", "changes", "field", "value", "metadata", "phone_number_id", "messages",
        "statuses", "contacts", "id", "from", "timestamp", "type", "text", "image", "audio",
        "reaction", "interactive", "button", "context", "errors", "event", "instance", "data",
        "key", "remoteJid", "fromMe", "message", "messageType", "messageTimestamp", "keyId",
        "status", "instanceId", "messageId", "phone", "momment", "ids", "isGroup", "location",
    ]
)  # fmt: skip
shaped = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=40,
)


def check(provider: str, body: bytes) -> None:
    result = codec(provider).parse(body)
    assert isinstance(result, ParsedWebhook | Rejection)


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=150, deadline=None)
@given(body=st.binary(max_size=300))
def test_arbitrary_bytes(provider: str, body: bytes) -> None:
    check(provider, body)


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=150, deadline=None)
@given(value=json_values)
def test_arbitrary_json(provider: str, value: Any) -> None:
    check(provider, json.dumps(value).encode())


def _meta(v: Any) -> dict[str, Any]:
    change = {"field": "messages", "value": v}
    return {"object": "whatsapp_business_account", "entry": [{"changes": [change]}]}


def _zapi(v: Any) -> dict[str, Any]:
    return {"type": "ReceivedCallback", "instanceId": "i", **(v if isinstance(v, dict) else {})}


ENVELOPES = {
    "meta": _meta,
    "evolution": lambda v: {"event": "messages.upsert", "instance": "i", "data": v},
    "zapi": _zapi,
}


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=300, deadline=None)
@given(value=shaped)
def test_provider_shaped_json(provider: str, value: Any) -> None:
    check(provider, json.dumps(ENVELOPES[provider](value)).encode())
    if provider == "zapi":
        check(
            provider,
            json.dumps({"type": "MessageStatusCallback", "instanceId": "i", "x": value}).encode(),
        )
    if provider == "evolution":
        check(
            provider,
            json.dumps({"event": "messages.update", "instance": "i", "data": value}).encode(),
        )


# -- real webhooks, mutated ---------------------------------------------------------------------

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _fixtures(provider: str) -> list[Any]:
    return [json.loads(p.read_text()) for p in sorted((FIXTURES / provider).glob("*.json"))]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value inside ``value`` (dict keys and list indexes)."""
    found = [prefix]
    if isinstance(value, dict):
        for key, inner in value.items():
            found += _paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += _paths(inner, (*prefix, index))
    return found


def _replaced(value: Any, path: tuple[Any, ...], new: Any, *, delete: bool) -> Any:
    if not path:
        return new
    head, rest = path[0], path[1:]
    if isinstance(value, dict):
        copy = dict(value)
        if delete and not rest:
            copy.pop(head, None)
        else:
            copy[head] = _replaced(value[head], rest, new, delete=delete)
        return copy
    items = list(value)
    if delete and not rest:
        items.pop(head)
    else:
        items[head] = _replaced(items[head], rest, new, delete=delete)
    return items


@st.composite
def mutated(draw: st.DrawFn, provider: str) -> Any:
    """A real webhook of ``provider`` with one to three values replaced by arbitrary JSON (or
    removed)."""
    body = draw(st.sampled_from(_fixtures(provider)))
    for _ in range(draw(st.integers(min_value=1, max_value=3))):
        path = draw(st.sampled_from(_paths(body)))
        delete = bool(path) and draw(st.booleans())
        body = _replaced(body, path, None if delete else draw(json_values), delete=delete)
    return body


@pytest.mark.parametrize("provider", PROVIDERS)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_mutated_real_webhooks(provider: str, data: st.DataObject) -> None:
    check(provider, json.dumps(data.draw(mutated(provider))).encode())
