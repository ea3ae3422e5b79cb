"""Fixtures of the media tests: the object store, the provider simulator, the worker's
dependencies wired as the process wires them (real adapters, guarded HTTP client)."""

from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest

from bus.publisher import Publisher
from config.shared import KafkaSettings, S3Settings
from credentials import Vault
from media.__main__ import provider_client
from media.attach import Attacher, RetryPolicy
from media.netguard import guarded_client
from media.storage import ObjectStore, open_store
from providers.egress import EgressPolicy
from simulator.control import SimControl
from simulator.server import RunningSimulator, running


@pytest.fixture(scope="session")
async def store(s3_settings: S3Settings) -> AsyncIterator[ObjectStore]:
    async with open_store(s3_settings) as opened:
        yield opened


@pytest.fixture(scope="session")
def media_sim() -> Iterator[RunningSimulator]:
    with running() as sim:
        yield sim


@pytest.fixture
async def sim_control(media_sim: RunningSimulator) -> AsyncIterator[SimControl]:
    async with SimControl(media_sim.base_url) as control:
        yield control
        await control.clear_faults()


def sim_exemption(media_sim: RunningSimulator) -> str:
    """The simulator's ``host:port``: the one private address media may come from in tests."""
    parts = urlsplit(media_sim.base_url)
    return f"{parts.hostname}:{parts.port}"


@pytest.fixture(scope="session")
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    async with Publisher(kafka_settings) as opened:
        yield opened


@pytest.fixture
async def attacher(
    app_pool: asyncpg.Pool,
    store: ObjectStore,
    vault: Vault,
    publisher: Publisher,
    media_sim: RunningSimulator,
) -> AsyncIterator[Attacher]:
    http = guarded_client(EgressPolicy.reaching(media_sim.base_url), read_s=2.0)
    try:
        yield Attacher(
            pool=app_pool,
            store=store,
            vault=vault,
            http=http,
            publisher=publisher,
            clients=provider_client,
            retry=RetryPolicy(attempts=3, initial_s=0.05, max_s=0.2),
        )
    finally:
        await http.aclose()


CREDENTIALS: dict[str, dict[str, Any]] = {
    "meta": {"access_token": "tok", "app_secret": "a"},
    "evolution": {"api_key": "tok", "webhook_secret": "w"},
    "zapi": {"token": "tok", "client_token": "ct", "webhook_secret": "w"},
}


def credentials_for(provider: str, account: str) -> dict[str, Any]:
    key = {"meta": "phone_number_id", "evolution": "instance", "zapi": "instance_id"}[provider]
    return {**CREDENTIALS[provider], key: account}
