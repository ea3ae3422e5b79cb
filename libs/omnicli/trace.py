"""``omni trace MESSAGE_ID``: the spans of one message's trip, trace by trace, in order.

Reads the JSON Lines file the development receiver writes (``devstack.traces``; ``omni dev``
prints where). A message's trip is every trace with a span about it: spans name the message
by our id (``omni.message_id``) or the provider's (``omni.provider_message_id``). An inbound
message is one trace (webhook → websocket frame); an agent's send is one (request → provider
call → websocket frames), and each status webhook the provider sends back is a trace of its
own, printed after it, whose span in ingest-worker links to the send's trace. Everything but
reading the file is pure.
"""

import argparse
import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

Span = dict[str, Any]


def read_spans(lines: Iterable[str]) -> list[Span]:
    """Spans from JSON lines; a torn last line (the receiver still writing) is skipped."""
    spans = []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        try:
            spans.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return spans


def _about(span: Span, message_id: str) -> bool:
    attributes = span.get("attributes") or {}
    return message_id in (
        attributes.get("omni.message_id"),
        attributes.get("omni.provider_message_id"),
    )


def trips(spans: Sequence[Span], message_id: str) -> list[list[Span]]:
    """The traces with a span about ``message_id``, each as its spans by start time (a
    parent before its child on a tie), the traces by their first span's start."""
    wanted = {s["trace_id"] for s in spans if _about(s, message_id)}
    by_trace: dict[str, list[Span]] = {}
    for span in spans:
        if span["trace_id"] in wanted:
            by_trace.setdefault(span["trace_id"], []).append(span)
    ordered = []
    for trace in by_trace.values():
        depth = _depths(trace)
        ordered.append(sorted(trace, key=lambda s: (s["start_ns"], depth[s["span_id"]])))
    return sorted(ordered, key=lambda t: t[0]["start_ns"])


def _depths(trace: Sequence[Span]) -> dict[str, int]:
    parents = {s["span_id"]: s.get("parent_span_id") or "" for s in trace}
    depths: dict[str, int] = {}
    for span_id in parents:
        depth, at, seen = 0, parents[span_id], {span_id}
        while at in parents and at not in seen:  # a parent outside the file ends the chain
            seen.add(at)
            depth += 1
            at = parents[at]
        depths[span_id] = depth
    return depths


def render(trace: Sequence[Span]) -> list[str]:
    """One trace: a header, then a line per span (start after the trace's first span, duration,
    service, name indented under its parent, ERROR when it failed, the traces it links to)."""
    first = trace[0]["start_ns"]
    last = max(s["end_ns"] for s in trace)
    depth = _depths(trace)
    lines = [f"trace {trace[0]['trace_id']}  {len(trace)} spans, {(last - first) / 1e6:.1f} ms"]
    for span in trace:
        offset = (span["start_ns"] - first) / 1e6
        duration = (span["end_ns"] - span["start_ns"]) / 1e6
        name = "  " * depth[span["span_id"]] + span["name"]
        failed = "  ERROR" if span.get("status") == "ERROR" else ""
        for linked in span.get("links") or ():  # e.g. a status webhook's span to its send
            failed += f"  (linked to trace {linked['trace_id']})"
        start = f"+{offset:.1f}"
        lines.append(f"  {start:>10} ms {duration:9.1f} ms  {span['service']:<14} {name}{failed}")
    return lines


def default_file() -> Path:
    given = os.environ.get("OMNI_TRACES_FILE")
    if given:
        return Path(given)
    return Path(os.environ.get("OMNI_STATE_DIR", ".omni")) / "traces.jsonl"


def run(args: argparse.Namespace) -> int:
    path: Path = args.file
    if not path.exists():
        print(
            f"{path} does not exist: traces are written there by `omni dev` "
            "(or set OMNI_TRACES_FILE / --file)",
            file=sys.stderr,
        )
        return 1
    with path.open(encoding="utf-8") as lines:
        found = trips(read_spans(lines), args.message_id)
    if not found:
        print(f"no span mentions {args.message_id} in {path}", file=sys.stderr)
        return 1
    for index, trace in enumerate(found):
        if index:
            print()
        print("\n".join(render(trace)))
    return 0


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "trace",
        help="print the spans of one message's trip (development traces)",
        description="Print every trace that mentions MESSAGE_ID (our message id, or the "
        "provider's), each span with its start, duration, service and name, in order. Reads "
        "the spans `omni dev` collects (OMNI_TRACES_FILE, default .omni/traces.jsonl).",
    )
    p.add_argument("message_id", metavar="MESSAGE_ID")
    p.add_argument("--file", type=Path, default=default_file(), help="spans as JSON lines")
    p.set_defaults(func=run)
