"""The Click-to-WhatsApp ad (or post) a customer tapped, from each provider's shape. Pure.

Meta: the message's ``referral{source_url, source_id, source_type, headline, body, media_type,
image_url | video_url, thumbnail_url, ctwa_clid}`` (messages webhook reference, text and media
pages: "sends a message to a business via a Click to WhatsApp ad"). Evolution and Z-API relay
WhatsApp's ``externalAdReply`` (``{title, body, mediaType, thumbnailUrl, sourceType, sourceId,
sourceUrl, ctwaClid?}``): Evolution inside the message's ``contextInfo`` (Baileys), Z-API at the
top of the ``ReceivedCallback`` (on-message-received, "text coming from an ad").
"""

from typing import Any

from contracts.inbound import Referral
from providers import fields as f


def meta(raw: Any) -> Referral | None:
    ref = f.obj(raw, "referral")
    if not ref:
        return None
    return Referral(
        source_type=f.text(ref, "source_type"),
        source_id=f.text(ref, "source_id"),
        source_url=f.text(ref, "source_url"),
        headline=f.text(ref, "headline"),
        body=f.text(ref, "body"),
        media_url=f.text(ref, "image_url")
        or f.text(ref, "video_url")
        or f.text(ref, "thumbnail_url"),
        ctwa_clid=f.text(ref, "ctwa_clid"),
    )


def external_ad(holder: Any) -> Referral | None:
    """Evolution's ``contextInfo`` or Z-API's callback: its ``externalAdReply``, if an ad's."""
    ad = f.obj(holder, "externalAdReply")
    if not ad or not (f.text(ad, "sourceId") or f.text(ad, "sourceUrl") or f.text(ad, "ctwaClid")):
        # Link previews use the same object; only an ad or post names its source.
        return None
    return Referral(
        source_type=f.text(ad, "sourceType"),
        source_id=f.text(ad, "sourceId"),
        source_url=f.text(ad, "sourceUrl"),
        headline=f.text(ad, "title"),
        body=f.text(ad, "body"),
        media_url=f.text(ad, "thumbnailUrl") or f.text(ad, "mediaUrl"),
        ctwa_clid=f.text(ad, "ctwaClid"),
    )
