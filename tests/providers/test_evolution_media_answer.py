"""Evolution's base64 media answer decoded as a stream: any cut of the answer gives the same
file, the fields before ``base64`` are read, and a broken answer is a clear error."""

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from providers.evolution.media_answer import BadMediaAnswer, MediaAnswerScanner
from simulator import media as sim_media


def scan(body: bytes, cuts: list[int]) -> tuple[bytes, MediaAnswerScanner]:
    scanner = MediaAnswerScanner()
    out = bytearray()
    start = 0
    for cut in sorted(set(cuts)):
        out += scanner.feed(body[start:cut])
        start = cut
    out += scanner.feed(body[start:])
    out += scanner.close()
    return bytes(out), scanner


def answer(content: bytes, *, escape_slashes: bool = False, **fields: object) -> bytes:
    text = json.dumps({**fields, "base64": base64.b64encode(content).decode(), "buffer": None})
    return (text.replace("/", "\\/") if escape_slashes else text).encode()


@settings(max_examples=200, deadline=None)
@given(
    content=st.binary(max_size=2000),
    cuts=st.lists(st.integers(min_value=0, max_value=3000), max_size=12),
    escape=st.booleans(),
)
def test_any_cut_of_the_answer_decodes_to_the_file(
    content: bytes, cuts: list[int], escape: bool
) -> None:
    body = answer(content, escape_slashes=escape, mimetype="image/jpeg", fileName="é.jpg")
    decoded, scanner = scan(body, [c for c in cuts if c <= len(body)])
    assert decoded == content
    assert scanner.fields["mimetype"] == "image/jpeg"
    assert scanner.fields["fileName"] == "é.jpg"


def test_the_simulators_streamed_answer_decodes_to_its_file() -> None:
    spec = sim_media.spec(sim_media.media_id("application/pdf", 300_001, "s"))
    assert spec is not None
    pieces = list(sim_media.evolution_answer(spec))
    scanner = MediaAnswerScanner()
    digest = hashlib.sha256()
    for piece in pieces:
        digest.update(scanner.feed(piece))
    scanner.close()
    assert digest.hexdigest() == sim_media.expected_sha256(spec.media_id)
    assert scanner.fields["size"] == {"fileLength": "300001"}
    assert max(len(p) for p in pieces) < 200 * 1024  # never the whole answer at once


def test_unpadded_base64_is_accepted() -> None:
    body = b'{"base64": "' + base64.b64encode(b"ab").rstrip(b"=") + b'"}'
    assert scan(body, [])[0] == b"ab"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"[1, 2]", "not a JSON object"),
        (b'{"mimetype": "x"}', "no base64 field"),
        (b'{"base64": null}', "not a string"),
        (b'{"base64": "QUJD$$$$"}', "not valid base64"),
        (b'{"base64": "QQ==QUJD"}', "not valid base64"),
        (b'{"base64": "QUJDRA==", "x": 1}' + b"", None),
        (b'{"base64": "QUJD', "ended inside"),
        (b'{"base64": "QU\\tJD"}', "escape"),
        (b"", "with a base64 field"),
        (b"not json at all", "not a JSON object"),
    ],
)
def test_a_broken_answer_is_a_clear_error(body: bytes, error: str | None) -> None:
    if error is None:
        assert scan(body, [5])[0] == b"ABCD"
        return
    with pytest.raises(BadMediaAnswer, match=error):
        scan(body, [3, 9])


def test_fields_before_base64_are_capped() -> None:
    body = json.dumps({"caption": "x" * 70_000, "base64": "QUJD"}).encode()
    with pytest.raises(BadMediaAnswer, match="no base64 field in the first"):
        scan(body, list(range(0, len(body), 4096)))
