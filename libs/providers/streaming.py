"""Streaming a media download with a size cap and an allowed-host check (SSRF guard), and
streaming the answer of an API call whose body is the media (Evolution's base64 answer)."""

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from providers.base import MediaDownload
from providers.call import Call, classify_http, retry_after
from providers.errors import Permanent, Retryable
from providers.http import MAX_API_BODY, host_of, read_capped

MAX_MEDIA_BYTES = 100 * 1024 * 1024 + 1024 * 1024  # WhatsApp's 100 MB receive limit, some slack


def _filename(disposition: str | None) -> str | None:
    if not disposition or "filename=" not in disposition:
        return None
    return disposition.split("filename=", 1)[1].strip().strip('"') or None


@asynccontextmanager
async def download(
    http: httpx.AsyncClient,
    url: str,
    *,
    allowed_hosts: frozenset[str],
    headers: Mapping[str, str] | None = None,
    mime: str | None = None,
    filename: str | None = None,
    limit: int = MAX_MEDIA_BYTES,
) -> AsyncIterator[MediaDownload]:
    host = host_of(url)
    if host is None or host not in allowed_hosts:
        raise Permanent(f"media host {host!r} is not one the provider owns")
    try:
        async with http.stream("GET", url, headers=dict(headers or {})) as response:
            if response.status_code >= 300:  # error bodies are not read: no size to trust
                raise classify_http(
                    response.status_code,
                    f"media download answered HTTP {response.status_code}",
                    retry_after_s=retry_after(dict(response.headers)),
                )
            length = response.headers.get("content-length")
            size = int(length) if length and length.isdigit() else None
            if size is not None and size > limit:
                raise Permanent(f"media is {size} bytes, more than the {limit} allowed")

            content_type = response.headers.get("content-type")
            yield MediaDownload(
                mime=(content_type.split(";")[0].strip() if content_type else None) or mime,
                size=size,
                filename=_filename(response.headers.get("content-disposition")) or filename,
                chunks=_capped(response, limit, "media"),
            )
    except httpx.TimeoutException as exc:
        raise Retryable("timed out fetching media") from exc
    except httpx.TransportError as exc:
        raise Retryable(f"could not fetch media ({type(exc).__name__})") from exc


@dataclass(frozen=True)
class StreamedAnswer:
    """An API answer whose body is still to be read: ``chunks`` (capped at ``limit`` bytes,
    transport errors as ``Retryable``); an error answer comes with its (small) body read."""

    status: int
    headers: Mapping[str, str]
    error_body: bytes
    chunks: AsyncIterator[bytes]


@asynccontextmanager
async def stream_call(
    http: httpx.AsyncClient, call: Call, *, limit: int
) -> AsyncIterator[StreamedAnswer]:
    """Do ``call`` like ``http.perform`` (redirects refused, transport errors ``Retryable``)
    but hand the body over as it arrives instead of reading it whole."""
    try:
        request = http.build_request(
            call.method,
            call.url,
            json=call.json,
            headers=dict(call.headers),
            params=dict(call.params) or None,
        )
        response = await http.send(request, stream=True)
    except httpx.TimeoutException as exc:
        raise Retryable(f"timed out calling the provider ({type(exc).__name__})") from exc
    except httpx.TransportError as exc:
        raise Retryable(f"could not reach the provider ({type(exc).__name__})") from exc
    try:
        if response.is_redirect:
            target = urlsplit(response.headers.get("location", "")).hostname
            raise Permanent(
                f"provider redirected to {target}; redirects are not followed",
                status=response.status_code,
            )
        error_body = b""
        if response.status_code >= 400:
            try:
                error_body = await read_capped(response, MAX_API_BODY)
            except httpx.TransportError as exc:
                raise Retryable(f"provider answer broke off ({type(exc).__name__})") from exc

        yield StreamedAnswer(
            response.status_code,
            dict(response.headers),
            error_body,
            _capped(response, limit, "provider answer"),
        )
    finally:
        await response.aclose()


async def _capped(response: httpx.Response, limit: int, what: str) -> AsyncIterator[bytes]:
    """The body's chunks, refused (Permanent) once past ``limit`` bytes; a transport failure
    mid-body is Retryable (nothing was stored yet)."""
    seen = 0
    try:
        async for chunk in response.aiter_bytes():
            seen += len(chunk)
            if seen > limit:
                raise Permanent(f"{what} larger than {limit} bytes")
            yield chunk
    except httpx.TimeoutException as exc:
        raise Retryable("media download timed out") from exc
    except httpx.TransportError as exc:
        raise Retryable("media download broke off") from exc
