"""The S3 clients the design could use, on the same object store and workload: aiobotocore (what
media-worker and media-api use), MinIO's SDK called from the event loop (it is synchronous),
MinIO's SDK in worker threads, and the async MinIO client (miniopy-async).

Each puts then gets ``OBJECTS`` objects of ``SIZE`` bytes, ``CONCURRENCY`` at a time, while a
ticker measures how late the event loop wakes it (what every other request of the process
waits): a client that blocks the loop stalls the whole service, whatever its throughput."""

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from minio import Minio
from miniopy_async.api import Minio as AsyncMinio

from config.shared import S3Settings
from media.storage import open_store

OBJECTS, SIZE, CONCURRENCY = 200, 256 * 1024, 16
TICK_S = 0.005


async def _loop_lag(stop: asyncio.Event, lags: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        planned = loop.time() + TICK_S
        await asyncio.sleep(TICK_S)
        lags.append(max(0.0, loop.time() - planned))


async def _run(one: Callable[[int], Awaitable[None]]) -> dict[str, float]:
    """``one(i)`` for every object, ``CONCURRENCY`` at a time: seconds and the loop's lag."""
    limit = asyncio.Semaphore(CONCURRENCY)

    async def bounded(i: int) -> None:
        async with limit:
            await one(i)

    stop, lags = asyncio.Event(), list[float]()
    ticker = asyncio.create_task(_loop_lag(stop, lags))
    started = time.perf_counter()
    await asyncio.gather(*(bounded(i) for i in range(OBJECTS)))
    seconds = time.perf_counter() - started
    stop.set()
    await ticker
    lags.sort()
    return {
        "objects_per_s": round(OBJECTS / seconds),
        "loop_lag_p99_ms": round(lags[int(len(lags) * 0.99)] * 1000, 1) if lags else 0.0,
        "loop_lag_max_ms": round(lags[-1] * 1000, 1) if lags else 0.0,
    }


async def measure(settings: S3Settings) -> dict[str, Any]:
    assert settings.endpoint is not None
    data = b"\0" * SIZE
    host = urlsplit(settings.endpoint).netloc
    keys = (settings.access_key.get_secret_value(), settings.secret_key.get_secret_value())
    results: dict[str, Any] = {"objects": OBJECTS, "size": SIZE, "concurrency": CONCURRENCY}

    async with open_store(settings) as store:

        async def chunks() -> Any:
            yield data

        async def put_botocore(i: int) -> None:
            await store.put_stream(f"bench/boto/{i}", chunks(), content_type="image/jpeg")

        results["aiobotocore_put"] = await _run(put_botocore)

    sync = Minio(host, access_key=keys[0], secret_key=keys[1], secure=False)

    async def put_sync(i: int) -> None:
        sync.put_object(settings.bucket, f"bench/sync/{i}", io.BytesIO(data), SIZE)

    async def put_thread(i: int) -> None:
        await asyncio.to_thread(
            sync.put_object, settings.bucket, f"bench/thread/{i}", io.BytesIO(data), SIZE
        )

    results["minio_sdk_in_loop_put"] = await _run(put_sync)
    results["minio_sdk_in_threads_put"] = await _run(put_thread)

    async with AsyncMinio(host, access_key=keys[0], secret_key=keys[1], secure=False) as client:

        async def put_async(i: int) -> None:
            await client.put_object(settings.bucket, f"bench/async/{i}", io.BytesIO(data), SIZE)

        results["minio_async_put"] = await _run(put_async)
    return results
