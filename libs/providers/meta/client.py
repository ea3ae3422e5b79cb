"""The Meta Cloud API client: the only module that talks HTTP to Graph for a phone number."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from contracts.common import Provider
from contracts.inbound import MediaRef
from providers import fields as f
from providers.base import Health, MediaDownload, SendRequest, SendResult
from providers.errors import ProviderFailure, Retryable
from providers.http import MAX_API_BODY, host_of, perform
from providers.meta import build
from providers.streaming import download

# Media URLs Graph hands out live on Meta's lookaside CDN.
MEDIA_HOSTS = frozenset({"lookaside.fbsbx.com", "graph.facebook.com"})


class MetaClient:
    provider = Provider.META

    def __init__(
        self,
        credentials: Mapping[str, Any],
        http: httpx.AsyncClient,
        *,
        base_url: str | None = None,
    ) -> None:
        self._target = build.MetaTarget(credentials, base_url)
        self._http = http
        self._hosts = MEDIA_HOSTS | ({host_of(base_url) or ""} if base_url else set())

    async def send(self, request: SendRequest) -> SendResult:
        answer = await perform(self._http, build.send_call(self._target, request))
        return build.read_send_response(answer.status, answer.body, answer.retry_after_s)

    async def mark_read(self, chat_id: str, provider_message_id: str) -> None:
        answer = await perform(
            self._http, build.mark_read_call(self._target, provider_message_id), idempotent=True
        )
        if answer.status >= 400:
            raise build.failure(answer.status, answer.body, answer.retry_after_s)

    @asynccontextmanager
    async def fetch_media(self, ref: MediaRef) -> AsyncIterator[MediaDownload]:
        # Two steps: media id → short-lived URL (5 min), then the download with the same token.
        answer = await perform(self._http, build.media_info_call(self._target, ref.provider_ref))
        info = build.read_media_info(answer.status, answer.body)
        async with download(
            self._http,
            f.text(info, "url") or "",
            allowed_hosts=self.media_hosts(),
            headers=self._target.auth,
            mime=f.text(info, "mime_type") or ref.mime,
            filename=ref.filename,
        ) as media:
            size = f.number(info, "file_size")
            if media.size is None and size is not None:
                media = MediaDownload(media.mime, int(size), media.filename, media.chunks)
            yield media

    async def upload_media(
        self, data: AsyncIterator[bytes], mime: str, filename: str | None
    ) -> str | None:
        # Multipart needs the whole part; uploads are bounded by Meta's 100 MB document limit.
        content = b"".join([chunk async for chunk in data])
        try:
            response = await self._http.post(
                self._target.url(f"{self._target.phone_number_id}/media"),
                headers=self._target.auth,
                data={"messaging_product": "whatsapp", "type": mime},
                files={"file": (filename or "upload", content, mime)},
            )
        except httpx.TimeoutException as exc:
            raise Retryable("timed out uploading media") from exc
        except httpx.TransportError as exc:
            raise Retryable(f"could not upload media ({type(exc).__name__})") from exc
        body = response.content[:MAX_API_BODY]
        data_out = f.load_object(body)
        media_id = f.text(data_out, "id") if data_out else None
        if response.status_code >= 400 or not media_id:
            raise build.failure(response.status_code, body, None)
        return media_id

    async def health(self) -> Health:
        try:
            answer = await perform(self._http, build.health_call(self._target), idempotent=True)
        except ProviderFailure as exc:
            return Health(ok=False, detail=exc.reason)
        data = f.load_object(answer.body) or {}
        if answer.status >= 400:
            return Health(ok=False, detail=build.failure(answer.status, answer.body, None).reason)
        return Health(ok=True, detail="phone number reachable", account=data)

    def media_hosts(self) -> frozenset[str]:
        return frozenset(self._hosts)
