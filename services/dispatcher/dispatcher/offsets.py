"""Which offsets may be committed while records finish out of order.

Pure. Records of different conversations finish in any order; the committed position of a
partition must never pass a record that is still in flight, so it is the lowest offset in
flight, or one past the highest offset seen when nothing is.
"""

from collections.abc import Hashable, Iterable


class OffsetTracker:
    def __init__(self) -> None:
        self._in_flight: dict[Hashable, set[int]] = {}
        self._next: dict[Hashable, int] = {}  # one past the highest offset seen
        self._committed: dict[Hashable, int] = {}

    def started(self, partition: Hashable, offset: int) -> None:
        self._in_flight.setdefault(partition, set()).add(offset)
        self._next[partition] = max(self._next.get(partition, 0), offset + 1)

    def finished(self, partition: Hashable, offset: int) -> None:
        self._in_flight.get(partition, set()).discard(offset)

    @property
    def in_flight(self) -> int:
        return sum(len(offsets) for offsets in self._in_flight.values())

    def in_flight_of(self, partitions: Iterable[Hashable]) -> int:
        return sum(len(self._in_flight.get(p, ())) for p in partitions)

    def committable(self, partitions: Iterable[Hashable] | None = None) -> dict[Hashable, int]:
        """Positions that moved since the last commit (of ``partitions``, or all)."""
        chosen = self._next.keys() if partitions is None else partitions
        positions: dict[Hashable, int] = {}
        for partition in chosen:
            if partition not in self._next:
                continue
            pending = self._in_flight.get(partition)
            position = min(pending) if pending else self._next[partition]
            if position > self._committed.get(partition, -1):
                positions[partition] = position
        return positions

    def committed(self, positions: dict[Hashable, int]) -> None:
        for partition, position in positions.items():
            self._committed[partition] = max(self._committed.get(partition, -1), position)

    def forget(self, partitions: Iterable[Hashable]) -> None:
        """The partitions went to another consumer: start afresh if they come back."""
        for partition in partitions:
            self._in_flight.pop(partition, None)
            self._next.pop(partition, None)
            self._committed.pop(partition, None)
