"""The real content type of a file from its first bytes (pure; puremagic does the matching).

A provider's or browser's claim is only a hint: it picks among the sniffer's candidates when the
magic bytes are ambiguous (a zip that is a .docx, a jpeg variant), and names plain text, which has
no magic at all. A claim that matches nothing the bytes say is ignored.
"""

import puremagic

HEAD_BYTES = 64 * 1024  # enough for every signature puremagic checks in media formats

OCTET_STREAM = "application/octet-stream"

# puremagic leaves some MIME types empty or generic; these names are what WhatsApp uses.
_BY_EXTENSION = {
    ".m4a": "audio/mp4",
    ".3gp": "video/3gpp",
    ".3g2": "video/3gpp",
    ".amr": "audio/amr",
    ".oga": "audio/ogg",
    ".ogg": "audio/ogg",
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".aac": "audio/aac",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
}
_RENAMED = {
    "application/ogg": "audio/ogg",  # WhatsApp's ogg is opus voice/audio
    "audio/x-m4a": "audio/mp4",
    "audio/mp3": "audio/mpeg",
    "image/jpg": "image/jpeg",
    "video/3gpp2": "video/3gpp",
}
# Types with no magic number that a claim may name when the bytes are printable text.
_TEXT_CLAIMS = frozenset({"text/plain", "text/csv"})


def base_mime(value: str | None) -> str | None:
    """``"Image/JPEG; charset=x"`` → ``"image/jpeg"``; None for empty."""
    if not value:
        return None
    mime = value.split(";", 1)[0].strip().lower()
    return _RENAMED.get(mime, mime) or None


def candidates(head: bytes) -> list[str]:
    """MIME types the magic bytes of ``head`` match, most confident first, without repeats."""
    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        return []
    out: list[str] = []
    for match in matches:
        mime = base_mime(match.mime_type) or _BY_EXTENSION.get(match.extension.lower())
        if mime and mime not in out:
            out.append(mime)
    if b"OpusHead" in head[:128] or b"\x01vorbis" in head[:128]:
        out = ["audio/ogg", *[m for m in out if m != "audio/ogg"]]
    return out


def looks_like_text(head: bytes) -> bool:
    """UTF-8 without control characters other than tab and line breaks."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="ignore")
    # A multi-byte character cut at the end of the head is dropped by errors="ignore"; a
    # binary file loses far more than that.
    if len(text.encode()) < len(head) - 3:
        return False
    return all(ch.isprintable() or ch in "\t\r\n\f" for ch in text)


def sniff(head: bytes, claimed: str | None = None) -> str:
    """The content type of a file starting with ``head``."""
    claim = base_mime(claimed)
    found = candidates(head)
    if found:
        return claim if claim in found else found[0]
    if looks_like_text(head):
        return claim if claim in _TEXT_CLAIMS else "text/plain"
    return OCTET_STREAM
