"""Fan-out: this instance's own consumer of the realtime topic and its own subscribers.

Each instance reads every partition itself (manual assignment, no consumer group, starting at
the end), so any number of instances each see every event. Per tenant it keeps the next cursor
it expects and uses ``feed.admit`` to turn the topic (out of order, duplicated, or missing a
record after a producer crash) into a gapless, ordered sequence, reading gaps from Postgres.
A gap is noticed when a later cursor arrives; for a tenant where nothing else happens, the
tail (``catch_up``, every ``tail_interval_s``) compares each subscribed tenant's committed
head with what was dispatched and reads what is missing from Postgres, so an event whose
publish was lost still reaches its clients within seconds.
Each event is serialized once and the same frame goes to every subscriber; the events of one
poll are handed over together (up to ``_CHUNK``), so a connection writes a burst at once.
"""

import asyncio
import contextlib
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, Gauge

from bus.lag import reader_lag
from bus.stream import Batches, Subscription, SubscriptionOptions
from config.shared import KafkaSettings
from contracts import topics
from contracts.realtime import RealtimeEvent
from db.tenant import tenant_tx
from realtime import latency, records
from realtime.feed import Admission, FeedEvent, admit
from realtime.protocol import State
from realtime.session import Session
from realtime.store import events as event_store
from telemetry import tracing

log = structlog.get_logger(__name__)

# The reader's name in ``telemetry.liveness`` (numbered: tests run several gateways in one
# process): /healthz fails when it stops or stalls.
_READERS = itertools.count(1)
# A poll loop turns every 200 ms: silent this long, it is stuck.
_STALL_S = 30.0
# Events handed to the subscribers at once: a burst leaves in few writes per connection, and
# stays far below a connection's send-queue bound (``Limits.max_queue``) while it waits.
_CHUNK = 64

EVENTS = Counter("gateway_realtime_events_total", "Realtime events dispatched", ["source"])
CONNECTIONS = Gauge("gateway_ws_connections", "Authenticated websocket connections")
QUEUE_PEAK = Gauge("gateway_ws_send_queue_peak", "Largest send queue any connection reached")
CLOSES = Counter("gateway_ws_closes_total", "Websocket connections closed by the gateway", ["code"])
SUBSCRIPTIONS = Gauge(
    "gateway_ws_subscriptions", "Channels subscribed to, over every connection of this gateway"
)


class Subscriber(Protocol):
    """What the hub needs from a connection's pump."""

    session: Session

    def wake(self) -> None: ...

    def closing(self) -> None: ...


class Hub:
    def __init__(
        self,
        pool: asyncpg.Pool,
        kafka: KafkaSettings,
        *,
        max_gap: int,
        tail_interval_s: float = 2.0,
    ) -> None:
        self._pool = pool
        self._kafka = kafka
        self._max_gap = max_gap
        self._tail_interval_s = tail_interval_s
        self.reader_name = f"realtime-reader-{next(_READERS)}"
        self._subscribers: dict[UUID, set[Subscriber]] = {}
        self._next: dict[UUID, int] = {}  # tenant → next cursor to dispatch
        self._lock = asyncio.Lock()  # one dispatch or feed start at a time: cursor order
        self._subscription: Subscription | None = None
        self.peak_queue = 0
        # Read at scrape time. A process runs one hub (tests that run several see the last).
        SUBSCRIPTIONS.set_function(self.subscription_total)

    # -- subscribers --------------------------------------------------------------------------

    async def join(self, subscriber: Subscriber, tenant_id: UUID) -> int:
        """Register, and return the tenant's watermark: every cursor above it will reach the
        subscriber live, in order; everything up to it is in Postgres."""
        self._subscribers.setdefault(tenant_id, set()).add(subscriber)
        CONNECTIONS.inc()
        return await self.watermark(tenant_id)

    def leave(self, subscriber: Subscriber, tenant_id: UUID | None) -> None:
        if tenant_id is None:
            return
        subscribers = self._subscribers.get(tenant_id)
        if subscribers is None or subscriber not in subscribers:
            return
        subscribers.discard(subscriber)
        CONNECTIONS.dec()
        if not subscribers:
            del self._subscribers[tenant_id]
            self._next.pop(tenant_id, None)

    async def watermark(self, tenant_id: UUID) -> int:
        async with self._lock:
            if tenant_id not in self._next:
                async with tenant_tx(self._pool, tenant_id) as conn:
                    self._next[tenant_id] = await event_store.watermark(conn) + 1
            return self._next[tenant_id] - 1

    def subscription_total(self) -> int:
        return sum(len(s.session.channels) for subs in self._subscribers.values() for s in subs)

    def subscriber_count(self, tenant_id: UUID) -> int:
        return len(self._subscribers.get(tenant_id, ()))

    # -- membership ---------------------------------------------------------------------------

    async def watch_members(self, stop: asyncio.Event, interval_s: float) -> None:
        """Every ``interval_s``, close the sessions of users no longer members of their tenant
        (removed while connected): one query per tenant with connections here, whatever the
        number of connections, instead of a timer or a query per connection."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval_s)
            if stop.is_set():
                return
            try:
                await self.revoke_removed_members()
            except (OSError, asyncpg.PostgresError):
                log.exception("membership check failed; next round retries")

    async def revoke_removed_members(self) -> int:
        """One round of ``watch_members``: the number of sessions closed."""
        closed = 0
        for tenant_id, subscribers in list(self._subscribers.items()):
            users = sorted({s.session.user_id for s in subscribers if s.session.user_id})
            if not users:
                continue
            async with tenant_tx(self._pool, tenant_id) as conn:
                rows = await conn.fetch(
                    "SELECT user_id FROM tenant_members WHERE user_id = ANY($1::text[])", users
                )
            removed = set(users) - {row["user_id"] for row in rows}
            # Only users asked about: one who joined during the query is not judged by it.
            for subscriber in list(self._subscribers.get(tenant_id, ())):
                if subscriber.session.user_id in removed:
                    subscriber.session.membership_revoked()
                    self._after(subscriber)
                    closed += 1
        return closed

    # -- the topic ----------------------------------------------------------------------------

    async def start(self) -> None:
        assigned = await records.partitions(self._kafka, topics.REALTIME)
        self._subscription = Subscription(
            self._kafka.model_copy(update={"client_id": f"{self._kafka.client_id}-gateway"}),
            [],
            self._on_batch,
            SubscriptionOptions(
                group_id=None,
                max_records=500,
                poll_timeout_ms=20,
                auto_offset_reset="latest",
                partitions=assigned,
            ),
            loop_name=self.reader_name,
            stall_s=_STALL_S,
        )
        await self._subscription.start()
        consumer = self._subscription.consumer
        await consumer.seek_to_end(*assigned)
        for tp in assigned:  # resolve the end offsets now, so "from now" means now
            await consumer.position(tp)

    async def stop(self) -> None:
        if self._subscription is not None:
            await self._subscription.stop()

    async def run(self, stop: asyncio.Event) -> None:
        assert self._subscription is not None, "start() first"
        tail = asyncio.create_task(self._tail(stop))
        try:
            await self._subscription.run(stop)
        finally:
            tail.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tail

    async def _on_batch(self, consumer: AIOKafkaConsumer, batches: Batches) -> None:
        reader_lag(consumer, "gateway", batches)
        chunk: list[tuple[FeedEvent, RealtimeEvent]] = []
        for polled in batches.values():
            for record in polled:
                decoded = records.decoded(record.value)
                if decoded is None:
                    continue
                if tracing.active:  # a span per event: its frame carries that span
                    feed, event = decoded
                    with records.delivery_span(record, feed, event) as traced:
                        await self._dispatch_chunk([(traced, event)])
                    continue
                chunk.append(decoded)
                if len(chunk) == _CHUNK:
                    await self._dispatch_chunk(chunk)
                    chunk = []
        if chunk:
            await self._dispatch_chunk(chunk)

    async def _dispatch_chunk(self, chunk: list[tuple[FeedEvent, RealtimeEvent]]) -> None:
        delivered = await self.dispatch([feed for feed, _ in chunk])
        now = datetime.now(UTC)
        for (_, event), was in zip(chunk, delivered, strict=True):
            if was:
                latency.observe(event, now)
        # Let the writers run between chunks: what a connection could not write at once
        # goes out before the next chunk is queued behind it.
        await asyncio.sleep(0)

    async def _tail(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._tail_interval_s)
            for tenant_id in list(self._next):
                try:
                    await self.catch_up(tenant_id)
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                    log.warning("realtime tail failed", tenant_id=str(tenant_id), error=repr(exc))

    def close_all(self, code: int, reason: str) -> int:
        """Close every session (the reader died: without it nothing reaches them, so clients
        must reconnect, to a healthy gateway, and resume from their cursors)."""
        closed = 0
        for subscribers in list(self._subscribers.values()):
            for subscriber in list(subscribers):
                subscriber.session.close(code, reason)
                self._after(subscriber)
                closed += 1
        return closed

    async def catch_up(self, tenant_id: UUID) -> int:
        """Deliver the tenant's committed events the topic has not brought (a producer that
        stopped between its commit and its publish); how many. One cheap read per call; the
        events themselves only when something is missing."""
        expected = self._next.get(tenant_id)
        if expected is None:
            return 0
        async with tenant_tx(self._pool, tenant_id) as conn:
            head = await event_store.watermark(conn)
        if head < expected:
            return 0
        async with self._lock:
            expected = self._next.get(tenant_id)
            if expected is None or head < expected:
                return 0  # the topic brought them meanwhile
            await self._fill(tenant_id, expected, head)
            self._next[tenant_id] = head + 1
        log.info("delivered committed events the topic had not", tenant_id=str(tenant_id))
        return head - expected + 1

    async def dispatch(self, events: Sequence[FeedEvent]) -> list[bool]:
        """Events from the topic, in the order read: each one delivered after any earlier
        cursors it reveals missing. A tenant's deliverable events go to each of its
        subscribers together, so a connection writes them in one go (one system call for a
        burst rather than one per event). Whether each was delivered (not a duplicate, and
        some subscriber of its tenant is here)."""
        delivered: list[bool] = []
        async with self._lock:
            ready: dict[UUID, list[FeedEvent]] = {}
            for event in events:
                delivered.append(await self._admit(event, ready))
            for tenant_events in ready.values():
                self._deliver(tenant_events, source="topic")
        return delivered

    async def _admit(self, event: FeedEvent, ready: dict[UUID, list[FeedEvent]]) -> bool:
        """Queue ``event`` in ``ready`` when it is its tenant's next cursor, reading the
        cursors before it from Postgres first when they are missing. Under ``_lock``."""
        expected = self._next.get(event.tenant_id)
        if expected is None:
            return False  # no subscriber of this tenant here
        decision = admit(expected, event.cursor)
        if decision is Admission.SKIP:
            return False
        if decision is Admission.FILL_GAP:
            # What is queued for the tenant comes before the gap: out first, in order.
            self._deliver(ready.pop(event.tenant_id, []), source="topic")
            try:
                await self._fill(event.tenant_id, expected, event.cursor - 1)
            except (OSError, asyncpg.PostgresError):
                # Without the missing events order cannot be kept: clients reload instead.
                log.exception("gap fill failed", tenant_id=str(event.tenant_id))
                self._reset(event.tenant_id, event.cursor - 1)
        ready.setdefault(event.tenant_id, []).append(event)
        self._next[event.tenant_id] = event.cursor + 1
        return True

    async def _fill(self, tenant_id: UUID, first: int, last: int) -> None:
        if last - first + 1 > self._max_gap:
            self._reset(tenant_id, last)  # too much to hold in memory
            return
        async with tenant_tx(self._pool, tenant_id) as conn:
            missing = await event_store.range_(conn, tenant_id=tenant_id, first=first, last=last)
        self._deliver(missing, source="postgres")

    def _reset(self, tenant_id: UUID, cursor: int) -> None:
        """Every subscriber of the tenant reloads over REST and continues live after ``cursor``."""
        for subscriber in list(self._subscribers.get(tenant_id, ())):
            subscriber.session.reset(cursor)
            self._after(subscriber)

    def _deliver(self, events: list[FeedEvent], *, source: str) -> None:
        if not events:
            return
        EVENTS.labels(source).inc(len(events))
        for subscriber in list(self._subscribers.get(events[0].tenant_id, ())):
            for event in events:
                subscriber.session.deliver(event)
            self._after(subscriber)

    def _after(self, subscriber: Subscriber) -> None:
        session = subscriber.session
        if session.peak_queue > self.peak_queue:
            self.peak_queue = session.peak_queue
            QUEUE_PEAK.set(self.peak_queue)
        if session.state is State.CLOSED:
            self.leave(subscriber, session.tenant_id)
            subscriber.closing()
        subscriber.wake()


def record_close(code: int | None) -> None:
    CLOSES.labels(str(code)).inc()
