"""Outbound attachments: a short-lived presigned GET link to the object in our bucket, which the
provider fetches itself (every provider accepts links; none then needs our credentials).

Whoever holds the link (the provider, or anyone it leaks to) gets the object with the type and
disposition the link forces, not what the object was stored with: a type WhatsApp sends (from
the upload's sniffed type) or ``application/octet-stream``, always as an ``attachment``. So a
link can never make a browser render an uploaded HTML or SVG page from our bucket's origin.
"""

from typing import TYPE_CHECKING

from providers.base import OutboundMediaSource

if TYPE_CHECKING:  # the stubs are a development dependency
    from types_aiobotocore_s3 import S3Client

OPAQUE = "application/octet-stream"
# The types WhatsApp accepts for sending (Meta's media reference): none a browser executes.
SENDABLE = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "video/mp4",
        "video/3gpp",
        "audio/aac",
        "audio/amr",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "application/pdf",
        "text/plain",
        "text/csv",
        "application/msword",
        "application/vnd.ms-excel",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    }
)


def link_type(mime: str | None) -> str:
    """The Content-Type a link forces: ``mime`` (parameters dropped) if WhatsApp sends it,
    else opaque bytes."""
    base = (mime or "").split(";", 1)[0].strip().lower()
    return base if base in SENDABLE else OPAQUE


class MediaLinks:
    def __init__(self, s3: "S3Client", *, bucket: str, ttl_s: int) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._ttl_s = ttl_s

    async def source(self, media_key: str, mime: str | None = None) -> OutboundMediaSource:
        # Signing is local (no request to S3): a missing object shows up as the provider's
        # fetch error, reported on the message like any rejection.
        link = await self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": media_key,
                "ResponseContentType": link_type(mime),
                "ResponseContentDisposition": "attachment",
            },
            ExpiresIn=self._ttl_s,
        )
        return OutboundMediaSource(link=link)
