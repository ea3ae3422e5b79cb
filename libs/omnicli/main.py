"""``omni``: one command for developers and operators. ``omni --help`` lists the subcommands."""

import argparse
import asyncio
import json
import sys
from pathlib import Path
from uuid import UUID


def _cmd_dev(args: argparse.Namespace) -> int:
    from omnicli.dev import run

    return run(infra_only=args.infra_only)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from config import load
    from db.migrate import downgrade, enable_app_login, upgrade
    from omnicli.settings import MigrateSettings

    settings = load(MigrateSettings)
    url = settings.database_url.get_secret_value()
    if args.downgrade:
        downgrade(url, args.downgrade)
        print(f"downgraded to {args.downgrade}")
        return 0
    upgrade(url, args.revision)
    if settings.app_db_password is not None:
        asyncio.run(enable_app_login(url, settings.app_db_password.get_secret_value()))
    print(f"database at {args.revision}")
    return 0


def _cmd_token(args: argparse.Namespace) -> int:
    from auth.tokens import mint
    from config import AuthSettings, load

    token = mint(
        load(AuthSettings),
        tenant_id=args.tenant,
        user_id=args.user,
        role=args.role,
        ttl_s=args.ttl,
    )
    print(token)
    return 0


def _cmd_contracts_export(args: argparse.Namespace) -> int:
    from contracts import schemas

    if args.check:
        stale = [
            name
            for name, text in schemas.render().items()
            if not (args.dir / name).exists() or (args.dir / name).read_text() != text
        ]
        if stale:
            print(
                "schemas out of date: " + ", ".join(stale) + " (run `omni contracts export`)",
                file=sys.stderr,
            )
            return 1
        print("schemas up to date")
        return 0
    for path in schemas.export(args.dir):
        print(path)
    return 0


def _cmd_contracts_asyncapi(args: argparse.Namespace) -> int:
    from bus import asyncapi

    if args.check:
        if not args.out.exists() or args.out.read_text() != asyncapi.render():
            print(f"{args.out} out of date (run `omni contracts asyncapi`)", file=sys.stderr)
            return 1
        print("asyncapi document up to date")
        return 0
    print(asyncapi.export(args.out))
    return 0


def _cmd_topics_create(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from bus.admin import TopicSettings, ensure_topics
    from config import KafkaSettings, load

    given = {
        name: value
        for name in ("replication_factor", "min_insync_replicas", "deadletter_retention_days")
        if (value := getattr(args, name)) is not None
    }
    try:
        durability = TopicSettings(**given)  # flags win over the environment
    except ValidationError as exc:
        print(f"omni topics create: {exc.errors()[0]['msg']}", file=sys.stderr)
        return 2
    created = asyncio.run(ensure_topics(load(KafkaSettings), durability))
    print("created: " + (", ".join(created) or "nothing (all exist)"))
    return 0


def _cmd_dlq_replay(args: argparse.Namespace) -> int:
    from bus.deadletter import one_replay_at_a_time, replay
    from bus.rounds import RoundPublisher
    from config import DatabaseSettings, KafkaSettings, load

    settings = load(KafkaSettings)
    database = load(DatabaseSettings).app_database_url.get_secret_value()

    async def go() -> None:
        async with one_replay_at_a_time(database), RoundPublisher(settings) as publisher:
            result = await replay(settings, publisher, idle_s=args.idle, limit=args.limit)
        print(json.dumps({"replayed": result.replayed, "by_topic": result.by_topic}))

    asyncio.run(go())
    return 0


def _cmd_media_refetch(args: argparse.Namespace) -> int:
    from config import DatabaseSettings, load
    from db.pool import create_pool
    from db.tenant import tenant_tx
    from media.retries import refetch

    async def go() -> list[UUID]:
        pool = await create_pool(load(DatabaseSettings))
        try:
            async with tenant_tx(pool, args.tenant) as conn:
                return await refetch(conn, message_id=args.message)
        finally:
            await pool.close()

    ids = asyncio.run(go())
    print(json.dumps({"refetching": [str(i) for i in ids]}))
    return 0


def _cmd_credentials_new_key(args: argparse.Namespace) -> int:
    from credentials import new_key

    print(new_key())
    return 0


def _cmd_credentials_rotate(args: argparse.Namespace) -> int:
    from omnicli.credentials import rotate_all

    count = asyncio.run(rotate_all())
    print(f"re-encrypted {count} integration credentials under the newest key")
    return 0


def _cmd_run(args: argparse.Namespace) -> int:
    import uvloop

    from omnicli.entrypoints import resolve

    # Every service on uvloop (uvicorn picks it by itself; the workers' asyncio.run would not):
    # the workers spend much of their time in socket writes to Postgres and the broker.
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    resolve(args.name)()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="omni",
        description="Omnichannel Realtime: WhatsApp messaging backend. "
        "Settings come from the environment (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser(
        "dev",
        help="run the whole system locally until Ctrl-C",
        description="Start Postgres, Kafka (Tansu) and S3 (moto) embedded unless "
        "DATABASE_URL / KAFKA_BOOTSTRAP / S3_ENDPOINT are set; migrate, create "
        "topics, seed a demo tenant, run every service, write .omni/dev.env.",
    )
    p.add_argument("--infra-only", action="store_true", help="start the infrastructure only")
    p.set_defaults(func=_cmd_dev)

    p = sub.add_parser(
        "migrate",
        help="apply database migrations (as the owner: DATABASE_URL)",
        description="Upgrade the schema with Alembic using DATABASE_URL (owner). "
        "If APP_DB_PASSWORD is set, the omni_app role gets LOGIN with it.",
    )
    p.add_argument("revision", nargs="?", default="head", help="target revision (default head)")
    p.add_argument("--downgrade", metavar="REV", help="downgrade to REV instead")
    p.set_defaults(func=_cmd_migrate)

    p = sub.add_parser(
        "token",
        help="mint a development JWT for an agent",
        description="Sign an HS256 token with JWT_SECRET (issuer JWT_ISSUER, "
        "audience JWT_AUDIENCE). The user must also be a member of the tenant.",
    )
    p.add_argument("--tenant", type=UUID, required=True, help="tenant id")
    p.add_argument("--user", required=True, help="user id (the token's sub)")
    p.add_argument("--role", choices=["agent", "admin"], default="agent")
    p.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    p.set_defaults(func=_cmd_token)

    contracts = sub.add_parser("contracts", help="event contracts").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = contracts.add_parser(
        "export",
        help="write the JSON Schemas of every topic",
        description="Write one JSON Schema per topic into the repository; "
        "--check only compares and exits 1 when they differ.",
    )
    from contracts.schemas import SCHEMA_DIR

    p.add_argument("--dir", type=Path, default=SCHEMA_DIR, help=f"default {SCHEMA_DIR}")
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    p.set_defaults(func=_cmd_contracts_export)
    p = contracts.add_parser(
        "asyncapi",
        help="write the AsyncAPI 3 document of the events",
        description="Write docs/asyncapi.json (every topic, its producers, consumers and "
        "payload schema); --check only compares and exits 1 when it differs.",
    )
    from bus.asyncapi import DOC_PATH

    p.add_argument("--out", type=Path, default=DOC_PATH, help=f"default {DOC_PATH}")
    p.add_argument("--check", action="store_true", help="compare instead of writing")
    p.set_defaults(func=_cmd_contracts_asyncapi)

    topics = sub.add_parser("topics", help="Kafka topics").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = topics.add_parser(
        "create",
        help="create missing topics (KAFKA_BOOTSTRAP)",
        description="Create the topics that do not exist yet, with their durability settings: "
        "flags, else KAFKA_REPLICATION_FACTOR, KAFKA_MIN_INSYNC_REPLICAS and "
        "KAFKA_DEADLETTER_RETENTION_DAYS (defaults 1, 1, 30). Existing topics are left alone.",
    )
    p.add_argument("--replication-factor", type=int, default=None, help="default 1")
    p.add_argument("--min-insync-replicas", type=int, default=None, help="default 1")
    p.add_argument(
        "--deadletter-retention-days", type=int, default=None, help="default 30 (replay window)"
    )
    p.set_defaults(func=_cmd_topics_create)

    dlq = sub.add_parser("dlq", help="dead-letter topic").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = dlq.add_parser(
        "replay",
        help="send dead letters back to their source topics",
        description="Re-publish every dead letter not replayed before to the "
        "topic it came from, then stop when the topic is idle. Replays run one at a time "
        "(a Postgres advisory lock, APP_DATABASE_URL), so running it twice at once sends "
        "each letter once.",
    )
    p.add_argument("--idle", type=float, default=2.0, help="stop after this many idle seconds")
    p.add_argument("--limit", type=int, default=None, help="replay at most this many")
    p.set_defaults(func=_cmd_dlq_replay)

    media = sub.add_parser("media", help="attachments").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = media.add_parser(
        "refetch",
        help="fetch failed attachments again",
        description="Make a tenant's failed attachments (or one message's) pending and due "
        "now: a running media-worker fetches them again within MEDIA_RETRY_SCAN_S. Prints "
        "the message ids (APP_DATABASE_URL).",
    )
    p.add_argument("--tenant", type=UUID, required=True)
    p.add_argument("--message", type=UUID, default=None, help="only this message")
    p.set_defaults(func=_cmd_media_refetch)

    creds = sub.add_parser("credentials", help="provider credential encryption").add_subparsers(
        dest="sub", required=True, metavar="SUBCOMMAND"
    )
    p = creds.add_parser("new-key", help="print a new encryption key for CREDENTIAL_KEYS")
    p.set_defaults(func=_cmd_credentials_new_key)
    p = creds.add_parser(
        "rotate",
        help="re-encrypt stored credentials under the first key",
        description="With the new key first in CREDENTIAL_KEYS and the old "
        "ones after it, re-encrypt every integration's credentials (owner: "
        "DATABASE_URL); then the old keys can be removed.",
    )
    p.set_defaults(func=_cmd_credentials_rotate)

    from omnicli import sim, trace, webhook

    sim.add_parser(sub)
    webhook.add_parser(sub)
    trace.add_parser(sub)

    p = sub.add_parser("run", help="run one service entry point (as deployments do)")
    p.add_argument("name", help="entry point name, e.g. ingest-api")
    p.set_defaults(func=_cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result
