"""Evolution message ids made unique per integration.

Baileys ids (``data.key.id``) are only unique within a chat
(https://github.com/EvolutionAPI/evolution-api, ``whatsapp.baileys.service.ts``), so the
provider message id we store is ``<remoteJid>/<key.id>``: the same for the inbound webhook,
the send answer (``key.remoteJid`` + ``key.id``) and ``messages.update``
(``remoteJid`` + ``keyId``).
"""


def compose(remote_jid: str, key_id: str) -> str:
    return f"{remote_jid}/{key_id}"


def split(provider_message_id: str) -> tuple[str | None, str]:
    """(remoteJid, key.id); a bare id (no ``/``) gives no JID."""
    jid, sep, key_id = provider_message_id.rpartition("/")
    return (jid or None, key_id) if sep else (None, provider_message_id)


def to_jid(number_or_jid: str) -> str:
    return number_or_jid if "@" in number_or_jid else f"{number_or_jid}@s.whatsapp.net"
