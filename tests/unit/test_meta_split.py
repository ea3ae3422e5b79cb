"""A Meta body naming several numbers, cut down per number: each part parses to exactly that
number's share of the whole (what its tenant's raw webhook log keeps)."""

import orjson

from contracts import Provider
from providers.base import ParsedWebhook
from providers.meta.parse import parse, split_by_account
from simulator import webhooks


def _body(*accounts: str) -> bytes:
    entries = []
    for account in accounts:
        _, raw = webhooks.inbound(
            Provider.META, account, webhooks.Customer("5511900000001"), webhooks.InboundSpec(), "x"
        )
        entries += orjson.loads(raw)["entry"]
    return orjson.dumps({"object": "whatsapp_business_account", "entry": entries})


def test_each_part_parses_to_its_numbers_share() -> None:
    body = _body("pn-a", "pn-b", "pn-a")
    parts = split_by_account(body)
    assert set(parts) == {"pn-a", "pn-b"}
    whole = parse(body)
    assert isinstance(whole, ParsedWebhook)
    for account, part in parts.items():
        share = parse(part)
        assert isinstance(share, ParsedWebhook)
        assert share.account_refs == {account}
        assert share.messages == tuple(m for m in whole.messages if m.account_ref == account)
    assert b"pn-b" not in parts["pn-a"]


def test_a_body_that_is_not_json_has_no_parts() -> None:
    assert split_by_account(b"not json") == {}
