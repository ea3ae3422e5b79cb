"""The system under load, every service as its own process: inbound webhooks end to end,
ingest-api against the HTTP ceiling, outbound sends, gateway fan-out against bare broadcast.

Latency is carried in the payload: a webhook's message text starts with ``bench:<epoch>``
(its scheduled send time), which comes back to the agent's websocket inside the
conversation's ``last_message_preview``; outbound sends are matched at the simulator by their
text.
"""

import asyncio
import json
import os
import secrets
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import SecretStr
from websockets.asyncio.client import connect

from auth.tokens import mint
from bench import outbound
from bench.ceilings import FANOUT_FRAMES
from bench.http_load import build_request, open_loop
from bench.procs import swarm
from bench.report import ratio
from bench.stats import summary_ms
from bus.publisher import Outgoing, Publisher
from config import AuthSettings, KafkaSettings
from contracts import ConversationUpdated, ConversationView, Provider, topics
from credentials import Vault, new_key
from db.provision import insert_tenant, upsert_member
from db.realtime_log import numbered, record
from db.tenant import tenant_tx
from devstack.demo import wire_demo
from devstack.services import SPECS, ServiceSet
from devstack.settings import StackSettings
from devstack.stack import Stack
from providers.meta.verify import sign
from simulator.control import SimControl

PHONE_POOL = 2000  # distinct customers, so conversation updates are not coalesced


def meta_webhook(account: str, i: int, sent_at: float) -> bytes:
    """A Meta text-message webhook (shape: developers.facebook.com/docs/whatsapp/cloud-api/
    webhooks/components), its text carrying the time it was scheduled."""
    phone = f"55119{i % PHONE_POOL:08d}"
    return json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": "waba",
                    "changes": [
                        {
                            "field": "messages",
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": {
                                    "display_phone_number": "15550000000",
                                    "phone_number_id": account,
                                },
                                "contacts": [
                                    {"profile": {"name": f"Bench {i % PHONE_POOL}"}, "wa_id": phone}
                                ],
                                "messages": [
                                    {
                                        "from": phone,
                                        "id": f"wamid.bench.{uuid4().hex}",
                                        "timestamp": str(int(sent_at)),
                                        "type": "text",
                                        "text": {"body": f"bench:{sent_at:.6f} #{i}"},
                                    }
                                ],
                            },
                        }
                    ],
                }
            ],
        },
        separators=(",", ":"),
    ).encode()


async def create_tenant(owner_url: str) -> UUID:
    tenant_id = uuid4()
    conn = await asyncpg.connect(owner_url)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant_id))
            await insert_tenant(
                conn, tenant_id=tenant_id, name="Bench", slug=f"bench-{tenant_id.hex[:12]}"
            )
            await upsert_member(conn, tenant_id=tenant_id, user_id="bench-agent", role="agent")
    finally:
        await conn.close()
    return tenant_id


class Inbox:
    """One agent on the tenant's inbox, timing each preview that carries a ``bench:`` stamp."""

    def __init__(self, gateway: str, token: str) -> None:
        self.url = gateway.replace("http", "ws", 1) + "/v1/ws"
        self.token = token
        self.latencies: list[tuple[float, float]] = []  # (sent_at, latency_s)
        self.seen: set[str] = set()
        self._task: asyncio.Task[None] | None = None

    async def drained(self, since: float, expected: int, timeout_s: float = 120) -> int:
        """Wait until ``expected`` stamped messages sent after ``since`` arrived (or time out,
        or arrivals stop for 10 s); returns how many did."""
        deadline = time.monotonic() + timeout_s
        last, idle_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            count = sum(1 for sent, _ in self.latencies if sent >= since)
            if count >= expected:
                return count
            if count != last:
                last, idle_since = count, time.monotonic()
            elif time.monotonic() - idle_since > 10:
                return count
            await asyncio.sleep(0.5)
        return sum(1 for sent, _ in self.latencies if sent >= since)

    async def start(self) -> None:
        ready = asyncio.Event()

        async def run() -> None:
            async with connect(self.url, max_size=2**22, ping_interval=None) as ws:
                await ws.send(json.dumps({"type": "auth", "token": self.token}))
                await ws.recv()
                await ws.send(json.dumps({"type": "subscribe", "channel": "inbox", "after": None}))
                await ws.recv()
                ready.set()
                async for frame in ws:
                    now = time.time()
                    text = str(frame)
                    at = text.find("bench:")
                    if at == -1:
                        continue
                    stamp = text[at + 6 : at + 6 + 17]
                    marker = text[at : text.find('"', at)]
                    if marker in self.seen:
                        continue  # the same preview again (another update of that conversation)
                    self.seen.add(marker)
                    sent = float(stamp)
                    self.latencies.append((sent, now - sent))

        self._task = asyncio.create_task(run())
        await asyncio.wait_for(ready.wait(), 30)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def _inbound_step(
    running: "Running", inbox: Inbox, rate: int, duration_s: float
) -> dict[str, Any]:
    """Signed Meta webhooks posted open loop at ``rate`` for ``duration_s``, each timed from
    its scheduled send to the agent's websocket frame."""
    port = int(running.services.urls["ingest-api"].rsplit(":", 1)[1])
    path = f"/webhooks/meta/{running.webhook_key}"
    t0 = time.time()

    def make(i: int) -> bytes:
        # Stamped with its scheduled time: queueing before it is sent counts as latency.
        body = meta_webhook(running.account, i, t0 + i / rate)
        return build_request(
            "POST",
            "127.0.0.1",
            path,
            {
                "Content-Type": "application/json",
                "X-Hub-Signature-256": sign(body, running.app_secret),
            },
            body,
        )

    started = time.time()
    result = await open_loop(
        "127.0.0.1", port, make, rate=rate, duration_s=duration_s, connections=256
    )
    # Read the latencies once the pipeline has drained this step (a preview can be
    # overtaken by a later message of the same customer, hence "nearly all").
    await inbox.drained(started, int(result.completed * 0.995))
    window = [lat for sent, lat in inbox.latencies if sent >= started]
    return {
        "offered": rate,
        "accepted_per_s": round(result.throughput),
        "errors": result.errors,
        "statuses": dict(result.statuses),
        "delivered": len(window),
        "sent": result.completed,
        "http": summary_ms(result.latencies_s),
        **summary_ms(window),
    }


async def _inbound(root: Path, logs: Path, rates: list[int], duration_s: float) -> dict[str, Any]:
    """The rising rates, each on a system started afresh: the embedded broker (Tansu 0.6, in
    memory) costs more CPU per fetch the more batches a partition holds, so on one broker
    each step would be slowed by the ones before it (docs/architecture.md, performance
    notes), which Kafka is not. Every step thus starts from the same state."""
    steps: list[dict[str, Any]] = []
    for rate in rates:
        async with fresh_system(root, logs, f"inbound-{rate}") as (running, _):
            inbox = Inbox(running.services.urls["gateway"], running.token)
            await inbox.start()
            try:
                steps.append(await _inbound_step(running, inbox, rate, duration_s))
            finally:
                await inbox.stop()
        print("inbound step", steps[-1], flush=True)
        if steps[-1]["errors"] or (steps[-1]["p99_ms"] or 10**9) > 2000:
            break  # far past the knee: higher rates only add queueing
    sustained = [
        s["offered"]
        for s in steps
        if not s["errors"]
        and s["p99_ms"] is not None
        and s["p99_ms"] < 500
        and s["delivered"] >= 0.99 * s["sent"]
    ]
    return {
        "steps": steps,
        "sustained_rate": max(sustained, default=None),
        "step_duration_s": duration_s,
        "fresh_system_per_step": True,
    }


async def _outbound(running: "Running", *, quick: bool) -> dict[str, Any]:
    """The outbound path's ceiling, throughput and paced latency (bench.outbound)."""
    urls = running.services.urls
    out: dict[str, Any] = {}
    async with (
        SimControl(urls["simulator"]) as sim,
        outbound.agents_client(urls["gateway"], running.token) as api,
    ):
        out["outbound_ceiling"] = await outbound.ceiling(sim, urls["simulator"], 5 if quick else 10)
        print("outbound ceiling", out["outbound_ceiling"], flush=True)
        conversations = await outbound.open_windows(
            api, sim, Provider.META, running.account, outbound.CUSTOMERS
        )
        args = (api, sim, Provider.META, running.account, conversations)
        out["outbound"] = await outbound.throughput(*args, 300 if quick else 2000)
        out["outbound"]["ratio_to_outbound_ceiling"] = ratio(
            out["outbound"]["sends_per_s"], out["outbound_ceiling"]["sends_per_s"]
        )
        print("outbound", out["outbound"], flush=True)
        await _statuses_settled(running, timeout_s=180)
        out["outbound_paced"] = await outbound.paced(*args, 100, 5 if quick else 15)
        print("outbound paced", out["outbound_paced"], flush=True)
    return out


async def _fanout(
    system: ServiceSet,
    stack: Stack,
    pool: asyncpg.Pool,
    tenant_id: UUID,
    integration_id: UUID,
    token: str,
    clients: int,
    frames: int,
) -> dict[str, Any]:
    assert stack.endpoints is not None
    bootstrap = stack.endpoints.kafka_bootstrap
    url = system.urls["gateway"].replace("http", "ws", 1) + "/v1/ws"
    handshake = [
        json.dumps({"type": "auth", "token": token}),
        json.dumps({"type": "subscribe", "channel": "inbox", "after": None}),
    ]
    async with tenant_tx(pool, tenant_id) as conn:
        contact_id = await conn.fetchval(
            "INSERT INTO contacts (tenant_id, integration_id, external_id) VALUES ($1, $2, $3) "
            "RETURNING id",
            tenant_id,
            integration_id,
            f"fan-{uuid4().hex[:8]}",
        )
        conversation_id = await conn.fetchval(
            "INSERT INTO conversations (tenant_id, integration_id, contact_id) "
            "VALUES ($1, $2, $3) RETURNING id",
            tenant_id,
            integration_id,
            contact_id,
        )

    async def burst(pub: Publisher) -> None:
        """Record ``frames`` conversation updates in one transaction and publish them in one
        call, as ingest-worker does a batch: the gateway then has them all at once, like the
        bare broadcast, and the span measures its fan-out rather than a producer's round
        trips (on a broker holding the earlier steps' records, 60 sequential publishes took
        seconds)."""
        from datetime import UTC, datetime

        events = [
            ConversationUpdated(
                conversation=ConversationView(
                    id=conversation_id,
                    integration_id=integration_id,
                    provider=Provider.META,
                    contact_id=contact_id,
                    status="open",
                    last_message_preview=f"bench:{time.time():.6f}",
                    updated_at=datetime.now(UTC),
                )
            )
            for _ in range(frames)
        ]
        async with tenant_tx(pool, tenant_id) as conn:
            recorded = await record(conn, tenant_id, events)
        stamped = await numbered(pool, recorded)
        await pub.publish_many([Outgoing(topics.REALTIME, str(tenant_id), e) for e in stamped])

    # The producer is connected before the clock starts: the span is the gateway's.
    async with Publisher(KafkaSettings(bootstrap=bootstrap)) as pub:
        return await swarm(
            url, clients, frames, "gateway", handshake, lambda: burst(pub), timeout_s=120
        )


async def _fanout_fresh(root: Path, logs: Path, clients: int) -> dict[str, Any]:
    """Fan-out on a system started afresh, like each inbound step: after the outbound steps
    the embedded broker holds tens of thousands of records and costs more CPU per fetch
    (``_inbound``), which would be measured as the gateway's."""
    async with fresh_system(root, logs, "fanout") as (running, stack):
        return await _fanout(
            running.services,
            stack,
            running.pool,
            running.tenant_id,
            running.integration_id,
            running.token,
            clients,
            frames=FANOUT_FRAMES,
        )


async def _statuses_settled(running: "Running", timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        async with tenant_tx(running.pool, running.tenant_id) as conn:
            pending = await conn.fetchval(
                "SELECT count(*) FROM messages WHERE direction = 'outbound'"
                " AND status NOT IN ('read', 'played', 'failed')"
            )
        if pending == 0:
            break
        await asyncio.sleep(1)
    await asyncio.sleep(5)  # the last realtime events reach the gateway


@dataclass
class Running:
    """Every service up on one stack, a bench tenant wired to the simulator."""

    services: ServiceSet
    pool: asyncpg.Pool
    tenant_id: UUID
    integration_id: UUID  # the Meta integration the load goes through
    account: str
    webhook_key: str
    app_secret: str
    token: str  # an agent of the tenant


@asynccontextmanager
async def running_system(stack: Stack, logs: Path) -> AsyncIterator[Running]:
    assert stack.endpoints is not None
    e = stack.endpoints
    jwt_secret, credential_key = secrets.token_urlsafe(32), new_key()
    env = {
        **os.environ,
        **e.env(),
        "JWT_ALGORITHM": "HS256",
        "JWT_SECRET": jwt_secret,
        "JWT_ISSUER": "omni-bench",
        "JWT_AUDIENCE": "omni",
        "CREDENTIAL_KEYS": credential_key,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "GATEWAY_SEND_QUEUE_MAX": "4096",
        "GATEWAY_MAX_CHANNELS": "16",
    }
    services = ServiceSet([s.name for s in SPECS], env, logs, sys.executable)
    await asyncio.to_thread(services.start)
    try:
        tenant_id = await create_tenant(e.database_url)
        vault = Vault([credential_key])
        wired = {
            w.provider: w
            for w in await wire_demo(
                e.database_url,
                vault,
                tenant_id=tenant_id,
                sim_url=services.urls["simulator"],
                ingest_url=services.urls["ingest-api"],
                account_prefix=f"b{uuid4().hex[:6]}",
            )
        }
        meta = wired[Provider.META]
        pool = await asyncpg.create_pool(e.app_database_url, min_size=1, max_size=4)
        assert pool is not None
        try:
            async with tenant_tx(pool, tenant_id) as conn:
                app_secret = vault.open(
                    await conn.fetchval(
                        "SELECT credentials FROM integrations WHERE id = $1", meta.integration_id
                    )
                )["app_secret"]
            auth = AuthSettings(
                algorithm="HS256",
                secret=SecretStr(jwt_secret),
                issuer="omni-bench",
                audience="omni",
            )
            yield Running(
                services=services,
                pool=pool,
                tenant_id=tenant_id,
                integration_id=meta.integration_id,
                account=meta.account_id,
                webhook_key=meta.webhook_url.rsplit("/", 1)[1],
                app_secret=app_secret,
                token=mint(
                    auth, tenant_id=tenant_id, user_id="bench-agent", role="agent", ttl_s=3600
                ),
            )
        finally:
            await pool.close()
    finally:
        await asyncio.to_thread(services.stop)


@asynccontextmanager
async def fresh_system(root: Path, logs: Path, name: str) -> AsyncIterator[tuple["Running", Stack]]:
    """Infrastructure of its own (under ``root/name``) and every service on it, for one step."""
    stack = Stack(StackSettings(), root / name)
    await asyncio.to_thread(stack.start)
    try:
        await asyncio.to_thread(stack.prepare)
        async with running_system(stack, logs / name) as running:
            yield running, stack
    finally:
        await asyncio.to_thread(stack.stop)


async def measure(
    stack: Stack, root: Path, logs: Path, ceilings: dict[str, Any], *, quick: bool
) -> dict[str, Any]:
    """Inbound on fresh systems of its own (see ``_inbound``), outbound on ``stack``, fan-out
    on one more fresh system."""
    rates = [200, 500] if quick else [250, 500, 750, 1000, 1250, 1500, 2000]
    out: dict[str, Any] = {"inbound": await _inbound(root, logs, rates, 5 if quick else 30)}
    async with running_system(stack, logs / "system") as running:
        async with tenant_tx(running.pool, running.tenant_id) as conn:
            # Measure our pipeline, not the provider's quota (Meta: 80/s per number).
            await conn.execute(
                "UPDATE integrations SET rate_limit_per_s = 500 WHERE id = $1",
                running.integration_id,
            )
        await asyncio.sleep(6)  # the dispatcher reloads integration settings
        out.update(await _outbound(running, quick=quick))
    out["fanout"] = await _fanout_fresh(root, logs, ceilings["fanout"]["clients"])
    out["fanout"]["ratio_to_fanout_ceiling"] = ratio(
        out["fanout"]["deliveries_per_s"], ceilings["fanout"]["deliveries_per_s"]
    )
    print("fanout", out["fanout"], flush=True)
    return out
