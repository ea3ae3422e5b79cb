"""Fixtures of the media tests: the object store, a loopback media source, the worker's
dependencies wired as the process wires them."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings, S3Settings
from contracts import MediaRef, Provider
from credentials import Vault
from media.attach import Attacher, RetryPolicy
from media.netguard import guarded_client
from media.ssrf import parse_exemptions
from media.storage import ObjectStore, open_store
from providers.base import MediaDownload, ProviderClient
from providers.errors import Permanent, Retryable
from tests.media.servers import Source, serving, source_app


@pytest.fixture(scope="session")
async def store(s3_settings: S3Settings) -> AsyncIterator[ObjectStore]:
    async with open_store(s3_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
async def source() -> AsyncIterator[Source]:
    from devstack.process import free_port

    src = Source(free_port())
    async with serving(source_app(src), src.port):
        yield src


@pytest.fixture(scope="session")
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    async with Publisher(kafka_settings) as opened:
        yield opened


class LoopbackProvider:
    """Stands in for a provider adapter until the adapters are merged: fetches ``ref.url``."""

    provider = Provider.ZAPI

    def __init__(self, http: httpx.AsyncClient, base_url: str) -> None:
        self._http = http
        self._base = base_url

    @asynccontextmanager
    async def fetch_media(self, ref: MediaRef) -> AsyncIterator[MediaDownload]:
        async with self._http.stream("GET", ref.url or ref.provider_ref) as response:
            if response.status_code >= 500:
                raise Retryable(f"HTTP {response.status_code}")
            if response.status_code >= 400:
                raise Permanent(f"media download answered HTTP {response.status_code}")
            yield MediaDownload(
                mime=response.headers.get("content-type"),
                size=None,
                filename=ref.filename,
                chunks=response.aiter_bytes(),
            )

    def media_hosts(self) -> frozenset[str]:
        return frozenset({httpx.URL(self._base).host})


def loopback_clients(
    provider: str, credentials: Mapping[str, Any], http: httpx.AsyncClient, base: str | None
) -> ProviderClient:
    assert base is not None
    client: Any = LoopbackProvider(http, base)
    return client  # type: ignore[no-any-return]


@pytest.fixture
async def attacher(
    app_pool: Any, store: ObjectStore, vault: Vault, publisher: Publisher, source: Source
) -> AsyncIterator[Attacher]:
    http = guarded_client(parse_exemptions(f"127.0.0.1:{source.port}"))
    try:
        yield Attacher(
            pool=app_pool,
            store=store,
            vault=vault,
            http=http,
            publisher=publisher,
            clients=loopback_clients,
            retry=RetryPolicy(attempts=3, initial_s=0.05, max_s=0.2),
        )
    finally:
        await http.aclose()
