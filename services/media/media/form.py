"""Read the file of a ``multipart/form-data`` upload as a stream (python-multipart's push
parser), so an upload goes to storage as it arrives instead of being spooled whole first.

Only the first part named ``file`` matters; other fields are ignored. ``FormError`` means the
body is not a usable form.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from python_multipart import MultipartParser
from python_multipart.multipart import parse_options_header


class FormError(Exception):
    """The request body is not a multipart form with a ``file`` part."""


@dataclass
class _State:
    """What the parser's callbacks saw during one ``write``; drained by the reader."""

    header_field: bytearray = field(default_factory=bytearray)
    header_value: bytearray = field(default_factory=bytearray)
    headers: dict[bytes, bytes] = field(default_factory=dict)
    in_file: bool = False
    file_seen: bool = False
    file_done: bool = False
    filename: str | None = None
    content_type: str | None = None
    started: bool = False
    pending: list[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class FilePart:
    filename: str | None
    content_type: str | None
    chunks: AsyncIterator[bytes]


def boundary_of(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    boundary = options.get(b"boundary")
    if kind != b"multipart/form-data" or not boundary:
        raise FormError("expected a multipart/form-data body with a boundary")
    return boundary


async def file_part(body: AsyncIterator[bytes], content_type: str, name: str = "file") -> FilePart:
    """The ``name`` part of the form in ``body``; its chunks are read on demand."""
    state = _State()

    def on_part_begin() -> None:
        state.headers = {}

    def on_header_field(data: bytes, start: int, end: int) -> None:
        state.header_field += data[start:end]

    def on_header_value(data: bytes, start: int, end: int) -> None:
        state.header_value += data[start:end]

    def on_header_end() -> None:
        state.headers[bytes(state.header_field).lower()] = bytes(state.header_value)
        state.header_field.clear()
        state.header_value.clear()

    def on_headers_finished() -> None:
        _, options = parse_options_header(state.headers.get(b"content-disposition", b""))
        if options.get(b"name") == name.encode() and not state.file_seen:
            state.in_file = state.file_seen = True
            raw = options.get(b"filename")
            state.filename = raw.decode("utf-8", "replace") if raw is not None else None
            ctype = state.headers.get(b"content-type")
            state.content_type = ctype.decode("latin-1") if ctype else None

    def on_part_data(data: bytes, start: int, end: int) -> None:
        if state.in_file:
            state.pending.append(data[start:end])

    def on_part_end() -> None:
        if state.in_file:
            state.in_file = False
            state.file_done = True

    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
        },
    )
    stream = aiter(body)

    async def feed() -> bool:
        """Parse the next piece of the body; False at its end."""
        try:
            piece = await anext(stream)
        except StopAsyncIteration:
            return False
        try:
            parser.write(piece)
        except Exception as exc:  # python-multipart raises several error types
            raise FormError(f"malformed multipart body: {exc}") from None
        return True

    while not state.file_seen:
        if not await feed():
            raise FormError(f"the form has no {name!r} part")

    async def chunks() -> AsyncIterator[bytes]:
        while True:
            while state.pending:
                yield state.pending.pop(0)
            if state.file_done:
                return
            if not await feed():
                raise FormError("the body ended inside the file")

    return FilePart(state.filename, state.content_type, chunks())
