"""Shopify reconciliation poll: which orders changed (GraphQL), then each one's REST resource.

The GraphQL `orders` connection, sorted by UPDATED_AT and filtered with `updated_at:>'<cursor less
the overlap>'`, gives the ids and change times page by page. Each order is then read with
`GET /admin/api/{version}/orders/{id}.json`, whose body is stored as received: it is the REST order
shape the built-in Shopify mapping (and the orders/* webhooks) use, so nothing is converted here and
a polled order maps exactly like a webhook one. The cursor (the newest `updatedAt` taken in) is saved
after each page, once every order of the page is durable. An order version this process took in
already (the overlap reads it again) is not read again; after a restart the store's dedupe key
(order id + updatedAt) catches it. `orderhub backfill` reads an explicit
window the same way (`updated_at:>'since' AND updated_at:<'until'`) and leaves the cursor alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import structlog

from orderhub.connectors._poll import NO_PROGRESS, Cursor, Progress, Tally, Window, since
from orderhub.connectors._shopify_api import ShopifyApi, ShopifyApiError
from orderhub.connectors.base import Intake
from orderhub.store.base import RawIn, Receipt

log = structlog.get_logger("orderhub.connectors.shopify")

_REMEMBERED = 10_000  # order versions remembered, so the overlap does not read them again

ORDERS_QUERY = """
query UpdatedOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId updatedAt }
  }
}
""".strip()


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def search_query(after: datetime, until: datetime | None = None) -> str:
    query = f"updated_at:>'{_stamp(after)}'"
    return query if until is None else f"{query} AND updated_at:<'{_stamp(until)}'"


def poll_dedupe_key(order_id: str, updated_at: str) -> str:
    """Same order at the same change time: the overlap re-reads it, the store keeps one receipt."""
    return f"poll:{order_id}:{updated_at}"


class OrdersPoller:
    def __init__(
        self,
        intake: Intake,
        connector: str,
        channel: str,
        start_from: datetime | None,
        overlap_seconds: float,
        page_size: int,
    ) -> None:
        self.intake = intake
        self.connector = connector
        self.channel = channel
        self.cursor = Cursor(intake, connector, start_from)
        self.overlap_seconds = overlap_seconds
        self.page_size = page_size
        self._taken: dict[str, str] = {}  # order id -> updatedAt last taken in by this process

    async def poll_once(self, shop: ShopifyApi) -> int:
        """Take in every order updated since the cursor (less the overlap); returns how many were stored."""
        start = await self.cursor.load()
        saved = start
        tally = Tally()
        async for tally in self.pages(shop, Window(since(start, self.overlap_seconds))):
            if tally.newest is not None and tally.newest > saved:
                await self.cursor.save(tally.newest)  # every order of the page is durable: accept() returned
                saved = tally.newest
        log.info("poll done", connector=self.connector, orders=tally.orders, cursor=saved.isoformat())
        return tally.orders

    async def backfill(self, shop: ShopifyApi, window: Window, progress: Progress = NO_PROGRESS) -> Tally:
        """The orders updated in the window, taken in like polled ones; the cursor is not touched."""
        tally = Tally()
        async for tally in self.pages(shop, window, "backfill"):
            progress(tally)
        return tally

    async def pages(self, shop: ShopifyApi, window: Window, trigger: str = "poll") -> AsyncIterator[Tally]:
        """The running tally after each page of the window, once the page's orders are durable."""
        query = search_query(window.after, window.until)
        after: str | None = None
        tally = Tally()
        while True:
            data = await shop.graphql(ORDERS_QUERY, {"first": self.page_size, "after": after, "query": query})
            connection = _connection(data)
            for node in connection.get("nodes") or []:
                order_id, updated_at = str(node["legacyResourceId"]), str(node["updatedAt"])
                changed = datetime.fromisoformat(updated_at)
                receipt = await self._take(shop, order_id, updated_at, trigger)
                if receipt is not None:
                    tally.took(receipt, changed)
                elif tally.newest is None or changed > tally.newest:
                    tally.newest = changed  # gone: nothing to take in, and the cursor may pass it
            tally.pages += 1
            yield tally
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                return
            after = str(page["endCursor"])

    async def _take(self, shop: ShopifyApi, order_id: str, updated_at: str, trigger: str = "poll") -> Receipt | None:
        if self._taken.get(order_id) == updated_at:
            return None  # listed again only because of the overlap: this version is durable already
        body = await shop.rest_order(order_id)
        if body is None:  # deleted between the list and the read: nothing to take in
            log.info("order gone before it was read", connector=self.connector, order=order_id)
            return None
        headers = {
            "Resource": f"/admin/api/{shop.version}/orders/{order_id}.json",
            "X-Shopify-API-Version": shop.version,
        }
        if trigger != "poll":
            headers["Trigger"] = trigger
        receipt = await self.intake.accept(
            RawIn(
                connector=self.connector,
                channel=self.channel,
                transport="poll",
                body=body,
                received_at=datetime.now(UTC),
                headers=headers,
                dedupe_key=poll_dedupe_key(order_id, updated_at),
            )
        )
        self._taken.pop(order_id, None)
        self._taken[order_id] = updated_at
        if len(self._taken) > _REMEMBERED:
            del self._taken[next(iter(self._taken))]  # the least recently taken
        return receipt


def _connection(data: dict[str, Any]) -> dict[str, Any]:
    connection = data.get("orders")
    if not isinstance(connection, dict):
        raise ShopifyApiError("GraphQL orders query answered without `orders`")
    return connection
