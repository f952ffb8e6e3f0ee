"""WooCommerce, BigCommerce and Magento connectors in an in-process hub, against local fake platform
servers serving corpus payloads: signed webhooks, pings, duplicates, orders recovered by polling,
429 + Retry-After, token expiry, and checkpoints that move only after the orders are durable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiohttp.test_utils import TestServer

from orderhub.service.config import load_config
from orderhub.service.http import make_app
from orderhub.service.hub import Hub
from orderhub.store.base import RawIn, Receipt, StoreUnavailable
from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes import woocommerce as woo_fake
from tests.fakes.signing import ADOBE_KEYS, adobe_event, adobe_signature, standard_webhook_headers, woo_headers
from tests.helpers import write_config
from tests.integration.serving import eventually, hub_running, order

pytestmark = pytest.mark.corpus
WOO_SECRET, BC_SECRET = "woo-webhook-secret", "bc-client-secret"


async def checkpoint(hub: Hub, connector: str, value: str) -> None:
    async def reached() -> bool:
        return await hub.store.get_checkpoint(connector, "modified_since") == value

    await eventually(reached, f"checkpoint {value} of {connector}")


async def receipts(hub: Hub, connector: str) -> list[tuple[str, str | None, str, dict[str, str], str]]:
    """(transport, dedupe_key, state, headers, sha256) of each payload the connector stored, oldest first."""
    rows = await hub.db.read(
        lambda c: c.execute(
            "SELECT transport, dedupe_key, state, headers, sha256 FROM raw_receipts WHERE connector = ? ORDER BY id",
            (connector,),
        ).fetchall()
    )
    return [(r[0], r[1], r[2], orjson.loads(r[3]), r[4]) for r in rows]


async def settled(hub: Hub, connector: str, count: int) -> list[tuple[str, str | None, str, dict[str, str], str]]:
    async def done() -> list[Any] | None:
        rows = await receipts(hub, connector)
        return rows if len(rows) == count and all(r[2] != "pending" for r in rows) else None

    return list(await eventually(done, f"{count} handled payloads of {connector}"))


async def dlq_entries(hub: Hub) -> list[dict[str, Any]]:
    subscription = await hub.bus.subscribe("dlq", "test-reader")
    try:
        for _ in range(100):
            messages = await subscription.fetch(10, timeout=0.1)
            if messages:
                return [orjson.loads(m.value) for m in messages]
        return []
    finally:
        await subscription.close()


def corpus_bytes(corpus: Path, platform: str, name: str) -> bytes:
    return (corpus / "channels" / platform / name).read_bytes()


# WooCommerce ------------------------------------------------------------------------------------


async def test_woocommerce_webhooks_ping_duplicates_and_bad_signatures(tmp_path: Path, corpus: Path) -> None:
    retrieved = corpus_bytes(corpus, "woocommerce", "wc-v3-order-727-retrieve.json")
    completed = corpus_bytes(corpus, "woocommerce", "wc-v3-order-727-update-completed.json")
    connectors = {"woo": {"kind": "woocommerce", "webhook_secret": [WOO_SECRET, "older-secret"]}}
    async with hub_running(tmp_path, connectors) as (hub, client):
        assert hub.connectors["woo"].startup_notes() == [
            "webhook-only: no base_url/consumer_key/consumer_secret, so no reconciliation poll"
        ]
        ping = await client.post(
            "/webhooks/woo",
            content=b"webhook_id=15",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (ping.status_code, ping.json()) == (200, {"ping": True})

        first = await client.post("/webhooks/woo", content=retrieved, headers=woo_headers(WOO_SECRET, retrieved))
        again = await client.post(
            "/webhooks/woo", content=retrieved, headers=woo_headers(WOO_SECRET, retrieved, delivery="2")
        )
        assert (first.status_code, again.status_code) == (200, 200)
        assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
        placed = await order(client, "woo:727")
        assert placed["totals"]["grand_total"] == {"amount": "29.35", "currency": "USD"}
        assert placed["source"]["raw_ref"] == first.json()["raw_ref"]

        forged = await client.post("/webhooks/woo", content=completed, headers=woo_headers("guessed", completed))
        assert forged.status_code == 401 and forged.json()["error"]["code"] == "bad_signature"

        update = await client.post(
            "/webhooks/woo", content=completed, headers=woo_headers("older-secret", completed, delivery="3")
        )
        assert update.status_code == 200
        assert (await order(client, "woo:727", revision=2))["status"] == "closed"

        deleted = b'{"id":727}'
        gone = await client.post(
            "/webhooks/woo", content=deleted, headers=woo_headers(WOO_SECRET, deleted, topic="order.deleted")
        )
        assert gone.status_code == 200

        rows = await settled(hub, "woo", 4)
        assert [(r[0], r[1], r[2]) for r in rows] == [
            ("webhook", "727:2017-03-22T19:28:08", "done"),
            ("webhook", "727:2017-03-22T19:28:08", "duplicate"),
            ("webhook", "727:2017-03-22T19:30:35", "done"),
            ("webhook", "727:deleted", "failed"),
        ]
        assert rows[0][3] == {
            name: value for name, value in woo_headers(WOO_SECRET, retrieved).items() if name.startswith("X-WC-")
        }
        assert await hub.store.raw_body(rows[0][4]) == retrieved  # the bytes as signed, not re-serialized
        (entry,) = await dlq_entries(hub)
        assert entry["error"] == "WooCommerce order.deleted carries only the order id; the order is left as it was"
        attempts = await hub.db.read(lambda c: c.execute("SELECT connector FROM rejected_attempts").fetchall())
        assert attempts == [("woo",)]  # only metadata of the forged one; the ping stored nothing


async def test_woocommerce_poll_recovers_missed_orders_after_a_429(tmp_path: Path, corpus: Path) -> None:
    fake = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus), throttle=1)
    async with woo_fake.running(fake) as url:
        connectors = {
            "woo": {
                "kind": "woocommerce",
                "base_url": url,
                "consumer_key": woo_fake.KEY,
                "consumer_secret": woo_fake.SECRET,
                "webhook_secret": WOO_SECRET,
                "start_from": "2017-03-01T00:00:00",
                "overlap_seconds": 0,
                "poll_interval": 0.2,
                "page_size": 1,
            }
        }
        async with hub_running(tmp_path, connectors) as (hub, client):
            # neither order came by webhook: the poll finds both, one page each, after one 429
            await checkpoint(hub, "woo", "2017-03-22T19:28:08+00:00")
            assert (await order(client, "woo:723"))["totals"]["grand_total"] == {"amount": "39.00", "currency": "USD"}
            assert (await order(client, "woo:727"))["totals"]["grand_total"] == {"amount": "29.35", "currency": "USD"}
            first_poll = [r for r in fake.requests[:3]]
            assert [r.status for r in first_poll] == [429, 200, 200]
            assert [r.query.get("page") for r in first_poll[1:]] == ["1", "2"]
            assert first_poll[1].query["modified_after"] == "2017-03-01T00:00:00"

            # a webhook of a version already polled is a duplicate, not a new revision
            body = corpus_bytes(corpus, "woocommerce", "wc-v3-order-727-retrieve.json")
            late = await client.post("/webhooks/woo", content=body, headers=woo_headers(WOO_SECRET, body))
            assert late.json()["duplicate"] is True

            # the order changes and its webhook never comes: the next poll brings the new version
            fake.orders[0] = json.loads(corpus_bytes(corpus, "woocommerce", "wc-v3-order-727-update-completed.json"))
            await checkpoint(hub, "woo", "2017-03-22T19:30:35+00:00")
            assert (await order(client, "woo:727", revision=2))["status"] == "closed"
            polled = [(r[0], r[1]) for r in await receipts(hub, "woo") if r[0] == "poll"]
            assert polled == [
                ("poll", "723:2017-03-21T19:54:51"),
                ("poll", "727:2017-03-22T19:28:08"),
                ("poll", "727:2017-03-22T19:30:35"),
            ]


# BigCommerce ------------------------------------------------------------------------------------


def bc_pointer(corpus: Path, order_id: int) -> bytes:
    body = corpus_bytes(corpus, "bigcommerce", "webhook-store_order_created.json")
    return body.replace(b'"id": 250', f'"id": {order_id}'.encode())


async def test_bigcommerce_pointer_is_resolved_and_polling_recovers_the_rest(tmp_path: Path, corpus: Path) -> None:
    fake = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus), throttle=1)
    async with bc_fake.running(fake) as url:
        connectors = {
            "bc": {
                "kind": "bigcommerce",
                "store_hash": bc_fake.STORE,
                "access_token": bc_fake.TOKEN,
                "client_secret": BC_SECRET,
                "base_url": url,
                "start_from": "2019-06-01T00:00:00Z",  # after order 218 was last modified
                "overlap_seconds": 0,
                "poll_interval": 3600,
            },
            "bc-hooks": {"kind": "bigcommerce", "client_secret": BC_SECRET},
        }
        async with hub_running(tmp_path, connectors) as (hub, client):
            # order 247 never came by webhook: the first poll recovers it, after one 429
            await checkpoint(hub, "bc", "2019-06-20T16:07:08+00:00")
            got = await order(client, "bc:247")
            assert got["totals"]["grand_total"] == {"amount": "1008.74", "currency": "USD"}
            assert fake.requests[0].status == 429 and fake.requests[1].status == 200

            body = bc_pointer(corpus, 218)
            headers = standard_webhook_headers(BC_SECRET, body, msg_id="msg-218")
            first = await client.post("/webhooks/bc", content=body, headers=headers)
            again = await client.post("/webhooks/bc", content=body, headers=headers)
            assert (first.status_code, again.status_code) == (200, 200)
            assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
            got = await order(client, "bc:218")
            assert got["totals"]["grand_total"]["amount"] == "69.8400"
            assert got["revision"] == 1

            forged = await client.post(
                "/webhooks/bc", content=body, headers=standard_webhook_headers("nope", body, msg_id="msg-x")
            )
            assert forged.status_code == 401

            rows = await settled(hub, "bc", 4)
            # the fetch of order 218 may land before or after the repeated delivery
            assert sorted((r[0], r[1], r[2]) for r in rows) == [
                ("poll", "218:Mon, 11 Mar 2019 15:17:25 +0000", "done"),
                ("poll", "247:Thu, 20 Jun 2019 16:07:08 +0000", "done"),
                ("webhook", "dd70c0976e06b67aaf671e73f49dcb79230ebf9d", "done"),  # the pointer: kept, no order
                ("webhook", "dd70c0976e06b67aaf671e73f49dcb79230ebf9d", "duplicate"),
            ]
            (pointer,) = [r for r in rows if r[2] == "done" and r[0] == "webhook"]
            assert pointer[3] == headers and await hub.store.raw_body(pointer[4]) == body
            (fetched,) = [r for r in rows if r[1] and r[1].startswith("218:")]
            assert fetched[3] == {"Resource": "/v2/orders/218", "Trigger": "webhook"}
            stored = orjson.loads(await hub.store.raw_body(fetched[4]) or b"null")
            assert list(stored) == ["order", "products", "shipping_addresses", "coupons", "taxes"]
            assert stored["order"]["id"] == 218 and len(stored["products"]) == 2
            auth = {r.headers.get("X-Auth-Token") for r in fake.requests}
            assert auth == {bc_fake.TOKEN}

            # without API credentials the pointer is kept and goes to the DLQ saying why
            lone = bc_pointer(corpus, 999)
            response = await client.post(
                "/webhooks/bc-hooks", content=lone, headers=standard_webhook_headers(BC_SECRET, lone, msg_id="m-9")
            )
            assert response.status_code == 200
            (entry,) = await dlq_entries(hub)
            assert entry["connector"] == "bc-hooks" and entry["raw_ref"] == response.json()["raw_ref"]
            assert entry["error"] == (
                "BigCommerce webhook for order 999 cannot be resolved: the connector has no store_hash/access_token "
                "to fetch the order with"
            )


# Magento ----------------------------------------------------------------------------------------


async def restarts(client: httpx.AsyncClient, connector: str) -> float:
    prefix = f'orderhub_connector_restarts_total{{connector="{connector}"}} '
    for line in (await client.get("/metrics")).text.splitlines():
        if line.startswith(prefix):
            return float(line.removeprefix(prefix))
    return 0.0


class FlakyIntake:
    """The hub, except that the n-th accept fails as if the store went away; notes the checkpoint then."""

    def __init__(self, hub: Hub, fail_on: int) -> None:
        self.hub = hub
        self.fail_on = fail_on
        self.calls = 0
        self.checkpoint_at_failure: str | None = None

    async def accept(self, raw: RawIn) -> Receipt:
        self.calls += 1
        if self.calls == self.fail_on:
            self.checkpoint_at_failure = await self.hub.get_checkpoint(raw.connector, "modified_since")
            raise StoreUnavailable("store went away")
        return await self.hub.accept(raw)

    async def get_checkpoint(self, connector: str, key: str) -> str | None:
        return await self.hub.get_checkpoint(connector, key)

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None:
        await self.hub.set_checkpoint(connector, key, value)


async def test_magento_poll_admin_token_expiry_and_a_failed_accept(tmp_path: Path, corpus: Path) -> None:
    three = mage_fake.corpus_order(corpus)
    fake = mage_fake.FakeMagento(orders=[three, mage_fake.variant(three, 4, "2017-08-22 09:00:00")], throttle=1)
    async with mage_fake.running(fake) as url:
        connectors = {
            "mage": {
                "kind": "magento",
                "base_url": url,
                "username": mage_fake.USER,
                "password": mage_fake.PASSWORD,
                "start_from": "2017-08-01T00:00:00Z",
                "overlap_seconds": 0,
                "poll_interval": 0.2,
                "page_size": 1,
            }
        }
        config = write_config(tmp_path, 0, connectors)
        hub = Hub(load_config(config))
        flaky = FlakyIntake(hub, fail_on=2)
        hub.connectors["mage"].intake = flaky
        await hub.start()
        server = TestServer(make_app(hub))
        await server.start_server()
        client = httpx.AsyncClient(base_url=str(server.make_url("")))
        try:
            # the second order's accept fails: the cursor stays, the connector is restarted, the order comes
            await checkpoint(hub, "mage", "2017-08-22T09:00:00+00:00")
            assert flaky.checkpoint_at_failure == "2017-08-01T00:00:00+00:00"
            assert (await order(client, "mage:3"))["totals"]["grand_total"] == {"amount": "165", "currency": "USD"}
            assert (await order(client, "mage:4"))["source"]["external_number"] == "000000004"
            rows = await receipts(hub, "mage")
            assert [(r[1], r[2]) for r in rows if r[2] != "duplicate"] == [
                ("3:2017-08-21 22:22:20", "done"),
                ("4:2017-08-22 09:00:00", "done"),
            ]
            assert await restarts(client, "mage") == 1
            token_requests = [r for r in fake.requests if r.path.endswith("/admin/token")]
            assert token_requests[0].status == 429 and token_requests[1].status == 200

            # the admin token expires mid-run: one 401, a new token, and polling goes on
            fake.expire_tokens()
            fake.orders.append(mage_fake.variant(three, 5, "2017-08-23 10:00:00"))
            await checkpoint(hub, "mage", "2017-08-23T10:00:00+00:00")
            assert fake.issued == 2
            assert [r.status for r in fake.requests if r.path.endswith("/V1/orders")].count(401) == 1

            # then the password is changed: the connector fails and is restarted, the hub keeps serving
            fake.expire_tokens()
            fake.password = "changed"

            async def restarted_twice() -> bool:
                return await restarts(client, "mage") >= 3

            await eventually(restarted_twice, "two more restarts")
            assert (await client.get("/healthz")).status_code == 200
            assert await hub.store.get_checkpoint("mage", "modified_since") == "2017-08-23T10:00:00+00:00"
        finally:
            await client.aclose()
            await server.close()
            await hub.stop()


async def test_magento_io_events_are_verified_and_fetched(tmp_path: Path, corpus: Path) -> None:
    fake = mage_fake.FakeMagento(orders=[mage_fake.corpus_order(corpus)])
    async with mage_fake.running(fake) as url:
        connectors = {
            "mage-events": {
                "kind": "magento",
                "base_url": url,
                "access_token": mage_fake.INTEGRATION_TOKEN,
                "public_key_file": str(ADOBE_KEYS / "public-key.pem"),
                "recipient_client_id": "client-1",
                "start_from": "2030-01-01T00:00:00Z",  # the poll finds nothing: only the event brings the order
                "poll_interval": 3600,
            }
        }
        async with hub_running(tmp_path, connectors) as (hub, client):
            challenge = await client.get("/webhooks/mage-events", params={"challenge": "c-9"})
            assert (challenge.status_code, challenge.json()) == (200, {"challenge": "c-9"})
            assert (await client.get("/webhooks/mage-events")).status_code == 405

            body = adobe_event(3, "evt-3")
            headers = {"x-adobe-digital-signature-1": adobe_signature(body), "Content-Type": "application/json"}
            first = await client.post("/webhooks/mage-events", content=body, headers=headers)
            again = await client.post("/webhooks/mage-events", content=body, headers=headers)
            assert (first.json()["duplicate"], again.json()["duplicate"]) == (False, True)
            got = await order(client, "mage-events:3")
            assert got["totals"]["grand_total"] == {"amount": "165", "currency": "USD"}

            forged = await client.post(
                "/webhooks/mage-events",
                content=adobe_event(3, "evt-4"),
                headers={"x-adobe-digital-signature-1": adobe_signature(body)},
            )
            assert forged.status_code == 401

            # the repeated event fetches the order again: the same version is stored as a duplicate
            rows = await settled(hub, "mage-events", 4)
            assert sorted((r[0], r[1], r[2]) for r in rows) == [
                ("poll", "3:2017-08-21 22:22:20", "done"),
                ("poll", "3:2017-08-21 22:22:20", "duplicate"),
                ("webhook", "evt-3", "done"),  # the event: kept, no order of its own
                ("webhook", "evt-3", "duplicate"),
            ]
            (fetched,) = [r for r in rows if r[0] == "poll" and r[2] == "done"]
            assert await hub.store.raw_body(fetched[4]) == mage_fake.corpus_order(corpus).body
