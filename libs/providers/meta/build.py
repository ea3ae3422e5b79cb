"""Meta Cloud API requests, responses and error classification. Pure.

Send API: https://developers.facebook.com/documentation/business-messaging/whatsapp/messages/send-messages
Media: https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media
Error codes: https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes
(classification is on ``error.code``, never on the title, as Meta asks).
"""

from collections.abc import Mapping
from typing import Any

from contracts.common import ErrorClass
from contracts.outbound import OutboundMedia, OutboundReaction, OutboundTemplate, OutboundText
from providers import fields as f
from providers.base import SendRequest, SendResult
from providers.call import Call, classify_http, no_message_id, unsure_send
from providers.errors import (
    AuthFailed,
    Permanent,
    ProviderFailure,
    RateLimited,
    Retryable,
    WindowClosed,
)

DEFAULT_BASE_URL = "https://graph.facebook.com"
DEFAULT_API_VERSION = "v23.0"

_AUTH = {0, 3, 10, 190, 131005, 131031, 368, 130497, 131042, 131045} | set(range(200, 300))
_RATE = {4, 80007, 130429, 131056}
_RETRY = {1, 2, 131000, 131016, 131057}
# Pair rate limit: Meta suggests waiting 4^X seconds; the first step is a few seconds.
_RATE_HINT = {131056: 4.0, 130429: 1.0}


def classify_code(code: str | int) -> ErrorClass:
    try:
        number = int(code)
    except (TypeError, ValueError):
        return ErrorClass.PERMANENT
    if number in _AUTH:
        return ErrorClass.AUTH
    if number in _RATE:
        return ErrorClass.RATE_LIMITED
    if number in _RETRY:
        return ErrorClass.RETRYABLE
    return ErrorClass.PERMANENT


class MetaTarget:
    """Where and as whom to call: base URL, version, number id, token."""

    def __init__(self, credentials: Mapping[str, Any], base_url: str | None = None) -> None:
        self.token = str(credentials["access_token"])
        self.phone_number_id = str(credentials["phone_number_id"])
        self.version = str(credentials.get("api_version") or DEFAULT_API_VERSION)
        self.base = (base_url or DEFAULT_BASE_URL).rstrip("/")

    def url(self, path: str) -> str:
        return f"{self.base}/{self.version}/{path.lstrip('/')}"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def send_call(target: MetaTarget, request: SendRequest) -> Call:
    body: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": request.to,
    }
    content = request.content
    if isinstance(content, OutboundText):
        body["type"] = "text"
        body["text"] = {"body": content.body, "preview_url": content.preview_url}
    elif isinstance(content, OutboundMedia):
        body["type"] = content.media_type
        body[content.media_type] = _media_object(content, request)
    elif isinstance(content, OutboundTemplate):
        body["type"] = "template"
        template: dict[str, Any] = {"name": content.name, "language": {"code": content.language}}
        if content.body_params:
            params = [{"type": "text", "text": p} for p in content.body_params]
            template["components"] = [{"type": "body", "parameters": params}]
        body["template"] = template
    elif isinstance(content, OutboundReaction):
        body["type"] = "reaction"
        body["reaction"] = {
            "message_id": content.target_provider_message_id,
            "emoji": content.emoji,
        }
    if request.reply_to_provider_message_id and not isinstance(content, OutboundReaction):
        body["context"] = {"message_id": request.reply_to_provider_message_id}
    if request.client_message_id:
        # Echoed back in status webhooks (<= 512 chars).
        body["biz_opaque_callback_data"] = request.client_message_id[:512]
    return Call("POST", target.url(f"{target.phone_number_id}/messages"), body, target.auth)


def _media_object(content: OutboundMedia, request: SendRequest) -> dict[str, Any]:
    source = request.media
    if source is None or not (source.provider_media_id or source.link):
        raise Permanent("media message has no link or uploaded media id")
    obj: dict[str, Any] = (
        {"id": source.provider_media_id} if source.provider_media_id else {"link": source.link}
    )
    if content.caption and content.media_type in ("image", "video", "document"):
        obj["caption"] = content.caption
    if content.filename and content.media_type == "document":
        obj["filename"] = content.filename
    return obj


def mark_read_call(target: MetaTarget, provider_message_id: str) -> Call:
    body = {"messaging_product": "whatsapp", "status": "read", "message_id": provider_message_id}
    return Call("POST", target.url(f"{target.phone_number_id}/messages"), body, target.auth)


def media_info_call(target: MetaTarget, media_id: str) -> Call:
    params = {"phone_number_id": target.phone_number_id}
    return Call("GET", target.url(media_id), None, target.auth, params)


def health_call(target: MetaTarget) -> Call:
    params = {"fields": "display_phone_number,verified_name,quality_rating,throughput"}
    return Call("GET", target.url(target.phone_number_id), None, target.auth, params)


def read_send_response(status: int, body: bytes, retry_after_s: float | None) -> SendResult:
    """The send's result; ``Ambiguous`` for a 2xx without a message id and for a 5xx without
    Meta's error envelope (a proxy's answer: the message may have gone out)."""
    data = f.load_object(body)
    if status >= 400:
        own_error = f.text(f.obj(data or {}, "error"), "code") is not None
        unsure = unsure_send("Meta", status, own_error=own_error)
        raise unsure or failure(status, body, retry_after_s)
    messages = f.arr(data, "messages") if data is not None else []
    message_id = f.text(messages[0], "id") if messages else None
    if not message_id or data is None:
        raise no_message_id("Meta", status)
    return SendResult(provider_message_id=message_id, raw=data)


def read_media_info(status: int, body: bytes) -> dict[str, Any]:
    data = f.load_object(body)
    if status >= 400 or data is None or not f.text(data, "url"):
        raise failure(status, body, None)
    return data


def failure(status: int, body: bytes, retry_after_s: float | None) -> ProviderFailure:
    """The typed failure for a Meta error answer (Graph error envelope, or bare HTTP status)."""
    error = f.obj(f.load_object(body) or {}, "error")
    code = f.text(error, "code")
    if code is None:
        return classify_http(status, f"Meta answered HTTP {status}", retry_after_s=retry_after_s)
    title = f.text(error, "message") or "error"
    details = f.text(f.obj(error, "error_data"), "details")
    reason = f"{title}: {details}" if details else title
    if code == "131047":
        return WindowClosed(
            "The 24-hour customer service window is closed: only a template can be sent "
            f"({reason})",
            code=code,
            status=status,
        )
    error_class = classify_code(code)
    if error_class is ErrorClass.AUTH:
        return AuthFailed(reason, code=code, status=status)
    if error_class is ErrorClass.RATE_LIMITED:
        hint = retry_after_s if retry_after_s is not None else _RATE_HINT.get(int(code))
        return RateLimited(reason, retry_after_s=hint, code=code, status=status)
    if error_class is ErrorClass.RETRYABLE or status >= 500:
        return Retryable(reason, code=code, status=status)
    return Permanent(reason, code=code, status=status)
