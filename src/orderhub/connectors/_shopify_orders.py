"""Shopify reconciliation poll: which orders changed (GraphQL), then each one's REST resource.

The GraphQL `orders` connection, sorted by UPDATED_AT and filtered with `updated_at:>'<cursor less
the overlap>'`, gives the ids and change times page by page. Each order is then read with
`GET /admin/api/{version}/orders/{id}.json`, whose body is stored as received: it is the REST order
shape the built-in Shopify mapping (and the orders/* webhooks) use, so nothing is converted here and
a polled order maps exactly like a webhook one. The cursor (the newest `updatedAt` taken in) is saved
after each page, once every order of the page is durable.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from orderhub.connectors._poll import Cursor, since
from orderhub.connectors._shopify_api import ShopifyApi, ShopifyApiError
from orderhub.connectors.base import Intake
from orderhub.store.base import RawIn

log = structlog.get_logger("orderhub.connectors.shopify")

ORDERS_QUERY = """
query UpdatedOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { id legacyResourceId updatedAt }
  }
}
""".strip()


def search_query(after: datetime) -> str:
    return f"updated_at:>'{after.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%SZ')}'"


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

    async def poll_once(self, shop: ShopifyApi) -> int:
        """Take in every order updated since the cursor (less the overlap); returns how many were stored."""
        start = await self.cursor.load()
        saved = newest = start
        query = search_query(since(start, self.overlap_seconds))
        after: str | None = None
        taken = 0
        while True:
            data = await shop.graphql(ORDERS_QUERY, {"first": self.page_size, "after": after, "query": query})
            connection = _connection(data)
            for node in connection.get("nodes") or []:
                order_id, updated_at = str(node["legacyResourceId"]), str(node["updatedAt"])
                if await self._take(shop, order_id, updated_at):
                    taken += 1
                newest = max(newest, datetime.fromisoformat(updated_at))
            if newest > saved:
                await self.cursor.save(newest)  # every order of the page is durable: accept() returned
                saved = newest
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                break
            after = str(page["endCursor"])
        log.info("poll done", connector=self.connector, orders=taken, cursor=saved.isoformat())
        return taken

    async def _take(self, shop: ShopifyApi, order_id: str, updated_at: str) -> bool:
        body = await shop.rest_order(order_id)
        if body is None:  # deleted between the list and the read: nothing to take in
            log.info("order gone before it was read", connector=self.connector, order=order_id)
            return False
        await self.intake.accept(
            RawIn(
                connector=self.connector,
                channel=self.channel,
                transport="poll",
                body=body,
                received_at=datetime.now(UTC),
                headers={
                    "Resource": f"/admin/api/{shop.version}/orders/{order_id}.json",
                    "X-Shopify-API-Version": shop.version,
                },
                dedupe_key=poll_dedupe_key(order_id, updated_at),
            )
        )
        return True


def _connection(data: dict[str, Any]) -> dict[str, Any]:
    connection = data.get("orders")
    if not isinstance(connection, dict):
        raise ShopifyApiError("GraphQL orders query answered without `orders`")
    return connection
