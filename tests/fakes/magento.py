"""A fake Magento 2 REST API: admin tokens from POST V1/integration/admin/token that expire (or are
revoked by the test), GET V1/orders with an updated_at filter (and a second `lt` group for a window's
end), pageSize/currentPage (and, like Magento, the last page again past the end), and 429 +
Retry-After on demand; shipments made with POST V1/order/{id}/ship and listed by order_id, recorded."""

from __future__ import annotations

import json
import math
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes._server import FakeBase, serve

USER, PASSWORD, INTEGRATION_TOKEN = "admin", "admin-pass-1", "integration-token"
REST = "/rest/default/V1"
_FILTER = "searchCriteria[filter_groups][0][filters][0]"


@dataclass
class StoredOrder:
    body: bytes  # the order object, exactly as served inside `items`
    entity_id: int
    updated_at: str


def corpus_order(corpus: Path) -> StoredOrder:
    body = (corpus / "channels" / "magento" / "rest-V1-orders-3-get-bundle-downloadable.json").read_bytes()
    return StoredOrder(body.strip(), 3, "2017-08-21 22:22:20")


def variant(order: StoredOrder, entity_id: int, updated_at: str) -> StoredOrder:
    """The same order bytes with another top-level entity_id, increment_id and updated_at."""
    body = re.sub(rb'\n  "entity_id": \d+,', f'\n  "entity_id": {entity_id},'.encode(), order.body)
    body = re.sub(rb'\n  "increment_id": "\d+",', f'\n  "increment_id": "{entity_id:09d}",'.encode(), body)
    body = re.sub(rb'\n  "updated_at": "[^"]+",', f'\n  "updated_at": "{updated_at}",'.encode(), body)
    return StoredOrder(body, entity_id, updated_at)


@dataclass
class FakeMagento(FakeBase):
    orders: list[StoredOrder] = field(default_factory=list)
    password: str = PASSWORD  # change it to make logins fail
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    shipments: list[dict[str, Any]] = field(default_factory=list)  # each: entity_id, order_id and the POST body

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(f"{REST}/integration/admin/token", self.admin_token)
        app.router.add_get(f"{REST}/orders", self.list_orders)
        app.router.add_get(f"{REST}/orders/{{id:\\d+}}", self.get_order)
        app.router.add_post(f"{REST}/order/{{id:\\d+}}/ship", self.ship)
        app.router.add_get(f"{REST}/shipments", self.list_shipments)
        return app

    async def ship(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        order_id = int(request.match_info["id"])
        if not any(o.entity_id == order_id for o in self.orders):
            self.log(request, 404)
            return web.json_response({"message": "The entity that was requested doesn't exist."}, status=404)
        if any(s["order_id"] == order_id and not s["body"].get("items") for s in self.shipments):
            self.log(request, 400)
            return web.json_response({"message": "The order does not allow a shipment to be created."}, status=400)
        body = await request.json()
        entity_id = 100 + len(self.shipments)
        self.shipments.append({"entity_id": entity_id, "order_id": order_id, "body": body})
        self.log(request, 200)
        return web.json_response(entity_id)

    async def list_shipments(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        query = request.query
        assert query.get(f"{_FILTER}[field]") == "order_id" and query.get(f"{_FILTER}[condition_type]") == "eq"
        wanted = int(query[f"{_FILTER}[value]"])
        items = [
            {"entity_id": s["entity_id"], "order_id": s["order_id"], "tracks": s["body"].get("tracks", [])}
            for s in self.shipments
            if s["order_id"] == wanted
        ]
        self.log(request, 200)
        return web.json_response({"items": items, "search_criteria": {}, "total_count": len(items)})

    def expire_tokens(self) -> None:
        self.tokens.clear()

    async def admin_token(self, request: web.Request) -> web.Response:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        given = await request.json()
        if given != {"username": USER, "password": self.password}:
            self.log(request, 401)
            return web.json_response({"message": "The account sign-in was incorrect."}, status=401)
        self.issued += 1
        token = f"admin-token-{self.issued}"
        self.tokens.add(token)
        self.log(request, 200)
        return web.json_response(token)

    def _refused(self, request: web.Request) -> web.Response | None:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.tokens and token != INTEGRATION_TOKEN:
            self.log(request, 401)
            return web.json_response({"message": "The consumer isn't authorized to access %resources."}, status=401)
        return None

    async def get_order(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        wanted = int(request.match_info["id"])
        found = [o for o in self.orders if o.entity_id == wanted]
        self.log(request, 200 if found else 404)
        if not found:
            return web.json_response({"message": "The entity that was requested doesn't exist."}, status=404)
        return web.Response(body=found[0].body, content_type="application/json")

    async def list_orders(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        query = request.query
        after = query.get(f"{_FILTER}[value]")
        assert query.get(f"{_FILTER}[field]") == "updated_at" and query.get(f"{_FILTER}[condition_type]") == "gt"
        chosen = sorted((o for o in self.orders if after is None or o.updated_at > after), key=lambda o: o.updated_at)
        until = "searchCriteria[filter_groups][1][filters][0]"
        if f"{until}[value]" in query:
            assert query[f"{until}[field]"] == "updated_at" and query[f"{until}[condition_type]"] == "lt"
            chosen = [o for o in chosen if o.updated_at < query[f"{until}[value]"]]
        size = int(query.get("searchCriteria[pageSize]", "20"))
        page = int(query.get("searchCriteria[currentPage]", "1"))
        last = max(1, math.ceil(len(chosen) / size))
        page = min(page, last)  # Magento answers the last page again past the end
        chunk = chosen[(page - 1) * size : page * size]
        criteria = json.dumps({"pageSize": size, "currentPage": page}).encode()
        body = b'{"items":[' + b",".join(o.body for o in chunk) + b'],"search_criteria":' + criteria
        body += b',"total_count":' + str(len(chosen)).encode() + b"}"
        self.log(request, 200)
        return web.Response(body=body, content_type="application/json")


@asynccontextmanager
async def running(fake: FakeMagento) -> AsyncIterator[str]:
    async with serve(fake.app()) as url:
        yield url
