"""How concurrent callers' records are grouped into per-partition batches, and how each caller
learns the fate of its own records."""

import asyncio

import pytest

from bus.batching import Pending, plan
from bus.publisher import partition_for
from bus.rounds import _settle


def _pending(*records: tuple[str, bytes | None, bytes]) -> Pending:
    loop = asyncio.get_event_loop()
    return Pending([(t, k, v, []) for t, k, v in records], loop.create_future())


async def test_records_are_grouped_per_partition_in_queue_order() -> None:
    first = _pending(("a", b"k1", b"1"), ("a", b"k2", b"2"))
    second = _pending(("a", b"k1", b"3"), ("b", b"k1", b"4"))
    groups = plan([first, second], {"a": 12, "b": 3}, partition_for)

    p1, p2 = partition_for(b"k1", 12), partition_for(b"k2", 12)
    assert p1 != p2  # the two keys differ in placement, so each group is one key
    assert [v for _, v, _ in groups["a", p1]] == [b"1", b"3"]
    assert groups["b", partition_for(b"k1", 3)] == [(b"k1", b"4", [])]
    assert first.placed == {("a", p1), ("a", p2)}
    assert second.placed == {("a", p1), ("b", partition_for(b"k1", 3))}
    assert sum(len(g) for g in groups.values()) == 4


async def test_unkeyed_records_spread_over_partitions() -> None:
    queued = [_pending(*(("a", None, bytes([i])) for i in range(8)))]
    groups = plan(queued, {"a": 4}, partition_for)
    assert {tp[1] for tp in groups} == {0, 1, 2, 3}


def test_placement_is_kafkas_default_murmur2() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    partitions = list(range(12))
    for key in (b"tenant:integration:5511999", b"x", b"another-key"):
        assert partition_for(key, 12) == DefaultPartitioner()(key, partitions, partitions)


async def test_a_refused_batch_fails_only_the_callers_with_records_in_it() -> None:
    loop = asyncio.get_running_loop()
    hit = _pending(("a", b"k1", b"1"))
    spared = _pending(("a", b"k2", b"2"))
    hit.placed, spared.placed = {("a", 1)}, {("a", 2)}
    ok: asyncio.Future[object] = loop.create_future()
    refused: asyncio.Future[object] = loop.create_future()
    ok.set_result(None)
    refused.set_exception(RuntimeError("NOT_LEADER"))

    await _settle([hit, spared], {("a", 1): [refused], ("a", 2): [ok]}, deadline=None)

    assert spared.done.result() is None
    with pytest.raises(RuntimeError, match="NOT_LEADER"):
        hit.done.result()


async def test_an_unanswered_batch_fails_its_callers_at_the_deadline() -> None:
    loop = asyncio.get_running_loop()
    waiting, answered = _pending(("a", b"k1", b"1")), _pending(("a", b"k2", b"2"))
    waiting.placed, answered.placed = {("a", 1)}, {("a", 2)}
    never: asyncio.Future[object] = loop.create_future()
    ok: asyncio.Future[object] = loop.create_future()
    ok.set_result(None)

    await _settle([waiting, answered], {("a", 1): [never], ("a", 2): [ok]}, loop.time() + 0.05)

    assert answered.done.result() is None
    with pytest.raises(TimeoutError):
        waiting.done.result()
    assert not never.done(), "the producer's own future is left to the producer"
