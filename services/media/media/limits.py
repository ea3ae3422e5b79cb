"""WhatsApp's size and type limits per media kind (pure).

From Meta's media reference (docs/providers.md §1.8): images jpeg/png 5 MB, video
mp4/3gpp 16 MB, audio aac/amr/mpeg/mp4/ogg(opus) 16 MB, documents 100 MB, stickers webp
500 KB (animated; 100 KB static). Evolution and Z-API publish no limits of their own and
WhatsApp's apply, so the same table serves every provider, inbound and outbound. Inbound files
are checked for size only: what a customer sent is kept whatever its type (it is served with
its sniffed type and a safe disposition); uploads for sending must also have a type their kind
accepts, or the provider would refuse them later (Meta error 131053).
"""

from dataclasses import dataclass
from typing import Literal

from media.errors import TooLarge, TypeNotAllowed

MB = 1024 * 1024
KB = 1024

MediaKind = Literal["image", "video", "audio", "voice", "document", "sticker"]
KINDS: tuple[MediaKind, ...] = ("image", "video", "audio", "voice", "document", "sticker")

_AUDIO = frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"})
_DOCUMENTS = frozenset(
    {
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


@dataclass(frozen=True)
class KindLimit:
    max_bytes: int
    mimes: frozenset[str]  # what an outbound file of this kind may be


LIMITS: dict[MediaKind, KindLimit] = {
    "image": KindLimit(5 * MB, frozenset({"image/jpeg", "image/png"})),
    "video": KindLimit(16 * MB, frozenset({"video/mp4", "video/3gpp"})),
    "audio": KindLimit(16 * MB, _AUDIO),
    "voice": KindLimit(16 * MB, frozenset({"audio/ogg"})),
    "document": KindLimit(100 * MB, _DOCUMENTS),
    "sticker": KindLimit(500 * KB, frozenset({"image/webp"})),
}

LARGEST = max(limit.max_bytes for limit in LIMITS.values())


def kind_of(value: str) -> MediaKind | None:
    """The media kind named ``value`` (a message type), or None for non-media types."""
    for kind in KINDS:
        if kind == value:
            return kind
    return None


def max_bytes(kind: MediaKind) -> int:
    return LIMITS[kind].max_bytes


def check_size(kind: MediaKind, size: int) -> None:
    """Raise ``TooLarge`` when ``size`` bytes exceed what ``kind`` may weigh."""
    limit = LIMITS[kind].max_bytes
    if size > limit:
        raise TooLarge(f"{kind} is larger than WhatsApp's {human_size(limit)} limit")


def check_outbound_type(kind: MediaKind, mime: str) -> None:
    """Raise ``TypeNotAllowed`` when WhatsApp would not send a ``mime`` file as ``kind``."""
    allowed = LIMITS[kind].mimes
    if mime not in allowed:
        raise TypeNotAllowed(
            f"a {kind} must be one of {', '.join(sorted(allowed))}; this file is {mime}"
        )


def outbound_kind_for(mime: str) -> MediaKind:
    """The kind an upload is sent as when the agent did not say: by its sniffed type."""
    for kind in ("image", "sticker", "video", "audio"):
        if mime in LIMITS[kind].mimes:
            return kind
    return "document"


def human_size(size: int) -> str:
    return f"{size // MB} MB" if size >= MB else f"{size // KB} KB"
