"""Z-API requests, responses and error classification. Pure.

Base ``https://api.z-api.io/instances/{instanceId}/token/{token}/<endpoint>`` with the
``Client-Token`` header (https://developer.z-api.io/en/security/client-token); send-text,
send-image, send-video, send-audio, send-document/{ext}, send-sticker, send-reaction,
send-remove-reaction, read-message (https://developer.z-api.io/en/message/send-message-text and
siblings). Answer ``{zaapId, messageId, id}``: ``messageId`` is what status callbacks carry.
Z-API publishes no error codes, so classification is by HTTP status.
"""

from collections.abc import Mapping
from typing import Any

from contracts.outbound import OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from providers import fields as f
from providers.base import SendRequest, SendResult
from providers.call import Call, classify_http, no_message_id, unsure_send
from providers.errors import AuthFailed, Permanent, ProviderFailure

DEFAULT_BASE_URL = "https://api.z-api.io"


class ZapiTarget:
    def __init__(self, credentials: Mapping[str, Any], base_url: str | None) -> None:
        self.base = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.instance_id = str(credentials["instance_id"])
        self.token = str(credentials["token"])
        self.headers = {"Client-Token": str(credentials.get("client_token") or "")}

    def url(self, endpoint: str) -> str:
        return f"{self.base}/instances/{self.instance_id}/token/{self.token}/{endpoint}"


def send_call(target: ZapiTarget, request: SendRequest) -> Call:
    content = request.content
    body: dict[str, Any] = {"phone": request.to}
    if isinstance(content, OutboundText):
        endpoint, body["message"] = "send-text", content.body
    elif isinstance(content, OutboundMedia):
        link = request.media.link if request.media else None
        if not link:
            raise Permanent("Z-API needs a media link (it has no upload-by-id)")
        kind = content.media_type
        body[kind] = link
        endpoint = f"send-{kind}"
        if kind == "document":
            extension = (content.filename or "file.bin").rsplit(".", 1)[-1] or "bin"
            endpoint = f"send-document/{extension}"
            if content.filename:
                body["fileName"] = content.filename
        if content.caption and kind in ("image", "video", "document"):
            body["caption"] = content.caption
    elif isinstance(content, OutboundReaction):
        body["messageId"] = content.target_provider_message_id
        if content.emoji:
            endpoint, body["reaction"] = "send-reaction", content.emoji
        else:
            endpoint = "send-remove-reaction"
        return Call("POST", target.url(endpoint), body, target.headers)
    elif isinstance(content, OutboundTemplate):
        raise Permanent("Z-API (WhatsApp Web) has no message templates; send text instead")
    if request.reply_to_provider_message_id:
        body["messageId"] = request.reply_to_provider_message_id
    return Call("POST", target.url(endpoint), body, target.headers)


def mark_read_call(target: ZapiTarget, chat_id: str, provider_message_id: str) -> Call:
    body = {"phone": chat_id, "messageId": provider_message_id}
    return Call("POST", target.url("read-message"), body, target.headers)


def health_call(target: ZapiTarget) -> Call:
    return Call("GET", target.url("status"), None, target.headers)


def read_send_response(status: int, body: bytes, retry_after_s: float | None) -> SendResult:
    """The send's result; ``Ambiguous`` for a 2xx without ``messageId`` and for a 5xx without
    Z-API's ``{"error"}`` answer (a proxy's answer: the message may have gone out)."""
    data = f.load_object(body)
    if status >= 400:
        own_error = data is not None and bool(f.text(data, "error") or f.text(data, "message"))
        unsure = unsure_send("Z-API", status, own_error=own_error)
        raise unsure or failure(status, body, retry_after_s)
    if data is not None and f.text(data, "error"):
        raise failure(400, body, retry_after_s)
    message_id = (f.text(data, "messageId") or f.text(data, "id")) if data is not None else None
    if not message_id or data is None:
        raise no_message_id("Z-API", status)
    return SendResult(provider_message_id=message_id, raw=data)


def failure(status: int, body: bytes, retry_after_s: float | None) -> ProviderFailure:
    data = f.load_object(body) or {}
    message = f.text(data, "error") or f.text(data, "message")
    reason = f"Z-API answered HTTP {status}" + (f": {message}" if message else "")
    # A missing/wrong Client-Token answers {"error": "null not allowed"} / "...not allowed".
    if message and "not allowed" in message.lower() and status < 500:
        return AuthFailed(reason, status=status)
    return classify_http(status, reason, retry_after_s=retry_after_s)
