"""Every recorded message and status kind of every provider parses into the expected event."""

from datetime import UTC, datetime

import orjson
import pytest

from contracts.inbound import MessageType
from contracts.status import MessageStatus
from providers.base import ParsedWebhook, Rejection
from providers.registry import codec
from tests.providers.payloads import fixture, names

PROVIDERS = ("meta", "evolution", "zapi")
ACCOUNTS = {
    "meta": "106540352242922",
    "evolution": "acme-support",
    "zapi": "3C4D5E6F7A8B9C0D1E2F3A4B5C6D7E8F",
}
KIND_TYPES = {
    "text": MessageType.TEXT,
    "image": MessageType.IMAGE,
    "video": MessageType.VIDEO,
    "audio": MessageType.AUDIO,
    "voice": MessageType.VOICE,
    "document": MessageType.DOCUMENT,
    "sticker": MessageType.STICKER,
    "location": MessageType.LOCATION,
    "contacts": MessageType.CONTACTS,
    "reaction": MessageType.REACTION,
    "reaction_removed": MessageType.REACTION,
    "button_reply": MessageType.INTERACTIVE_REPLY,
    "list_reply": MessageType.INTERACTIVE_REPLY,
    "template_button": MessageType.BUTTON_REPLY,
    "unsupported": MessageType.UNSUPPORTED,
}


def parsed(provider: str, name: str) -> ParsedWebhook:
    result = codec(provider).parse(fixture(provider, name))
    assert isinstance(result, ParsedWebhook), result
    return result


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("kind", sorted(KIND_TYPES))
def test_every_message_kind_becomes_one_inbound_message(provider: str, kind: str) -> None:
    if provider == "zapi" and kind == "template_button":
        pytest.skip("Z-API delivers template quick replies as listResponseMessage")
    result = parsed(provider, f"message_{kind}")
    assert len(result.messages) == 1 and not result.statuses
    item = result.messages[0]
    assert item.account_ref == ACCOUNTS[provider]
    message = item.message
    assert message.type is KIND_TYPES[kind]
    assert message.direction == "inbound" and not message.from_me
    assert message.sender.phone == "5511987654321"
    assert message.sender.display_name == "Maria Silva"
    assert message.sent_at == datetime(2025, 11, 26, tzinfo=UTC)
    assert message.provider_message_id


@pytest.mark.parametrize("provider", PROVIDERS)
def test_content_fields_are_filled(provider: str) -> None:
    text = parsed(provider, "message_text").messages[0].message
    assert text.text == "Olá! Preciso de ajuda"
    image = parsed(provider, "message_image").messages[0].message
    assert image.media is not None and image.media.mime == "image/jpeg" and image.media.provider_ref
    assert image.caption == "caption"
    document = parsed(provider, "message_document").messages[0].message
    assert document.media is not None and (document.media.filename or "").endswith(".pdf")
    location = parsed(provider, "message_location").messages[0].message
    assert location.location is not None and location.location.latitude == -23.5505
    contacts = parsed(provider, "message_contacts").messages[0].message
    assert contacts.contacts[0].name == "Ana Souza" and contacts.contacts[0].phones
    reaction = parsed(provider, "message_reaction").messages[0].message
    assert reaction.reaction is not None and reaction.reaction.emoji == "👍"
    removed = parsed(provider, "message_reaction_removed").messages[0].message
    assert removed.reaction is not None and removed.reaction.emoji is None
    assert (
        removed.reaction.target_provider_message_id == reaction.reaction.target_provider_message_id
    )
    listed = parsed(provider, "message_list_reply").messages[0].message
    assert listed.reply is not None and listed.reply.kind == "list" and listed.reply.id == "row-1"
    button = parsed(provider, "message_button_reply").messages[0].message
    assert button.reply is not None and button.reply.kind == "button" and button.reply.id == "yes"
    unsupported = parsed(provider, "message_unsupported").messages[0].message
    assert unsupported.unsupported_reason


def test_meta_legacy_template_button_keeps_payload() -> None:
    message = parsed("meta", "message_template_button").messages[0].message
    assert message.reply is not None
    assert (message.reply.kind, message.reply.id, message.reply.title) == (
        "template_button",
        "STOP",
        "Stop promotions",
    )


@pytest.mark.parametrize(
    ("provider", "quoted"),
    [
        ("meta", "wamid.HBgLMTY1MDM4NzkwNTgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA"),
        ("evolution", "5511987654321@s.whatsapp.net/BAE5F5A632EAE722"),
        ("zapi", "3EB0A1B2C3D4E5F60718"),
    ],
)
def test_quoted_reply_points_at_the_quoted_message(provider: str, quoted: str) -> None:
    message = parsed(provider, "message_reply_context").messages[0].message
    assert message.reply_to_provider_message_id == quoted


STATUS_CASES = [
    (p, s)
    for p in PROVIDERS
    for s in ("sent", "delivered", "read", "played", "failed")
    if not (p == "zapi" and s == "failed")
]


@pytest.mark.parametrize(("provider", "status"), STATUS_CASES)
def test_every_status_kind_is_reported(provider: str, status: str) -> None:
    result = parsed(provider, f"status_{status}")
    assert len(result.statuses) == 1 and not result.messages
    item = result.statuses[0]
    assert item.status is MessageStatus(status)
    assert item.account_ref == ACCOUNTS[provider]
    assert len(item.provider_message_ids) == 1


def test_meta_failed_status_carries_code_and_title() -> None:
    item = parsed("meta", "status_failed").statuses[0]
    assert item.error is not None
    assert (item.error.code, item.error.title) == ("131047", "Re-engagement message")


def test_meta_batch_yields_every_entry_and_ignores_other_fields() -> None:
    result = parsed("meta", "batch_two_entries")
    assert [m.account_ref for m in result.messages] == ["106540352242922", "106540352242923"]
    assert any("account_update" in reason for reason in result.ignored)


def test_meta_group_message_is_a_group_chat() -> None:
    message = parsed("meta", "message_group").messages[0].message
    assert message.chat.kind == "group" and message.chat.id == "120363025246125486"


def test_meta_value_errors_are_ignored_with_the_code() -> None:
    result = parsed("meta", "webhook_errors")
    assert not result.messages and "131000" in result.ignored[0]


@pytest.mark.parametrize(
    ("provider", "group"),
    [
        ("meta", "120363025246125486"),
        ("evolution", "120363025246125486@g.us"),
        ("zapi", "120363019502650977-group"),
    ],
)
def test_group_messages_are_group_chats_written_by_their_participant(
    provider: str, group: str
) -> None:
    # Kept or dropped by the integration's group_messages setting (ingest-api), not here.
    message = parsed(provider, "message_group").messages[0].message
    assert (message.chat.kind, message.chat.id) == ("group", group)
    assert message.sender.phone == "5511987654321"
    assert message.sender.display_name == "Maria Silva"


@pytest.mark.parametrize("provider", ["evolution", "zapi"])
def test_from_me_messages_are_outbound_echoes(provider: str) -> None:
    message = parsed(provider, "message_from_me").messages[0].message
    assert message.from_me and message.direction == "outbound_echo"
    assert message.sender.display_name is None


def test_evolution_ids_are_unique_per_chat_so_the_chat_is_part_of_the_id() -> None:
    message = parsed("evolution", "message_text").messages[0].message
    assert message.provider_message_id.startswith("5511987654321@s.whatsapp.net/")


def test_evolution_lid_sender_keeps_lid_and_phone() -> None:
    message = parsed("evolution", "message_lid").messages[0].message
    assert message.sender.lid == "123456789012345"
    assert message.sender.phone == "5511987654321"


def test_evolution_status_of_inbound_and_deleted_are_ignored() -> None:
    assert not parsed("evolution", "status_inbound_read").statuses
    assert "DELETED" in parsed("evolution", "status_deleted").ignored[0]


def test_evolution_error_status_is_failed_with_an_error() -> None:
    item = parsed("evolution", "status_failed").statuses[0]
    assert item.status is MessageStatus.FAILED and item.error is not None


def test_zapi_read_by_me_is_not_an_outbound_status() -> None:
    result = parsed("zapi", "status_read_by_me")
    assert not result.statuses and "READ_BY_ME" in result.ignored[0]


def test_zapi_one_callback_covers_several_ids() -> None:
    item = parsed("zapi", "status_read_many").statuses[0]
    assert item.provider_message_ids == ("3EB0A1B2C3D4E5F60718", "3EB0A1B2C3D4E5F60719")


def test_zapi_momment_is_milliseconds() -> None:
    item = parsed("zapi", "status_read").statuses[0]
    assert item.reported_at == datetime(2025, 11, 26, tzinfo=UTC)


def test_zapi_delivery_callback_is_sent_or_failed() -> None:
    assert parsed("zapi", "delivery_sent").statuses[0].status is MessageStatus.SENT
    failed = parsed("zapi", "delivery_failed").statuses[0]
    assert failed.status is MessageStatus.FAILED and failed.error is not None


def test_zapi_waiting_placeholder_is_ignored() -> None:
    result = parsed("zapi", "message_waiting")
    assert not result.messages and "placeholder" in result.ignored[0]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_every_fixture_parses_without_rejection(provider: str) -> None:
    for name in names(provider):
        assert not isinstance(codec(provider).parse(fixture(provider, name)), Rejection), name


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("body", [b"", b"not json", b"[]", b"{}", b'{"object": 1}', b"\xff\xfe"])
def test_garbage_is_a_typed_rejection(provider: str, body: bytes) -> None:
    result = codec(provider).parse(body)
    assert isinstance(result, Rejection) and result.status == 400


def test_non_finite_coordinates_and_times_are_treated_as_absent() -> None:
    import json

    body = json.loads(fixture("meta", "message_location"))
    message = body["entry"][0]["changes"][0]["value"]["messages"][0]
    message["location"]["latitude"] = "inf"
    result = codec("meta").parse(json.dumps(body).encode())
    assert isinstance(result, ParsedWebhook)
    assert result.messages[0].message.type is MessageType.UNSUPPORTED
    message["timestamp"] = "1e400"
    result = codec("meta").parse(json.dumps(body).encode())
    assert isinstance(result, ParsedWebhook) and not result.messages and result.ignored


def test_meta_unhandled_fields_still_name_their_number() -> None:
    # A field not handled makes no event, but the body is that number's (recorded, 200).
    history = fixture("meta", "smb_message_echoes").replace(b"smb_message_echoes", b"history")
    result = codec("meta").parse(history)
    assert isinstance(result, ParsedWebhook)
    assert not result.messages and not result.statuses
    assert "history" in result.ignored[0]
    assert result.quiet_accounts == {ACCOUNTS["meta"]} == result.named_accounts


def test_meta_business_app_echo_is_an_outbound_message_to_the_customer() -> None:
    message = parsed("meta", "smb_message_echoes").messages[0].message
    assert message.direction == "outbound_echo" and message.from_me
    assert message.chat.id == "5511987654321" and message.sender.phone is None
    assert (message.type, message.text) == (MessageType.TEXT, "Sent from the Business app")
    assert message.provider_message_id == "wamid.HBgNNTUxMTk4NzY1NDMyMRUCABEYEjAxRUNIT0ZST01BUFAA"


def test_meta_business_app_contacts_are_synced_contacts() -> None:
    result = parsed("meta", "smb_app_state_sync")
    assert not result.messages and not result.ignored
    added, removed = result.contacts
    assert (added.phone, added.name, added.action) == ("5511987654321", "Maria Silva (loja)", "add")
    assert (removed.phone, removed.name, removed.action) == ("5511955554444", None, "remove")
    assert added.account_ref == ACCOUNTS["meta"] and result.account_refs == {ACCOUNTS["meta"]}


def test_meta_order_keeps_the_cart_and_sums_it_up() -> None:
    message = parsed("meta", "message_order").messages[0].message
    assert message.type is MessageType.ORDER and message.order is not None
    assert message.order.catalog_id == "194836987003835"
    assert [(i.product_retailer_id, i.quantity) for i in message.order.items] == [
        ("di9ozbzfi4", 2),
        ("nqryix03ez", 1),
    ]
    assert message.text == "Order: 2 items (3 units), 75.30 BRL\nPode embrulhar para presente?"


def test_zapi_order_keeps_the_items_without_prices() -> None:
    message = parsed("zapi", "message_order").messages[0].message
    assert message.type is MessageType.ORDER and message.order is not None
    assert [(i.product_retailer_id, i.quantity) for i in message.order.items] == [
        ("1242", 2),
        ("1243", 1),
    ]
    assert all(i.item_price is None for i in message.order.items)
    assert message.text == "Order: 2 items (3 units)\nPode embrulhar para presente?"


def test_meta_system_message_names_the_new_number() -> None:
    message = parsed("meta", "message_system").messages[0].message
    assert message.type is MessageType.SYSTEM and message.chat.id == "5511987654321"
    assert message.text == "User Maria Silva changed from 5511987654321 to 5511912345678"
    assert message.number_change is not None
    assert message.number_change.new_wa_id == "5511912345678"


@pytest.mark.parametrize("provider", ["evolution", "zapi"])
def test_a_received_template_is_rendered_as_text(provider: str) -> None:
    message = parsed(provider, "message_template").messages[0].message
    assert message.type is MessageType.TEMPLATE
    assert message.text == (
        "Pedido enviado\nSeu pedido #1234 saiu para entrega.\nLoja Acme\n"
        "[Rastrear] [Falar com atendente]"
    )


# Each provider's edit of the message of its ``message_text`` fixture (Z-API's is its own id).
EDIT_CASES = [
    (
        "meta",
        "message_edit",
        "wamid.HBgNHBgLMTY1MDM4NzkwNTgVAgASGBQzQTg5QjY1==",
        "Olá! Preciso de ajuda, por favor",
    ),
    (
        "evolution",
        "message_edit",
        "5511987654321@s.whatsapp.net/3EB0ABABABABABABABAB",
        "Olá! Preciso de ajuda, por favor",
    ),
    (
        "evolution",
        "event_edited",
        "5511987654321@s.whatsapp.net/3EB0CDCDCDCDCDCDCDCD",
        "new caption",
    ),
    ("zapi", "message_edit", "3EB0ABABABABABABABABABAB", "Olá! Preciso de ajuda, por favor"),
]


@pytest.mark.parametrize(("provider", "name", "target", "text"), EDIT_CASES)
def test_an_edit_names_its_message_and_new_text(
    provider: str, name: str, target: str, text: str
) -> None:
    result = parsed(provider, name)
    assert len(result.messages) == 1 and not result.ignored
    message = result.messages[0].message
    assert message.type is MessageType.EDIT and message.edit is not None
    assert (message.edit.target_provider_message_id, message.edit.text) == (target, text)
    assert not message.from_me and message.chat.id
    assert message.sent_at == datetime(2025, 11, 26, 0, 5, tzinfo=UTC)


REVOKE_CASES = [
    ("meta", "message_revoke", "wamid.HBgNHBgLMTY1MDM4NzkwNTgVAgASGBQzQTg5QjY1=="),
    ("evolution", "message_revoke", "5511987654321@s.whatsapp.net/3EB0ABABABABABABABAB"),
    ("evolution", "event_deleted", "5511987654321@s.whatsapp.net/3EB0ABABABABABABABAB"),
    ("zapi", "message_revoke", "3EB0ABABABABABABABABABAB"),
]


@pytest.mark.parametrize(("provider", "name", "target"), REVOKE_CASES)
def test_a_delete_for_everyone_names_its_message(provider: str, name: str, target: str) -> None:
    result = parsed(provider, name)
    assert len(result.messages) == 1 and not result.ignored
    message = result.messages[0].message
    assert message.type is MessageType.REVOKE and message.revoke is not None
    assert message.revoke.target_provider_message_id == target
    assert not message.from_me


def test_evolution_protocol_messages_of_other_kinds_are_ignored_not_stored() -> None:
    body = orjson.loads(fixture("evolution", "message_revoke"))
    body["data"]["message"]["protocolMessage"]["type"] = "EPHEMERAL_SETTING"
    result = codec("evolution").parse(orjson.dumps(body))
    assert isinstance(result, ParsedWebhook) and not result.messages
    assert "EPHEMERAL_SETTING" in result.ignored[0]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_message_from_an_ad_keeps_the_ad(provider: str) -> None:
    message = parsed(provider, "message_referral").messages[0].message
    assert message.type is MessageType.TEXT and message.text == "Quero saber mais sobre a promoção"
    assert message.referral is not None
    assert (message.referral.source_type, message.referral.source_id) == (
        "ad",
        "120212345678900000",
    )
    assert message.referral.source_url == "https://fb.me/3cr4Wqqkv"
    assert message.referral.headline == "Promoção de verão"
    assert (message.referral.ctwa_clid is not None) is (provider != "zapi")


@pytest.mark.parametrize("provider", PROVIDERS)
def test_ordinary_messages_and_link_previews_have_no_ad(provider: str) -> None:
    assert parsed(provider, "message_text").messages[0].message.referral is None
    body = orjson.loads(fixture("evolution", "message_referral"))
    ad = body["data"]["message"]["extendedTextMessage"]["contextInfo"]["externalAdReply"]
    for key in ("sourceId", "sourceUrl", "ctwaClid"):
        del ad[key]  # what a link preview carries
    result = codec("evolution").parse(orjson.dumps(body))
    assert isinstance(result, ParsedWebhook) and result.messages[0].message.referral is None


def test_meta_message_errors_give_agents_metas_words() -> None:
    message = parsed("meta", "message_unsupported").messages[0].message
    assert message.unsupported_reason == (
        "Message type unknown (131051): Message type is currently not supported."
    )
