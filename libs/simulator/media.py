"""Deterministic media bytes: the content is a function of the media id alone, so a test can
compute the sha256 of what it should receive without the server holding anything.

A media id reads ``sim-<kind>-<size>-<seed>`` (kind: jpg, mp4, ogg, pdf, webp). The bytes start
with the real magic numbers of the format (so MIME sniffing works) and continue with a
SHA-256 counter stream seeded by the id; they are generated chunk by chunk on the fly. The same
goes for Evolution's JSON answer with the file inline as base64 (``evolution_answer``), so the
simulator serves a 100 MB document without ever holding it.
"""

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass

CHUNK = 64 * 1024

# Leading bytes each sniffers recognise (JPEG SOI+APP0, ISO BMFF ftyp, Ogg page + OpusHead,
# PDF header, RIFF....WEBPVP8 ).
_MAGIC: dict[str, tuple[str, bytes]] = {
    "jpg": ("image/jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"),
    "mp4": ("video/mp4", b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"),
    "ogg": ("audio/ogg", b"OggS\x00\x02" + b"\x00" * 20 + b"\x01\x13OpusHead\x01\x01"),
    "pdf": ("application/pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
    "webp": ("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 "),
}
_BY_MIME = {mime: kind for kind, (mime, _) in _MAGIC.items()}


@dataclass(frozen=True)
class MediaSpec:
    media_id: str
    kind: str
    size: int

    @property
    def mime(self) -> str:
        return _MAGIC[self.kind][0]

    @property
    def filename(self) -> str:
        return f"{self.media_id}.{self.kind}"


def media_id(mime: str = "image/jpeg", size: int = 2048, seed: str = "0") -> str:
    kind = _BY_MIME.get(mime.split(";")[0].strip(), "jpg")
    return f"sim-{kind}-{size}-{seed}"


def spec(media_id_: str) -> MediaSpec | None:
    parts = media_id_.split("-", 3)
    if len(parts) != 4 or parts[0] != "sim" or parts[1] not in _MAGIC or not parts[2].isdigit():
        return None
    return MediaSpec(media_id_, parts[1], int(parts[2]))


def chunks(media: MediaSpec) -> Iterator[bytes]:
    head = _MAGIC[media.kind][1][: media.size]
    yield head
    remaining = media.size - len(head)
    counter = 0
    seed = media.media_id.encode()
    while remaining > 0:
        block = bytearray()
        while len(block) < min(CHUNK, remaining):
            block += hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
            counter += 1
        out = bytes(block[: min(CHUNK, remaining)])
        remaining -= len(out)
        yield out


def expected_sha256(media_id_: str) -> str:
    media = spec(media_id_)
    if media is None:
        raise ValueError(f"{media_id_!r} is not a simulator media id")
    digest = hashlib.sha256()
    for chunk in chunks(media):
        digest.update(chunk)
    return digest.hexdigest()


def evolution_answer(media: MediaSpec) -> Iterator[bytes]:
    """Evolution's ``getBase64FromMediaMessage`` answer for ``media``, as a stream: the JSON
    fields, then the base64 string encoded piece by piece, then the closing fields."""
    head = {
        "mediaType": "documentMessage",
        "fileName": media.filename,
        "caption": None,
        "size": {"fileLength": str(media.size)},
        "mimetype": media.mime,
    }
    yield json.dumps(head)[:-1].encode() + b', "base64": "'
    carry = b""
    for chunk in chunks(media):
        data = carry + chunk
        whole = len(data) - len(data) % 3  # base64 of 3-byte groups concatenates cleanly
        carry = data[whole:]
        if whole:
            yield base64.b64encode(data[:whole])
    yield base64.b64encode(carry) + b'", "buffer": null}'
