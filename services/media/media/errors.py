"""Why a media file was refused, as types the edges translate (worker: ``media_state`` failed
with the reason; HTTP: problem details with a stable code).

    MediaRefused                    the file itself is not acceptable: do not retry
    ├── TooLarge                    over the WhatsApp limit of its kind
    ├── TypeNotAllowed              the sniffed type is not one its kind may carry
    └── Empty                       no bytes at all
    FetchRefused                    the fetch would leave the provider's hosts (SSRF guard)
"""


class MediaRefused(Exception):
    code = "media_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TooLarge(MediaRefused):
    code = "too_large"


class TypeNotAllowed(MediaRefused):
    code = "type_not_allowed"


class Empty(MediaRefused):
    code = "empty"


class FetchRefused(Exception):
    """A connection the SSRF guard would not open; raised before any packet is sent."""

    code = "fetch_refused"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
