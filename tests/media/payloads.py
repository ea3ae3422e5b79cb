"""Deterministic media bytes for tests: real magic numbers, then a SHA-256 counter stream, made
chunk by chunk so a 50 MB file never sits in memory (the same scheme as the simulator's)."""

import hashlib
from collections.abc import Iterator

CHUNK = 64 * 1024

MAGIC: dict[str, tuple[str, bytes]] = {
    "jpg": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"),
    "mp4": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
    "ogg": ("audio/ogg", b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01"),
    "pdf": ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    "webp": ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
    "html": ("text/html", b"<!DOCTYPE html><html><script>alert(1)</script>"),
}


def chunks(kind: str, size: int, seed: str) -> Iterator[bytes]:
    head = MAGIC[kind][1][:size]
    yield head
    remaining = size - len(head)
    counter = 0
    while remaining > 0:
        block = bytearray()
        want = min(CHUNK, remaining)
        while len(block) < want:
            block += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
            counter += 1
        out = bytes(block[:want])
        remaining -= len(out)
        yield out


def sha256_of(kind: str, size: int, seed: str) -> str:
    digest = hashlib.sha256()
    for chunk in chunks(kind, size, seed):
        digest.update(chunk)
    return digest.hexdigest()


def whole(kind: str, size: int, seed: str) -> bytes:
    return b"".join(chunks(kind, size, seed))
