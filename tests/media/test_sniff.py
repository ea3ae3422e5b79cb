"""The sniffer names files by their bytes, using a claim only to choose among what they match."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from media.sniff import OCTET_STREAM, base_mime, sniff

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(64)
PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)
OPUS = b"OggS\x00\x02" + bytes(20) + b"\x01\x13OpusHead\x01\x01" + bytes(64)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + bytes(64)
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(64)
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00" + bytes(64)
THREE_GP = b"\x00\x00\x00\x14ftyp3gp4\x00\x00\x00\x00" + bytes(64)
MP3 = b"ID3\x03\x00\x00\x00" + bytes(100)
ZIP = b"PK\x03\x04" + bytes(64)
EXE = b"MZ\x90\x00" + bytes(100)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    ("head", "claimed", "expected"),
    [
        (JPEG, None, "image/jpeg"),
        (JPEG, "image/png", "image/jpeg"),  # a false claim is ignored
        (PNG, None, "image/png"),
        (MP4, "video/mp4", "video/mp4"),
        (OPUS, "audio/ogg; codecs=opus", "audio/ogg"),
        (OPUS, None, "audio/ogg"),
        (PDF, "image/jpeg", "application/pdf"),
        (WEBP, None, "image/webp"),
        (M4A, None, "audio/mp4"),
        (THREE_GP, None, "video/3gpp"),
        (MP3, None, "audio/mpeg"),
        (ZIP, XLSX, XLSX),  # the claim picks among the zip-based formats
        (b"a,b\n1,2\n", "text/csv", "text/csv"),
        (b"hello there\n", None, "text/plain"),
        (b"hello there\n", "image/jpeg", "text/plain"),
        (b"<html><script>alert(1)</script>", "image/jpeg", "text/html"),
        (b"\x00\x01\x02\x03" * 10, "image/png", OCTET_STREAM),
    ],
)
def test_sniffed_type(head: bytes, claimed: str | None, expected: str) -> None:
    assert sniff(head, claimed) == expected


def test_an_executable_is_never_taken_for_what_it_claims() -> None:
    assert sniff(EXE, "image/jpeg") not in ("image/jpeg", "application/pdf")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Image/JPEG; charset=x", "image/jpeg"),
        ("", None),
        (None, None),
        ("image/jpg", "image/jpeg"),
    ],
)
def test_base_mime(value: str | None, expected: str | None) -> None:
    assert base_mime(value) == expected


@given(st.binary(max_size=512), st.one_of(st.none(), st.text(max_size=40)))
def test_sniff_never_raises_and_always_names_a_type(head: bytes, claimed: str | None) -> None:
    mime = sniff(head, claimed)
    assert "/" in mime
