"""Evolution's media answer read as a stream (pure, no I/O).

``POST /chat/getBase64FromMediaMessage`` answers one JSON object whose ``base64`` string holds
the whole file (a 100 MB document is a 140 MB answer). Parsing it whole holds the answer and the
decoded file at once; JSON libraries that parse incrementally (ijson) still hand a string value
over in one piece. So this scanner parses the small fields before ``base64`` with the standard
JSON decoder, then passes the string's characters through a base64 decoder chunk by chunk:
memory holds one network chunk and at most 3 undecoded characters, whatever the file's size.

Fields after ``base64`` are not read (Evolution sends ``mimetype``, ``fileName`` and ``size``
before it; a field that comes later is simply unknown, and the caller falls back to the
webhook's values).
"""

import binascii
import json
from typing import Any

HEADER_LIMIT = 64 * 1024  # the fields before ``base64``: names, a caption, sizes


class BadMediaAnswer(ValueError):
    """The answer is not the JSON object with a base64 string that Evolution sends."""


_DECODER = json.JSONDecoder()
_WHITESPACE = " \t\r\n"


class MediaAnswerScanner:
    """Feed the answer's bytes in any cut; get back the decoded file's bytes.

    ``fields`` holds the top-level values seen before ``base64`` once ``started`` is true;
    ``finished`` turns true at the string's closing quote (what follows is ignored).
    """

    def __init__(self, header_limit: int = HEADER_LIMIT) -> None:
        self._limit = header_limit
        self._header = bytearray()
        self.fields: dict[str, Any] = {}
        self.started = False
        self.finished = False
        self._decoder = _Base64Stream()
        self._escape = b""  # a backslash cut from its escaped character at a chunk's end

    def feed(self, data: bytes) -> bytes:
        if self.finished or not data:
            return b""
        if not self.started:
            self._header += data
            rest = self._scan_header()
            if rest is None:
                if len(self._header) > self._limit:
                    raise BadMediaAnswer(
                        f"no base64 field in the first {self._limit} bytes of the answer"
                    )
                return b""
            self.started = True
            self._header = bytearray()
            data = rest
        return self._string(data)

    def close(self) -> bytes:
        """The last bytes; raises ``BadMediaAnswer`` if the answer ended early."""
        if not self.started:
            raise BadMediaAnswer("the answer is not a JSON object with a base64 field")
        if not self.finished:
            raise BadMediaAnswer("the answer ended inside the base64 field")
        return b""

    def _scan_header(self) -> bytes | None:
        """Parse the fields before ``base64``; the bytes after its opening quote, or None
        when more of the answer is needed. Re-parses from the start: the header is small."""
        # surrogateescape: a character cut at the chunk's end (or invalid UTF-8) round-trips
        # to its exact bytes, so the string's start is found again as a byte offset.
        text = self._header.decode("utf-8", errors="surrogateescape")
        fields: dict[str, Any] = {}
        i = _skip(text, 0)
        if i >= len(text):
            return None
        if text[i] != "{":
            raise BadMediaAnswer("the answer is not a JSON object")
        i += 1
        while True:
            i = _skip(text, i)
            if i >= len(text):
                return None
            if text[i] == "}":
                raise BadMediaAnswer("the answer has no base64 field")
            try:
                key, i = _DECODER.raw_decode(text, i)
            except json.JSONDecodeError:
                return None  # cut short, or broken: feed() and close() tell which in the end
            i = _skip(text, i)
            if i >= len(text):
                return None
            if text[i] != ":" or not isinstance(key, str):
                raise BadMediaAnswer("the answer is not a JSON object")
            i = _skip(text, i + 1)
            if i >= len(text):
                return None
            if key == "base64":
                if text[i] != '"':
                    raise BadMediaAnswer("the base64 field is not a string")
                self.fields = fields
                return bytes(self._header[len(text[: i + 1].encode("utf-8", "surrogateescape")) :])
            try:
                value, end = _DECODER.raw_decode(text, i)
            except json.JSONDecodeError:
                return None  # cut short, or broken: feed() and close() tell which in the end
            after = _skip(text, end)
            if after >= len(text):
                return None  # a number may go on in the next chunk
            if text[after] not in ",}":
                raise BadMediaAnswer("the answer is not a JSON object")
            fields[key] = _utf8(value)
            i = after + 1 if text[after] == "," else after

    def _string(self, data: bytes) -> bytes:
        data = self._escape + data
        self._escape = b""
        end = data.find(b'"')
        content = data if end < 0 else data[:end]
        if end < 0 and content.endswith(b"\\") and _trailing_backslashes(content) % 2:
            self._escape, content = b"\\", content[:-1]
        if end >= 0 and _trailing_backslashes(content) % 2:
            raise BadMediaAnswer("the base64 field holds a quote")
        if b"\\" in content:
            content = _unescape(content)
        out = self._decoder.feed(content)
        if end >= 0:
            self.finished = True
            out += self._decoder.close()
        return out


class _Base64Stream:
    """Standard base64 decoded in pieces of whole 4-character groups, strictly (anything
    outside the alphabet, or data after the padding, is an error)."""

    def __init__(self) -> None:
        self._carry = b""
        self._padded = False

    def feed(self, chars: bytes) -> bytes:
        chars = self._carry + chars
        whole = len(chars) - len(chars) % 4
        self._carry = chars[whole:]
        if not whole:
            return b""
        if self._padded:
            raise BadMediaAnswer("the base64 field goes on after its padding")
        block = chars[:whole]
        self._padded = block.endswith(b"=")
        return _decode(block)

    def close(self) -> bytes:
        if not self._carry:
            return b""
        if self._padded or len(self._carry) == 1:
            raise BadMediaAnswer("the base64 field is cut short")
        # Unpadded base64 (some encoders omit the '='): the last group is padded here.
        return _decode(self._carry + b"=" * (-len(self._carry) % 4))


def _decode(block: bytes) -> bytes:
    try:
        return binascii.a2b_base64(block, strict_mode=True)
    except binascii.Error as exc:
        raise BadMediaAnswer(f"the base64 field is not valid base64 ({exc})") from None


def _skip(text: str, i: int) -> int:
    while i < len(text) and text[i] in _WHITESPACE:
        i += 1
    return i


def _trailing_backslashes(data: bytes) -> int:
    return len(data) - len(data.rstrip(b"\\"))


def _unescape(content: bytes) -> bytes:
    """JSON escapes a base64 string may carry: ``\\/`` (some encoders escape every slash) and
    line breaks of MIME-style base64; any other escape is not base64."""
    plain = content.replace(b"\\/", b"/").replace(b"\\n", b"").replace(b"\\r", b"")
    if b"\\" in plain:
        raise BadMediaAnswer("the base64 field holds an escape that is not base64")
    return plain


def _utf8(value: Any) -> Any:
    """Invalid UTF-8 in a string (kept as surrogates while scanning) becomes U+FFFD."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {k: _utf8(v) for k, v in value.items()}
    return value
