"""The store and the transfer against the real S3 server: streamed multipart, content keys."""

from uuid import UUID, uuid4

import pytest

from media.errors import TooLarge
from media.keys import content_key
from media.storage import ObjectStore
from media.transfer import StoredMedia, store_stream
from tests.media import payloads


async def _aiter(kind: str, size: int, seed: str):  # type: ignore[no-untyped-def]
    for chunk in payloads.chunks(kind, size, seed):
        yield chunk


async def test_a_multipart_stream_is_stored_whole_under_its_content_key(store: ObjectStore) -> None:
    tenant = uuid4()
    size = 12 * 1024 * 1024 + 123  # three parts, the last one short
    stored = await store_stream(
        store, tenant, _aiter("pdf", size, "mp"), claimed_mime=None, admit=lambda _m: 100 << 20
    )
    assert stored.mime == "application/pdf"
    assert stored.size == size
    assert stored.sha256 == payloads.sha256_of("pdf", size, "mp")
    assert stored.key == content_key(tenant, stored.sha256)
    assert await store.read(stored.key) == payloads.whole("pdf", size, "mp")


async def test_the_same_bytes_twice_are_stored_once_per_tenant(store: ObjectStore) -> None:
    tenant, other = uuid4(), uuid4()

    async def put(t: UUID) -> StoredMedia:
        return await store_stream(
            store, t, _aiter("jpg", 4000, "same"), claimed_mime="image/jpeg", admit=lambda _m: 10**6
        )

    first, second, elsewhere = await put(tenant), await put(tenant), await put(other)
    assert (first.already_stored, second.already_stored) == (False, True)
    assert first.key == second.key
    assert elsewhere.key != first.key and elsewhere.key.startswith(f"{other}/")


async def test_a_stream_over_its_limit_leaves_nothing_behind(store: ObjectStore) -> None:
    tenant = uuid4()
    with pytest.raises(TooLarge):
        await store_stream(
            store,
            tenant,
            _aiter("mp4", 7 * 1024 * 1024, "big"),
            claimed_mime=None,
            admit=lambda _m: 6 * 1024 * 1024,
        )
    listed = await store._s3.list_objects_v2(Bucket=store.bucket, Prefix=f"staging/{tenant}/")
    assert listed.get("KeyCount", 0) == 0
    uploads = await store._s3.list_multipart_uploads(
        Bucket=store.bucket, Prefix=f"staging/{tenant}/"
    )
    assert not uploads.get("Uploads")
