"""A fake WooCommerce REST API v3: GET /wp-json/wc/v3/orders with Basic auth, modified_after (and
modified_before), page/per_page, X-WP-Total/X-WP-TotalPages/Link headers, 429 + Retry-After on demand
and 401 once the keys are revoked; order updates (PUT), order notes, and webhooks (listed, created,
updated), all recorded."""

from __future__ import annotations

import base64
import json
import math
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.fakes._server import FakeBase, serve

KEY, SECRET = "ck_fake_key", "cs_fake_secret"
ORDERS = "/wp-json/wc/v3/orders"
WEBHOOKS = "/wp-json/wc/v3/webhooks"


def corpus_orders(corpus: Path) -> list[dict[str, Any]]:
    """Orders 727 and 723 as the corpus list response has them."""
    data: list[dict[str, Any]] = json.loads(
        (corpus / "channels" / "woocommerce" / "wc-v3-orders-list-727-723.json").read_bytes()
    )
    return data


@dataclass
class FakeWooCommerce(FakeBase):
    orders: list[dict[str, Any]] = field(default_factory=list)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # order id -> notes, oldest first
    updates: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (order id, PUT body)
    webhooks: dict[int, dict[str, Any]] = field(default_factory=dict)
    webhook_calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (method, body)
    revoked: bool = False  # the REST keys were revoked in the store's admin: every call answers 401
    _next_id: int = 900

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(ORDERS, self.list_orders)
        app.router.add_put(ORDERS + "/{id:\\d+}", self.update_order)
        app.router.add_get(ORDERS + "/{id:\\d+}/notes", self.list_notes)
        app.router.add_post(ORDERS + "/{id:\\d+}/notes", self.add_note)
        app.router.add_get(WEBHOOKS, self.list_webhooks)
        app.router.add_post(WEBHOOKS, self.create_webhook)
        app.router.add_put(WEBHOOKS + "/{id:\\d+}", self.update_webhook)
        return app

    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _refused(self, request: web.Request) -> web.Response | None:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        by_query = request.query.get("consumer_key") == KEY and request.query.get("consumer_secret") == SECRET
        if self.revoked or (request.headers.get("Authorization") != expected and not by_query):
            self.log(request, 401)
            return web.json_response({"code": "woocommerce_rest_cannot_view"}, status=401)
        return None

    def _order(self, request: web.Request) -> dict[str, Any] | None:
        wanted = int(request.match_info["id"])
        return next((o for o in self.orders if o["id"] == wanted), None)

    def _missing(self, request: web.Request) -> web.Response:
        self.log(request, 404)
        return web.json_response({"code": "woocommerce_rest_shop_order_invalid_id"}, status=404)

    async def update_order(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        order = self._order(request)
        if order is None:
            return self._missing(request)
        body = await request.json()
        self.updates.append((order["id"], body))
        order.update(body)
        self.log(request, 200)
        return web.json_response(order)

    async def list_notes(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        order = self._order(request)
        if order is None:
            return self._missing(request)
        notes = self.notes.get(order["id"], [])
        if request.query.get("type") == "customer":
            notes = [n for n in notes if n["customer_note"]]
        self.log(request, 200)
        return web.json_response(list(reversed(notes)))  # newest first, as WooCommerce lists them

    async def add_note(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        order = self._order(request)
        if order is None:
            return self._missing(request)
        body = await request.json()
        note = {"id": self._new_id(), "note": body["note"], "customer_note": bool(body.get("customer_note"))}
        self.notes.setdefault(order["id"], []).append(note)
        self.log(request, 201)
        return web.json_response(note, status=201)

    async def list_webhooks(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        per_page, page = int(request.query.get("per_page", "10")), int(request.query.get("page", "1"))
        listed = sorted(self.webhooks.values(), key=lambda w: w["id"])
        pages = max(1, math.ceil(len(listed) / per_page))
        self.log(request, 200)
        chunk = listed[(page - 1) * per_page : page * per_page]
        return web.json_response(chunk, headers={"X-WP-Total": str(len(listed)), "X-WP-TotalPages": str(pages)})

    async def create_webhook(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        body = await request.json()
        self.webhook_calls.append(("POST", body))
        hook = {
            "id": self._new_id(),
            "name": body.get("name", ""),
            "status": body.get("status", "active"),
            "topic": body["topic"],
            "delivery_url": body["delivery_url"],
            "secret": body.get("secret", "generated"),
            "failure_count": 0,
        }
        self.webhooks[hook["id"]] = hook
        self.log(request, 201)
        return web.json_response(hook, status=201)

    async def update_webhook(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        hook = self.webhooks.get(int(request.match_info["id"]))
        if hook is None:
            self.log(request, 404)
            return web.json_response({"code": "woocommerce_rest_webhook_invalid_id"}, status=404)
        body = await request.json()
        self.webhook_calls.append(("PUT", {"id": hook["id"], **body}))
        hook.update(body)
        self.log(request, 200)
        return web.json_response(hook)

    def webhook(self, topic: str) -> dict[str, Any] | None:
        return next((w for w in self.webhooks.values() if w["topic"] == topic), None)

    def disable_webhook(self, topic: str) -> None:
        """What WooCommerce does after more than 5 failed deliveries."""
        hook = self.webhook(topic)
        assert hook is not None
        hook.update(status="disabled", failure_count=6)

    def delete_webhook(self, topic: str) -> None:
        hook = self.webhook(topic)
        assert hook is not None
        del self.webhooks[hook["id"]]

    async def list_orders(self, request: web.Request) -> web.Response:
        if (refused := self._refused(request)) is not None:
            return refused
        query = request.query
        after, before = query.get("modified_after"), query.get("modified_before")
        selected = [o for o in self.orders if after is None or o["date_modified_gmt"] > after]
        selected = [o for o in selected if before is None or o["date_modified_gmt"] < before]
        selected.sort(key=lambda o: (o["date_modified_gmt"], o["id"]))
        per_page, page = int(query.get("per_page", "10")), int(query.get("page", "1"))
        pages = max(1, math.ceil(len(selected) / per_page))
        chunk = selected[(page - 1) * per_page : page * per_page]
        headers = {"X-WP-Total": str(len(selected)), "X-WP-TotalPages": str(pages)}
        if page < pages:
            headers["Link"] = f'<{request.url.update_query(page=page + 1)}>; rel="next"'
        self.log(request, 200)
        return web.json_response(chunk, headers=headers)


@asynccontextmanager
async def running(fake: FakeWooCommerce) -> AsyncIterator[str]:
    async with serve(fake.app()) as url:
        yield url
