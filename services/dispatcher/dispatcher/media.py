"""Outbound attachments: a short-lived presigned GET link to the object in our bucket, which the
provider fetches itself (every provider accepts links; none then needs our credentials)."""

from typing import TYPE_CHECKING

from providers.base import OutboundMediaSource

if TYPE_CHECKING:  # the stubs are a development dependency
    from types_aiobotocore_s3 import S3Client


class MediaLinks:
    def __init__(self, s3: "S3Client", *, bucket: str, ttl_s: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._ttl_s = ttl_s

    async def source(self, media_key: str) -> OutboundMediaSource:
        # Signing is local (no request to S3): a missing object shows up as the provider's
        # fetch error, reported on the message like any rejection.
        link = await self._s3.generate_presigned_url(
            "get_object",
            Params={"Bucket": self._bucket, "Key": media_key},
            ExpiresIn=self._ttl_s,
        )
        return OutboundMediaSource(link=link)
