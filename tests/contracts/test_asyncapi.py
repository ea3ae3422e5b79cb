"""The events' AsyncAPI document: committed exactly as the code renders it, true to the
services' own consumer groups, and served by the gateway."""

import json

import httpx

from bus import asyncapi
from contracts import topics
from devstack.stack import Endpoints
from dispatcher.settings import DispatcherSettings
from ingest.settings import IngestSettings
from media.worker import GROUP as MEDIA_GROUP
from tests.realtime.conftest import running_gateway


def test_committed_document_matches_the_code() -> None:
    assert asyncapi.DOC_PATH.read_text() == asyncapi.render(), "run `omni contracts asyncapi`"


def test_the_check_notices_a_change(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from omnicli.main import main

    out = tmp_path / "asyncapi.json"
    assert main(["contracts", "asyncapi", "--out", str(out)]) == 0
    assert main(["contracts", "asyncapi", "--check", "--out", str(out)]) == 0
    doc = json.loads(out.read_text())
    doc["info"]["title"] = "tampered"
    out.write_text(json.dumps(doc))
    assert main(["contracts", "asyncapi", "--check", "--out", str(out)]) == 1


def test_every_topic_has_a_publish_and_a_consume_channel_with_its_groups() -> None:
    doc = asyncapi.document()
    assert doc["asyncapi"].startswith("3.")
    channels = doc["channels"]
    for topic in topics.ALL:
        for side in ("publish", "consume"):
            assert channels[f"{topic.name}:{side}"]["address"] == topic.name
    groups = {flow.topic: flow.group for flow in asyncapi.FLOWS}
    assert groups[topics.INBOUND] == IngestSettings.model_fields["group_id"].default
    assert groups[topics.OUTBOUND] == DispatcherSettings.model_fields["group_id"].default
    assert groups[topics.MEDIA] == MEDIA_GROUP
    # Payloads carry the contracts' event models.
    schemas = doc["components"]["schemas"]
    assert {"MessageReceived", "SendRequested", "MediaFetchRequested", "DeadLettered"} <= set(
        schemas
    )


async def test_the_gateway_serves_the_document_and_a_page(stack: Endpoints) -> None:
    async with running_gateway(stack) as gw, httpx.AsyncClient(base_url=gw.url) as client:
        served = await client.get("/asyncapi.json")
        assert served.status_code == 200
        assert served.json() == json.loads(asyncapi.DOC_PATH.read_text())
        page = await client.get("/asyncapi")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "omni.outbound:consume" in page.text
