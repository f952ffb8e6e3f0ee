"""Mapping in worker processes gives exactly what mapping in the daemon gives, and survives a dead worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from orderhub.mapping import MappingContext, builtin_mapping
from orderhub.stages.mapping_pool import MapJob, MappingPool, map_jobs
from tests.helpers import synthetic_order

CTX = MappingContext(
    connector="shop",
    account="shop",
    channel="shopify",
    received_at=datetime(2026, 11, 21, 4, 52, 41, tzinfo=UTC),
    raw_ref="sha256:abc",
)
SHOPIFY = str(builtin_mapping("shopify").path)


def jobs() -> list[MapJob]:
    good = [MapJob(i, orjson.dumps(synthetic_order(1000 + i)), SHOPIFY, CTX) for i in range(5)]
    broken = MapJob(99, b'{"id": 1, "currency": "CAD", "total_price": "1.00", "line_items": [}', SHOPIFY, CTX)
    return [*good, broken]


async def test_workers_map_like_the_daemon_and_report_failures_per_payload() -> None:
    inline = map_jobs(jobs())
    pool = MappingPool(2)
    await pool.start()
    try:
        pooled = await pool.map(jobs())
    finally:
        pool.close()
    assert pooled == inline
    assert [m.receipt for m in pooled] == [0, 1, 2, 3, 4, 99]
    first = orjson.loads(pooled[0].orders[0][0])
    assert first["id"] == "shop:1000"
    assert first["totals"]["grand_total"] == {"amount": "81.27", "currency": "CAD"}
    assert pooled[0].orders[0][1] == int(datetime.fromisoformat(first["source"]["updated_at"]).timestamp() * 1e6)
    assert pooled[5].orders == []
    assert pooled[5].error is not None and "invalid JSON" in pooled[5].error


async def test_a_killed_worker_is_replaced_and_the_batch_still_maps() -> None:
    pool = MappingPool(1)
    await pool.start()
    try:
        assert pool._pool is not None
        for pid in list(pool._pool._processes):  # a worker dies (OOM killer, operator)
            os.kill(pid, signal.SIGKILL)
        mapped = await pool.map(jobs())
        assert [m.receipt for m in mapped] == [0, 1, 2, 3, 4, 99]
        again = await pool.map(jobs()[:1])  # and the new workers take the next batch
        assert orjson.loads(again[0].orders[0][0])["id"] == "shop:1000"
    finally:
        pool.close()


def test_workers_leave_when_their_daemon_is_killed(tmp_path: Path) -> None:
    script = (
        "import asyncio, os, sys\n"
        "from orderhub.stages.mapping_pool import MappingPool\n"
        "async def main():\n"
        "    pool = MappingPool(1)\n"
        "    await pool.start()\n"
        "    print(*(p.pid for p in pool._pool._processes.values()), flush=True)\n"
        "    await asyncio.sleep(600)\n"
        "asyncio.run(main())\n"
    )
    daemon = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path)
    assert daemon.stdout is not None
    workers = [int(pid) for pid in daemon.stdout.readline().split()]
    assert workers and all(_alive(pid) for pid in workers)
    daemon.kill()  # SIGKILL: no shutdown runs
    daemon.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in workers)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
