"""The Evolution API client: the only module that talks HTTP to an Evolution server."""

import base64
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from contracts.common import Provider
from contracts.inbound import MediaRef
from providers import fields as f
from providers.base import Health, MediaDownload, SendRequest, SendResult
from providers.errors import Permanent, ProviderFailure
from providers.evolution import build
from providers.http import MAX_INLINE_MEDIA_BODY, host_of, perform

_CHUNK = 64 * 1024 * 4 // 3 // 4 * 4  # base64 characters decoded per chunk (multiple of 4)


class EvolutionClient:
    provider = Provider.EVOLUTION

    def __init__(
        self,
        credentials: Mapping[str, Any],
        http: httpx.AsyncClient,
        *,
        base_url: str | None = None,
    ) -> None:
        self._target = build.EvolutionTarget(credentials, base_url)
        self._http = http

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
        # Inbound media URLs are end-to-end encrypted (.enc): Evolution decrypts on
        # getBase64FromMediaMessage, which answers with the whole file inline (capped read).
        call = build.media_call(self._target, ref.provider_ref)
        answer = await perform(self._http, call, limit=MAX_INLINE_MEDIA_BODY, idempotent=True)
        if answer.status >= 400:
            raise build.failure(answer.status, answer.body, answer.retry_after_s)
        data = f.load_object(answer.body) or {}
        encoded = f.text(data, "base64")
        if encoded is None:
            raise Permanent("Evolution returned no media content")
        del answer
        size = (len(encoded) * 3) // 4 - encoded[-2:].count("=")

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(encoded), _CHUNK):
                yield base64.b64decode(encoded[start : start + _CHUNK])

        yield MediaDownload(
            mime=f.text(data, "mimetype") or ref.mime,
            size=size,
            filename=f.text(data, "fileName") or ref.filename,
            chunks=chunks(),
        )

    async def upload_media(
        self, data: AsyncIterator[bytes], mime: str, filename: str | None
    ) -> str | None:
        return None  # Evolution takes media as a link in the send call

    async def health(self) -> Health:
        try:
            answer = await perform(self._http, build.health_call(self._target), idempotent=True)
        except ProviderFailure as exc:
            return Health(ok=False, detail=exc.reason)
        if answer.status >= 400:
            return Health(ok=False, detail=build.failure(answer.status, answer.body, None).reason)
        data = f.load_object(answer.body) or {}
        state = f.text(f.obj(data, "instance"), "state")
        return Health(ok=state == "open", detail=f"connection state {state}", account=data)

    def media_hosts(self) -> frozenset[str]:
        return frozenset({host_of(self._target.base) or ""})
