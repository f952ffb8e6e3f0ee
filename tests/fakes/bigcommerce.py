"""A fake BigCommerce v2 Orders API: X-Auth-Token, GET /stores/{hash}/v2/orders (min_date_modified,
max_date_modified, sort, page/limit, 204 when empty), the order and its products, shipping addresses,
coupons and taxes (204 when empty, as v2 answers), 429 + Retry-After on demand and 401 once the token is
revoked; order shipments (created and listed, checked against the order's products) and v3 hooks, all
recorded."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes._server import FakeBase, serve

STORE, TOKEN = "abc123", "fake-token"
OURS = Path(__file__).resolve().parent.parent / "fixtures" / "bigcommerce"
SUBS = ("products", "shipping_addresses", "coupons", "taxes")


@dataclass
class StoredOrder:
    body: bytes  # GET /v2/orders/{id}, exactly as served
    subs: dict[str, bytes]  # sub-resource name -> body; b"[]" is answered 204

    @property
    def modified(self) -> datetime:
        return parsedate_to_datetime(json.loads(self.body)["date_modified"])


def corpus_orders(corpus: Path) -> dict[int, StoredOrder]:
    """Orders 218 and 247 from the corpus, with the sub-resources the corpus or tests/fixtures have."""
    bc = corpus / "channels" / "bigcommerce"
    products_247 = b"[" + (bc / "v2-order-247-custom-product.json").read_bytes() + b","
    products_247 += (bc / "v2-order-247-product-with-variants.json").read_bytes() + b"]"
    return {
        218: StoredOrder(
            (bc / "v2-order-218-get.json").read_bytes(),
            {
                "products": (OURS / "order-218-products.json").read_bytes(),
                "shipping_addresses": (OURS / "order-218-shipping-addresses.json").read_bytes(),
                "coupons": (OURS / "order-218-coupons.json").read_bytes(),
                "taxes": (OURS / "order-218-taxes.json").read_bytes(),
            },
        ),
        247: StoredOrder(
            (bc / "v2-order-247-multiple-items.json").read_bytes(),
            {
                "products": products_247,
                "shipping_addresses": (OURS / "order-247-shipping-addresses.json").read_bytes(),
                "coupons": b"[]",
                "taxes": (OURS / "order-247-taxes.json").read_bytes(),
            },
        ),
    }


def _min_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return parsedate_to_datetime(text)


@dataclass
class FakeBigCommerce(FakeBase):
    orders: dict[int, StoredOrder] = field(default_factory=dict)
    shipments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # order id -> shipments created
    hooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    hook_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (method, body)
    revoked: bool = False  # the API account was deleted: every call answers 401
    _next_id: int = 500

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        base = f"/stores/{STORE}/v2/orders"
        app.router.add_get(base, self.list_orders)
        app.router.add_get(base + "/{id:\\d+}", self.get_order)
        app.router.add_get(base + "/{id:\\d+}/shipments", self.list_shipments)
        app.router.add_post(base + "/{id:\\d+}/shipments", self.create_shipment)
        app.router.add_get(base + "/{id:\\d+}/{sub}", self.get_sub)
        hooks = f"/stores/{STORE}/v3/hooks"
        app.router.add_get(hooks, self.list_hooks)
        app.router.add_post(hooks, self.create_hook)
        app.router.add_put(hooks + "/{id:\\d+}", self.update_hook)
        return app

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    @staticmethod
    def _not_found() -> web.Response:
        return web.json_response([{"status": 404, "message": "The requested resource was not found."}], status=404)

    async def list_shipments(self, request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        if order_id not in self.orders:
            return self._not_found()
        return self._json(json.dumps(self.shipments.get(order_id, [])).encode())

    async def create_shipment(self, request: web.Request) -> web.Response:
        order_id = int(request.match_info["id"])
        order = self.orders.get(order_id)
        if order is None:
            return self._not_found()
        body = await request.json()
        products = {p["id"]: p for p in json.loads(order.subs["products"] or b"[]")}
        shipped: dict[int, int] = {}
        for earlier in self.shipments.get(order_id, []):
            for item in earlier["items"]:
                shipped[item["order_product_id"]] = shipped.get(item["order_product_id"], 0) + item["quantity"]
        for item in body.get("items") or [{"order_product_id": None}]:
            product = products.get(item["order_product_id"])
            left = product["quantity"] - shipped.get(product["id"], 0) if product else 0
            if (
                product is None
                or product["order_address_id"] != body.get("order_address_id")
                or not 0 < item["quantity"] <= left
            ):
                return web.json_response([{"status": 400, "message": f"Invalid item {item}"}], status=400)
        shipment = {"id": self._new_id(), "order_id": order_id, **body}
        self.shipments.setdefault(order_id, []).append(shipment)
        return web.json_response(shipment, status=201)

    async def list_hooks(self, request: web.Request) -> web.Response:
        limit, page = int(request.query.get("limit", "50")), int(request.query.get("page", "1"))
        listed = sorted(self.hooks.values(), key=lambda h: h["id"])
        chunk = listed[(page - 1) * limit : page * limit]
        pages = max(1, -(-len(listed) // limit))
        meta = {"pagination": {"total": len(listed), "count": len(chunk), "current_page": page, "total_pages": pages}}
        return web.json_response({"data": chunk, "meta": meta})

    async def create_hook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.hook_calls.append(("POST", body))
        hook = {"id": self._new_id(), "scope": body["scope"], "destination": body["destination"]}
        hook["is_active"] = body.get("is_active", True)
        self.hooks[hook["id"]] = hook
        return web.json_response({"data": hook, "meta": {}})

    async def update_hook(self, request: web.Request) -> web.Response:
        hook = self.hooks.get(int(request.match_info["id"]))
        if hook is None:
            return self._not_found()
        body = await request.json()
        self.hook_calls.append(("PUT", {"id": hook["id"], **body}))
        hook.update(body)
        return web.json_response({"data": hook, "meta": {}})

    def hook(self, scope: str) -> dict[str, Any] | None:
        return next((h for h in self.hooks.values() if h["scope"] == scope), None)

    def deactivate_hook(self, scope: str) -> None:
        """What BigCommerce does after two days of failed deliveries."""
        hook = self.hook(scope)
        assert hook is not None
        hook["is_active"] = False

    def delete_hook(self, scope: str) -> None:
        hook = self.hook(scope)
        assert hook is not None
        del self.hooks[hook["id"]]

    @web.middleware
    async def _gate(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        if self.revoked or request.headers.get("X-Auth-Token") != TOKEN:
            self.log(request, 401)
            return web.json_response([{"status": 401, "message": "You have not been authenticated"}], status=401)
        response = await handler(request)
        self.log(request, response.status)
        return response

    @staticmethod
    def _json(body: bytes) -> web.Response:
        if not json.loads(body):
            return web.Response(status=204)
        return web.Response(body=body, content_type="application/json")

    async def list_orders(self, request: web.Request) -> web.Response:
        query = request.query
        since = _min_date(query["min_date_modified"]) if "min_date_modified" in query else None
        until = _min_date(query["max_date_modified"]) if "max_date_modified" in query else None
        chosen = [o for o in self.orders.values() if since is None or o.modified >= since]
        chosen = [o for o in chosen if until is None or o.modified <= until]
        chosen.sort(key=lambda o: o.modified)
        limit, page = int(query.get("limit", "50")), int(query.get("page", "1"))
        chunk = chosen[(page - 1) * limit : page * limit]
        return self._json(b"[" + b",".join(o.body for o in chunk) + b"]")

    async def get_order(self, request: web.Request) -> web.Response:
        order = self.orders.get(int(request.match_info["id"]))
        if order is None:
            return web.json_response([{"status": 404, "message": "The requested resource was not found."}], status=404)
        return web.Response(body=order.body, content_type="application/json")

    async def get_sub(self, request: web.Request) -> web.Response:
        order = self.orders.get(int(request.match_info["id"]))
        sub = request.match_info["sub"]
        if order is None or sub not in SUBS:
            return web.json_response([{"status": 404, "message": "The requested resource was not found."}], status=404)
        return self._json(order.subs[sub])


@asynccontextmanager
async def running(fake: FakeBigCommerce) -> AsyncIterator[str]:
    async with serve(fake.app()) as url:
        yield url
