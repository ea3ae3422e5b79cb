"""Outbound, measured three ways on one running system: the simulator answering bare sends
(the ceiling of this path), agents posting as fast as they can (throughput), and a paced
100 sends/s (how long the agent's POST takes, and how long from its 202 to the provider).

A send is matched at the simulator by the marker in its text; the simulator stamps when it
received the call. Every accepted send's status webhooks (sent, delivered, read) flow back
through ingest while the clock runs: they are part of the load.
"""

import asyncio
import json
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

import aiohttp

from bench.http_load import build_request, closed_loop
from bench.stats import summary_ms
from contracts import Provider
from simulator.control import SimControl

CUSTOMERS = 200  # conversations the agents reply in: one conversation's sends go in order
AGENTS = 64  # agents posting at once, and the ceiling's connections


async def open_windows(
    api: aiohttp.ClientSession, sim: SimControl, provider: Provider, account: str, customers: int
) -> list[str]:
    """An inbound message from each customer first (the 24-hour window), then the ids of
    their conversations."""
    for i in range(customers):
        await sim.inbound(provider, account, "text", phone=f"55118{i:08d}")
    deadline = time.monotonic() + 60
    conversations: list[str] = []
    while len(conversations) < customers and time.monotonic() < deadline:
        async with api.get("/v1/conversations", params={"limit": 200}) as response:
            page = await response.json()
        conversations = [
            c["id"] for c in page["items"] if c.get("last_inbound_at") and c["integration_id"]
        ]
        await asyncio.sleep(0.5)
    return conversations


def agents_client(gateway_url: str, token: str) -> aiohttp.ClientSession:
    """The agents' HTTP client: up to ``AGENTS`` connections to the gateway. aiohttp, not
    httpx: the load generator shares the machine with the system it measures, and with httpx
    it took ~10 ms of CPU per send (the throughput step, 2026-12-01), with aiohttp ~1 ms
    (``python -m bench.client_cost`` compares the two clients alone)."""
    return aiohttp.ClientSession(
        base_url=gateway_url,
        timeout=aiohttp.ClientTimeout(total=30),
        headers={"Authorization": f"Bearer {token}"},
        connector=aiohttp.TCPConnector(limit=AGENTS),
    )


async def _post(
    api: aiohttp.ClientSession, conversation: str, marker: str, errors: Counter[str]
) -> bool:
    """Post one reply; False (and the reason counted in ``errors``) unless it got its 202."""
    try:
        async with api.post(
            f"/v1/conversations/{conversation}/messages",
            json={
                "client_message_id": marker,
                "content": {"kind": "text", "body": f"reply {marker}"},
            },
        ) as response:
            await response.read()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        errors[type(exc).__name__] += 1
        return False
    if status != 202:
        errors[str(status)] += 1
        return False
    return True


async def _received(
    sim: SimControl, provider: Provider, account: str, accepted: dict[str, float]
) -> dict[str, float]:
    """When the simulator received each accepted send (waits up to a minute for them)."""
    deadline = time.monotonic() + 60
    received: dict[str, float] = {}
    since = 0
    while len(received) < len(accepted) and time.monotonic() < deadline:
        for call in await sim.requests(
            provider=provider, account_id=account, endpoint="send", since=since
        ):
            since = max(since, int(call["seq"]))
            body = json.dumps(call["body"])
            at = body.find("out-")
            if at != -1:
                marker = body[at:].split(" ", 1)[0].split('"', 1)[0]
                if marker in accepted:
                    received[marker] = float(call["at"])
        await asyncio.sleep(0.5)
    return received


async def throughput(
    api: aiohttp.ClientSession,
    sim: SimControl,
    provider: Provider,
    account: str,
    conversations: list[str],
    count: int,
    agents: int = AGENTS,
) -> dict[str, Any]:
    """``agents`` agents each posting their next reply as soon as the last was accepted."""
    accepted: dict[str, float] = {}
    errors: Counter[str] = Counter()
    queue = list(range(count))

    async def agent() -> None:
        while queue:
            i = queue.pop()
            marker = f"out-{i}-{uuid4().hex[:8]}"
            if await _post(api, conversations[i % len(conversations)], marker, errors):
                accepted[marker] = time.time()

    started = time.time()
    await asyncio.gather(*(agent() for _ in range(agents)))
    accept_span = time.time() - started
    received = await _received(sim, provider, account, accepted)
    span = max(received.values(), default=started) - started
    return {
        "requested": count,
        "agents": agents,
        "accepted": len(accepted),
        "errors": dict(errors),
        "accepted_per_s": round(len(accepted) / accept_span) if accept_span > 0 else None,
        "received": len(received),
        "sends_per_s": round(len(received) / span) if span > 0 else None,
        **summary_ms([received[m] - accepted[m] for m in received]),
    }


async def paced(
    api: aiohttp.ClientSession,
    sim: SimControl,
    provider: Provider,
    account: str,
    conversations: list[str],
    rate: float,
    duration_s: float,
) -> dict[str, Any]:
    """Sends offered at ``rate``/s whatever the answers do (open loop): the POST's latency is
    from its scheduled time (a slow answer cannot hide queueing), then 202 → simulator."""
    accepted: dict[str, float] = {}
    scheduled: dict[str, float] = {}  # wall time each send was due
    post_s: list[float] = []
    errors: Counter[str] = Counter()

    async def one(i: int, due: float) -> None:
        marker = f"out-p{i}-{uuid4().hex[:8]}"
        if not await _post(api, conversations[i % len(conversations)], marker, errors):
            return
        waited, now = time.perf_counter() - due, time.time()
        post_s.append(waited)
        accepted[marker] = now
        scheduled[marker] = now - waited

    tasks = []
    start = time.perf_counter()
    for i in range(int(rate * duration_s)):
        due = start + i / rate
        if (delay := due - time.perf_counter()) > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, due)))
    await asyncio.gather(*tasks)
    received = await _received(sim, provider, account, accepted)
    # 202 → simulator can be negative: the dispatcher may send before the client (on the
    # same busy cores) has read its 202. Due → simulator is what the agent waits end to end.
    to_provider = summary_ms([received[m] - accepted[m] for m in received])
    end_to_end = summary_ms([received[m] - scheduled[m] for m in received])
    return {
        "offered_per_s": rate,
        "duration_s": duration_s,
        "accepted": len(accepted),
        "errors": dict(errors),
        "received": len(received),
        "post": summary_ms(post_s),
        "accept_to_provider": to_provider,
        "due_to_provider": end_to_end,
    }


async def ceiling(sim: SimControl, sim_url: str, duration_s: float) -> dict[str, Any]:
    """The simulator answering Meta sends posted bare (pre-built requests, ``AGENTS`` persistent
    connections, nothing else running): what this path could carry if the system added
    nothing. Its account has no webhook, so no status webhooks follow."""
    account = f"ceiling{uuid4().hex[:8]}"
    await sim.register(Provider.META, account, statuses=False)
    url = urlsplit(sim_url)
    host, port = url.hostname or "127.0.0.1", url.port or 80

    def make(i: int) -> bytes:
        body = json.dumps(
            {
                "messaging_product": "whatsapp",
                "to": f"5511{i % 10_000:08d}",
                "type": "text",
                "text": {"body": f"ceiling {i}"},
            }
        ).encode()
        return build_request(
            "POST",
            f"{host}:{port}",
            f"/v21.0/{account}/messages",
            {"Content-Type": "application/json"},
            body,
        )

    result = await closed_loop(host, port, make, duration_s=duration_s, connections=AGENTS)
    return {
        "connections": AGENTS,
        "sends_per_s": round(result.throughput),
        "errors": result.errors,
        **summary_ms(result.latencies_s),
    }
