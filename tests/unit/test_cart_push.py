"""Tracking push-back of the cart connectors, request by request (respx stands in for each platform):
WooCommerce notes and completion, BigCommerce shipments per address, Magento's ship call; a shipment
already on the platform is found instead of made twice; refusals are final."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx

from orderhub.connectors import _http
from orderhub.connectors._push import PushRejected, shipment_text
from orderhub.connectors.bigcommerce import BigCommerceConnector, BigCommerceSettings, assemble
from orderhub.connectors.magento import MagentoConnector, MagentoSettings
from orderhub.connectors.woocommerce import WooCommerceConnector, WooCommerceSettings
from orderhub.mapping import MappingContext, builtin_mapping, map_payload
from orderhub.model.events import FulfillmentEvent, PushRefused
from orderhub.model.order import Order
from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes.intake import RecordingIntake

pytestmark = pytest.mark.corpus
SITE = "https://shop.example.test"
BC_API = "https://api.example.test/stores/abc123"
MAGE = "https://mage.example.test/rest/default/V1"


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    async def instant(seconds: float) -> None:
        return None

    monkeypatch.setattr(_http, "_sleep", instant)


def mapped(kind: str, body: bytes) -> Order:
    ctx = MappingContext(
        connector=kind, account=kind, channel=kind, received_at=datetime.now(UTC), raw_ref="sha256:test"
    )
    return map_payload(body, builtin_mapping(kind), ctx)[0]


def event(lines: list[tuple[str, str]] | None = None, **changes: Any) -> FulfillmentEvent:
    values: dict[str, Any] = {
        "order_id": "x:1",
        "fulfillment_id": "WH-1",
        "status": "shipped",
        "carrier": "UPS",
        "tracking_number": "1Z999",
        "tracking_url": "https://ups.example/1Z999",
        "lines": [{"line_number": n, "quantity": q} for n, q in lines or []],
        **changes,
    }
    return FulfillmentEvent.model_validate(values)


def sent(route: respx.Route, index: int = 0) -> Any:
    return json.loads(route.calls[index].request.content)


# WooCommerce ------------------------------------------------------------------------------------


def woo() -> WooCommerceConnector:
    settings = WooCommerceSettings.model_validate(
        {"name": "woo", "kind": "woocommerce", "base_url": SITE, "consumer_key": "ck", "consumer_secret": "cs"}
    )
    return WooCommerceConnector(settings, RecordingIntake(), Path("."))


def woo_order(corpus: Path) -> Order:
    return mapped("woocommerce", (corpus / "channels" / "woocommerce" / "wc-v3-order-727-retrieve.json").read_bytes())


@respx.mock
async def test_woocommerce_whole_order_adds_a_customer_note_and_completes(corpus: Path) -> None:
    notes = f"{SITE}/wp-json/wc/v3/orders/727/notes"
    listed = respx.get(notes).mock(return_value=httpx.Response(200, json=[{"id": 5, "note": "Thanks!"}]))
    created = respx.post(notes).mock(return_value=httpx.Response(201, json={"id": 281, "customer_note": True}))
    completed = respx.put(f"{SITE}/wp-json/wc/v3/orders/727").mock(
        return_value=httpx.Response(200, json={"id": 727, "status": "completed"})
    )
    assert await woo().push_fulfillment(woo_order(corpus), event()) == "281"
    assert listed.calls[0].request.url.params["type"] == "customer"
    assert sent(created) == {
        "note": "Your order has shipped with UPS. Tracking number: 1Z999. Track it at https://ups.example/1Z999",
        "customer_note": True,
    }
    assert sent(completed) == {"status": "completed"}
    assert created.calls[0].request.headers["Authorization"].startswith("Basic ")


@respx.mock
async def test_woocommerce_partial_shipment_adds_a_note_only(corpus: Path) -> None:
    notes = f"{SITE}/wp-json/wc/v3/orders/727/notes"
    respx.get(notes).mock(return_value=httpx.Response(200, json=[]))
    created = respx.post(notes).mock(return_value=httpx.Response(201, json={"id": 282}))
    completed = respx.put(f"{SITE}/wp-json/wc/v3/orders/727")
    assert await woo().push_fulfillment(woo_order(corpus), event([("1", "1")], carrier="Canada Post")) == "282"
    assert sent(created)["note"].startswith("Part of your order has shipped with Canada Post.")
    assert not completed.called


@respx.mock
async def test_woocommerce_note_already_there_is_not_written_again(corpus: Path) -> None:
    notes = f"{SITE}/wp-json/wc/v3/orders/727/notes"
    respx.get(notes).mock(return_value=httpx.Response(200, json=[{"id": 90, "note": "Tracking number: 1Z999."}]))
    created = respx.post(notes)
    respx.put(f"{SITE}/wp-json/wc/v3/orders/727").mock(return_value=httpx.Response(200, json={}))
    assert await woo().push_fulfillment(woo_order(corpus), event()) == "90"
    assert not created.called


@respx.mock
async def test_woocommerce_unknown_order_is_refused_for_good(corpus: Path) -> None:
    respx.get(f"{SITE}/wp-json/wc/v3/orders/727/notes").mock(
        return_value=httpx.Response(404, json={"code": "woocommerce_rest_shop_order_invalid_id"})
    )
    with pytest.raises(PushRefused, match="HTTP 404"):
        await woo().push_fulfillment(woo_order(corpus), event())


def test_shipment_text_says_what_is_known() -> None:
    assert shipment_text(event(carrier=None, tracking_number=None, tracking_url=None)) == "Your order has shipped."


# BigCommerce ------------------------------------------------------------------------------------


def bigc() -> BigCommerceConnector:
    settings = BigCommerceSettings.model_validate(
        {
            "name": "bc",
            "kind": "bigcommerce",
            "store_hash": "abc123",
            "access_token": "tok",
            "base_url": "https://api.example.test",
        }
    )
    return BigCommerceConnector(settings, RecordingIntake(), Path("."))


def bc_order(corpus: Path) -> tuple[Order, bytes]:
    stored = bc_fake.corpus_orders(corpus)[218]
    return mapped("bigcommerce", assemble(stored.body, stored.subs)), stored.subs["products"]


@respx.mock
async def test_bigcommerce_whole_order_ships_what_is_left_of_the_physical_products(corpus: Path) -> None:
    order, products = bc_order(corpus)
    respx.get(f"{BC_API}/v2/orders/218/products").mock(return_value=httpx.Response(200, content=products))
    respx.get(f"{BC_API}/v2/orders/218/shipments").mock(return_value=httpx.Response(204))
    created = respx.post(f"{BC_API}/v2/orders/218/shipments").mock(
        return_value=httpx.Response(201, json={"id": 7, "order_address_id": 170})
    )
    assert await bigc().push_fulfillment(order, event()) == "7"
    assert sent(created) == {
        "order_address_id": 170,
        "tracking_number": "1Z999",
        "shipping_provider": "ups",
        "tracking_carrier": "ups",
        "items": [{"order_product_id": 301, "quantity": 3}],  # 302 is digital
    }
    assert created.calls[0].request.headers["X-Auth-Token"] == "tok"


@respx.mock
async def test_bigcommerce_partial_shipments_per_address_and_an_unknown_carrier(corpus: Path) -> None:
    order, _ = bc_order(corpus)
    products = [
        {"id": 301, "quantity": 3, "quantity_shipped": 1, "order_address_id": 170, "type": "physical"},
        {"id": 302, "quantity": 1, "quantity_shipped": 0, "order_address_id": 171, "type": "physical"},
    ]
    respx.get(f"{BC_API}/v2/orders/218/products").mock(return_value=httpx.Response(200, json=products))
    respx.get(f"{BC_API}/v2/orders/218/shipments").mock(
        return_value=httpx.Response(200, json=[{"id": 6, "order_address_id": 171, "tracking_number": "1Z999"}])
    )
    created = respx.post(f"{BC_API}/v2/orders/218/shipments").mock(return_value=httpx.Response(201, json={"id": 8}))
    shipped = event([("1", "2"), ("2", "1")], carrier="Purolator")
    # address 171 already has this tracking number (a lost answer): only address 170 is shipped now
    assert await bigc().push_fulfillment(order, shipped) == "8,6"
    assert created.call_count == 1
    assert sent(created) == {
        "order_address_id": 170,
        "tracking_number": "1Z999",
        "shipping_provider": "",
        "tracking_carrier": "",
        "shipping_method": "Purolator",
        "items": [{"order_product_id": 301, "quantity": 2}],
    }


@respx.mock
async def test_bigcommerce_refuses_more_than_is_left_and_fractions(corpus: Path) -> None:
    order, products = bc_order(corpus)
    respx.get(f"{BC_API}/v2/orders/218/products").mock(return_value=httpx.Response(200, content=products))
    created = respx.post(f"{BC_API}/v2/orders/218/shipments")
    with pytest.raises(PushRejected, match="4 is more than the 3 left to ship"):
        await bigc().push_fulfillment(order, event([("1", "4")]))
    with pytest.raises(PushRejected, match="whole units"):
        await bigc().push_fulfillment(order, event([("1", "1.5")]))
    with pytest.raises(PushRejected, match="no line 9"):
        await bigc().push_fulfillment(order, event([("9", "1")]))
    assert not created.called


# Magento ----------------------------------------------------------------------------------------


def mage(**settings: Any) -> MagentoConnector:
    values = {
        "name": "mage",
        "kind": "magento",
        "base_url": "https://mage.example.test",
        "access_token": "integration",
        **settings,
    }
    return MagentoConnector(MagentoSettings.model_validate(values), RecordingIntake(), Path("."))


def mage_order(corpus: Path) -> Order:
    return mapped("magento", mage_fake.corpus_order(corpus).body)


@respx.mock
async def test_magento_partial_shipment_names_items_and_the_track(corpus: Path) -> None:
    listed = respx.get(f"{MAGE}/shipments").mock(
        return_value=httpx.Response(200, json={"items": [], "search_criteria": {}, "total_count": 0})
    )
    ship = respx.post(f"{MAGE}/order/3/ship").mock(return_value=httpx.Response(200, json=12))
    assert await mage().push_fulfillment(mage_order(corpus), event([("1", "1"), ("4", "1")], carrier="FedEx")) == "12"
    assert sent(ship) == {
        "notify": True,
        "items": [{"order_item_id": 3, "qty": 1}, {"order_item_id": 10, "qty": 1}],
        "tracks": [{"track_number": "1Z999", "title": "FedEx", "carrier_code": "fedex"}],
    }
    assert ship.calls[0].request.headers["Authorization"] == "Bearer integration"
    params = listed.calls[0].request.url.params
    assert params["searchCriteria[filter_groups][0][filters][0][field]"] == "order_id"
    assert params["searchCriteria[filter_groups][0][filters][0][value]"] == "3"


@respx.mock
async def test_magento_whole_order_and_an_unknown_carrier(corpus: Path) -> None:
    respx.get(f"{MAGE}/shipments").mock(return_value=httpx.Response(200, json={"items": [], "total_count": 0}))
    ship = respx.post(f"{MAGE}/order/3/ship").mock(return_value=httpx.Response(200, json="13"))
    assert await mage().push_fulfillment(mage_order(corpus), event(carrier="Purolator")) == "13"
    assert sent(ship) == {
        "notify": True,  # no items: Magento ships everything left
        "tracks": [{"track_number": "1Z999", "title": "Purolator", "carrier_code": "custom"}],
    }


@respx.mock
async def test_magento_existing_track_is_returned_and_a_refusal_is_final(corpus: Path) -> None:
    shipments = {"items": [{"entity_id": 40, "tracks": [{"track_number": "1Z999"}]}], "total_count": 1}
    respx.get(f"{MAGE}/shipments").mock(return_value=httpx.Response(200, json=shipments))
    ship = respx.post(f"{MAGE}/order/3/ship").mock(
        return_value=httpx.Response(400, json={"message": "The order does not allow a shipment to be created."})
    )
    assert await mage().push_fulfillment(mage_order(corpus), event()) == "40"
    assert not ship.called
    with pytest.raises(PushRefused, match="does not allow a shipment"):
        await mage().push_fulfillment(mage_order(corpus), event(tracking_number="1Z000"))


@respx.mock
async def test_magento_admin_token_is_renewed_for_the_push(corpus: Path) -> None:
    token = respx.post(f"{MAGE}/integration/admin/token").mock(
        side_effect=[httpx.Response(200, json="t1"), httpx.Response(200, json="t2")]
    )
    respx.get(f"{MAGE}/shipments").mock(
        side_effect=[httpx.Response(401, json={}), httpx.Response(200, json={"items": [], "total_count": 0})]
    )
    ship = respx.post(f"{MAGE}/order/3/ship").mock(return_value=httpx.Response(200, json=14))
    connector = mage(access_token=None, username="admin", password="pw")
    assert await connector.push_fulfillment(mage_order(corpus), event()) == "14"
    assert token.call_count == 2
    assert ship.calls[0].request.headers["Authorization"] == "Bearer t2"


# creating calls are retried only when the platform surely did not act on them -------------------


@respx.mock
async def test_a_shipment_post_is_retried_after_a_429_but_not_after_a_500(corpus: Path) -> None:
    order, products = bc_order(corpus)
    respx.get(f"{BC_API}/v2/orders/218/products").mock(return_value=httpx.Response(200, content=products))
    respx.get(f"{BC_API}/v2/orders/218/shipments").mock(return_value=httpx.Response(204))
    created = respx.post(f"{BC_API}/v2/orders/218/shipments").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "1"}),
            httpx.Response(500, json=[{"status": 500}]),
            httpx.Response(201, json={"id": 9}),
        ]
    )
    with pytest.raises(_http.ApiError, match="still answered HTTP 500 after 2 attempts") as failed:
        await bigc().push_fulfillment(order, event())
    assert not isinstance(failed.value, PushRefused)  # the stage tries again, looking first
    assert created.call_count == 2


@respx.mock
async def test_a_ship_call_is_not_retried_after_a_read_timeout_but_is_when_never_sent(corpus: Path) -> None:
    respx.get(f"{MAGE}/shipments").mock(return_value=httpx.Response(200, json={"items": [], "total_count": 0}))
    ship = respx.post(f"{MAGE}/order/3/ship").mock(side_effect=httpx.ReadTimeout("read timed out"))
    with pytest.raises(_http.ApiError, match="failed after 1 attempt: ReadTimeout"):
        await mage().push_fulfillment(mage_order(corpus), event())
    assert ship.call_count == 1
    ship.mock(side_effect=[httpx.ConnectError("refused"), httpx.Response(200, json=15)])
    assert await mage().push_fulfillment(mage_order(corpus), event()) == "15"
    assert ship.call_count == 3
