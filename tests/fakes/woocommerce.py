"""A fake WooCommerce REST API v3: GET /wp-json/wc/v3/orders with Basic auth, modified_after,
page/per_page, X-WP-Total/X-WP-TotalPages/Link headers, and 429 + Retry-After on demand."""

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


def corpus_orders(corpus: Path) -> list[dict[str, Any]]:
    """Orders 727 and 723 as the corpus list response has them."""
    data: list[dict[str, Any]] = json.loads(
        (corpus / "channels" / "woocommerce" / "wc-v3-orders-list-727-723.json").read_bytes()
    )
    return data


@dataclass
class FakeWooCommerce(FakeBase):
    orders: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get(ORDERS, self.list_orders)
        return app

    async def list_orders(self, request: web.Request) -> web.Response:
        if (throttled := self.throttled(request)) is not None:
            return throttled
        expected = "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode()
        by_query = request.query.get("consumer_key") == KEY and request.query.get("consumer_secret") == SECRET
        if request.headers.get("Authorization") != expected and not by_query:
            self.log(request, 401)
            return web.json_response({"code": "woocommerce_rest_cannot_view"}, status=401)
        query = request.query
        after = query.get("modified_after")
        selected = [o for o in self.orders if after is None or o["date_modified_gmt"] > after]
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
