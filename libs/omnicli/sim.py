"""``omni sim``: the provider simulator (Meta, Evolution, Z-API) and its customer driver."""

import argparse
import asyncio
import json

from contracts.common import Provider


def _serve(args: argparse.Namespace) -> int:
    from simulator.server import serve

    serve(args.host, args.port)
    return 0


def _drive(args: argparse.Namespace) -> int:
    from simulator.control import SimControl

    async def go() -> dict[str, int]:
        async with SimControl(args.url) as sim:
            return await sim.drive(
                count=args.count,
                rate_per_s=args.rate,
                provider=args.provider,
                account_id=args.account,
                kinds=args.kinds.split(","),
                customers=args.customers,
            )

    print(json.dumps(asyncio.run(go())))
    return 0


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "action", None) == "drive":
        return _drive(args)
    return _serve(args)


def add_parser(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser(
        "sim",
        help="run the provider simulator, or make its customers write",
        description="Without a subcommand: serve the simulator (Meta Graph, Evolution and "
        "Z-API send/media APIs, control API under /_sim/) on --host/--port until Ctrl-C. "
        "`omni sim drive`: post simulated customer messages to every integration registered "
        "on a running simulator.",
    )
    p.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8089, help="port (default 8089)")
    p.set_defaults(func=_run, action=None)
    actions = p.add_subparsers(dest="action", metavar="ACTION")
    d = actions.add_parser(
        "drive",
        help="post customer messages at a rate to registered integrations",
        description="Ask a running simulator to post COUNT customer messages at RATE per "
        "second, spread over its registered integrations (or one of them).",
    )
    d.add_argument("--url", default="http://127.0.0.1:8089", help="simulator base URL")
    d.add_argument("--count", type=int, default=100)
    d.add_argument("--rate", type=float, default=5.0, help="messages per second")
    d.add_argument("--provider", choices=[p.value for p in Provider], default=None)
    d.add_argument("--account", default=None, help="only this account id")
    d.add_argument("--kinds", default="text", help="comma-separated kinds, e.g. text,image,voice")
    d.add_argument("--customers", type=int, default=10, help="distinct customer phones")
    d.set_defaults(func=_run)
