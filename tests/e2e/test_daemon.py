"""`orderhub run` as a real process: corpus webhooks, duplicates, stale updates, bad signatures, and a
SIGKILL in the middle of a burst of 500 signed webhooks."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.helpers import Daemon, free_port, shopify_headers, synthetic_order, wait_for, write_config

SECRET = "e2e-secret"
CORPUS_ORDERS = {  # connector -> (file, expected id, grand total, issues fields)
    "shop-order": ("shopify_python_api-order.json", "450789469", "409.94"),
    "shop-orders": ("shopify_python_api-orders.json", "450789469", "598.94"),
    "shop-props": ("shopify_api_ruby-order_with_properties.json", "450789469", "409.94"),
}
pytestmark = [pytest.mark.e2e, pytest.mark.corpus]


def api(daemon: Daemon, path: str) -> httpx.Response:
    return httpx.get(f"{daemon.url}{path}", timeout=5)


def post(
    daemon: Daemon, connector: str, body: bytes, event: str, secret: str = SECRET, topic: str = "orders/updated"
) -> httpx.Response:
    return httpx.post(
        f"{daemon.url}/webhooks/{connector}",
        content=body,
        headers=shopify_headers(secret, body, event, topic),
        timeout=5,
    )


def order_at(daemon: Daemon, order_id: str, revision: int = 1) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        response = api(daemon, f"/api/orders/{order_id}")
        if response.status_code == 200 and response.json()["revision"] >= revision:
            return dict(response.json())
        return None

    return dict(wait_for(ready, what=f"{order_id} at revision {revision}"))


async def burst(url: str, count: int, kill_after: int, daemon: Daemon) -> set[int]:
    """Post `count` signed orders 32 at a time; SIGKILL the daemon after `kill_after` answers."""
    acknowledged: set[int] = set()
    queue: asyncio.Queue[int] = asyncio.Queue()
    for i in range(count):
        queue.put_nowait(i)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            i = queue.get_nowait()
            body = orjson.dumps(synthetic_order(8_000_000 + i))
            try:
                response = await client.post(url, content=body, headers=shopify_headers(SECRET, body, f"burst-{i}"))
            except httpx.HTTPError:
                continue
            if response.status_code == 200:
                acknowledged.add(8_000_000 + i)
                if len(acknowledged) == kill_after:
                    daemon.kill()

    async with httpx.AsyncClient(timeout=5) as client:
        await asyncio.gather(*(worker(client) for _ in range(32)))
    return acknowledged


def test_daemon_end_to_end(tmp_path: Path, corpus: Path) -> None:
    port = free_port()
    connectors = {name: {"kind": "shopify", "webhook_secret": SECRET} for name in [*CORPUS_ORDERS, "burst"]}
    config = write_config(tmp_path, port, connectors)
    daemon = Daemon(config, port)
    daemon.start()
    try:
        # every corpus order payload, signed, each to its own connector
        for connector, (file, external_id, grand_total) in CORPUS_ORDERS.items():
            body = (corpus / "channels" / "shopify" / file).read_bytes()
            assert post(daemon, connector, body, f"{connector}-1", topic="orders/create").status_code == 200
            order = order_at(daemon, f"{connector}:{external_id}")
            assert order["totals"]["grand_total"] == {"amount": grand_total, "currency": "USD"}
            assert order["source"]["external_number"] == "#1001"
            # the same delivery again: 200, and still one order at revision 1
            again = post(daemon, connector, body, f"{connector}-1", topic="orders/create")
            assert again.status_code == 200 and again.json()["duplicate"] is True

        base = json.loads((corpus / "channels" / "shopify" / "shopify_python_api-order.json").read_bytes())["order"]
        newer = dict(base, updated_at="2009-02-01T10:00:00-05:00", note="gift wrap please")
        stale = dict(base, updated_at="2008-06-01T10:00:00-05:00", note="an older edit, delivered late")
        assert post(daemon, "shop-order", orjson.dumps(newer), "newer").status_code == 200
        assert order_at(daemon, "shop-order:450789469", revision=2)["notes"] == ["gift wrap please"]
        assert post(daemon, "shop-order", orjson.dumps(stale), "stale").status_code == 200
        cancelled = dict(
            newer,
            updated_at="2009-03-01T10:00:00-05:00",
            cancelled_at="2009-03-01T10:00:00-05:00",
            cancel_reason="customer",
        )
        response = post(daemon, "shop-order", orjson.dumps(cancelled), "cancel", topic="orders/cancelled")
        assert response.status_code == 200
        final = order_at(daemon, "shop-order:450789469", revision=3)
        assert (final["status"], final["notes"]) == ("cancelled", ["gift wrap please"])

        forged = post(daemon, "shop-order", orjson.dumps(newer), "forged", secret="not-the-secret")
        assert forged.status_code == 401

        acknowledged = asyncio.run(burst(f"{daemon.url}/webhooks/burst", 500, 150, daemon))
        assert daemon.proc is not None and daemon.proc.returncode == -9
        assert len(acknowledged) >= 150

        daemon.start()  # restart on the same data: everything acknowledged is normalized
        db = sqlite3.connect(tmp_path / "var" / "orderhub.sqlite")

        def all_there() -> bool:
            rows = db.execute("SELECT count(*) FROM orders WHERE connector = 'burst'").fetchone()[0]
            return bool(rows >= len(acknowledged))

        wait_for(all_there, timeout=60, what="every acknowledged burst order")
        listed = httpx.get(f"{daemon.url}/api/orders?connector=burst&limit=1000", timeout=10).json()
        ids = [row["id"] for row in listed]
        assert len(ids) == len(set(ids))
        assert {f"burst:{i}" for i in acknowledged} <= set(ids)
        assert all(row["revision"] == 1 for row in listed)
        assert all(row["grand_total"] == {"amount": "81.27", "currency": "CAD"} for row in listed)
        revisions = db.execute(
            "SELECT order_id, count(*) FROM order_revisions WHERE order_id LIKE 'burst:%' GROUP BY order_id"
            " HAVING count(*) > 1"
        ).fetchall()
        assert revisions == []
        # stale update never replaced the newer one, across the restart
        assert order_at(daemon, "shop-order:450789469", revision=3)["notes"] == ["gift wrap please"]
        assert daemon.stop() == 0  # SIGTERM: graceful
    finally:
        daemon.kill()
