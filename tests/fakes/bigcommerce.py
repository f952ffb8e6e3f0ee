"""A fake BigCommerce v2 Orders API: X-Auth-Token, GET /stores/{hash}/v2/orders (min_date_modified,
sort, page/limit, 204 when empty), the order and its products, shipping addresses, coupons and taxes
(204 when empty, as v2 answers), and 429 + Retry-After on demand."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

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

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._gate])
        base = f"/stores/{STORE}/v2/orders"
        app.router.add_get(base, self.list_orders)
        app.router.add_get(base + "/{id:\\d+}", self.get_order)
        app.router.add_get(base + "/{id:\\d+}/{sub}", self.get_sub)
        return app

    @web.middleware
    async def _gate(self, request: web.Request, handler: web.RequestHandler) -> web.StreamResponse:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        if request.headers.get("X-Auth-Token") != TOKEN:
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
        chosen = [o for o in self.orders.values() if since is None or o.modified >= since]
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
