"""The control API under ``/_sim/``: register integrations, read recorded requests, arm
faults, play customers (one message or a stream), reset."""

import dataclasses
from typing import Any, Literal

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from contracts.common import Provider
from simulator import business, changes, driver, webhooks
from simulator.runtime import Runtime
from simulator.state import FAULT_KINDS, Fault, Integration, StatusPlan

router = APIRouter(prefix="/_sim")


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


class StatusPlanIn(BaseModel):
    enabled: bool = True
    sequence: tuple[str, ...] = ("sent", "delivered", "read")
    out_of_order: bool = False
    duplicate: bool = False
    delay_s: float = Field(0.0, ge=0, le=60)


class IntegrationIn(BaseModel):
    provider: Provider
    account_id: str
    webhook_url: str | None = None
    app_secret: str | None = None
    webhook_secret: str | None = None
    access_token: str | None = None
    client_token: str | None = None
    statuses: StatusPlanIn = StatusPlanIn()
    echo: bool = False


class FaultIn(BaseModel):
    provider: Provider | None = None
    endpoint: str = "*"
    kind: Literal[
        "error_5xx",
        "rate_limit",
        "timeout",
        "slow",
        "window_closed",
        "expired_token",
        "late_answer",
        "accepted_502",
        "accepted_no_id",
        "echo_first",
    ]
    times: int | None = Field(1, ge=1)
    status: int = 503
    retry_after_s: float | None = 1.0
    delay_s: float = Field(5.0, ge=0, le=120)


class InboundIn(BaseModel):
    kind: str = "text"
    phone: str = "5511987654321"
    name: str = "Sim Customer"
    text: str = "hello from the simulator"
    reply_to: str | None = None
    media_size: int = Field(2048, ge=0, le=200 * 1024 * 1024)
    message_id: str | None = None


class DriveIn(BaseModel):
    provider: Provider | None = None
    account_id: str | None = None
    count: int = Field(10, ge=1, le=1_000_000)
    rate_per_s: float = Field(5.0, gt=0, le=10_000)
    kinds: tuple[str, ...] = ("text",)
    customers: int = Field(10, ge=1)


def _find(rt: Runtime, provider: Provider, account_id: str) -> Integration:
    integration = rt.state.integration(provider, account_id)
    if integration is None:
        raise HTTPException(404, f"no {provider} integration {account_id!r} registered")
    return integration


@router.post("/integrations")
async def register(body: IntegrationIn, request: Request) -> dict[str, Any]:
    rt = _rt(request)
    data = body.model_dump()
    data["statuses"] = StatusPlan(**data["statuses"])
    integration = Integration(**data)
    rt.state.integrations[(integration.provider, integration.account_id)] = integration
    return {"registered": True}


@router.get("/integrations")
async def integrations(request: Request) -> list[dict[str, Any]]:
    return [
        {"provider": i.provider, "account_id": i.account_id, "webhook_url": i.webhook_url}
        for i in _rt(request).state.integrations.values()
    ]


@router.get("/requests")
async def requests(
    request: Request,
    provider: Provider | None = None,
    account_id: str | None = None,
    endpoint: str | None = None,
    since: int = 0,
) -> list[dict[str, Any]]:
    return [
        dataclasses.asdict(r)
        for r in _rt(request).state.requests
        if r.seq > since
        and (provider is None or r.provider is provider)
        and (account_id is None or r.account_id == account_id)
        and (endpoint is None or r.endpoint == endpoint)
    ]


@router.get("/webhooks")
async def posted_webhooks(request: Request) -> list[dict[str, Any]]:
    return list(_rt(request).state.webhooks)


@router.post("/faults")
async def add_fault(body: FaultIn, request: Request) -> dict[str, Any]:
    assert body.kind in FAULT_KINDS
    _rt(request).state.faults.append(Fault(**body.model_dump()))
    return {"armed": True}


@router.delete("/faults")
async def clear_faults(request: Request) -> dict[str, Any]:
    _rt(request).state.faults.clear()
    return {"cleared": True}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    _rt(request).state.reset()
    return {"reset": True}


@router.post("/integrations/{provider}/{account_id}/inbound")
async def inbound(
    provider: Provider, account_id: str, body: InboundIn, request: Request
) -> dict[str, Any]:
    rt = _rt(request)
    integration = _find(rt, provider, account_id)
    if not (
        body.kind in webhooks.KINDS
        or changes.supported(provider, body.kind)
        or business.supported(provider, body.kind)
    ):
        kinds = ", ".join(webhooks.KINDS + changes.KINDS + business.KINDS)
        raise HTTPException(
            422,
            f"kind must be one of {kinds} (Z-API has no revoke; contact_sync, "
            "contact_removed, system and order are Meta's, template Evolution's and Z-API's)",
        )
    spec = webhooks.InboundSpec(
        kind=body.kind,
        text=body.text,
        reply_to=body.reply_to,
        media_size=body.media_size,
        message_id=body.message_id,
    )
    return await driver.customer_message(
        rt.state, rt.http, integration, webhooks.Customer(body.phone, body.name), spec, rt.base_url
    )


@router.post("/drive")
async def drive(body: DriveIn, request: Request) -> dict[str, int]:
    rt = _rt(request)
    targets = [
        i
        for i in rt.state.integrations.values()
        if i.webhook_url
        and (body.provider is None or i.provider is body.provider)
        and (body.account_id is None or i.account_id == body.account_id)
    ]
    if not targets:
        raise HTTPException(404, "no registered integration with a webhook_url matches")
    bad = [k for k in body.kinds if k not in webhooks.KINDS]
    if bad:
        raise HTTPException(422, f"unknown kinds {bad}")
    return await driver.drive(
        rt.state,
        rt.http,
        targets,
        count=body.count,
        rate_per_s=body.rate_per_s,
        kinds=body.kinds,
        customers=body.customers,
        media_base=rt.base_url,
    )
