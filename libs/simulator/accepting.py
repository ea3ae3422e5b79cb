"""An accepted send: its webhooks, then its answer, as an accepting fault shapes it.

The accepting faults (``state.ACCEPTING_FAULTS``) are the answers that leave the sender
unsure whether the message went out, while the simulator did take it (it is recorded and its
echo and status webhooks are posted):

    late_answer     the answer comes after ``delay_s`` (beyond the adapter's read timeout)
    accepted_502    a proxy's 502 page instead of the provider's answer
    accepted_no_id  a 2xx whose body lacks the message id
    echo_first      the echo (Evolution / Z-API ``fromMe``; Meta: the ``sent`` status with
                    biz_opaque_callback_data) is posted and answered by ingest first, then,
                    after ``delay_s``, the normal answer
"""

import asyncio
from typing import Any

from fastapi.responses import HTMLResponse, JSONResponse, Response

from contracts.common import Provider
from simulator import driver, echoes, webhooks
from simulator.runtime import Runtime
from simulator.state import ACCEPTING_FAULTS, Integration

PROXY_502 = "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>"

# The id-bearing fields of each provider's send answer.
_ID_FIELDS = {
    Provider.META: ("messages",),
    Provider.EVOLUTION: ("key",),
    Provider.ZAPI: ("messageId", "id"),
}


async def accept(
    rt: Runtime,
    integration: Integration,
    *,
    provider_message_id: str,
    recipient: str,
    action: str,
    body: Any,
    answer: dict[str, Any],
    status: int,
) -> Response:
    provider = integration.provider
    fault = rt.state.take_fault(provider, "send", ACCEPTING_FAULTS)
    client_ref = None
    if provider is Provider.META and isinstance(body, dict):
        client_ref = body.get("biz_opaque_callback_data")
    echo = None
    if integration.echo or fault is not None:
        echo = echoes.echo(provider, integration.account_id, provider_message_id, action, body)
    if fault is not None and fault.kind == "echo_first":
        first = echo or webhooks.status(
            provider, integration.account_id, provider_message_id, "sent", recipient, client_ref
        )
        await driver.post(rt.state, rt.http, integration, first, "echo_first")
        echo = None
        await asyncio.sleep(fault.delay_s)
    driver.after_send(
        rt.state,
        rt.http,
        integration,
        provider_message_id,
        recipient,
        client_ref=client_ref,
        echo=echo,
    )
    kind = fault.kind if fault is not None else None
    if kind == "late_answer":
        await asyncio.sleep(fault.delay_s if fault is not None else 0.0)
    if kind == "accepted_502":
        return HTMLResponse(PROXY_502, status_code=502)
    if kind == "accepted_no_id":
        stripped = {k: v for k, v in answer.items() if k not in _ID_FIELDS[provider]}
        return JSONResponse(stripped, status_code=status)
    return JSONResponse(answer, status_code=status)
