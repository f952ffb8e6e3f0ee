"""The Shopify connector's API side in an in-process hub against a local fake Shopify (corpus orders):
an order the webhooks missed recovered by reconciliation, the cursor moved only after durable accepts,
a fulfillment event pushed exactly once, a deleted webhook subscription registered again, and the
privacy webhooks carried out on the stored orders."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from orderhub.bus.base import OutMessage
from orderhub.service.hub import Hub
from orderhub.store.base import RawIn, Receipt, StoreUnavailable
from tests.fakes import shopify as fake_shopify
from tests.fakes.shopify import FakeShopify, corpus_order, variant
from tests.helpers import shopify_headers
from tests.integration.serving import eventually, hub_running, order

pytestmark = pytest.mark.corpus
SECRET = "shopify-app-secret"
HOOK_URL = "https://hub.example.test/webhooks/shop"
A_ID, B_ID, C_ID = 450789469, 450789470, 450789471


def api_settings(url: str, **changes: Any) -> dict[str, Any]:
    return {
        "kind": "shopify",
        "shop": "acme.myshopify.com",
        "base_url": url,
        "access_token": fake_shopify.TOKEN,
        "api_version": fake_shopify.VERSION,
        "webhook_secret": SECRET,
        "webhook_url": HOOK_URL,
        "start_from": "2008-01-01T00:00:00Z",
        "overlap_seconds": 3600,
        "poll_interval": 0.2,
        "webhook_check_interval": 3600,
        **changes,
    }


async def receipts(hub: Hub) -> list[tuple[str, str | None, str]]:
    rows = await hub.db.read(
        lambda c: c.execute("SELECT transport, dedupe_key, state FROM raw_receipts ORDER BY id").fetchall()
    )
    return [(r[0], r[1], r[2]) for r in rows]


async def timeline(hub: Hub, order_id: str) -> list[str]:
    return [entry.event for entry in await hub.store.timeline(order_id)]


def shop_orders(corpus: Path) -> list[dict[str, Any]]:
    a = corpus_order(corpus)
    b = variant(corpus_order(corpus, "shopify_api_ruby-order_with_properties.json"), B_ID, "2008-01-11T09:00:00-05:00")
    return [a, b]


async def post_webhook(client: httpx.AsyncClient, document: dict[str, Any], topic: str, event: str) -> None:
    body = orjson.dumps(document)
    response = await client.post("/webhooks/shop", content=body, headers=shopify_headers(SECRET, body, event, topic))
    assert response.status_code == 200, response.text


async def test_reconciliation_recovers_what_webhooks_missed_and_subscribes(tmp_path: Path, corpus: Path) -> None:
    a, b = shop_orders(corpus)
    fake = FakeShopify(orders=[a, b], graphql_throttled=1, throttle=1)
    async with fake_shopify.running(fake) as url, hub_running(tmp_path, {"shop": api_settings(url)}) as (hub, client):
        await post_webhook(client, a, "orders/create", "evt-a")  # B's webhook never comes
        recovered = await order(client, f"shop:{B_ID}")
        assert recovered["source"]["external_id"] == str(B_ID)
        assert (await order(client, f"shop:{A_ID}"))["revision"] == 1

        async def polled_again() -> bool:
            calls = [c for c in fake.graphql_calls if c["query"].startswith("query UpdatedOrders")]
            return len(calls) >= 4

        await eventually(polled_again, "more polls")
        rows = await receipts(hub)
        # the overlap lists both orders on every poll; each version is read and stored once
        assert sorted(r[1] for r in rows if r[0] == "poll") == [
            f"poll:{A_ID}:2008-01-10T16:00:00Z",
            f"poll:{B_ID}:2008-01-11T14:00:00Z",
        ]
        assert sorted(r.path for r in fake.requests if r.method == "GET" and r.status == 200) == [
            f"/admin/api/{fake_shopify.VERSION}/orders/{A_ID}.json",
            f"/admin/api/{fake_shopify.VERSION}/orders/{B_ID}.json",
        ]
        assert await hub.store.get_checkpoint("shop", "modified_since") == "2008-01-11T14:00:00+00:00"
        assert (await order(client, f"shop:{A_ID}"))["revision"] == 1  # webhook + poll: one revision

        # a later order, never announced by a webhook, comes with the next poll
        fake.orders.append(variant(a, C_ID, "2008-01-12T08:00:00-05:00"))
        await order(client, f"shop:{C_ID}")

        # the throttled GraphQL answer and the REST 429 were retried
        assert fake.graphql_throttled == 0 and fake.throttle == 0
        assert any(r.status == 429 for r in fake.requests)
        # every order subscription points at the hub
        topics = sorted(sub["topic"] for sub in fake.subscriptions.values())
        assert topics == sorted(
            ["ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_PAID", "ORDERS_CANCELLED", "ORDERS_FULFILLED", "REFUNDS_CREATE"]
        )
        assert {sub["callbackUrl"] for sub in fake.subscriptions.values()} == {HOOK_URL}
        assert all(r.headers.get("X-Shopify-Access-Token") == fake_shopify.TOKEN for r in fake.requests)


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


async def test_the_cursor_moves_only_after_orders_are_durable(tmp_path: Path, corpus: Path) -> None:
    fake = FakeShopify(orders=shop_orders(corpus))
    flaky: list[FlakyIntake] = []

    def prepare(hub: Hub) -> None:
        flaky.append(FlakyIntake(hub, fail_on=2))
        hub.connectors["shop"].intake = flaky[0]

    settings = api_settings("", overlap_seconds=0, page_size=1, manage_webhooks=False)
    async with fake_shopify.running(fake) as url:
        settings["base_url"] = url
        async with hub_running(tmp_path, {"shop": settings}, prepare) as (hub, client):

            async def reached() -> bool:
                return await hub.store.get_checkpoint("shop", "modified_since") == "2008-01-11T14:00:00+00:00"

            await eventually(reached, "the cursor at B's change time")
            # B's accept failed: the cursor then stood at A (page 1 durable), not at B
            assert flaky[0].checkpoint_at_failure == "2008-01-10T16:00:00+00:00"
            await order(client, f"shop:{B_ID}")
            assert fake.subscriptions == {}  # manage_webhooks: false


async def test_a_fulfillment_event_is_pushed_once_even_when_published_twice(tmp_path: Path, corpus: Path) -> None:
    fake = FakeShopify(orders=shop_orders(corpus)[:1])

    def prepare(hub: Hub) -> None:
        hub.track.attempts, hub.track.backoff = 2, 0.01

    async with (
        fake_shopify.running(fake) as url,
        hub_running(tmp_path, {"shop": api_settings(url)}, prepare) as (hub, client),
    ):
        stored = await order(client, f"shop:{A_ID}")
        first_line, second_line = stored["lines"][0], stored["lines"][1]

        def event(fulfillment_id: str, line: dict[str, Any], number: str, order_id: str = f"shop:{A_ID}") -> OutMessage:
            value = {
                "order_id": order_id,
                "fulfillment_id": fulfillment_id,
                "status": "shipped",
                "carrier": "UPS",
                "tracking_number": number,
                "tracking_url": f"https://ups.example/{number}",
                "lines": [{"line_number": line["line_number"], "quantity": "1"}],
            }
            return OutMessage(topic="fulfillment", key=value["order_id"], value=orjson.dumps(value))

        await hub.bus.publish([event("WH-1", first_line, "1Z001")])
        await hub.bus.publish([event("WH-1", first_line, "1Z001")])  # re-delivered
        await hub.bus.publish([event("WH-2", second_line, "1Z002")])

        async def two_pushed() -> bool:
            return len(await timeline(hub, f"shop:{A_ID}")) >= 3 and len(fake.fulfillments) >= 2

        await eventually(two_pushed, "two pushed fulfillments")
        assert [f["trackingInfo"]["number"] for f in fake.fulfillments] == ["1Z001", "1Z002"]
        # the re-delivered WH-1 was known from pushed_fulfillments: Shopify was not even asked
        lookups = [c for c in fake.graphql_calls if c["query"].startswith("query OrderFulfillmentOrders")]
        assert len(lookups) == 2
        assert fake.fulfillments[0]["lineItemsByFulfillmentOrder"] == [
            {
                "fulfillmentOrderId": f"gid://shopify/FulfillmentOrder/{A_ID}",
                "fulfillmentOrderLineItems": [
                    {"id": f"gid://shopify/FulfillmentOrderLineItem/{first_line['external_id']}", "quantity": 1}
                ],
            }
        ]
        rows = await hub.db.read(
            lambda c: c.execute(
                "SELECT connector, fulfillment_id, remote_id FROM pushed_fulfillments ORDER BY fulfillment_id"
            ).fetchall()
        )
        assert [(r[0], r[1]) for r in rows] == [("shop", "WH-1"), ("shop", "WH-2")]
        assert all(r[2].startswith("gid://shopify/Fulfillment/") for r in rows)
        assert (await timeline(hub, f"shop:{A_ID}")).count("tracking_pushed") == 2

        # a line already shipped in full: Shopify cannot take it, so it goes to the DLQ at once;
        # an event for an order the hub does not have: retried, then to the DLQ
        await hub.bus.publish([event("WH-3", first_line, "1Z003")])
        await hub.bus.publish([event("WH-4", first_line, "1Z004", "shop:404")])
        dlq = await hub.bus.subscribe("dlq", "test-reader")
        entries: list[dict[str, Any]] = []
        try:

            async def dead() -> bool:
                entries.extend(orjson.loads(m.value) for m in await dlq.fetch(10, timeout=0.1))
                return len(entries) >= 2

            await eventually(dead, "two DLQ entries")
        finally:
            await dlq.close()
        refused, missing = entries
        assert (refused["stage"], refused["fulfillment_id"], refused["attempts"]) == ("track", "WH-3", 1)
        assert "1 more than remains to fulfil" in refused["error"] and refused["connector"] == "shop"
        assert (missing["fulfillment_id"], missing["attempts"]) == ("WH-4", 2)
        assert "order shop:404 is not in the store" in missing["error"]
        assert "tracking_push_failed" in await timeline(hub, f"shop:{A_ID}")
        metrics = (await client.get("/metrics")).text
        for labels, count in (
            ('connector="shop",outcome="pushed"', 2),
            ('connector="shop",outcome="already_pushed"', 1),
            ('connector="shop",outcome="dlq"', 1),
            ('connector="?",outcome="dlq"', 1),  # the order, hence the connector, is unknown
        ):
            assert f"orderhub_tracking_pushes_total{{{labels}}} {count}.0" in metrics
        assert len(fake.fulfillments) == 2


async def test_a_deleted_subscription_is_registered_again(tmp_path: Path) -> None:
    fake = FakeShopify()
    settings = api_settings("", webhook_check_interval=0.2, poll_interval=3600)
    async with fake_shopify.running(fake) as url:
        settings["base_url"] = url
        async with hub_running(tmp_path, {"shop": settings}) as (hub, _):

            async def subscribed() -> bool:
                return len(fake.subscriptions) == 6

            await eventually(subscribed, "six subscriptions")
            fake.delete_subscription("ORDERS_PAID")
            assert len(fake.subscriptions) == 5
            await eventually(subscribed, "the deleted subscription back")
            creates = [
                c["variables"]["topic"]
                for c in fake.graphql_calls
                if c["query"].startswith("mutation WebhookSubscriptionCreate")
            ]
            assert creates.count("ORDERS_PAID") == 2 and creates.count("ORDERS_CREATE") == 1
            seen = await hub.store.get_checkpoint("shop", "webhook_subscriptions")
            assert seen is not None and "orders/paid" in orjson.loads(seen)


def other_customer(order: dict[str, Any]) -> dict[str, Any]:
    """The corpus order bought by someone else (names, email, addresses changed)."""
    result = variant(order, B_ID, "2008-01-11T09:00:00-05:00", email="claire@example.ca", phone=None)
    result["customer"] = {**copy.deepcopy(order["customer"]), "id": 7001, "email": "claire@example.ca"}
    result["customer"].update(first_name="Claire", last_name="Tremblay")
    for key in ("billing_address", "shipping_address"):
        result[key] = {**order[key], "first_name": "Claire", "last_name": "Tremblay", "name": "Claire Tremblay"}
    return result


async def test_privacy_webhooks_redact_and_export(tmp_path: Path, corpus: Path) -> None:
    bob = corpus_order(corpus)
    claire = other_customer(bob)
    settings = {"kind": "shopify", "webhook_secret": SECRET}  # webhook-only is enough
    async with hub_running(tmp_path, {"shop": settings}) as (hub, client):
        await post_webhook(client, bob, "orders/create", "evt-bob")
        await post_webhook(client, claire, "orders/create", "evt-claire")
        before = await order(client, f"shop:{A_ID}")
        await order(client, f"shop:{B_ID}")
        assert before["customer"]["email"] == "bob.norman@hostmail.com"

        redact = {
            "shop_id": 954889,
            "shop_domain": "acme.myshopify.com",
            "customer": {"id": 207119551, "email": "bob.norman@hostmail.com", "phone": "+557734881234"},
            "orders_to_redact": [A_ID],
        }
        await post_webhook(client, redact, "customers/redact", "evt-redact")

        async def redacted() -> bool:
            return "redacted" in await timeline(hub, f"shop:{A_ID}")

        await eventually(redacted, "the redaction")
        after = await order(client, f"shop:{A_ID}")
        assert after["revision"] == before["revision"]  # replaced in place, no new revision
        assert after["customer"] == {**before["customer"], "name": None, "company": None, "email": None, "phone": None}
        for key in ("bill_to", "ship_to"):
            assert after[key]["name"] is None and after[key]["lines"] == [] and after[key]["city"] is None
            assert after[key]["postal_code"] is None and after[key]["phone"] is None
            assert after[key]["country"] == before[key]["country"]
        assert after["totals"] == before["totals"] and after["lines"] == before["lines"]
        history = await hub.db.read(
            lambda c: c.execute("SELECT body FROM order_revisions WHERE order_id = ?", (f"shop:{A_ID}",)).fetchall()
        )
        assert history and not any(
            personal in bytes(row[0]) for row in history for personal in (b"bob.norman", b"Chestnut", b"Bob Norman")
        )
        assert (await order(client, f"shop:{B_ID}"))["customer"]["email"] == "claire@example.ca"  # untouched
        # the stored payloads behind Bob's order, and the request itself, are redacted too
        blobs = await hub.db.read(lambda c: [bytes(r[0]) for r in c.execute("SELECT body FROM raw_blobs")])
        assert len(blobs) == 3
        assert not any(b"bob.norman" in blob or b"+557734881234" in blob for blob in blobs)
        assert sum(b"claire@example.ca" in blob for blob in blobs) == 1
        bob_payload = next(orjson.loads(blob) for blob in blobs if orjson.loads(blob).get("id") == A_ID)
        assert bob_payload["total_price"] == bob["total_price"] and bob_payload["line_items"] == bob["line_items"]
        assert bob_payload["billing_address"]["address1"] is None
        assert bob_payload["billing_address"]["country_code"] == bob["billing_address"]["country_code"]

        # a re-delivery under a new event id is carried out again (nothing left to remove) and recorded
        await post_webhook(client, redact, "customers/redact", "evt-redact-2")
        request = {
            "shop_id": 954889,
            "shop_domain": "acme.myshopify.com",
            "customer": {"id": 7001, "email": "claire@example.ca", "phone": None},
            "orders_requested": [B_ID],
            "data_request": {"id": 9999},
        }
        await post_webhook(client, request, "customers/data_request", "evt-data")
        exports = hub.config.data_dir / "exports"

        async def exported() -> list[Path]:
            return sorted(exports.rglob("*.json")) if exports.is_dir() else []

        [path] = await eventually(exported, "the export file")
        assert path.parent == exports / "shop"
        document = orjson.loads(path.read_bytes())
        assert document["data_request_id"] == "9999"
        assert [o["id"] for o in document["orders"]] == [f"shop:{B_ID}"]
        assert document["orders"][0]["customer"]["email"] == "claire@example.ca"
        assert "data_exported" in await timeline(hub, f"shop:{B_ID}")

        actions = await hub.db.read(
            lambda c: c.execute(
                "SELECT action, customer_id, orders, payloads FROM privacy_actions ORDER BY id"
            ).fetchall()
        )
        assert [(a[0], a[1], orjson.loads(a[2]), a[3]) for a in actions] == [
            ("redact_customer", "207119551", [f"shop:{A_ID}"], 2),  # Bob's order and the request
            ("redact_customer", "207119551", [f"shop:{A_ID}"], 0),  # nothing left to change
            ("data_request", "7001", [f"shop:{B_ID}"], 0),
        ]
        # the privacy payloads are kept and marked done, not sent to the DLQ
        states = [r[2] for r in await receipts(hub)]
        assert states == ["done"] * 5

        # shop/redact (the app was uninstalled): every order and payload of the connector
        await post_webhook(client, {"shop_id": 954889, "shop_domain": "acme.myshopify.com"}, "shop/redact", "evt-shop")

        async def claire_redacted() -> bool:
            return "redacted" in await timeline(hub, f"shop:{B_ID}")

        await eventually(claire_redacted, "the shop redaction")
        assert (await order(client, f"shop:{B_ID}"))["customer"]["email"] is None
        blobs = await hub.db.read(lambda c: [bytes(r[0]) for r in c.execute("SELECT body FROM raw_blobs")])
        assert not any(b"claire@example.ca" in blob or b"Tremblay" in blob for blob in blobs)
        assert (await order(client, f"shop:{A_ID}"))["totals"] == before["totals"]

        async def export_removed() -> bool:
            return not path.exists()

        await eventually(export_removed, "the export gone with the shop's data")


async def test_a_refunds_create_webhook_lands_on_its_order(tmp_path: Path, corpus: Path) -> None:
    """refunds/create is one of the managed subscriptions: its bare refund is applied to the order it names."""
    refund = orjson.loads((corpus / "channels" / "shopify" / "shopify_python_api-refund.json").read_bytes())["refund"]
    async with hub_running(tmp_path, {"shop": {"kind": "shopify", "webhook_secret": SECRET}}) as (hub, client):
        await post_webhook(client, corpus_order(corpus), "orders/create", "evt-order")
        await order(client, f"shop:{A_ID}")
        await post_webhook(client, refund, "refunds/create", "evt-refund")

        async def refunded() -> dict[str, Any] | None:
            found = await order(client, f"shop:{A_ID}")
            return found if found.get("refunds") else None

        after = await eventually(refunded, "the refund on the order")
        assert [r["external_id"] for r in after["refunds"]] == [str(refund["id"])]
        assert [r[2] for r in await receipts(hub)] == ["done", "done"]
