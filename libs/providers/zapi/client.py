"""The Z-API client: the only module that talks HTTP to Z-API for an instance."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from contracts.common import Provider
from contracts.inbound import MediaRef
from providers import fields as f
from providers.base import Health, MediaDownload, SendRequest, SendResult
from providers.errors import ProviderFailure
from providers.http import host_of, perform
from providers.streaming import download
from providers.zapi import build

# Inbound media is a plain URL on Z-API's storage (files expire after 30 days).
MEDIA_HOSTS = frozenset({"storage.z-api.io", "api.z-api.io"})


class ZapiClient:
    provider = Provider.ZAPI

    def __init__(
        self,
        credentials: Mapping[str, Any],
        http: httpx.AsyncClient,
        *,
        base_url: str | None = None,
    ) -> None:
        self._target = build.ZapiTarget(credentials, base_url)
        self._http = http
        self._hosts = MEDIA_HOSTS | ({host_of(base_url) or ""} if base_url else set())

    async def send(self, request: SendRequest) -> SendResult:
        answer = await perform(self._http, build.send_call(self._target, request))
        return build.read_send_response(answer.status, answer.body, answer.retry_after_s)

    async def mark_read(self, chat_id: str, provider_message_id: str) -> None:
        call = build.mark_read_call(self._target, chat_id, provider_message_id)
        answer = await perform(self._http, call, idempotent=True)  # reading twice is harmless
        if answer.status >= 400:
            raise build.failure(answer.status, answer.body, answer.retry_after_s)

    @asynccontextmanager
    async def fetch_media(self, ref: MediaRef) -> AsyncIterator[MediaDownload]:
        url = ref.url or ref.provider_ref
        async with download(
            self._http, url, allowed_hosts=self.media_hosts(), mime=ref.mime, filename=ref.filename
        ) as media:
            yield media

    async def upload_media(
        self, data: AsyncIterator[bytes], mime: str, filename: str | None
    ) -> str | None:
        return None  # Z-API takes media as a link in the send call

    async def health(self) -> Health:
        try:
            answer = await perform(self._http, build.health_call(self._target), idempotent=True)
        except ProviderFailure as exc:
            return Health(ok=False, detail=exc.reason)
        if answer.status >= 400:
            return Health(ok=False, detail=build.failure(answer.status, answer.body, None).reason)
        data = f.load_object(answer.body) or {}
        connected = data.get("connected") is True
        return Health(
            ok=connected, detail="connected" if connected else "not connected", account=data
        )

    def media_hosts(self) -> frozenset[str]:
        return frozenset(self._hosts)
