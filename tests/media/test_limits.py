"""WhatsApp's per-kind limits, as the worker and the upload route apply them."""

import pytest

from media.errors import TooLarge, TypeNotAllowed
from media.limits import KB, MB, check_outbound_type, check_size, kind_of, outbound_kind_for


@pytest.mark.parametrize(
    ("kind", "allowed", "refused"),
    [
        ("image", 5 * MB, 5 * MB + 1),
        ("video", 16 * MB, 16 * MB + 1),
        ("audio", 16 * MB, 16 * MB + 1),
        ("voice", 16 * MB, 16 * MB + 1),
        ("document", 100 * MB, 100 * MB + 1),
        ("sticker", 500 * KB, 500 * KB + 1),
    ],
)
def test_size_limit_per_kind(kind: str, allowed: int, refused: int) -> None:
    media_kind = kind_of(kind)
    assert media_kind is not None
    check_size(media_kind, allowed)
    with pytest.raises(TooLarge):
        check_size(media_kind, refused)


@pytest.mark.parametrize(
    ("kind", "mime", "ok"),
    [
        ("image", "image/jpeg", True),
        ("image", "image/webp", False),  # webp only as a sticker
        ("sticker", "image/webp", True),
        ("video", "video/mp4", True),
        ("video", "video/quicktime", False),
        ("audio", "audio/ogg", True),
        ("document", "application/pdf", True),
        ("document", "text/html", False),
        ("document", "application/vnd.microsoft.portable-executable", False),
    ],
)
def test_outbound_types_per_kind(kind: str, mime: str, ok: bool) -> None:
    media_kind = kind_of(kind)
    assert media_kind is not None
    if ok:
        check_outbound_type(media_kind, mime)
    else:
        with pytest.raises(TypeNotAllowed):
            check_outbound_type(media_kind, mime)


def test_kind_of_an_upload_follows_its_type() -> None:
    assert outbound_kind_for("image/png") == "image"
    assert outbound_kind_for("image/webp") == "sticker"
    assert outbound_kind_for("video/mp4") == "video"
    assert outbound_kind_for("audio/mpeg") == "audio"
    assert outbound_kind_for("application/pdf") == "document"


def test_text_and_location_are_not_media_kinds() -> None:
    assert kind_of("text") is None
    assert kind_of("location") is None
