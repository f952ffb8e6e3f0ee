"""Shopify webhook subscriptions kept in place: list them, create the missing ones.

Shopify deletes an Admin-API subscription whose deliveries keep failing, and a merchant or another
tool can delete one too, so the connector checks at start and then periodically. A subscription
counts when its topic matches and its HTTP endpoint is the configured `webhook_url`. The privacy
(compliance) topics are normally set in the app's configuration, not through the API; they are
only managed here when the settings ask for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
import structlog

from orderhub.connectors._shopify_api import ShopifyApi, ShopifyApiError
from orderhub.connectors.base import Intake

log = structlog.get_logger("orderhub.connectors.shopify")

ORDER_WEBHOOK_TOPICS = (
    "orders/create",
    "orders/updated",
    "orders/paid",
    "orders/cancelled",
    "orders/fulfilled",
    "refunds/create",
)
PRIVACY_TOPICS = ("customers/data_request", "customers/redact", "shop/redact")
SEEN_KEY = "webhook_subscriptions"  # checkpoint: the topics known to have been subscribed

SUBSCRIPTIONS_QUERY = """
query WebhookSubscriptions($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      topic
      endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } }
    }
  }
}
""".strip()

SUBSCRIPTION_CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic }
    userErrors { field message }
  }
}
""".strip()


def topic_enum(topic: str) -> str:
    """`orders/create` -> `ORDERS_CREATE` (the GraphQL WebhookSubscriptionTopic)."""
    return topic.replace("/", "_").upper()


@dataclass
class Reconciled:
    """What one check found and did."""

    present: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)  # created again after an earlier check saw them


class WebhookSubscriptions:
    def __init__(self, intake: Intake, connector: str, callback_url: str, topics: list[str]) -> None:
        self.intake = intake
        self.connector = connector
        self.callback_url = callback_url
        self.topics = topics
        self.seen: set[str] | None = None  # topics found or created by an earlier check (kept as a checkpoint)

    async def _load_seen(self) -> set[str]:
        if self.seen is None:
            stored = await self.intake.get_checkpoint(self.connector, SEEN_KEY)
            self.seen = set(orjson.loads(stored)) if stored else set()
        return self.seen

    async def existing(self, shop: ShopifyApi) -> dict[str, str]:
        """Topic enum -> subscription id of those pointing at our callback URL."""
        found: dict[str, str] = {}
        after: str | None = None
        while True:
            data = await shop.graphql(SUBSCRIPTIONS_QUERY, {"after": after})
            connection: dict[str, Any] = data.get("webhookSubscriptions") or {}
            for node in connection.get("nodes") or []:
                endpoint = node.get("endpoint") or {}
                if endpoint.get("callbackUrl") == self.callback_url:
                    found[str(node.get("topic"))] = str(node.get("id"))
            page = connection.get("pageInfo") or {}
            if not page.get("hasNextPage") or not page.get("endCursor"):
                return found
            after = str(page["endCursor"])

    async def reconcile(self, shop: ShopifyApi) -> Reconciled:
        seen = await self._load_seen()
        before = set(seen)
        found = await self.existing(shop)
        result = Reconciled()
        for topic in self.topics:
            if topic_enum(topic) in found:
                result.present.append(topic)
                seen.add(topic)
                continue
            await self._create(shop, topic)
            if topic in seen:
                result.recreated.append(topic)
                log.warning(
                    "webhook subscription was deleted on Shopify; registered again",
                    connector=self.connector,
                    topic=topic,
                )
            else:
                result.created.append(topic)
                log.info("webhook subscription created", connector=self.connector, topic=topic)
            seen.add(topic)
        if seen != before:
            await self.intake.set_checkpoint(self.connector, SEEN_KEY, orjson.dumps(sorted(seen)).decode())
        return result

    async def _create(self, shop: ShopifyApi, topic: str) -> None:
        data = await shop.graphql(
            SUBSCRIPTION_CREATE,
            {"topic": topic_enum(topic), "sub": {"callbackUrl": self.callback_url, "format": "JSON"}},
        )
        result = data.get("webhookSubscriptionCreate") or {}
        errors = result.get("userErrors") or []
        if errors:
            messages = "; ".join(str(e.get("message")) for e in errors)
            raise ShopifyApiError(f"webhookSubscriptionCreate {topic} refused: {messages}")
