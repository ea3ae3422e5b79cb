"""Download names and headers are safe whatever name a customer or agent gave a file."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.filenames import content_disposition, sanitize, served_type


@pytest.mark.parametrize(
    ("name", "mime", "expected"),
    [
        ("photo.jpg", "image/jpeg", "photo.jpg"),
        ("../../etc/passwd", "text/plain", "passwd.txt"),
        ("C:\\Users\\x\\report.pdf", "application/pdf", "report.pdf"),
        ('a"b;c\r\nSet-Cookie: x.pdf', "application/pdf", "a_b_cSet-Cookie_ x.pdf"),
        ("invoice\u202egpj.exe", "application/pdf", "invoicegpj.exe.pdf"),
        ("evil.html", "image/png", "evil.html.png"),
        (None, "image/jpeg", "media.jpg"),
        ("...", "application/octet-stream", "media"),
        ("relatório.pdf", "application/pdf", "relatório.pdf"),
    ],
)
def test_sanitize(name: str | None, mime: str, expected: str) -> None:
    assert sanitize(name, mime) == expected


def test_inline_only_for_playable_media() -> None:
    assert content_disposition("a.jpg", "image/jpeg").startswith("inline;")
    assert content_disposition("a.pdf", "application/pdf").startswith("attachment;")
    assert content_disposition("a.html", "text/html").startswith("attachment;")


def test_active_content_is_served_as_bytes() -> None:
    assert served_type("text/html") == "application/octet-stream"
    assert served_type("image/svg+xml") == "application/octet-stream"
    assert served_type("image/jpeg") == "image/jpeg"
    assert served_type(None) == "application/octet-stream"


@given(st.text(max_size=300), st.sampled_from(["image/jpeg", "application/pdf", "x/y"]))
def test_disposition_is_one_clean_header_value(name: str, mime: str) -> None:
    header = content_disposition(name, mime)
    header.encode("latin-1")  # a header value must be encodable
    assert "\r" not in header and "\n" not in header
    ascii_part = header.split('filename="', 1)[1].split('"', 1)[0]
    assert "/" not in ascii_part and "\\" not in ascii_part
    assert len(sanitize(name, mime)) <= 120
