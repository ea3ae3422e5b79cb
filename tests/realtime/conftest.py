"""A gateway running in-process (uvicorn on a free loopback port) over the session's real
Postgres and broker, plus helpers that act like the other services producing events."""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import httpx
import orjson
import pytest
import websockets
from aiokafka import AIOKafkaConsumer, TopicPartition
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError
from websockets.asyncio.client import ClientConnection

from auth.tokens import mint
from bus.publisher import Publisher
from config.shared import (
    AuthSettings,
    CredentialSettings,
    DatabaseSettings,
    EgressSettings,
    KafkaSettings,
    LogSettings,
)
from contracts.codec import decode
from devstack.process import free_port
from devstack.stack import Endpoints
from realtime.app import create_app, server_config
from realtime.hub import Hub
from realtime.settings import Config, GatewaySettings
from simulator.server import RunningSimulator, running
from telemetry.ops import EmbeddedServer, ops_server
from tests.conftest import TEST_SECRETS, egress_allow

TEST_AUTH = AuthSettings(
    algorithm="HS256",
    secret=SecretStr(TEST_SECRETS["JWT_SECRET"]),
    issuer=TEST_SECRETS["JWT_ISSUER"],
    audience=TEST_SECRETS["JWT_AUDIENCE"],
)


@dataclass
class Gateway:
    app: FastAPI
    port: int
    ops_port: int  # /healthz /readyz /metrics

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    @property
    def hub(self) -> Hub:
        hub: Hub = self.app.state.resources.hub
        return hub

    def ops(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=f"http://127.0.0.1:{self.ops_port}", timeout=10)

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.AsyncClient(base_url=self.url, headers=headers, timeout=10)


def token(tenant_id: UUID, user: str = "agent-1", role: str = "agent") -> str:
    return mint(TEST_AUTH, tenant_id=tenant_id, user_id=user, role=role)  # type: ignore[arg-type]


@contextlib.asynccontextmanager
async def running_gateway(
    stack: Endpoints,
    *,
    auth: AuthSettings = TEST_AUTH,
    egress: EgressSettings | None = None,
    **settings: Any,
) -> AsyncIterator[Gateway]:
    gateway_settings = GatewaySettings(
        host="127.0.0.1", port=0, ingest_public_url="https://ingest.test", **settings
    )
    config = Config(
        gateway=gateway_settings,
        database=DatabaseSettings(app_database_url=SecretStr(stack.app_database_url)),
        kafka=KafkaSettings(bootstrap=stack.kafka_bootstrap, idempotent=stack.kafka_idempotent),
        auth=auth,
        credentials=CredentialSettings(credential_keys=SecretStr(TEST_SECRETS["CREDENTIAL_KEYS"])),
        log=LogSettings(format="console"),
        egress=egress or EgressSettings(egress="loopback", allow_http=True),
    )
    app = create_app(config)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = EmbeddedServer(server_config(app, gateway_settings))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ops_port = free_port()
    ops = ops_server(app.state.ops, ops_port, host="127.0.0.1")
    ops_task = asyncio.create_task(ops.serve())
    for _ in range(500):
        if (server.started and ops.started) or task.done() or ops_task.done():
            break
        await asyncio.sleep(0.02)
    assert server.started and ops.started, "gateway did not start"
    try:
        yield Gateway(app, port, ops_port)
    finally:
        server.should_exit = ops.should_exit = True
        await asyncio.gather(task, ops_task)
        sock.close()


@pytest.fixture(scope="session")
def provider_sim() -> Iterator[RunningSimulator]:
    """The provider simulator: the one server the session's gateway may call."""
    with running() as sim:
        yield sim


def egress_to(*base_urls: str) -> EgressSettings:
    """Development egress (loopback, plain http) reaching exactly these servers."""
    return EgressSettings(egress="loopback", allow_http=True, egress_allow=egress_allow(*base_urls))


@pytest.fixture(scope="session")
def second_sim() -> Iterator[RunningSimulator]:
    """Another provider server: a second self-hosted Evolution, say."""
    with running() as sim:
        yield sim


@pytest.fixture(scope="session")
async def gateway(
    stack: Endpoints, provider_sim: RunningSimulator, second_sim: RunningSimulator
) -> AsyncIterator[Gateway]:
    egress = egress_to(provider_sim.base_url, second_sim.base_url)
    async with running_gateway(stack, egress=egress) as gw:
        yield gw


@pytest.fixture(scope="session")
async def publisher(kafka_settings: KafkaSettings) -> AsyncIterator[Publisher]:
    async with Publisher(kafka_settings) as p:
        yield p


# -- websocket client helpers ---------------------------------------------------------------------


async def connect(gw: Gateway, tok: str, **options: Any) -> tuple[ClientConnection, dict[str, Any]]:
    ws = await websockets.connect(gw.ws_url, open_timeout=10, **options)
    await ws.send(orjson.dumps({"type": "auth", "token": tok}).decode())
    ready = await recv(ws)
    assert ready["type"] == "ready", ready
    return ws, ready


async def recv(ws: ClientConnection) -> dict[str, Any]:
    frame: dict[str, Any] = orjson.loads(await asyncio.wait_for(ws.recv(), timeout=20))
    return frame


async def subscribe(ws: ClientConnection, channel: str, after: int | None = None) -> dict[str, Any]:
    """Subscribe; returns the ``subscribed`` (or ``error``) frame. Replayed events follow it."""
    await ws.send(orjson.dumps({"type": "subscribe", "channel": channel, "after": after}).decode())
    while True:
        frame = await recv(ws)
        if frame["type"] in ("subscribed", "error"):
            return frame


async def next_event(ws: ClientConnection) -> dict[str, Any]:
    while True:
        frame = await recv(ws)
        if frame["type"] == "event":
            return frame


class TopicTail:
    """Reads a topic from "now" on (every partition, no group), decoded; tolerates others'
    records and stops at a record the test recognises as its marker."""

    def __init__(self, kafka: KafkaSettings, topic: str) -> None:
        self._topic = topic
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=kafka.bootstrap, group_id=None, enable_auto_commit=False
        )

    async def __aenter__(self) -> "TopicTail":
        await self._consumer.start()
        partitions = self._consumer.partitions_for_topic(self._topic) or set()
        assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
        self._consumer.assign(assigned)
        await self._consumer.seek_to_end(*assigned)
        for tp in assigned:
            await self._consumer.position(tp)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._consumer.stop()

    async def until(self, is_marker: Callable[[Any], bool], max_polls: int = 300) -> list[Any]:
        seen: list[Any] = []
        for _ in range(max_polls):
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    try:
                        event = decode(self._topic, record.value)
                    except ValidationError:
                        continue
                    seen.append(event)
                    if is_marker(event):
                        return seen
        raise AssertionError("marker never arrived")
