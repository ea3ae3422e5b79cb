"""``omni webhook parse``: what did the system make of this payload? Prints the normalized
events as JSON lines (``message``, ``edit`` and ``revoke`` of an earlier message, ``status``,
``contact`` for a contact the business's phone saved or deleted, ``ignored``, and ``recorded``
for an account whose part makes no event but is still kept), or the typed rejection with exit
status 2. Messages show their ``type`` (``template``, ``order``, ``system``...), ``direction``
(``outbound_echo``: the business's own, e.g. typed on its phone) and ``chat.kind`` (``group``
messages are kept or dropped later, by the integration's ``group_messages`` setting)."""

import argparse
import dataclasses
import sys
from typing import Any

import orjson

from contracts.common import Provider
from contracts.inbound import MessageType

_CHANGES = frozenset({MessageType.EDIT, MessageType.REVOKE})


def _jsonable(value: Any) -> Any:
    if hasattr(value, "model_dump"):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def run(args: argparse.Namespace) -> int:
    from providers.base import Rejection
    from providers.registry import codec

    if args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        with open(args.file, "rb") as handle:
            body = handle.read()
    result = codec(Provider(args.provider)).parse(body)
    out = sys.stdout
    if isinstance(result, Rejection):
        line = {"kind": "rejection", "reason": result.reason, "status": result.status}
        out.write(orjson.dumps(line).decode() + "\n")
        return 2
    for message in result.messages:
        # Edits and deletions change an earlier message: named apart so they stand out.
        kind = message.message.type.value if message.message.type in _CHANGES else "message"
        line = {"kind": kind, "account_ref": message.account_ref, "message": message.message}
        out.write(orjson.dumps(line, default=_jsonable).decode() + "\n")
    for status in result.statuses:
        line = {"kind": "status", **dataclasses.asdict(status)}
        out.write(orjson.dumps(line, default=_jsonable).decode() + "\n")
    for contact in result.contacts:
        line = {"kind": "contact", **dataclasses.asdict(contact)}
        out.write(orjson.dumps(line, default=_jsonable).decode() + "\n")
    for reason in result.ignored:
        out.write(orjson.dumps({"kind": "ignored", "reason": reason}).decode() + "\n")
    for account in sorted(result.quiet_accounts - result.account_refs):
        # Nothing handled for it, yet its integration records the body and answers 200.
        out.write(orjson.dumps({"kind": "recorded", "account_ref": account}).decode() + "\n")
    return 0


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    webhook = sub.add_parser("webhook", help="provider webhooks").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = webhook.add_parser(
        "parse",
        help="print the events a webhook body turns into",
        description="Parse a provider webhook body (no signature check) and print one JSON "
        "line per message, status or deliberately ignored event. A body the parser refuses "
        "prints the rejection and exits 2.",
    )
    p.add_argument("--provider", required=True, choices=[p.value for p in Provider])
    p.add_argument("file", help="file with the raw body, or - for stdin")
    p.set_defaults(func=run)
