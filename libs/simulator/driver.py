"""The customer side: posts authenticated webhooks (customer messages, status updates) to the
ingest URL each integration registered, the way each provider authenticates them."""

import asyncio
import random
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
from aiolimiter import AsyncLimiter

from contracts.common import Provider
from providers.meta.verify import SIGNATURE_HEADER, sign
from providers.secret import TOKEN_HEADER, ZAPI_QUERY_PARAM
from simulator import business, changes, webhooks
from simulator.state import Integration, SimState

_BACKGROUND: set[asyncio.Task[None]] = set()
# Webhooks in flight at once. Every accepted send queues three status webhooks; unbounded,
# a burst of sends piles thousands of requests onto the HTTP client's pool (and the simulator
# answers sends late).
IN_FLIGHT = 32
_IN_FLIGHT = asyncio.Semaphore(IN_FLIGHT)
# Below uvicorn's default of 5 s: we drop an idle connection before a receiver on uvicorn's
# defaults would, so such a receiver does not close a connection just as a webhook reuses it
# (ingest-api keeps idle connections 75 s; a receiver quicker than 4 s can still race us).
KEEP_ALIVE_S = 4.0


def webhook_session() -> aiohttp.ClientSession:
    """The client webhooks are posted with. aiohttp, not httpx: posting status webhooks is
    most of what the simulator does under load, and httpx costs several times aiohttp's CPU
    per request (its pool checks every kept connection's socket on each request; measured by
    ``python -m bench.client_cost``). Webhooks go to the URLs the developer registered
    (ingest-api on this machine): not a provider call, so not the tenants' egress guard."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=IN_FLIGHT, keepalive_timeout=KEEP_ALIVE_S),
        timeout=aiohttp.ClientTimeout(connect=5.0, sock_read=30.0),
        trust_env=False,
        auto_decompress=False,
    )


def request_for(integration: Integration, body: bytes) -> tuple[str, dict[str, str]]:
    """(URL, headers) for posting ``body`` as the provider would."""
    if not integration.webhook_url:
        raise ValueError(f"integration {integration.account_id} has no webhook_url")
    url = integration.webhook_url
    headers = {"Content-Type": "application/json"}
    if integration.provider is Provider.META and integration.app_secret:
        headers[SIGNATURE_HEADER] = sign(body, integration.app_secret)
    elif integration.provider is Provider.EVOLUTION and integration.webhook_secret:
        headers[TOKEN_HEADER] = integration.webhook_secret
    elif integration.provider is Provider.ZAPI and integration.webhook_secret:
        joiner = "&" if urlsplit(url).query else "?"
        url = f"{url}{joiner}{urlencode({ZAPI_QUERY_PARAM: integration.webhook_secret})}"
    return url, headers


async def post(
    state: SimState, http: aiohttp.ClientSession, integration: Integration, body: bytes, what: str
) -> int:
    url, headers = request_for(integration, body)
    try:
        async with (
            _IN_FLIGHT,
            http.post(url, data=body, headers=headers, allow_redirects=False) as response,
        ):
            await response.read()
            code = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        code = 0
        state.webhooks.append(
            {
                "account_id": integration.account_id,
                "what": what,
                "status": 0,
                "error": type(exc).__name__,
            }
        )
        return code
    state.webhooks.append({"account_id": integration.account_id, "what": what, "status": code})
    return code


async def customer_message(
    state: SimState,
    http: aiohttp.ClientSession,
    integration: Integration,
    customer: webhooks.Customer,
    spec: webhooks.InboundSpec,
    media_base: str,
) -> dict[str, Any]:
    build = (
        changes.change
        if spec.kind in changes.KINDS
        else business.post_body
        if spec.kind in business.KINDS
        else webhooks.inbound
    )
    message_id, body = build(
        integration.provider, integration.account_id, customer, spec, media_base
    )
    code = await post(state, http, integration, body, f"message:{spec.kind}")
    return {"provider_message_id": message_id, "status": code}


def after_send(
    state: SimState,
    http: aiohttp.ClientSession,
    integration: Integration,
    message_id: str,
    recipient: str,
    *,
    client_ref: str | None = None,
    echo: bytes | None = None,
) -> None:
    """Queue the webhooks of an accepted send: the ``fromMe`` ``echo`` (Evolution / Z-API)
    when given, then sent → delivered → read per the integration's plan (Meta's carry the
    send's ``client_ref``, its biz_opaque_callback_data)."""
    plan = integration.statuses
    if not integration.webhook_url or not (plan.enabled or echo is not None):
        return
    sequence = list(plan.sequence) if plan.enabled else []
    if plan.out_of_order:
        sequence.reverse()
    if plan.duplicate:
        sequence = [s for s in sequence for _ in (0, 1)]

    async def play() -> None:
        if echo is not None:
            await post(state, http, integration, echo, "echo")
        for value in sequence:
            if plan.delay_s:
                await asyncio.sleep(plan.delay_s)
            body = webhooks.status(
                integration.provider,
                integration.account_id,
                message_id,
                value,
                recipient,
                client_ref,
            )
            await post(state, http, integration, body, f"status:{value}")

    task = asyncio.get_running_loop().create_task(play())
    _BACKGROUND.add(task)
    task.add_done_callback(_BACKGROUND.discard)


async def drive(
    state: SimState,
    http: aiohttp.ClientSession,
    integrations: Sequence[Integration],
    *,
    count: int,
    rate_per_s: float,
    kinds: Sequence[str] = ("text",),
    customers: int = 10,
    media_base: str,
    concurrency: int = 16,
) -> dict[str, int]:
    """Post ``count`` customer messages spread over the integrations at ``rate_per_s``."""
    limiter = AsyncLimiter(max(rate_per_s, 0.001), 1)
    gate = asyncio.Semaphore(concurrency)
    outcome: dict[str, int] = {"posted": 0, "accepted": 0, "refused": 0}
    rng = random.Random(count)

    async def one(index: int) -> None:
        async with gate:
            integration = integrations[index % len(integrations)]
            phone = f"55119{rng.randrange(customers):08d}"
            spec = webhooks.InboundSpec(
                kind=kinds[index % len(kinds)], text=f"simulated message {index}"
            )
            result = await customer_message(
                state,
                http,
                integration,
                webhooks.Customer(phone, f"Customer {phone[-4:]}"),
                spec,
                media_base,
            )
            outcome["posted"] += 1
            outcome["accepted" if 200 <= result["status"] < 300 else "refused"] += 1

    async with asyncio.TaskGroup() as group:
        for index in range(count):
            await limiter.acquire()
            group.create_task(one(index))
    return outcome
