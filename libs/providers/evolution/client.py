"""The Evolution API client: the only module that talks HTTP to an Evolution server."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx

from contracts.common import Provider
from contracts.inbound import MediaRef
from providers import fields as f
from providers.base import Health, MediaDownload, SendRequest, SendResult
from providers.call import retry_after
from providers.errors import Permanent, ProviderFailure
from providers.evolution import build
from providers.evolution.media_answer import BadMediaAnswer, MediaAnswerScanner
from providers.http import MAX_INLINE_MEDIA_BODY, host_of, perform
from providers.streaming import stream_call


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
        # getBase64FromMediaMessage, which answers with the whole file as a base64 string in
        # JSON. The answer is decoded as it arrives (media_answer), never held whole.
        call = build.media_call(self._target, ref.provider_ref)
        async with stream_call(self._http, call, limit=MAX_INLINE_MEDIA_BODY) as answer:
            if answer.status >= 400:
                retry_after_s = retry_after(answer.headers)
                raise build.failure(answer.status, answer.error_body, retry_after_s)
            scanner = MediaAnswerScanner()
            first = await _decoded_until_started(scanner, answer.chunks)
            fields = scanner.fields
            declared = f.text(f.obj(fields, "size"), "fileLength")
            yield MediaDownload(
                mime=f.text(fields, "mimetype") or ref.mime,
                size=int(declared) if declared and declared.isdigit() else None,
                filename=f.text(fields, "fileName") or ref.filename,
                chunks=_decoded(scanner, first, answer.chunks),
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


async def _decoded_until_started(
    scanner: MediaAnswerScanner, chunks: AsyncIterator[bytes]
) -> bytes:
    """Read the answer up to its base64 field (so its other fields are known); the file's
    first decoded bytes, if any came with it."""
    decoded = b""
    try:
        while not scanner.started:
            chunk = await anext(chunks, b"")
            if not chunk:
                scanner.close()  # the answer ended before its base64 field: raises
            decoded = scanner.feed(chunk)
    except BadMediaAnswer as exc:
        raise Permanent(f"Evolution returned no media content: {exc}") from exc
    return decoded


async def _decoded(
    scanner: MediaAnswerScanner, first: bytes, chunks: AsyncIterator[bytes]
) -> AsyncIterator[bytes]:
    """The file's bytes, decoded from the rest of the answer chunk by chunk."""
    try:
        if first:
            yield first
        async for chunk in chunks:
            if scanner.finished:
                break  # what follows the base64 string is not needed
            piece = scanner.feed(chunk)
            if piece:
                yield piece
        scanner.close()
    except BadMediaAnswer as exc:
        raise Permanent(f"Evolution returned broken media content: {exc}") from exc
