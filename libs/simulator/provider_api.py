"""The provider-facing HTTP API: Meta Graph, Evolution and Z-API send/media endpoints, close
enough to the real ones for the adapters (same paths, auth headers, bodies, answers, errors).

Numbers starting with ``000`` are "not on WhatsApp" (Meta 131026, Evolution exists:false,
Z-API 400). An accepted send's webhooks and answer are ``accepting.accept``'s.
"""

import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from contracts.common import Provider
from simulator import accepting, faults, media
from simulator.runtime import Runtime
from simulator.state import Integration

router = APIRouter()


def _rt(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def _json(request: Request) -> Any:
    try:
        return await request.json()
    except ValueError:
        return None


async def _gate(rt: Runtime, provider: Provider, endpoint: str) -> Response | None:
    fault = rt.state.take_fault(provider, endpoint)
    return await faults.answer(provider, fault) if fault else None


def _stream(spec: media.MediaSpec) -> StreamingResponse:
    headers = {
        "Content-Length": str(spec.size),
        "Content-Disposition": f'attachment; filename="{spec.filename}"',
    }
    return StreamingResponse(media.chunks(spec), media_type=spec.mime, headers=headers)


# ---- Meta ------------------------------------------------------------------------------------


def _meta_auth(
    rt: Runtime, request: Request, account: str
) -> tuple[Integration | None, Response | None]:
    integration = rt.state.integration(Provider.META, account)
    if integration is None:
        return None, faults.meta_error(
            400, 100, "Invalid parameter", f"Unsupported request: object {account} does not exist"
        )
    expected = f"Bearer {integration.access_token}" if integration.access_token else None
    if expected and request.headers.get("authorization") != expected:
        return None, faults.meta_error(
            401, 190, "Invalid OAuth access token", "Cannot parse access token"
        )
    return integration, None


@router.post("/{version}/{account}/messages")
async def meta_messages(version: str, account: str, request: Request) -> Response:
    rt = _rt(request)
    body = await _json(request)
    integration, refused = _meta_auth(rt, request, account)
    is_read = isinstance(body, dict) and body.get("status") == "read"
    endpoint = "mark_read" if is_read else "send"
    action = (
        "mark_read"
        if is_read
        else str((body or {}).get("type", "?"))
        if isinstance(body, dict)
        else "?"
    )
    answer = refused or await _gate(rt, Provider.META, endpoint)
    if answer is None and not isinstance(body, dict):
        answer = faults.meta_error(400, 100, "Invalid parameter", "body is not JSON")
    to = str(body.get("to", "")) if isinstance(body, dict) else ""
    if answer is None and endpoint == "send" and to.startswith("000"):
        answer = faults.meta_error(
            400, 131026, "Message undeliverable", f"{to} is not a WhatsApp user"
        )
    if answer is not None:
        rt.state.record(
            Provider.META,
            account,
            endpoint,
            action,
            body,
            dict(request.headers),
            answer.status_code,
        )
        return answer
    if is_read:
        rt.state.record(Provider.META, account, endpoint, action, body, dict(request.headers), 200)
        return JSONResponse({"success": True})
    message_id = "wamid.HBgN" + secrets.token_urlsafe(27).replace("-", "A").replace("_", "B") + "=="
    rt.state.record(
        Provider.META, account, endpoint, action, body, dict(request.headers), 200, message_id
    )
    assert integration is not None
    return await accepting.accept(
        rt,
        integration,
        provider_message_id=message_id,
        recipient=to,
        action=action,
        body=body,
        answer={
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to.lstrip("+")}],
            "messages": [{"id": message_id}],
        },
        status=200,
    )


@router.post("/{version}/{account}/media")
async def meta_upload(version: str, account: str, request: Request) -> Response:
    rt = _rt(request)
    _, refused = _meta_auth(rt, request, account)
    answer = refused or await _gate(rt, Provider.META, "upload")
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    if answer is None:
        mime = "image/jpeg"
        answer = JSONResponse({"id": media.media_id(mime, size, "up" + secrets.token_hex(4))})
    rt.state.record(
        Provider.META,
        account,
        "upload",
        "upload",
        {"bytes": size},
        dict(request.headers),
        answer.status_code,
    )
    return answer


@router.get("/{version}/{object_id}")
async def meta_object(version: str, object_id: str, request: Request) -> Response:
    rt = _rt(request)
    integration = rt.state.integration(Provider.META, object_id)
    if integration is not None:  # the phone number itself: health / account info
        # Readable only with the number's token, as at Graph: what proves ownership.
        _, refused = _meta_auth(rt, request, object_id)
        answer = refused or await _gate(rt, Provider.META, "health")
        return answer or JSONResponse(
            {
                "id": object_id,
                "display_phone_number": "+1 555-000-0000",
                "verified_name": "Simulated Business",
                "quality_rating": "GREEN",
                "throughput": {"level": "STANDARD"},
            }
        )
    account = request.query_params.get("phone_number_id", "")
    spec = media.spec(object_id)
    answer = await _gate(rt, Provider.META, "media_info")
    if answer is None and spec is None:
        answer = faults.meta_error(404, 100, "Invalid parameter", f"media {object_id} not found")
    if answer is None and not request.headers.get("authorization", "").startswith("Bearer "):
        answer = faults.meta_error(401, 190, "Invalid OAuth access token", "missing token")
    rt.state.record(
        Provider.META,
        account,
        "media_info",
        "media_info",
        {"media_id": object_id},
        dict(request.headers),
        answer.status_code if answer else 200,
    )
    if answer is not None or spec is None:
        return answer or Response(status_code=404)
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "url": f"{rt.base_url}/_sim/meta-media/{object_id}?ext=1",
            "mime_type": spec.mime,
            "sha256": "",
            "file_size": str(spec.size),
            "id": object_id,
        }
    )


@router.get("/_sim/meta-media/{media_id}")
async def meta_media_download(media_id: str, request: Request) -> Response:
    """Step 2 of Meta's flow: the short-lived URL, usable only with the bearer token."""
    rt = _rt(request)
    answer = await _gate(rt, Provider.META, "media")
    spec = media.spec(media_id)
    if answer is None and not request.headers.get("authorization", "").startswith("Bearer "):
        answer = JSONResponse({"error": "missing bearer token"}, status_code=401)
    if answer is None and spec is None:
        answer = Response(status_code=404)
    if answer is not None or spec is None:
        return answer or Response(status_code=404)
    return _stream(spec)


@router.get("/_sim/media/{media_id}")
async def plain_media(media_id: str, request: Request) -> Response:
    """Z-API style: a plain downloadable URL."""
    rt = _rt(request)
    answer = await _gate(rt, Provider.ZAPI, "media")
    spec = media.spec(media_id)
    if answer is not None or spec is None:
        return answer or Response(status_code=404)
    return _stream(spec)


# ---- Evolution --------------------------------------------------------------------------------


def _evo_auth(
    rt: Runtime, request: Request, instance: str
) -> tuple[Integration | None, Response | None]:
    integration = rt.state.integration(Provider.EVOLUTION, instance)
    if integration is None:
        return None, faults.evolution_error(404, [f'The "{instance}" instance does not exist'])
    if integration.access_token and request.headers.get("apikey") != integration.access_token:
        return None, faults.evolution_error(401, "Unauthorized")
    return integration, None


@router.post("/message/{action}/{instance}")
async def evolution_send(action: str, instance: str, request: Request) -> Response:
    rt = _rt(request)
    body = await _json(request)
    integration, refused = _evo_auth(rt, request, instance)
    answer = refused or await _gate(rt, Provider.EVOLUTION, "send")
    number = str(body.get("number", "")) if isinstance(body, dict) else ""
    if action == "sendReaction" and isinstance(body, dict):
        number = str((body.get("key") or {}).get("remoteJid", "")).split("@")[0]
    if answer is None and number.startswith("000"):
        answer = faults.evolution_error(
            400, [{"jid": f"{number}@s.whatsapp.net", "exists": False, "number": number}]
        )
    if answer is not None:
        rt.state.record(
            Provider.EVOLUTION,
            instance,
            "send",
            action,
            body,
            dict(request.headers),
            answer.status_code,
        )
        return answer
    jid = number if "@" in number else f"{number}@s.whatsapp.net"
    key_id = "BAE5" + secrets.token_hex(6).upper()
    provider_message_id = f"{jid}/{key_id}"
    rt.state.record(
        Provider.EVOLUTION,
        instance,
        "send",
        action,
        body,
        dict(request.headers),
        201,
        provider_message_id,
    )
    assert integration is not None
    return await accepting.accept(
        rt,
        integration,
        provider_message_id=provider_message_id,
        recipient=number,
        action=action,
        body=body,
        answer={
            "key": {"remoteJid": jid, "fromMe": True, "id": key_id},
            "pushName": "",
            "status": "PENDING",
            "message": {},
            "messageType": action,
            "messageTimestamp": int(time.time()),
            "instanceId": "00000000-0000-4000-8000-000000000000",
            "source": "unknown",
        },
        status=201,
    )


@router.post("/chat/{action}/{instance}")
async def evolution_chat(action: str, instance: str, request: Request) -> Response:
    rt = _rt(request)
    body = await _json(request)
    _, refused = _evo_auth(rt, request, instance)
    endpoint = "media" if action == "getBase64FromMediaMessage" else "mark_read"
    answer = refused or await _gate(rt, Provider.EVOLUTION, endpoint)
    if answer is None and action == "getBase64FromMediaMessage":
        key_id = (
            str(((body or {}).get("message") or {}).get("key", {}).get("id", ""))
            if isinstance(body, dict)
            else ""
        )
        spec = media.spec(key_id)
        if spec is None:
            answer = faults.evolution_error(400, "Message not found or has no media")
        else:
            answer = StreamingResponse(media.evolution_answer(spec), media_type="application/json")
    if answer is None:
        answer = JSONResponse({"message": "Read messages", "read": "success"}, status_code=201)
    rt.state.record(
        Provider.EVOLUTION,
        instance,
        endpoint,
        action,
        body if endpoint != "media" else {"media": True},
        dict(request.headers),
        answer.status_code,
    )
    return answer


@router.get("/instance/connectionState/{instance}")
async def evolution_state(instance: str, request: Request) -> Response:
    rt = _rt(request)
    _, refused = _evo_auth(rt, request, instance)
    answer = refused or await _gate(rt, Provider.EVOLUTION, "health")
    return answer or JSONResponse({"instance": {"instanceName": instance, "state": "open"}})


# ---- Z-API ------------------------------------------------------------------------------------


def _zapi_auth(
    rt: Runtime, request: Request, instance: str, token: str
) -> tuple[Integration | None, Response | None]:
    integration = rt.state.integration(Provider.ZAPI, instance)
    if integration is None or (integration.access_token and integration.access_token != token):
        return None, faults.zapi_error(400, "Instance not found")
    if integration.client_token and request.headers.get("client-token") != integration.client_token:
        return None, faults.zapi_error(401, "Client-Token null not allowed")
    return integration, None


@router.post("/instances/{instance}/token/{token}/{endpoint:path}")
async def zapi_post(instance: str, token: str, endpoint: str, request: Request) -> Response:
    rt = _rt(request)
    body = await _json(request)
    integration, refused = _zapi_auth(rt, request, instance, token)
    kind = "mark_read" if endpoint == "read-message" else "send"
    answer = refused or await _gate(rt, Provider.ZAPI, kind)
    phone = str(body.get("phone", "")) if isinstance(body, dict) else ""
    if answer is None and kind == "send" and phone.startswith("000"):
        answer = faults.zapi_error(400, f"phone {phone} is not on WhatsApp")
    if answer is not None:
        rt.state.record(
            Provider.ZAPI, instance, kind, endpoint, body, dict(request.headers), answer.status_code
        )
        return answer
    if kind == "mark_read":
        rt.state.record(Provider.ZAPI, instance, kind, endpoint, body, dict(request.headers), 200)
        return JSONResponse({})
    message_id = "3EB0" + secrets.token_hex(10).upper()
    rt.state.record(
        Provider.ZAPI, instance, kind, endpoint, body, dict(request.headers), 200, message_id
    )
    assert integration is not None
    return await accepting.accept(
        rt,
        integration,
        provider_message_id=message_id,
        recipient=phone,
        action=endpoint,
        body=body,
        answer={"zaapId": secrets.token_hex(16).upper(), "messageId": message_id, "id": message_id},
        status=200,
    )


@router.get("/instances/{instance}/token/{token}/status")
async def zapi_status(instance: str, token: str, request: Request) -> Response:
    rt = _rt(request)
    _, refused = _zapi_auth(rt, request, instance, token)
    answer = refused or await _gate(rt, Provider.ZAPI, "health")
    return answer or JSONResponse({"connected": True, "error": None, "smartphoneConnected": True})
