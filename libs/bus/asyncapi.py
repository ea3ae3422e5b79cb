"""The AsyncAPI 3 document of the events: every topic, who publishes it, who consumes it.

FastStream writes the document from a broker's declared publishers and subscribers; this
module declares them on a broker that never connects, from ``contracts.topics`` (each topic's
event union, the payload schema) and ``FLOWS`` (which service produces and which group
consumes each topic; tests/contracts checks them against the services' own constants). The
result is committed (``docs/asyncapi.json``, checked like the JSON Schemas) and served by the
gateway at ``/asyncapi.json`` and, as a page, ``/asyncapi``.
"""

import html
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from contracts import topics

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "asyncapi.json"


@dataclass(frozen=True)
class Flow:
    topic: str
    producers: tuple[str, ...]  # services that publish to the topic
    consumer: str  # the service that consumes it
    group: str | None  # its consumer group; None: every instance reads every partition
    purpose: str


FLOWS: tuple[Flow, ...] = (
    Flow(
        topics.INBOUND,
        ("ingest-api",),
        "ingest-worker",
        "ingest-worker",
        "Provider webhooks, normalized: messages, statuses, raw bodies kept for replay. "
        "ingest-worker persists them once and publishes what follows.",
    ),
    Flow(
        topics.OUTBOUND,
        ("gateway", "dispatcher"),
        "dispatcher",
        "dispatcher",
        "Agents' sends and read receipts; the dispatcher's sweep republishes stuck ones. "
        "One lane per conversation keeps its order.",
    ),
    Flow(
        topics.MEDIA,
        ("ingest-worker", "media-worker"),
        "media-worker",
        "media-worker",
        "Attachments to fetch from the provider into the object store (and retries due).",
    ),
    Flow(
        topics.REALTIME,
        ("ingest-worker", "dispatcher", "media-worker", "gateway"),
        "gateway",
        None,
        "What agents' inboxes show, with the tenant's cursor; every gateway reads every "
        "partition and fans out to its websockets.",
    ),
    Flow(
        topics.DEADLETTER,
        ("ingest-worker", "dispatcher", "media-worker"),
        "omni dlq",
        None,
        "Records a consumer could not handle, with the exact bytes, for inspection and "
        "replay (`omni dlq`).",
    ),
)


def _payload_handler(schema: Any) -> Any:
    """A stub whose annotated argument FastStream reads the payload schema from."""

    async def handle(event: Any) -> None:
        return None

    handle.__annotations__ = {"event": schema, "return": None}
    return handle


def broker() -> KafkaBroker:
    """A broker carrying every flow's publishers and subscribers, for the document only."""
    described = KafkaBroker(
        "kafka:9092",
        description="The event bus between Omnichannel Realtime's services.",
    )
    for flow in FLOWS:
        topic = topics.BY_NAME[flow.topic]
        keyed = f"Keyed by {topic.keyed_by}; {topic.partitions} partitions."
        described.publisher(
            flow.topic,
            schema=topic.schema,
            title=f"{flow.topic}:publish",
            description=f"Published by {', '.join(flow.producers)}. {flow.purpose} {keyed}",
        )
        group = f"group {flow.group}" if flow.group else "no group (every instance reads all)"
        described.subscriber(
            flow.topic,
            group_id=flow.group,
            title=f"{flow.topic}:consume",
            description=f"Consumed by {flow.consumer}, {group}. {flow.purpose} {keyed}",
        )(_payload_handler(topic.schema))
    return described


def document() -> dict[str, Any]:
    spec = AsyncAPI(
        broker(),
        title="Omnichannel Realtime events",
        version="1",
        description="Kafka topics between the services; payloads are JSON (contracts/).",
        schema_version="3.0.0",
    ).to_specification()
    found: dict[str, Any] = json.loads(spec.to_json())
    return found


def render() -> str:
    return json.dumps(document(), indent=2, sort_keys=True) + "\n"


def export(path: Path = DOC_PATH) -> Path:
    path.write_text(render(), encoding="utf-8")
    return path


def page(doc: dict[str, Any]) -> str:
    """A self-contained HTML page of the document (no script from a CDN: the gateway may run
    where browsers reach nothing else)."""
    parts = [
        "<!doctype html><meta charset=utf-8><title>Events: AsyncAPI</title>",
        "<style>body{font:15px system-ui;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "pre{background:#f4f4f4;padding:.75rem;overflow:auto;max-height:30rem}</style>",
        f"<h1>{html.escape(doc['info']['title'])}</h1>",
        f"<p>{html.escape(doc['info'].get('description', ''))} AsyncAPI {doc['asyncapi']}; "
        '<a href="/asyncapi.json">the document as JSON</a>.</p>',
    ]
    schemas = doc.get("components", {}).get("schemas", {})
    messages = doc.get("components", {}).get("messages", {})
    for name, channel in sorted(doc.get("channels", {}).items()):
        parts.append(f"<h2>{html.escape(name)}</h2><p>topic <code>")
        parts.append(f"{html.escape(channel['address'])}</code>. ")
        parts.append(f"{html.escape(channel.get('description', ''))}</p>")
        for ref in channel.get("messages", {}).values():
            message = messages.get(ref["$ref"].rsplit("/", 1)[-1], {})
            payload = message.get("payload", {})
            target = payload.get("$ref", "").rsplit("/", 1)[-1]
            shown = schemas.get(target, payload)
            parts.append("<details><summary>payload schema</summary><pre>")
            parts.append(html.escape(json.dumps(shown, indent=2)) + "</pre></details>")
    return "".join(parts)
