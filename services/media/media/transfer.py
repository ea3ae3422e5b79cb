"""One file from a byte stream into the bucket: sniffed, capped, hashed on the way, stored once
per tenant under its content hash. Used by the worker (provider downloads) and the upload
route alike.

Nothing here holds more than the head (64 KiB) and one storage part: the stream goes to a
staging object as it arrives, and only when the last byte has been hashed is the object copied
to its content key (or dropped, when that content is already stored).
"""

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from uuid import UUID

from media.errors import Empty, TooLarge
from media.keys import content_key, staging_key
from media.limits import human_size
from media.sniff import HEAD_BYTES, sniff
from media.storage import ObjectStore

# Given the sniffed type, how many bytes the file may have; raises MediaRefused to refuse it.
Admission = Callable[[str], int]


@dataclass(frozen=True)
class StoredMedia:
    key: str
    mime: str
    size: int
    sha256: str
    already_stored: bool  # the same content was in the bucket before


async def read_head(chunks: AsyncIterator[bytes]) -> bytes:
    """At least ``HEAD_BYTES`` from the start of ``chunks`` (less if the stream is shorter);
    ``chunks`` goes on where the head stops."""
    head = bytearray()
    while len(head) < HEAD_BYTES:
        try:
            head += await anext(chunks)
        except StopAsyncIteration:
            break
    return bytes(head)


async def store_stream(
    store: ObjectStore,
    tenant_id: UUID,
    chunks: AsyncIterator[bytes],
    *,
    claimed_mime: str | None,
    admit: Admission,
) -> StoredMedia:
    head = await read_head(chunks)
    if not head:
        raise Empty("the file is empty")
    mime = await asyncio.to_thread(sniff, head[:HEAD_BYTES], claimed_mime)
    limit = admit(mime)
    digest = hashlib.sha256()
    size = 0

    async def metered() -> AsyncIterator[bytes]:
        nonlocal size
        pieces: AsyncIterator[bytes] = _prepend(head, chunks)
        async for piece in pieces:
            size += len(piece)
            if size > limit:
                raise TooLarge(f"the file is larger than the {human_size(limit)} its kind may have")
            # One network chunk (tens of KiB) hashes in microseconds: cheaper in the loop than
            # a thread hop per chunk.
            digest.update(piece)
            yield piece

    staging = staging_key(tenant_id)
    try:
        await store.put_stream(staging, metered(), content_type=mime)
        sha256 = digest.hexdigest()
        key = content_key(tenant_id, sha256)
        already = await store.exists(key)
        if not already:
            await store.copy(staging, key)
    finally:
        with contextlib.suppress(Exception):
            await store.delete(staging)
    return StoredMedia(key=key, mime=mime, size=size, sha256=sha256, already_stored=already)


async def _prepend(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk
