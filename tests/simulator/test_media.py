"""Simulator media: deterministic bytes with real magic numbers, streamed at any size."""

import hashlib

import httpx
import puremagic
import pytest

from simulator import media
from simulator.control import SimControl
from simulator.server import RunningSimulator


@pytest.mark.parametrize(
    "mime", ["image/jpeg", "video/mp4", "audio/ogg", "application/pdf", "image/webp"]
)
def test_bytes_start_with_the_real_magic_so_sniffing_works(mime: str) -> None:
    media_id = media.media_id(mime, 4096, "s")
    head = next(media.chunks(media.spec(media_id)))  # type: ignore[arg-type]
    sniffed = {m.mime_type for m in puremagic.magic_string(head)} | {
        m.extension for m in puremagic.magic_string(head)
    }
    expected = {
        "image/jpeg": ".jpg",
        "video/mp4": ".mp4",
        "audio/ogg": ".ogg",
        "application/pdf": ".pdf",
        "image/webp": ".webp",
    }[mime]
    assert mime in sniffed or expected in sniffed


def test_content_is_a_function_of_the_id() -> None:
    a, b = media.media_id("image/jpeg", 10_000, "a"), media.media_id("image/jpeg", 10_000, "b")
    assert media.expected_sha256(a) == media.expected_sha256(a) != media.expected_sha256(b)
    assert sum(len(c) for c in media.chunks(media.spec(a))) == 10_000  # type: ignore[arg-type]


async def test_fifty_megabytes_stream_over_http(sim: RunningSimulator) -> None:
    media_id = media.media_id("video/mp4", 50 * 1024 * 1024, "big")
    digest = hashlib.sha256()
    size = 0
    url = SimControl(sim.base_url).media_url(media_id)
    async with httpx.AsyncClient(timeout=60) as http, http.stream("GET", url) as response:
        assert response.headers["content-type"] == "video/mp4"
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            digest.update(chunk)
    assert size == 50 * 1024 * 1024
    assert digest.hexdigest() == media.expected_sha256(media_id)
