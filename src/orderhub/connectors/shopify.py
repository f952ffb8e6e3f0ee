"""Shopify: order webhooks signed with X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body)."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping as MappingABC
from typing import ClassVar

from orderhub.connectors.base import (
    Connector,
    NotAnOrder,
    WebhookSettings,
    WebhookVerdict,
    hmac_matches,
)
from orderhub.mapping import Mapping, builtin_mapping
from orderhub.store.base import StoredRaw

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
_KEPT_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-API-Version",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-Hmac-Sha256",
)


class ShopifySettings(WebhookSettings):
    shop: str | None = None


class ShopifyConnector(Connector):
    kind: ClassVar[str] = "shopify"
    channel: ClassVar[str] = "shopify"
    settings_model = ShopifySettings
    takes_webhooks = True

    settings: ShopifySettings

    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        given = headers.get("X-Shopify-Hmac-Sha256")
        if not given:
            return WebhookVerdict(False, "missing X-Shopify-Hmac-Sha256 header")
        if not hmac_matches(
            self.settings.webhook_secret, body, given.strip().encode(), hashlib.sha256, base64.b64encode
        ):
            return WebhookVerdict(False, "X-Shopify-Hmac-Sha256 does not match the body under any configured secret")
        kept = {name: value for name in _KEPT_HEADERS if (value := headers.get(name)) is not None}
        event_id = headers.get("X-Shopify-Event-Id") or headers.get("X-Shopify-Webhook-Id")
        return WebhookVerdict(True, dedupe_key=event_id, headers=kept)

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        topic = raw.headers.get("X-Shopify-Topic")
        if raw.transport == "webhook" and topic is not None and topic not in ORDER_TOPICS:
            raise NotAnOrder(f"Shopify topic {topic!r} is not an order topic this connector normalizes")
        return builtin_mapping("shopify")

    def startup_notes(self) -> list[str]:
        if not self.settings.webhook_secret:
            return ["no webhook_secret: every webhook will be refused with 401"]
        return ["webhook-only (no API credentials configured)"]
