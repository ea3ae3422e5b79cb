"""One instance of every event on the wire, covering every message type and content variant."""

from datetime import UTC, datetime
from uuid import UUID, uuid4

from contracts import (
    Chat,
    ContactCard,
    ContactSynced,
    ConversationUpdated,
    ConversationView,
    DeadLettered,
    Edit,
    Location,
    MarkReadRequested,
    MediaFetchRequested,
    MediaRef,
    MessageCreated,
    MessageReceived,
    MessageStatus,
    MessageType,
    MessageUpdated,
    MessageView,
    NumberChange,
    Order,
    OrderItem,
    OutboundMedia,
    OutboundReaction,
    OutboundTemplate,
    OutboundText,
    Provider,
    ProviderError,
    RawWebhook,
    Reaction,
    Referral,
    ReplyChoice,
    Revoke,
    Sender,
    SendRequested,
    StatusReported,
    WebhookRecorded,
)
from contracts.envelope import Event
from contracts.inbound import InboundMessage
from contracts.realtime import MediaView, ReactionView

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
TENANT = UUID("11111111-1111-4111-8111-111111111111")
INTEGRATION = uuid4()
TRACE = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def _message(type_: MessageType, **content: object) -> InboundMessage:
    return InboundMessage(
        provider_message_id=f"wamid.{type_.value}",
        chat=Chat(kind="direct", id="5511999990000"),
        sender=Sender(phone="5511999990000", wa_id="5511999990000", display_name="Ana"),
        sent_at=NOW,
        type=type_,
        **content,  # type: ignore[arg-type]
    )


def _media(mime: str, filename: str | None = None) -> MediaRef:
    return MediaRef(
        provider_ref="1234567890", mime=mime, sha256="abc", size=1024, filename=filename
    )


INBOUND_MESSAGES: list[InboundMessage] = [
    _message(MessageType.TEXT, text="Olá!"),
    _message(MessageType.IMAGE, media=_media("image/jpeg"), caption="foto"),
    _message(MessageType.VIDEO, media=_media("video/mp4"), caption="vídeo"),
    _message(MessageType.AUDIO, media=_media("audio/mpeg")),
    _message(MessageType.VOICE, media=_media("audio/ogg; codecs=opus")),
    _message(MessageType.DOCUMENT, media=_media("application/pdf", "nota.pdf"), caption="nf"),
    _message(
        MessageType.STICKER, media=MediaRef(provider_ref="st1", mime="image/webp", animated=True)
    ),
    _message(
        MessageType.LOCATION,
        location=Location(latitude=-23.5, longitude=-46.6, name="Loja", address="Av. Paulista"),
    ),
    _message(MessageType.CONTACTS, contacts=(ContactCard(name="Bia", phones=("+5511988887777",)),)),
    _message(
        MessageType.REACTION, reaction=Reaction(target_provider_message_id="wamid.x", emoji="👍")
    ),
    _message(MessageType.REACTION, reaction=Reaction(target_provider_message_id="wamid.x")),
    _message(MessageType.EDIT, edit=Edit(target_provider_message_id="wamid.x", text="editado")),
    _message(
        MessageType.TEXT,
        text="vim do anúncio",
        referral=Referral(source_type="ad", source_id="1202", ctwa_clid="ARAk"),
    ),
    _message(MessageType.REVOKE, revoke=Revoke(target_provider_message_id="wamid.x")),
    _message(
        MessageType.INTERACTIVE_REPLY,
        reply=ReplyChoice(kind="list", id="opt-1", title="Opção 1", description="d"),
    ),
    _message(
        MessageType.INTERACTIVE_REPLY, reply=ReplyChoice(kind="button", id="yes", title="Sim")
    ),
    _message(MessageType.BUTTON_REPLY, reply=ReplyChoice(kind="template_button", title="Parar")),
    _message(MessageType.TEXT, text="respondendo", reply_to_provider_message_id="wamid.orig"),
    _message(MessageType.UNSUPPORTED, unsupported_reason="ephemeral message"),
    _message(MessageType.TEMPLATE, text="Seu pedido saiu\nLoja Acme\n[Rastrear]"),
    _message(
        MessageType.ORDER,
        text="Order: 1 item (2 units), 19.98 BRL",
        order=Order(
            catalog_id="cat1",
            items=(
                OrderItem(product_retailer_id="sku1", quantity=2, item_price=9.99, currency="BRL"),
            ),
        ),
    ),
    _message(
        MessageType.SYSTEM,
        text="User Ana changed from 5511999990000 to 5511999991111",
        number_change=NumberChange(new_wa_id="5511999991111"),
    ),
    InboundMessage(
        provider_message_id="wamid.group",
        chat=Chat(kind="group", id="120363025246125486@g.us", name="Equipe"),
        sender=Sender(phone="5511999990000", display_name="Ana"),
        sent_at=NOW,
        type=MessageType.TEXT,
        text="no grupo",
    ),
]


def _routed() -> dict[str, object]:
    return {
        "tenant_id": TENANT,
        "provider": Provider.META,
        "integration_id": INTEGRATION,
        "account_ref": "1029384756",
        "webhook_id": uuid4(),
        "traceparent": TRACE,
    }


def _message_view(**overrides: object) -> MessageView:
    values: dict[str, object] = {
        "id": uuid4(),
        "conversation_id": uuid4(),
        "direction": "inbound",
        "type": MessageType.IMAGE,
        "status": MessageStatus.RECEIVED,
        "caption": "foto",
        "media": MediaView(state="stored", mime="image/jpeg", size=10, sha256="ab"),
        "reactions": (ReactionView(emoji="❤️", direction="outbound"),),
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(overrides)
    return MessageView(**values)  # type: ignore[arg-type]


def all_events() -> list[tuple[str, Event]]:
    """(topic, event) for every model and variant."""
    from contracts import topics

    out: list[tuple[str, Event]] = []
    for message in INBOUND_MESSAGES:
        out.append((topics.INBOUND, MessageReceived(message=message, **_routed())))  # type: ignore[arg-type]
    # the first event of a webhook carries it raw
    raw = RawWebhook(received_at=NOW, body='{"entry": [{"é": "\\u0000"}]}', event_count=2)
    out.append(
        (topics.INBOUND, MessageReceived(message=INBOUND_MESSAGES[0], raw=raw, **_routed()))  # type: ignore[arg-type]
    )
    for status in (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ):
        out.append(
            (
                topics.INBOUND,
                StatusReported(
                    provider_message_ids=("wamid.out",),
                    status=status,
                    reported_at=NOW,
                    recipient="5511999990000",
                    **_routed(),
                ),
            )
        )  # type: ignore[arg-type]
    out.append(
        (
            topics.INBOUND,
            StatusReported(
                provider_message_ids=("wamid.out", "wamid.out2"),
                status=MessageStatus.FAILED,
                reported_at=NOW,
                provider_status_raw="failed",
                error=ProviderError(
                    code="131047",
                    title="Re-engagement message",
                    details="More than 24 hours have passed",
                ),
                **_routed(),
            ),
        )
    )  # type: ignore[arg-type]
    for action, name in (("add", "Ana Souza"), ("remove", None)):
        synced = ContactSynced(
            phone="5511999990000", name=name, action=action, synced_at=NOW, **_routed()
        )  # type: ignore[arg-type]
        out.append((topics.INBOUND, synced))
    out.append(
        (
            topics.INBOUND,
            WebhookRecorded(
                tenant_id=TENANT,
                webhook_id=uuid4(),
                provider=Provider.ZAPI,
                integration_id=INTEGRATION,
                received_at=NOW,
                body='{"é": 1}',
                outcome="failed",
                error="unknown event kind",
                traceparent=TRACE,
            ),
        )
    )
    base = {
        "tenant_id": TENANT,
        "message_id": uuid4(),
        "conversation_id": uuid4(),
        "integration_id": INTEGRATION,
        "provider": Provider.EVOLUTION,
        "to": "5511999990000@s.whatsapp.net",
        "client_message_id": "c-1",
    }
    for content in (
        OutboundText(body="Oi, tudo bem?"),
        OutboundMedia(
            media_type="document",
            media_key="t/x/doc.pdf",
            mime="application/pdf",
            filename="doc.pdf",
            caption="segue",
        ),
        OutboundTemplate(name="hello_world", language="pt_BR", body_params=("Ana",)),
        OutboundReaction(target_provider_message_id="wamid.in", emoji="👍"),
    ):
        out.append((topics.OUTBOUND, SendRequested(content=content, **base)))  # type: ignore[arg-type]
    out.append(
        (
            topics.OUTBOUND,
            SendRequested(
                content=OutboundText(body="re"), reply_to_provider_message_id="wamid.in", **base
            ),
        )
    )  # type: ignore[arg-type]
    out.append(
        (
            topics.OUTBOUND,
            MarkReadRequested(
                tenant_id=TENANT,
                conversation_id=uuid4(),
                integration_id=INTEGRATION,
                provider=Provider.META,
                provider_message_id="wamid.in",
                chat_id="5511999990000",
            ),
        )
    )
    out.append(
        (
            topics.MEDIA,
            MediaFetchRequested(
                tenant_id=TENANT,
                message_id=uuid4(),
                conversation_id=uuid4(),
                integration_id=INTEGRATION,
                provider=Provider.META,
                message_type=MessageType.IMAGE,
                media=_media("image/jpeg"),
            ),
        )
    )
    out.append(
        (topics.REALTIME, MessageCreated(tenant_id=TENANT, cursor=1, message=_message_view()))
    )
    out.append(
        (
            topics.REALTIME,
            MessageUpdated(
                tenant_id=TENANT,
                cursor=2,
                message=_message_view(
                    direction="outbound",
                    type=MessageType.TEXT,
                    status=MessageStatus.FAILED,
                    media=None,
                    text="oi",
                    error_code="131047",
                    error_reason="24-hour window closed: send a template",
                    edited_at=NOW,
                    deleted_at=NOW,
                    referral=Referral(source_type="post", headline="Promo"),
                    unsupported_reason="Message type unknown (131051)",
                    sent_from_phone=True,
                    order=Order(catalog_id="cat1", text="pode embrulhar?"),
                ),
            ),
        )
    )
    out.append(
        (
            topics.REALTIME,
            ConversationUpdated(
                tenant_id=TENANT,
                cursor=3,
                conversation=ConversationView(
                    id=uuid4(),
                    integration_id=INTEGRATION,
                    provider=Provider.ZAPI,
                    contact_id=uuid4(),
                    contact_name="Ana",
                    contact_phone="5511999990000",
                    status="open",
                    last_message_preview="Olá!",
                    last_message_at=NOW,
                    last_inbound_at=NOW,
                    unread_count=2,
                    updated_at=NOW,
                ),
            ),
        )
    )
    out.append(
        (
            topics.DEADLETTER,
            DeadLettered(
                source_topic=topics.INBOUND,
                consumer_group="ingest-worker",
                key="k",
                value="{not json",
                headers={"traceparent": TRACE},
                error="boom",
                attempts=5,
            ),
        )
    )
    return out
