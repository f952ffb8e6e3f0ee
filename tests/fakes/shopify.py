"""A fake Shopify Admin API for one shop (written for these tests, serving corpus orders).

- POST /admin/api/{version}/graphql.json, dispatched on the operation name:
  UpdatedOrders (orders by updatedAt with `updated_at:>'…'`, cursor pages, cost + throttleStatus),
  OrderFulfillmentOrders, FulfillmentCreate (recorded; remaining quantities go down),
  WebhookSubscriptions, WebhookSubscriptionCreate, WebhookSubscriptionDelete.
- GET /admin/api/{version}/orders/{id}.json: the REST order, `{"order": {...}}`, with
  X-Shopify-Shop-Api-Call-Limit.
- `graphql_throttled` GraphQL answers owed (a THROTTLED error with the bucket empty), and 429 + Retry-After
  through FakeBase. Every call must carry X-Shopify-Access-Token; with `revoked` set, every call answers 401.
"""

from __future__ import annotations

import base64
import copy
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes._server import FakeBase, serve

TOKEN = "shpat_fake_token"
VERSION = "2025-01"
_OPERATION = re.compile(r"^\s*(?:query|mutation)\s+(\w+)")
_AFTER = re.compile(r"updated_at:>'([^']+)'")


def corpus_order(corpus: Path, name: str = "shopify_python_api-order.json") -> dict[str, Any]:
    data: dict[str, Any] = json.loads((corpus / "channels" / "shopify" / name).read_bytes())
    return dict(data["order"])


def variant(order: dict[str, Any], order_id: int, updated_at: str, **changes: Any) -> dict[str, Any]:
    """A copy of a corpus order under another id and change time (the corpus orders all share one id)."""
    result = copy.deepcopy(order)
    result.update(id=order_id, updated_at=updated_at, admin_graphql_api_id=f"gid://shopify/Order/{order_id}")
    result.update(changes)
    return result


def utc_z(text: str) -> str:
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakeShopify(FakeBase):
    orders: list[dict[str, Any]] = field(default_factory=list)
    graphql_throttled: int = 0  # GraphQL answers still owed as THROTTLED
    available: float = 1000.0  # currentlyAvailable reported after each query
    restore_rate: float = 50.0
    query_cost: int = 12
    subscriptions: dict[str, dict[str, str]] = field(default_factory=dict)  # id -> {topic, callbackUrl}
    fulfillments: list[dict[str, Any]] = field(default_factory=list)  # fulfillmentCreate inputs, in order
    graphql_calls: list[dict[str, Any]] = field(default_factory=list)
    revoked: bool = False  # the app was uninstalled (its token revoked): every call answers 401
    _next_id: int = 1000
    _remaining: dict[str, int] = field(default_factory=dict)  # fulfillment order line item id -> remaining
    _made: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # order id -> fulfillments

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(r"/admin/api/{version}/graphql.json", self.graphql)
        app.router.add_get(r"/admin/api/{version}/orders/{id:\d+}.json", self.rest_order)
        return app

    def delete_subscription(self, topic: str) -> None:
        for sub_id, sub in list(self.subscriptions.items()):
            if sub["topic"] == topic:
                del self.subscriptions[sub_id]

    def _new_id(self, kind: str) -> str:
        self._next_id += 1
        return f"gid://shopify/{kind}/{self._next_id}"

    def _authorized(self, request: web.Request) -> bool:
        return not self.revoked and request.headers.get("X-Shopify-Access-Token") == TOKEN

    # REST ---------------------------------------------------------------------------------------
    async def rest_order(self, request: web.Request) -> web.Response:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        if not self._authorized(request):
            self.log(request, 401)
            return web.json_response({"errors": "[API] Invalid API key or access token"}, status=401)
        order_id = int(request.match_info["id"])
        found = next((o for o in self.orders if o["id"] == order_id), None)
        status = 200 if found is not None else 404
        self.log(request, status)
        if found is None:
            return web.json_response({"errors": "Not Found"}, status=404)
        return web.json_response({"order": found}, headers={"X-Shopify-Shop-Api-Call-Limit": "1/40"})

    # GraphQL ------------------------------------------------------------------------------------
    async def graphql(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            self.log(request, 401)
            return web.json_response({"errors": "[API] Invalid API key or access token"}, status=401)
        body = await request.json()
        self.graphql_calls.append(body)
        self.log(request, 200)
        match = _OPERATION.match(body["query"])
        operation = match.group(1) if match else ""
        if self.graphql_throttled > 0:
            self.graphql_throttled -= 1
            return web.json_response(
                {
                    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                    "extensions": {"cost": self._cost(available=0.0)},
                }
            )
        variables = body.get("variables") or {}
        handler = {
            "UpdatedOrders": self._orders,
            "OrderFulfillmentOrders": self._fulfillment_orders,
            "FulfillmentCreate": self._fulfillment_create,
            "WebhookSubscriptions": self._subscriptions,
            "WebhookSubscriptionCreate": self._subscription_create,
            "WebhookSubscriptionDelete": self._subscription_delete,
        }.get(operation)
        if handler is None:
            return web.json_response({"errors": [{"message": f"unknown operation {operation!r}"}]})
        return web.json_response({"data": handler(variables), "extensions": {"cost": self._cost()}})

    def _cost(self, available: float | None = None) -> dict[str, Any]:
        return {
            "requestedQueryCost": self.query_cost,
            "actualQueryCost": self.query_cost if available is None else None,
            "throttleStatus": {
                "maximumAvailable": 1000.0,
                "currentlyAvailable": self.available if available is None else available,
                "restoreRate": self.restore_rate,
            },
        }

    def _orders(self, variables: dict[str, Any]) -> dict[str, Any]:
        match = _AFTER.search(variables["query"])
        after = match.group(1) if match else None
        selected = sorted(
            (o for o in self.orders if after is None or utc_z(o["updated_at"]) > after),
            key=lambda o: (utc_z(o["updated_at"]), o["id"]),
        )
        start = int(base64.b64decode(variables["after"]).decode()) if variables.get("after") else 0
        page = selected[start : start + int(variables["first"])]
        end = start + len(page)
        return {
            "orders": {
                "pageInfo": {
                    "hasNextPage": end < len(selected),
                    "endCursor": base64.b64encode(str(end).encode()).decode() if page else None,
                },
                "nodes": [
                    {
                        "id": f"gid://shopify/Order/{o['id']}",
                        "legacyResourceId": str(o["id"]),
                        "updatedAt": utc_z(o["updated_at"]),
                    }
                    for o in page
                ],
            }
        }

    def _fulfillment_orders(self, variables: dict[str, Any]) -> dict[str, Any]:
        order_id = int(str(variables["id"]).rsplit("/", 1)[1])
        order = next((o for o in self.orders if o["id"] == order_id), None)
        if order is None:
            return {"order": None}
        items: list[dict[str, Any]] = []
        open_left = False
        for line in order.get("line_items", []):
            item_id = f"gid://shopify/FulfillmentOrderLineItem/{line['id']}"
            remaining = self._remaining.setdefault(item_id, int(line["quantity"]))
            open_left = open_left or remaining > 0
            items.append(
                {
                    "id": item_id,
                    "remainingQuantity": remaining,
                    "lineItem": {"id": f"gid://shopify/LineItem/{line['id']}"},
                }
            )
        return {
            "order": {
                "id": variables["id"],
                "fulfillments": self._made.get(order_id, []),
                "fulfillmentOrders": {
                    "nodes": [
                        {
                            "id": f"gid://shopify/FulfillmentOrder/{order_id}",
                            "status": "OPEN" if open_left else "CLOSED",
                            "lineItems": {"nodes": items},
                        }
                    ]
                },
            }
        }

    def _fulfillment_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        given = variables["fulfillment"]
        self.fulfillments.append(given)
        fulfillment_id = self._new_id("Fulfillment")
        order_id = 0
        for group in given["lineItemsByFulfillmentOrder"]:
            order_id = int(group["fulfillmentOrderId"].rsplit("/", 1)[1])
            items = group.get("fulfillmentOrderLineItems")
            if items is None:  # the whole fulfillment order
                for key in [k for k in self._remaining if self._belongs(k, order_id)]:
                    self._remaining[key] = 0
            else:
                for item in items:
                    self._remaining[item["id"]] -= int(item["quantity"])
        tracking = given.get("trackingInfo") or {}
        made = {"id": fulfillment_id, "trackingInfo": [{"number": tracking.get("number")}] if tracking else []}
        self._made.setdefault(order_id, []).append(made)
        return {"fulfillmentCreate": {"fulfillment": {"id": fulfillment_id, "status": "SUCCESS"}, "userErrors": []}}

    def _belongs(self, item_id: str, order_id: int) -> bool:
        order = next((o for o in self.orders if o["id"] == order_id), None)
        lines = {f"gid://shopify/FulfillmentOrderLineItem/{li['id']}" for li in (order or {}).get("line_items", [])}
        return item_id in lines

    def _subscriptions(self, variables: dict[str, Any]) -> dict[str, Any]:
        return {
            "webhookSubscriptions": {
                "pageInfo": {"hasNextPage": False, "endCursor": None},
                "nodes": [
                    {
                        "id": sub_id,
                        "topic": sub["topic"],
                        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub["callbackUrl"]},
                    }
                    for sub_id, sub in self.subscriptions.items()
                ],
            }
        }

    def _subscription_create(self, variables: dict[str, Any]) -> dict[str, Any]:
        sub_id = self._new_id("WebhookSubscription")
        self.subscriptions[sub_id] = {"topic": variables["topic"], "callbackUrl": variables["sub"]["callbackUrl"]}
        return {
            "webhookSubscriptionCreate": {
                "webhookSubscription": {"id": sub_id, "topic": variables["topic"]},
                "userErrors": [],
            }
        }

    def _subscription_delete(self, variables: dict[str, Any]) -> dict[str, Any]:
        self.subscriptions.pop(variables["id"], None)
        return {"webhookSubscriptionDelete": {"deletedWebhookSubscriptionId": variables["id"], "userErrors": []}}


@asynccontextmanager
async def running(fake: FakeShopify) -> AsyncIterator[str]:
    async with serve(fake.app()) as url:
        yield url
