"""The Shopify connector's API side on its own (respx stands in for the shop): GraphQL request shapes and
headers, cursor pagination, waits computed from the query cost and throttle status, THROTTLED and 429
retries, the cursor, fulfillmentCreate inputs, webhook subscriptions and privacy payloads.

GraphQL answers here are written for these tests, in the shape Shopify documents."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from pydantic import ValidationError

from orderhub.connectors import _http
from orderhub.connectors._http import Api
from orderhub.connectors._shopify_api import Bucket, ShopifyApi, ShopifyApiError, rest_wait
from orderhub.connectors._shopify_fulfill import FulfillmentRefused, fulfillment_input
from orderhub.connectors._shopify_orders import ORDERS_QUERY
from orderhub.connectors._shopify_webhooks import SEEN_KEY
from orderhub.connectors.shopify import ShopifyConnector, ShopifySettings
from orderhub.mapping import MappingContext, builtin_mapping, map_payload
from orderhub.model.events import FulfillmentEvent
from orderhub.model.order import Order
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import StoredRaw
from tests.fakes.intake import RecordingIntake

SHOP = "acme.myshopify.com"
BASE = f"https://{SHOP}"
GRAPHQL = f"{BASE}/admin/api/2025-01/graphql.json"
HOOK_URL = "https://hub.example.test/webhooks/shop"


def connector(intake: RecordingIntake | None = None, **settings: Any) -> ShopifyConnector:
    values: dict[str, Any] = {
        "name": "shop",
        "kind": "shopify",
        "shop": SHOP,
        "access_token": "shpat_unit",
        "api_version": "2025-01",
        "webhook_secret": "hook-secret",
        "webhook_url": HOOK_URL,
        "start_from": "2026-11-01T00:00:00Z",
        "overlap_seconds": 60,
        "page_size": 2,
        **settings,
    }
    return ShopifyConnector(ShopifySettings.model_validate(values), intake or RecordingIntake(), Path("."))


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    slept: list[float] = []

    async def record(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(_http, "_sleep", record)
    return slept


def cost(available: float, requested: int = 10, restore: float = 50.0) -> dict[str, Any]:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": restore},
        }
    }


def orders_page(nodes: list[tuple[str, str]], next_cursor: str | None, available: float = 990.0) -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "data": {
                "orders": {
                    "pageInfo": {"hasNextPage": next_cursor is not None, "endCursor": next_cursor},
                    "nodes": [
                        {"id": f"gid://shopify/Order/{i}", "legacyResourceId": i, "updatedAt": at} for i, at in nodes
                    ],
                }
            },
            "extensions": cost(available, requested=52),
        },
    )


def rest(order_id: str) -> httpx.Response:
    return httpx.Response(
        200,
        json={"order": {"id": int(order_id), "currency": "USD", "total_price": "1.00"}},
        headers={"X-Shopify-Shop-Api-Call-Limit": "1/40"},
    )


# settings -------------------------------------------------------------------------------------------


def test_webhook_secret_alone_is_webhook_only() -> None:
    shop = ShopifyConnector(
        ShopifySettings.model_validate({"name": "s", "kind": "shopify", "webhook_secret": "x"}),
        RecordingIntake(),
        Path("."),
    )
    assert shop.has_api is False and shop.pushes_tracking is False
    assert shop.startup_notes() == ["webhook-only (no API credentials configured)"]


def test_settings_require_a_webhook_url_to_manage_subscriptions_and_a_recent_version() -> None:
    with pytest.raises(ValidationError, match="webhook_url is required"):
        connector(webhook_url=None)
    assert connector(webhook_url=None, manage_webhooks=False).has_api
    with pytest.raises(ValidationError, match="2023-07 or later"):
        connector(api_version="2023-04")
    with pytest.raises(ValidationError, match=r"myshopify\.com"):
        connector(shop="acme.example.com")
    with pytest.raises(ValidationError, match="https://"):
        connector(webhook_url="http://hub.example.test/webhooks/shop")
    with pytest.raises(ValidationError, match=r"not Shopify webhook topics .*: ORDERS_CREATE"):
        connector(webhook_topics=["orders/create", "ORDERS_CREATE"])
    with pytest.raises(ValidationError, match="access_token needs shop"):
        connector(shop=None)
    assert connector().settings.api_base == BASE
    assert connector(base_url="http://127.0.0.1:9/").settings.api_base == "http://127.0.0.1:9"


def test_the_access_token_never_shows_in_settings_output() -> None:
    settings = connector().settings
    assert "shpat_unit" not in repr(settings) + str(settings.model_dump())


# the poll -------------------------------------------------------------------------------------------


@respx.mock
async def test_poll_pages_through_graphql_fetches_rest_orders_and_saves_the_cursor(waits: list[float]) -> None:
    graphql = respx.post(GRAPHQL).mock(
        side_effect=[
            orders_page([("101", "2026-11-02T10:00:00Z"), ("102", "2026-11-02T11:00:00Z")], "c2"),
            orders_page([("103", "2026-11-03T09:30:00Z")], None),
        ]
    )
    orders = respx.get(url__regex=rf"{BASE}/admin/api/2025-01/orders/\d+\.json").mock(
        side_effect=lambda request: rest(request.url.path.rsplit("/", 1)[1].removesuffix(".json"))
    )
    intake = RecordingIntake()
    shop = connector(intake)
    async with shop.client() as client:
        assert await shop.poller().poll_once(ShopifyApi(Api(client), "2025-01")) == 3
    bodies = [json.loads(call.request.content) for call in graphql.calls]
    assert [b["query"] for b in bodies] == [ORDERS_QUERY, ORDERS_QUERY]
    assert "sortKey: UPDATED_AT" in ORDERS_QUERY and "pageInfo { hasNextPage endCursor }" in ORDERS_QUERY
    assert [b["variables"] for b in bodies] == [
        {"first": 2, "after": None, "query": "updated_at:>'2026-10-31T23:59:00Z'"},  # start_from less 60 s
        {"first": 2, "after": "c2", "query": "updated_at:>'2026-10-31T23:59:00Z'"},
    ]
    every_request = [call.request for call in graphql.calls] + [call.request for call in orders.calls]
    assert all(r.headers["X-Shopify-Access-Token"] == "shpat_unit" for r in every_request)
    assert [call.request.url.path for call in orders.calls] == [
        f"/admin/api/2025-01/orders/{i}.json" for i in ("101", "102", "103")
    ]
    assert [(raw.transport, raw.dedupe_key) for raw in intake.accepted] == [
        ("poll", "poll:101:2026-11-02T10:00:00Z"),
        ("poll", "poll:102:2026-11-02T11:00:00Z"),
        ("poll", "poll:103:2026-11-03T09:30:00Z"),
    ]
    assert intake.accepted[0].body == rest("101").content  # the REST answer as received
    # the cursor moves after each page, once the page's orders are accepted
    assert [kind for kind, _ in intake.events] == [
        "checkpoint",  # start_from, saved at first load
        "accept",
        "accept",
        "checkpoint",
        "accept",
        "checkpoint",
    ]
    assert intake.checkpoints[("shop", "modified_since")] == "2026-11-03T09:30:00+00:00"
    assert waits == []  # a full bucket: no waiting


@respx.mock
async def test_a_low_bucket_makes_the_next_query_wait_for_its_cost(waits: list[float]) -> None:
    respx.post(GRAPHQL).mock(
        side_effect=[
            # 52 points requested, 2 left, 50 restored per second: the next call waits about (52 - 2) / 50 s
            orders_page([("101", "2026-11-02T10:00:00Z")], "c2", available=2.0),
            orders_page([], None),
        ]
    )
    respx.get(f"{BASE}/admin/api/2025-01/orders/101.json").mock(return_value=rest("101"))
    shop = connector()
    async with shop.client() as client:
        await shop.poller().poll_once(ShopifyApi(Api(client), "2025-01"))
    assert len(waits) == 1
    assert waits[0] == pytest.approx(1.0, abs=0.05)


def test_bucket_arithmetic() -> None:
    bucket = Bucket(available=10.0, maximum=100.0, restore_rate=5.0, at=0.0)
    assert bucket.wait_for(30.0, now=0.0) == 4.0  # 20 points short at 5/s
    assert bucket.wait_for(30.0, now=2.0) == 2.0  # 10 refilled meanwhile
    assert bucket.wait_for(30.0, now=10.0) == 0.0
    assert bucket.wait_for(500.0, now=0.0) == 18.0  # never more than the bucket holds
    assert rest_wait("39/40") == 1.5 and rest_wait("10/40") == 0.0 and rest_wait(None) == 0.0


async def test_a_query_not_sent_yet_waits_for_the_dearest_cost_seen() -> None:
    async with httpx.AsyncClient() as client:
        shop = ShopifyApi(Api(client), "2025-01")
        assert shop.wait_before("query A { a }") == 0.0  # nothing known yet
        shop.bucket = Bucket(available=0.0, maximum=1000.0, restore_rate=50.0, at=asyncio.get_running_loop().time())
        shop._costs = {"query A { a }": 100.0, "query B { b }": 10.0}
        assert shop.wait_before("query B { b }") == pytest.approx(0.2, abs=0.05)
        assert shop.wait_before("query C { c }") == pytest.approx(2.0, abs=0.05)


@respx.mock
async def test_throttled_error_is_retried_after_the_wait_its_cost_gives(waits: list[float]) -> None:
    route = respx.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(
                200,
                json={
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": cost(0.0, requested=150, restore=100.0),
                },
            ),
            httpx.Response(200, json={"data": {"shop": {"name": "Acme"}}, "extensions": cost(850.0)}),
        ]
    )
    shop = connector()
    async with shop.client() as client:
        data = await ShopifyApi(Api(client), "2025-01").graphql("query Shop { shop { name } }")
    assert data == {"shop": {"name": "Acme"}}
    assert route.call_count == 2
    assert waits == [1.5]  # 150 points at 100/s


@respx.mock
async def test_graphql_429_waits_retry_after_and_errors_raise(waits: list[float]) -> None:
    respx.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "4"}),
            httpx.Response(200, json={"errors": [{"message": "Field 'nope' doesn't exist on type 'Shop'"}]}),
        ]
    )
    shop = connector()
    async with shop.client() as client:
        with pytest.raises(ShopifyApiError, match="Field 'nope' doesn't exist"):
            await ShopifyApi(Api(client), "2025-01").graphql("query Shop { shop { nope } }")
    assert waits == [4.0]


@respx.mock
async def test_cursor_stays_when_an_order_cannot_be_made_durable(waits: list[float]) -> None:
    respx.post(GRAPHQL).mock(
        return_value=orders_page([("101", "2026-11-02T10:00:00Z"), ("102", "2026-11-02T11:00:00Z")], None)
    )
    respx.get(url__regex=rf"{BASE}/admin/api/2025-01/orders/\d+\.json").mock(return_value=rest("101"))
    intake = RecordingIntake(fail_on_accept=2)
    shop = connector(intake)
    async with shop.client() as client:
        with pytest.raises(RuntimeError, match="store unavailable"):
            await shop.poller().poll_once(ShopifyApi(Api(client), "2025-01"))
    assert intake.checkpoints[("shop", "modified_since")] == "2026-11-01T00:00:00+00:00"  # still start_from


@respx.mock
async def test_an_order_deleted_before_it_is_read_is_passed_over(waits: list[float]) -> None:
    respx.post(GRAPHQL).mock(return_value=orders_page([("101", "2026-11-02T10:00:00Z")], None))
    respx.get(f"{BASE}/admin/api/2025-01/orders/101.json").mock(return_value=httpx.Response(404, json={}))
    intake = RecordingIntake()
    shop = connector(intake)
    async with shop.client() as client:
        assert await shop.poller().poll_once(ShopifyApi(Api(client), "2025-01")) == 0
    assert intake.accepted == []
    assert intake.checkpoints[("shop", "modified_since")] == "2026-11-02T10:00:00+00:00"


# fulfillment ----------------------------------------------------------------------------------------


def canonical(corpus: Path) -> Order:
    body = (corpus / "channels" / "shopify" / "shopify_python_api-order.json").read_bytes()
    ctx = MappingContext(
        connector="shop", account="shop", channel="shopify", received_at=datetime.now(UTC), raw_ref="sha256:0"
    )
    [order] = map_payload(body, builtin_mapping("shopify"), ctx)
    return order


def order_node(remaining: dict[str, int], fulfillments: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "id": "gid://shopify/Order/450789469",
        "fulfillments": fulfillments or [],
        "fulfillmentOrders": {
            "nodes": [
                {"id": "gid://shopify/FulfillmentOrder/9", "status": "CLOSED", "lineItems": {"nodes": []}},
                {
                    "id": "gid://shopify/FulfillmentOrder/1",
                    "status": "OPEN",
                    "lineItems": {
                        "nodes": [
                            {
                                "id": f"gid://shopify/FulfillmentOrderLineItem/{line}",
                                "remainingQuantity": left,
                                "lineItem": {"id": f"gid://shopify/LineItem/{line}"},
                            }
                            for line, left in remaining.items()
                        ]
                    },
                },
            ]
        },
    }


def event(**changes: Any) -> FulfillmentEvent:
    values: dict[str, Any] = {
        "order_id": "shop:450789469",
        "fulfillment_id": "WH-1",
        "status": "shipped",
        "carrier": "UPS",
        "tracking_number": "1Z999",
        "tracking_url": "https://ups.example/1Z999",
        **changes,
    }
    return FulfillmentEvent.model_validate(values)


@pytest.mark.corpus
def test_fulfillment_input_whole_and_partial(corpus: Path) -> None:
    order = canonical(corpus)
    assert [(line.line_number, line.external_id) for line in order.lines][:2] == [
        ("1", "466157049"),
        ("2", "518995019"),
    ]
    node = order_node({"466157049": 1, "518995019": 1, "703073504": 1})
    whole = fulfillment_input(order, event(), node)
    assert whole == {
        "lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1"}],
        "notifyCustomer": True,
        "trackingInfo": {"company": "UPS", "number": "1Z999", "url": "https://ups.example/1Z999"},
    }
    partial = fulfillment_input(order, event(lines=[{"line_number": "2", "quantity": "1"}], tracking_url=None), node)
    assert partial["lineItemsByFulfillmentOrder"] == [
        {
            "fulfillmentOrderId": "gid://shopify/FulfillmentOrder/1",
            "fulfillmentOrderLineItems": [{"id": "gid://shopify/FulfillmentOrderLineItem/518995019", "quantity": 1}],
        }
    ]
    assert partial["trackingInfo"] == {"company": "UPS", "number": "1Z999"}
    with pytest.raises(FulfillmentRefused, match="1 more than remains"):
        fulfillment_input(order, event(lines=[{"line_number": "2", "quantity": "2"}]), node)
    with pytest.raises(FulfillmentRefused, match="no line 7"):
        fulfillment_input(order, event(lines=[{"line_number": "7", "quantity": "1"}]), node)
    with pytest.raises(FulfillmentRefused, match="whole units"):
        fulfillment_input(order, event(lines=[{"line_number": "1", "quantity": "0.5"}]), node)
    assert event(lines=[{"line_number": "1", "quantity": "2"}]).lines[0].quantity == Decimal("2")


@pytest.mark.corpus
@respx.mock
async def test_push_fulfillment_queries_fulfillment_orders_then_creates(corpus: Path, waits: list[float]) -> None:
    route = respx.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json={"data": {"order": order_node({"466157049": 1})}, "extensions": cost(900.0)}),
            httpx.Response(
                200,
                json={
                    "data": {
                        "fulfillmentCreate": {
                            "fulfillment": {"id": "gid://shopify/Fulfillment/77", "status": "SUCCESS"},
                            "userErrors": [],
                        }
                    }
                },
            ),
        ]
    )
    shop = connector()
    assert await shop.push_fulfillment(canonical(corpus), event()) == "gid://shopify/Fulfillment/77"
    first, second = (json.loads(call.request.content) for call in route.calls)
    assert first["variables"] == {"id": "gid://shopify/Order/450789469"}
    assert "fulfillmentOrders" in first["query"]
    assert second["query"].startswith("mutation FulfillmentCreate")
    assert second["variables"]["fulfillment"]["trackingInfo"]["number"] == "1Z999"
    assert all(call.request.headers["X-Shopify-Access-Token"] == "shpat_unit" for call in route.calls)


@pytest.mark.corpus
@respx.mock
async def test_push_finds_a_fulfillment_already_made_with_the_tracking_number(corpus: Path, waits: list[float]) -> None:
    made = [{"id": "gid://shopify/Fulfillment/5", "trackingInfo": [{"number": "1Z999"}]}]
    route = respx.post(GRAPHQL).mock(
        return_value=httpx.Response(200, json={"data": {"order": order_node({"466157049": 0}, made)}})
    )
    assert await connector().push_fulfillment(canonical(corpus), event()) == "gid://shopify/Fulfillment/5"
    assert route.call_count == 1  # no fulfillmentCreate


@pytest.mark.corpus
@respx.mock
async def test_fulfillment_user_errors_raise(corpus: Path, waits: list[float]) -> None:
    respx.post(GRAPHQL).mock(
        side_effect=[
            httpx.Response(200, json={"data": {"order": order_node({"466157049": 1})}}),
            httpx.Response(
                200,
                json={
                    "data": {
                        "fulfillmentCreate": {
                            "fulfillment": None,
                            "userErrors": [{"field": ["fulfillment"], "message": "is already fulfilled"}],
                        }
                    }
                },
            ),
        ]
    )
    with pytest.raises(FulfillmentRefused, match="fulfillment: is already fulfilled"):
        await connector().push_fulfillment(canonical(corpus), event())


# webhook subscriptions ------------------------------------------------------------------------------


@respx.mock
async def test_missing_subscriptions_are_created_and_a_deleted_one_reported_again(waits: list[float]) -> None:
    listed = {
        "data": {
            "webhookSubscriptions": {
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "nodes": [
                    {
                        "id": "gid://shopify/WebhookSubscription/1",
                        "topic": "ORDERS_CREATE",
                        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": HOOK_URL},
                    },
                    {  # someone else's address: does not count
                        "id": "gid://shopify/WebhookSubscription/2",
                        "topic": "ORDERS_PAID",
                        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": "https://other.example/"},
                    },
                ],
            }
        }
    }
    created = {"data": {"webhookSubscriptionCreate": {"webhookSubscription": {"id": "x"}, "userErrors": []}}}

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        return httpx.Response(200, json=listed if body["query"].startswith("query") else created)

    route = respx.post(GRAPHQL).mock(side_effect=answer)
    intake = RecordingIntake()
    intake.checkpoints[("shop", SEEN_KEY)] = '["orders/paid"]'  # an earlier run had it
    shop = connector(intake, webhook_topics=["orders/create", "orders/paid", "refunds/create"])
    async with shop.client() as client:
        result = await shop.subscriptions().reconcile(ShopifyApi(Api(client), "2025-01"))
    assert (result.present, result.created, result.recreated) == (
        ["orders/create"],
        ["refunds/create"],
        ["orders/paid"],
    )
    creates = [json.loads(c.request.content)["variables"] for c in route.calls][1:]
    assert creates == [
        {"topic": "ORDERS_PAID", "sub": {"callbackUrl": HOOK_URL, "format": "JSON"}},
        {"topic": "REFUNDS_CREATE", "sub": {"callbackUrl": HOOK_URL, "format": "JSON"}},
    ]
    assert json.loads(intake.checkpoints[("shop", SEEN_KEY)]) == ["orders/create", "orders/paid", "refunds/create"]


def test_privacy_topics_are_subscribed_only_when_asked() -> None:
    assert "customers/redact" not in connector().subscriptions().topics
    assert connector(subscribe_privacy_topics=True).subscriptions().topics[-3:] == [
        "customers/data_request",
        "customers/redact",
        "shop/redact",
    ]


# privacy payloads -----------------------------------------------------------------------------------


def stored(topic: str, body: dict[str, Any]) -> StoredRaw:
    headers = {"X-Shopify-Topic": topic}
    return StoredRaw(1, "0", "shop", "shopify", "webhook", datetime.now(UTC), headers, json.dumps(body).encode(), "")


def test_privacy_webhooks_are_read_and_kept_without_an_order() -> None:
    shop = connector()
    redact = stored(
        "customers/redact",
        {
            "shop_id": 954889,
            "shop_domain": SHOP,
            "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
            "orders_to_redact": [299938, 280263],
        },
    )
    request = shop.privacy_request(redact)
    assert request is not None
    assert (request.action, request.customer_id, request.customer_email, request.order_ids) == (
        "redact_customer",
        "191167",
        "john@example.com",
        ("299938", "280263"),
    )
    data = shop.privacy_request(
        stored(
            "customers/data_request",
            {"shop_domain": SHOP, "customer": {"id": 1}, "orders_requested": [5], "data_request": {"id": 9999}},
        )
    )
    assert data is not None and (data.action, data.request_id, data.order_ids) == ("data_request", "9999", ("5",))
    whole = shop.privacy_request(stored("shop/redact", {"shop_id": 954889, "shop_domain": SHOP}))
    assert whole is not None and whole.action == "redact_shop"
    assert shop.privacy_request(stored("orders/create", {})) is None
    with pytest.raises(ValueError, match="names no customer"):
        shop.privacy_request(stored("customers/redact", {"shop_domain": SHOP}))
    assert shop.may_be_privacy({"X-Shopify-Topic": "shop/redact"}) and not shop.may_be_privacy({})
    with pytest.raises(KeptWithoutOrder):
        shop.mapping_for(stored("customers/redact", {}))
    assert shop.mapping_for(stored("refunds/create", {})).name == "shopify-refund"
    assert shop.mapping_for(stored("orders/fulfilled", {})).name == "shopify"


@pytest.mark.corpus
def test_payload_redaction_keeps_money_products_and_ids(corpus: Path) -> None:
    body = (corpus / "channels" / "shopify" / "shopify_python_api-order.json").read_bytes()
    redacted = connector().redact_payload(body)
    assert redacted is not None
    for personal in (b"bob.norman@hostmail.com", b"Chestnut Street 92", b"Bob", b"555-625-1199", b"Louisville"):
        assert personal in body and personal not in redacted
    before, after = json.loads(body)["order"], json.loads(redacted)["order"]
    assert b'"total_price":"409.94"' in redacted and b'"rate":0.06' in redacted  # written as received
    assert after["line_items"] == before["line_items"] and after["id"] == before["id"]
    assert after["customer"]["id"] == before["customer"]["id"]
    assert after["shipping_address"]["country_code"] == before["shipping_address"]["country_code"]
    assert set(after["client_details"].values()) == {None}
    assert connector().redact_payload(b"not json") is None


@respx.mock
async def test_an_order_version_read_once_is_not_read_again_for_the_overlap(waits: list[float]) -> None:
    page = [("101", "2026-11-02T10:00:00Z")]
    respx.post(GRAPHQL).mock(
        side_effect=[
            orders_page(page, None),
            orders_page(page, None),
            orders_page([("101", "2026-11-02T12:00:00Z")], None),
        ]
    )
    order = respx.get(f"{BASE}/admin/api/2025-01/orders/101.json").mock(return_value=rest("101"))
    intake = RecordingIntake()
    shop = connector(intake)
    poller = shop.poller()
    async with shop.client() as client:
        api = ShopifyApi(Api(client), "2025-01")
        assert [await poller.poll_once(api) for _ in range(3)] == [1, 0, 1]  # the third one is a new version
    assert order.call_count == 2
    assert [raw.dedupe_key for raw in intake.accepted] == [
        "poll:101:2026-11-02T10:00:00Z",
        "poll:101:2026-11-02T12:00:00Z",
    ]
