"""Tracking push-back and webhook subscriptions of the cart connectors in an in-process hub, against
the local fake platforms (corpus orders): a fulfillment event delivered twice makes one note, one
shipment, one ship call; subscriptions the platform disabled or deleted are put back by the check."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from orderhub.bus.base import OutMessage
from orderhub.service.hub import Hub
from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes import woocommerce as woo_fake
from tests.integration.serving import eventually, hub_running, order

pytestmark = pytest.mark.corpus
WOO_HOOK_URL = "https://hub.example.test/webhooks/woo"
BC_HOOK_URL = "https://hub.example.test/webhooks/bc"


def quick_retries(hub: Hub) -> None:
    hub.track.attempts, hub.track.backoff = 2, 0.01


def fulfillment(order_id: str, fulfillment_id: str, lines: list[tuple[str, str]] | None = None) -> OutMessage:
    value = {
        "order_id": order_id,
        "fulfillment_id": fulfillment_id,
        "status": "shipped",
        "carrier": "UPS",
        "tracking_number": f"1Z-{fulfillment_id}",
        "tracking_url": f"https://ups.example/1Z-{fulfillment_id}",
        "lines": [{"line_number": n, "quantity": q} for n, q in lines or []],
    }
    return OutMessage(topic="fulfillment", key=order_id, value=orjson.dumps(value))


def polling(kind: str, url: str, **settings: Any) -> dict[str, Any]:
    return {"kind": kind, "base_url": url, "overlap_seconds": 0, "poll_interval": 3600, **settings}


async def test_a_fulfillment_event_delivered_twice_is_pushed_once_per_platform(tmp_path: Path, corpus: Path) -> None:
    woo = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus))
    bc = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    mage = mage_fake.FakeMagento(orders=[mage_fake.corpus_order(corpus)])
    async with woo_fake.running(woo) as woo_url, bc_fake.running(bc) as bc_url, mage_fake.running(mage) as mage_url:
        connectors = {
            "woo": polling(
                "woocommerce",
                woo_url,
                consumer_key=woo_fake.KEY,
                consumer_secret=woo_fake.SECRET,
                start_from="2017-03-01T00:00:00",
            ),
            "bc": polling(
                "bigcommerce",
                bc_url,
                store_hash=bc_fake.STORE,
                access_token=bc_fake.TOKEN,
                start_from="2019-01-01T00:00:00Z",
            ),
            "mage": polling(
                "magento",
                mage_url,
                access_token=mage_fake.INTEGRATION_TOKEN,
                start_from="2017-08-01T00:00:00Z",
            ),
        }
        async with hub_running(tmp_path, connectors, quick_retries) as (hub, client):
            for order_id in ("woo:727", "bc:218", "mage:3"):
                await order(client, order_id)
            for order_id in ("woo:727", "bc:218", "mage:3"):
                await hub.bus.publish([fulfillment(order_id, "WH-1")])
                await hub.bus.publish([fulfillment(order_id, "WH-1")])  # delivered again
            # events are handled in order: once this one is pushed, the repeats before it were handled
            await hub.bus.publish([fulfillment("woo:727", "WH-2", [("2", "1")])])

            async def last_pushed() -> bool:
                rows = await hub.db.read(
                    lambda c: c.execute("SELECT 1 FROM pushed_fulfillments WHERE fulfillment_id = 'WH-2'").fetchall()
                )
                return bool(rows)

            await eventually(last_pushed, "the last fulfillment pushed")
            rows = await hub.db.read(
                lambda c: c.execute(
                    "SELECT connector, fulfillment_id, remote_id FROM pushed_fulfillments "
                    "ORDER BY connector, fulfillment_id"
                ).fetchall()
            )

    # WooCommerce: one note per fulfillment, the order completed once (the partial one adds a note only)
    assert [n["note"] for n in woo.notes[727]] == [
        "Your order has shipped with UPS. Tracking number: 1Z-WH-1. Track it at https://ups.example/1Z-WH-1",
        "Part of your order has shipped with UPS. Tracking number: 1Z-WH-2. Track it at https://ups.example/1Z-WH-2",
    ]
    assert all(n["customer_note"] for n in woo.notes[727])
    assert woo.updates == [(727, {"status": "completed"})]
    # BigCommerce: one shipment, of the physical product, to the order's shipping address
    (shipment,) = bc.shipments[218]
    assert shipment["order_address_id"] == 170 and shipment["items"] == [{"order_product_id": 301, "quantity": 3}]
    assert (shipment["tracking_number"], shipment["tracking_carrier"]) == ("1Z-WH-1", "ups")
    # Magento: one ship call with the track
    (shipped,) = mage.shipments
    assert shipped["order_id"] == 3
    assert shipped["body"] == {
        "notify": True,
        "tracks": [{"track_number": "1Z-WH-1", "title": "UPS", "carrier_code": "ups"}],
    }
    assert [(r[0], r[1]) for r in rows] == [("bc", "WH-1"), ("mage", "WH-1"), ("woo", "WH-1"), ("woo", "WH-2")]
    assert [r[2] for r in rows] == [str(shipment["id"]), str(shipped["entity_id"])] + [
        str(n["id"]) for n in woo.notes[727]
    ]


async def test_disabled_and_deleted_subscriptions_are_put_back_by_the_periodic_check(tmp_path: Path) -> None:
    woo = woo_fake.FakeWooCommerce()
    bc = bc_fake.FakeBigCommerce()
    async with woo_fake.running(woo) as woo_url, bc_fake.running(bc) as bc_url:
        connectors = {
            "woo": polling(
                "woocommerce",
                woo_url,
                consumer_key=woo_fake.KEY,
                consumer_secret=woo_fake.SECRET,
                webhook_secret=["woo-secret", "woo-old-secret"],
                webhook_url=WOO_HOOK_URL,
                subscription_check_interval=0.2,
            ),
            "bc": polling(
                "bigcommerce",
                bc_url,
                store_hash=bc_fake.STORE,
                access_token=bc_fake.TOKEN,
                webhook_url=BC_HOOK_URL,
                subscription_check_interval=0.2,
            ),
        }
        async with hub_running(tmp_path, connectors, quick_retries) as (hub, _):

            async def all_active() -> bool:
                woo_ok = sorted(w["topic"] for w in woo.webhooks.values() if w["status"] == "active") == [
                    "order.created",
                    "order.deleted",
                    "order.updated",
                ]
                bc_ok = sorted(h["scope"] for h in bc.hooks.values() if h["is_active"]) == [
                    "store/order/created",
                    "store/order/refund/created",
                    "store/order/statusUpdated",
                    "store/order/updated",
                ]
                return woo_ok and bc_ok

            await eventually(all_active, "every subscription registered")
            assert {(w["delivery_url"], w["secret"]) for w in woo.webhooks.values()} == {(WOO_HOOK_URL, "woo-secret")}
            assert {h["destination"] for h in bc.hooks.values()} == {BC_HOOK_URL}
            disabled_id = woo.webhook("order.created")["id"]  # type: ignore[index]
            inactive_id = bc.hook("store/order/created")["id"]  # type: ignore[index]

            woo.disable_webhook("order.created")
            woo.delete_webhook("order.updated")
            bc.deactivate_hook("store/order/created")
            bc.delete_hook("store/order/updated")
            await eventually(all_active, "the disabled and deleted subscriptions back")
            seen = await hub.store.get_checkpoint("woo", "webhook_subscriptions")

    assert woo.webhook("order.created")["id"] == disabled_id  # type: ignore[index]
    assert [c for c in woo.webhook_calls if c[0] == "PUT"] == [("PUT", {"id": disabled_id, "status": "active"})]
    assert [c[1]["topic"] for c in woo.webhook_calls if c[0] == "POST"] == [
        "order.created",
        "order.updated",
        "order.deleted",
        "order.updated",
    ]
    assert bc.hook("store/order/created")["id"] == inactive_id  # type: ignore[index]
    assert [c for c in bc.hook_calls if c[0] == "PUT"] == [("PUT", {"id": inactive_id, "is_active": True})]
    assert [c[1]["scope"] for c in bc.hook_calls if c[0] == "POST"].count("store/order/updated") == 2
    assert seen is not None and orjson.loads(seen) == ["order.created", "order.deleted", "order.updated"]
