"""The system under load, every service as its own process (``bench.running``): inbound
webhooks end to end, outbound sends (``bench.outbound``), gateway fan-out against the bare
broadcast (``bench.fanout``).

Latency is carried in the payload: a webhook's message text starts with ``bench:<epoch>``
(its scheduled send time), which comes back to the agent's websocket inside the
conversation's ``last_message_preview``; outbound sends are matched at the simulator by their
text.
"""

import asyncio
import json
import time
from pathlib import Path
from typing import Any
from uuid import uuid4

from websockets.asyncio.client import connect

from bench import fanout, outbound
from bench.http_load import build_request, open_loop
from bench.report import ratio
from bench.running import Running, fresh_system, running_system
from bench.stats import summary_ms
from contracts import Provider
from db.tenant import tenant_tx
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
    running: Running, inbox: Inbox, rate: int, duration_s: float
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


async def _outbound(running: Running, *, quick: bool) -> dict[str, Any]:
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


async def _statuses_settled(running: Running, timeout_s: float) -> None:
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
    out["fanout"] = await fanout.fanout_fresh(root, logs, ceilings["fanout"]["clients"])
    out["fanout"]["ratio_to_fanout_ceiling"] = ratio(
        out["fanout"]["deliveries_per_s"], ceilings["fanout"]["deliveries_per_s"]
    )
    print("fanout", out["fanout"], flush=True)
    return out
