"""POST /webhooks/{connector} over real HTTP, in-process hub: status codes, signatures, durability."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from orderhub.service.hub import Hub
from tests.helpers import generic_headers, shopify_headers, synthetic_order
from tests.integration.serving import hub_running

SECRET, OLD_SECRET, GENERIC = "s3cret-new", "s3cret-old", "generic-secret"


@pytest.fixture
async def hub_client(tmp_path: Path) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    connectors = {
        "shop-a": {"kind": "shopify", "webhook_secret": [SECRET, OLD_SECRET]},
        "generic": {
            "kind": "webhook",
            "mapping": "shopify",
            "webhook_secret": GENERIC,
            "dedupe_header": "X-Delivery-Id",
        },
        "inbox": {"kind": "files", "path": str(tmp_path / "inbox"), "mapping": "shopify"},
    }
    async with hub_running(tmp_path, connectors, http={"max_body_bytes": 64 * 1024}, run_connectors=False) as served:
        yield served


async def wait_order(client: httpx.AsyncClient, order_id: str, revision: int = 1) -> dict[str, Any]:
    for _ in range(200):
        response = await client.get(f"/api/orders/{order_id}")
        if response.status_code == 200 and response.json()["revision"] >= revision:
            return dict(response.json())
        await asyncio.sleep(0.02)
    raise AssertionError(f"order {order_id} revision {revision} never appeared")


async def post_shopify(
    client: httpx.AsyncClient, body: bytes, event: str, secret: str = SECRET, connector: str = "shop-a"
) -> httpx.Response:
    return await client.post(f"/webhooks/{connector}", content=body, headers=shopify_headers(secret, body, event))


async def test_signed_webhook_becomes_a_canonical_order(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    hub, client = hub_client
    body = orjson.dumps(synthetic_order(5719203847561029384))
    response = await post_shopify(client, body, "evt-1")
    assert response.status_code == 200
    assert response.json()["duplicate"] is False
    order = await wait_order(client, "shop-a:5719203847561029384")
    assert order["totals"]["grand_total"] == {"amount": "81.27", "currency": "CAD"}
    assert order["taxes"] == [
        {"name": "GST", "rate": "0.05", "amount": {"amount": "3.53", "currency": "CAD"}},
        {"name": "QST", "rate": "0.09975", "amount": {"amount": "7.05", "currency": "CAD"}},
    ]
    assert order["placed_at"] == "2026-11-21T04:45:10Z"
    assert order["issues"] == []
    assert order["source"]["raw_ref"] == response.json()["raw_ref"]
    kept = await hub.store.raw_body(response.json()["raw_ref"].removeprefix("sha256:"))
    assert kept == body


async def test_old_secret_is_accepted_during_rotation(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    _, client = hub_client
    body = orjson.dumps(synthetic_order(1))
    assert (await post_shopify(client, body, "evt-old", secret=OLD_SECRET)).status_code == 200


async def test_bad_signature_is_401_and_keeps_only_metadata(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    hub, client = hub_client
    body = orjson.dumps(synthetic_order(2))
    forged = await post_shopify(client, body, "evt-x", secret="wrong")
    assert forged.status_code == 401
    assert forged.json()["error"]["code"] == "bad_signature"
    missing = await client.post("/webhooks/shop-a", content=body)
    assert missing.status_code == 401
    assert "missing X-Shopify-Hmac-Sha256" in missing.json()["error"]["message"]
    attempts = await hub.db.read(lambda c: c.execute("SELECT connector, reason FROM rejected_attempts").fetchall())
    assert len(attempts) == 2 and attempts[0][0] == "shop-a"
    stored = await hub.db.read(lambda c: c.execute("SELECT count(*) FROM raw_blobs").fetchone()[0])
    assert stored == 0


async def test_status_codes(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    hub, client = hub_client
    assert (await client.post("/webhooks/nope", content=b"{}")).status_code == 404
    assert (await client.post("/webhooks/inbox", content=b"{}")).status_code == 404  # takes no webhooks
    wrong_method = await client.get("/webhooks/shop-a")
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    big = b"{" + b" " * (64 * 1024) + b"}"
    assert (await post_shopify(client, big, "evt-big")).status_code == 413
    assert (await client.get("/healthz")).status_code == 200
    assert (await client.get("/readyz")).json() == {"store": True, "bus": True}
    await hub.db.close()  # the store goes away: the sender must be told to retry
    body = orjson.dumps(synthetic_order(3))
    unavailable = await post_shopify(client, body, "evt-503")
    assert unavailable.status_code == 503
    assert (await client.get("/readyz")).status_code == 503


async def test_duplicate_delivery_makes_one_order(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    _, client = hub_client
    body = orjson.dumps(synthetic_order(4))
    first = await post_shopify(client, body, "evt-4")
    again = await post_shopify(client, body, "evt-4")
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
    await wait_order(client, "shop-a:4")
    redelivered = await post_shopify(client, body, "evt-4b")  # same content, new event id
    assert redelivered.json()["duplicate"] is False
    await asyncio.sleep(0.3)
    order = await wait_order(client, "shop-a:4")
    assert order["revision"] == 1
    metrics = (await client.get("/metrics")).text
    assert 'orderhub_payloads_duplicate_total{connector="shop-a"} 1.0' in metrics
    assert 'orderhub_orders_normalized_total{connector="shop-a",outcome="created"} 1.0' in metrics


async def test_generic_webhook_hex_signature_and_dedupe_header(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    _, client = hub_client
    body = orjson.dumps(synthetic_order(5))
    headers = {**generic_headers(GENERIC, body), "X-Delivery-Id": "d-1"}
    assert (await client.post("/webhooks/generic", content=body, headers=headers)).status_code == 200
    again = await client.post("/webhooks/generic", content=body, headers=headers)
    assert again.json()["duplicate"] is True
    bad = {**generic_headers("nope", body), "X-Delivery-Id": "d-2"}
    assert (await client.post("/webhooks/generic", content=body, headers=bad)).status_code == 401
    order = await wait_order(client, "generic:5")
    assert order["source"]["connector"] == "generic"


async def test_unparseable_payload_goes_to_dlq_with_its_reference(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    hub, client = hub_client
    body = b'{"id": 77, "currency": "USD", "line_items": [}'
    response = await post_shopify(client, body, "evt-bad")
    assert response.status_code == 200  # received and kept; the failure is normalization's
    subscription = await hub.bus.subscribe("dlq", "test-reader")
    messages = []
    for _ in range(100):
        messages = await subscription.fetch(10, timeout=0.1)
        if messages:
            break
    await subscription.close()
    assert len(messages) == 1
    entry = orjson.loads(messages[0].value)
    assert entry["raw_ref"] == response.json()["raw_ref"]
    assert entry["connector"] == "shop-a"
    assert "line 1" in entry["error"]


async def test_api_needs_the_token(hub_client: tuple[Hub, httpx.AsyncClient]) -> None:
    _, client = hub_client
    anonymous = await client.get("/api/orders", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthorized"
    assert (await client.get("/api/orders")).status_code == 200
    missing = await client.get("/api/orders/shop-a%3Anope")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"


async def test_embedded_bus_gets_each_revision_once_in_the_same_transaction(
    hub_client: tuple[Hub, httpx.AsyncClient],
) -> None:
    """On the embedded bus the store writes bus messages in its own transactions: no outbox hop."""
    hub, client = hub_client
    first = orjson.dumps(synthetic_order(6, updated_at="2026-11-20T23:50:00-05:00"))
    newer = orjson.dumps(synthetic_order(6, updated_at="2026-11-20T23:55:00-05:00", note="ring twice"))
    assert (await post_shopify(client, first, "evt-6a")).status_code == 200
    assert (await post_shopify(client, first, "evt-6a")).json()["duplicate"] is True
    await wait_order(client, "shop-a:6")
    assert (await post_shopify(client, newer, "evt-6b")).status_code == 200
    await wait_order(client, "shop-a:6", revision=2)

    async def topic(name: str) -> list[Any]:
        subscription = await hub.bus.subscribe(name, f"reader-{name}")
        try:
            return await subscription.fetch(100, timeout=0.2)
        finally:
            await subscription.close()

    orders = await topic("orders")
    assert [(m.key, dict(m.headers)["revision"]) for m in orders] == [("shop-a:6", b"1"), ("shop-a:6", b"2")]
    assert orjson.loads(orders[1].value)["notes"] == ["ring twice"]
    assert len(await topic("raw")) == 2  # the duplicate delivery announces nothing
    assert await hub.store.outbox_peek(10) == []
