"""Results of one benchmark run: JSON, a Markdown table of figures and ratios, a PNG plot."""

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def _outbound_rows(s: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows = []
    if "outbound_ceiling" in s:
        c = s["outbound_ceiling"]
        rows.append(
            (
                f"Outbound ceiling: the simulator answering bare sends ({c.get('connections')} "
                "connections, no status webhooks)",
                f"{c.get('sends_per_s')} sends/s",
                f"p50 {c.get('p50_ms')} ms, p99 {c.get('p99_ms')} ms",
            )
        )
    if "outbound" in s:
        o = s["outbound"]
        failed = ", ".join(f"{n} {kind}" for kind, n in (o.get("errors") or {}).items())
        failed = f" (POSTs failed: {failed})" if failed else ""
        rows.append(
            (
                f"Outbound: API accept → simulator received ({o.get('agents', 16)} agents, "
                "status webhooks flowing back)",
                f"{o.get('sends_per_s')} sends/s{failed}",
                f"{o.get('ratio_to_outbound_ceiling')} of the outbound ceiling; "
                f"p50 {o.get('p50_ms')} ms, p99 {o.get('p99_ms')} ms",
            )
        )
    if "outbound_paced" in s:
        p = s["outbound_paced"]
        post, to, due = p["post"], p["accept_to_provider"], p.get("due_to_provider", {})
        errors = sum((p.get("errors") or {}).values())
        rows.append(
            (
                f"Outbound paced at {p.get('offered_per_s')} sends/s: POST → 202, "
                "then 202 → simulator",
                f"{p.get('received')}/{p.get('accepted')} received, {errors} errors",
                f"POST p50 {post.get('p50_ms')} ms, p99 {post.get('p99_ms')} ms; "
                f"202 → simulator p50 {to.get('p50_ms')} ms, p99 {to.get('p99_ms')} ms; "
                f"due → simulator p50 {due.get('p50_ms')} ms, p99 {due.get('p99_ms')} ms",
            )
        )
    return rows


def ratio(value: Any, ceiling: Any) -> float | None:
    try:
        return round(float(value) / float(ceiling), 3) if ceiling else None
    except (TypeError, ValueError):
        return None


def markdown(results: dict[str, Any]) -> str:
    c = results.get("ceilings", {})
    s = results.get("system", {})
    rows = [
        (
            "HTTP ceiling (bare FastAPI + uvicorn)",
            f"{c.get('http', {}).get('requests_per_s')} req/s",
            "",
        ),
        (
            "Broker ceiling: produce (600 B, acks=all, batched)",
            f"{c.get('broker', {}).get('produce_per_s')} msg/s",
            "",
        ),
        ("Broker ceiling: consume", f"{c.get('broker', {}).get('consume_per_s')} msg/s", ""),
        (
            "Fan-out ceiling (bare server, no compression, uvloop: each frame encoded once, "
            f"20 frames in one write per client, {c.get('fanout', {}).get('clients')} clients)",
            f"{c.get('fanout', {}).get('deliveries_per_s')} deliveries/s",
            "",
        ),
        (
            "Fan-out, bare websockets broadcast (a write per frame per client, no compression)",
            f"{c.get('fanout_broadcast', {}).get('deliveries_per_s')} deliveries/s",
            "",
        ),
        (
            "Fan-out, websockets broadcast with permessage-deflate (what compression costs)",
            f"{c.get('fanout_deflate', {}).get('deliveries_per_s')} deliveries/s",
            "",
        ),
    ]
    cost = c.get("publish_cost", {})
    if cost:
        rows.append(
            (
                "CPU per record published (µs, this process): aiokafka send / FastStream "
                "publish / Publisher (FastStream), 64 callers / RoundPublisher, 64 callers",
                f"{cost.get('aiokafka_send_us')} / {cost.get('faststream_publish_us')} / "
                f"{cost.get('publisher_64_callers_us')} / "
                f"{cost.get('round_publisher_64_callers_us')}",
                "",
            )
        )
    for name, found in c.get("s3_clients", {}).items():
        if isinstance(found, dict):
            rows.append(
                (
                    f"S3 client {name} (256 KiB objects, 16 at a time)",
                    f"{found.get('objects_per_s')} objects/s",
                    f"event loop late by p99 {found.get('loop_lag_p99_ms')} ms, "
                    f"max {found.get('loop_lag_max_ms')} ms",
                )
            )
    if "ingest_http" in s:
        alone = s["ingest_http"]
        low = alone.get("low_concurrency", {})
        rows.append(
            (
                "ingest-api alone (signed Meta webhooks, closed loop, "
                f"{alone.get('connections')} connections, own infrastructure; "
                "median of rounds paired with the bare ceiling)",
                f"{alone.get('requests_per_s')} req/s",
                f"{alone.get('ratio_to_http_ceiling')} of the paired HTTP ceiling "
                f"({alone.get('paired_ceiling_requests_per_s')} req/s)",
            )
        )
        streamed = alone.get("faststream_publisher", {})
        if streamed:
            rows.append(
                (
                    "ingest-api alone, FastStream's publisher instead of the round publisher "
                    "(same rounds' ceilings)",
                    f"{streamed.get('requests_per_s')} req/s",
                    f"{streamed.get('ratio_to_http_ceiling')} of the HTTP ceiling (median)",
                )
            )
        if low:
            rows.append(
                (
                    f"ingest-api alone at {low.get('connections')} connections (one pair)",
                    f"{low.get('requests_per_s')} req/s",
                    f"{low.get('ratio_to_http_ceiling')} of the HTTP ceiling "
                    f"({low.get('ceiling_requests_per_s')} req/s)",
                )
            )
    if "inbound" in s:
        best = s["inbound"].get("sustained_rate")
        rows.append(
            (
                "Inbound end to end: highest rate sustained (p99 < 500 ms, no errors)",
                f"{best} webhooks/s",
                "",
            )
        )
    rows += _outbound_rows(s)
    if "fanout" in s:
        rows.append(
            (
                f"Gateway fan-out to {s['fanout'].get('clients')} clients",
                f"{s['fanout'].get('deliveries_per_s')} deliveries/s",
                f"{s['fanout'].get('ratio_to_fanout_ceiling')} of fan-out ceiling; "
                f"p99 {s['fanout'].get('p99_ms')} ms",
            )
        )
    lines = [
        f"Run {results['started_at']} on {results['machine']}",
        "",
        "| measure | figure | ratio / latency |",
        "|---|---|---|",
    ]
    lines += [f"| {a} | {b} | {r} |" for a, b, r in rows]
    if "inbound" in s:
        lines += [
            "",
            "Inbound steps (offered rate → accepted, latency webhook → websocket frame):",
            "",
            "| offered/s | accepted/s | errors | p50 ms | p95 ms | p99 ms |",
            "|---|---|---|---|---|---|",
        ]
        for step in s["inbound"]["steps"]:
            lines.append(
                f"| {step['offered']} | {step['accepted_per_s']} | {step['errors']} | "
                f"{step['p50_ms']} | {step['p95_ms']} | {step['p99_ms']} |"
            )
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], path: Path) -> bool:
    steps = results.get("system", {}).get("inbound", {}).get("steps", [])
    if not steps:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rates = [s["offered"] for s in steps]
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, label in (("p50_ms", "p50"), ("p95_ms", "p95"), ("p99_ms", "p99")):
        ax.plot(rates, [s[key] for s in steps], marker="o", label=label)
    ax.axhline(500, color="grey", linestyle="--", linewidth=1, label="500 ms")
    ax.set_xlabel("offered webhooks/s")
    ax.set_ylabel("webhook → websocket frame (ms)")
    ax.set_yscale("log")
    ax.set_title("Inbound latency against offered rate")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def write(results: dict[str, Any], directory: Path) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    paths = {
        "json": directory / f"{stamp}.json",
        "md": directory / f"{stamp}.md",
        "png": directory / f"{stamp}.png",
    }
    paths["json"].write_text(json.dumps(results, indent=2) + "\n")
    paths["md"].write_text(markdown(results))
    if not plot(results, paths["png"]):
        del paths["png"]
    return paths
