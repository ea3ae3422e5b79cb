"""A template message a business sent to this number, as the text an agent reads. Pure.

WhatsApp templates arrive hydrated (placeholders filled in): a title, the body, a footer and
their buttons. Evolution relays Baileys' ``templateMessage.hydratedTemplate``, Z-API its own
``hydratedTemplate``; both render the same way.
"""

from collections.abc import Iterable


def render(
    *, title: str | None, body: str | None, footer: str | None, buttons: Iterable[str]
) -> str | None:
    """Title, body and footer on their lines, then each button as ``[label]``; None when the
    template has no text at all."""
    lines = [part.strip() for part in (title, body, footer) if part and part.strip()]
    labels = [f"[{label.strip()}]" for label in buttons if label and label.strip()]
    if labels:
        lines.append(" ".join(labels))
    return "\n".join(lines) or None
