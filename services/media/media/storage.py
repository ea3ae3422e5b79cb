"""The private bucket: streaming multipart uploads, content-addressed copies, presigned
downloads (aiobotocore). The only module that talks S3.

A stream is cut into parts of about ``part_size`` bytes as it arrives, so memory holds one part at a
time whatever the file's size; a file smaller than one part goes up in a single PUT. A failed
or cancelled upload is aborted, so no half-written object ever appears under a key.
"""

import contextlib
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import ClientError

from config.shared import S3Settings

if TYPE_CHECKING:
    # Type stubs only: importing them at run time costs every process ~8 MB of memory.
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

MIN_PART = 5 * 1024 * 1024  # S3's smallest part (all but the last)


class ObjectStore:
    def __init__(
        self,
        client: "S3Client",
        bucket: str,
        *,
        part_size: int = MIN_PART,
        presigner: "S3Client | None" = None,
    ) -> None:
        if part_size < MIN_PART:
            raise ValueError(f"part size must be at least {MIN_PART} bytes")
        self._s3 = client
        self._presigner = presigner or client
        self.bucket = bucket
        self._part_size = part_size

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        """Store the bytes of ``chunks`` under ``key``; returns how many there were."""
        # Parts gather in a BytesIO handed to botocore as a file: it is read in small blocks
        # for the checksum and the send, so a part is held once, never copied whole.
        part = io.BytesIO()
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []
        total = 0
        try:
            async for chunk in chunks:
                part.write(chunk)
                total += len(chunk)
                if part.tell() >= self._part_size:
                    if upload_id is None:
                        created = await self._s3.create_multipart_upload(
                            Bucket=self.bucket, Key=key, ContentType=content_type
                        )
                        upload_id = created["UploadId"]
                    parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
                    part.close()
                    part = io.BytesIO()
            if upload_id is None:
                part.seek(0)
                await self._s3.put_object(
                    Bucket=self.bucket, Key=key, Body=part, ContentType=content_type
                )
                return total
            if part.tell():
                parts.append(await self._upload_part(key, upload_id, len(parts) + 1, part))
            await self._s3.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
            return total
        except BaseException:
            if upload_id is not None:
                # Best effort: the original error is what matters; a lifecycle rule
                # (AbortIncompleteMultipartUpload) clears what is left if this fails too.
                with contextlib.suppress(Exception):
                    await self._s3.abort_multipart_upload(
                        Bucket=self.bucket, Key=key, UploadId=upload_id
                    )
            raise
        finally:
            part.close()

    async def _upload_part(
        self, key: str, upload_id: str, number: int, body: io.BytesIO
    ) -> "CompletedPartTypeDef":
        body.seek(0)
        answer = await self._s3.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"ETag": answer["ETag"], "PartNumber": number}

    async def exists(self, key: str) -> bool:
        try:
            await self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    async def copy(self, source: str, target: str) -> None:
        """Server-side copy (type and metadata kept); media is at most 100 MB, well under the
        5 GB a single CopyObject may move."""
        await self._s3.copy_object(
            Bucket=self.bucket, Key=target, CopySource={"Bucket": self.bucket, "Key": source}
        )

    async def delete(self, key: str) -> None:
        await self._s3.delete_object(Bucket=self.bucket, Key=key)

    async def read(self, key: str) -> bytes:
        """The whole object: for tests and small files only."""
        answer = await self._s3.get_object(Bucket=self.bucket, Key=key)
        async with answer["Body"] as body:
            data: bytes = await body.read()
        return data

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes as they arrive, never held whole: to check a large object."""
        answer = await self._s3.get_object(Bucket=self.bucket, Key=key)
        async with answer["Body"] as body:
            async for chunk in body.iter_chunks(256 * 1024):
                yield chunk

    async def presigned_get(
        self, key: str, *, ttl_s: int, content_type: str, content_disposition: str
    ) -> str:
        """A short-lived GET URL; S3 answers it with the given type and disposition headers."""
        url: str = await self._presigner.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": key,
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition,
            },
            ExpiresIn=ttl_s,
        )
        return url

    async def ready(self) -> bool:
        try:
            await self._s3.head_bucket(Bucket=self.bucket)
        except Exception:
            return False
        return True


def _config() -> AioConfig:
    return AioConfig(
        connect_timeout=5,
        read_timeout=60,
        retries={"max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},
        max_pool_connections=20,
    )


@asynccontextmanager
async def open_store(
    settings: S3Settings, *, part_size: int = MIN_PART, presign_endpoint: str | None = None
) -> AsyncIterator[ObjectStore]:
    """An ``ObjectStore`` over a fresh client, closed on exit. ``presign_endpoint`` is the
    address browsers reach the store at, when it differs from the services' one."""
    session = get_session()
    common = {
        "region_name": settings.region,
        "aws_access_key_id": settings.access_key.get_secret_value(),
        "aws_secret_access_key": settings.secret_key.get_secret_value(),
        "config": _config(),
    }
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(
            session.create_client("s3", endpoint_url=settings.endpoint, **common)  # type: ignore[call-overload]
        )
        presigner = None
        if presign_endpoint and presign_endpoint != settings.endpoint:
            presigner = await stack.enter_async_context(
                session.create_client("s3", endpoint_url=presign_endpoint, **common)  # type: ignore[call-overload]
            )
        yield ObjectStore(client, settings.bucket, part_size=part_size, presigner=presigner)
