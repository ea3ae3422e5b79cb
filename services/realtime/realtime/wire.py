"""Websocket frames encoded once per event, for every connection that receives it.

A server's frame is not masked (RFC 6455 §5.1), and without a compression extension its bytes
are the same for every client. So an event's frame is built once (``SharedFrame``) and each
connection writes those bytes, instead of each of them serializing the same text again. Pure:
the pump (``realtime.ws``) decides when the shared bytes may be written as they are.
"""

import struct

_FIN_TEXT = 0x81  # FIN bit + opcode 1 (text)


def text_frame(payload: bytes) -> bytes:
    """One unfragmented, unmasked text frame (RFC 6455 §5.2) carrying ``payload``."""
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", _FIN_TEXT, size)
    elif size < 1 << 16:
        header = struct.pack("!BBH", _FIN_TEXT, 126, size)
    else:
        header = struct.pack("!BBQ", _FIN_TEXT, 127, size)
    return header + payload


class SharedFrame(str):
    """A frame's text, with its encoded websocket frame (``wire``) built on first use.

    A ``str``, so everything that reads frames as text (the session, its tests, the fallback
    path) is unchanged; only the pump's fast path reads ``wire``."""

    __slots__ = ("_wire",)
    _wire: bytes | None

    def __new__(cls, text: str) -> "SharedFrame":
        frame = super().__new__(cls, text)
        frame._wire = None
        return frame

    @property
    def wire(self) -> bytes:
        if self._wire is None:
            self._wire = text_frame(self.encode())
        return self._wire
