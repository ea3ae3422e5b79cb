"""Safe download names and Content-Disposition headers (pure).

A filename comes from a customer or an agent, so it may hold paths, quotes, control characters,
bidi overrides or a misleading extension; what reaches a browser is a plain name with the
extension of the type we actually serve.
"""

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 120
_EXTENSIONS = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/gif": ".gif",
    "video/mp4": ".mp4",
    "video/3gpp": ".3gp",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "audio/aac": ".aac",
    "audio/amr": ".amr",
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
# Shown in the browser; everything else is offered as a download.
INLINE_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/gif",
        "video/mp4",
        "video/3gpp",
        "audio/ogg",
        "audio/mpeg",
        "audio/mp4",
        "audio/aac",
        "audio/amr",
    }
)
_UNSAFE = re.compile(r'[\\/:*?"<>|;,=\x00-\x1f\x7f]+')


def sanitize(name: str | None, mime: str) -> str:
    """A file name safe for any file system and header: last path part, no control or format
    characters, at most ``MAX_NAME`` characters, and an extension matching ``mime`` when we
    know one; ``media`` plus that extension when nothing usable is left."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = unicodedata.normalize("NFC", base)
    # Cf = format characters (bidi overrides that make "gpj.exe" read as "exe.jpg").
    base = "".join(ch for ch in base if unicodedata.category(ch) not in ("Cc", "Cf"))
    base = _UNSAFE.sub("_", base).strip(" .")
    extension = _EXTENSIONS.get(mime)
    stem = base
    if extension is not None and base.lower().endswith(extension):
        stem = base[: -len(extension)]
    stem = stem.strip(" .")[: MAX_NAME - 5] or "media"
    if extension is not None:
        return stem + extension
    return base[:MAX_NAME] if base else "media"


def content_disposition(name: str | None, mime: str) -> str:
    """``inline`` for media a browser plays safely, ``attachment`` otherwise, with an ASCII
    fallback name and the UTF-8 one (RFC 6266 / RFC 5987)."""
    safe = sanitize(name, mime)
    ascii_name = safe.encode("ascii", "ignore").decode() or "media"
    ascii_name = ascii_name.replace('"', "").replace("%", "_")
    disposition = "inline" if mime in INLINE_TYPES else "attachment"
    return f"{disposition}; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(safe, safe='')}"


# Types a browser would run as a page or script on the store's origin.
_ACTIVE = frozenset(
    {
        "text/html",
        "application/xhtml+xml",
        "image/svg+xml",
        "text/xml",
        "application/xml",
        "text/javascript",
        "application/javascript",
    }
)


def served_type(mime: str | None) -> str:
    """The Content-Type a download is served with: the sniffed type, except that anything a
    browser would execute is served as opaque bytes."""
    if not mime or mime in _ACTIVE:
        return "application/octet-stream"
    return mime
