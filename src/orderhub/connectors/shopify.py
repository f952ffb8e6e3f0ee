"""Shopify: order webhooks signed with X-Shopify-Hmac-Sha256 (base64 HMAC-SHA256 of the raw body), and,
with API credentials (`shop` + `access_token`), a GraphQL Admin API reconciliation poll, webhook
subscriptions kept in place, and tracking push-back (`fulfillmentCreate`).

With only `webhook_secret` the connector is webhook-only, as before. The privacy webhooks
(customers/redact, shop/redact, customers/data_request) are verified and stored like the others and
carried out by the privacy stage (`privacy_request` reads them); they make no order.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Mapping as MappingABC
from typing import ClassVar, Self

import httpx
import structlog
from pydantic import Field, field_validator, model_validator

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._poll import PollSettings, every
from orderhub.connectors._shopify_api import ShopifyApi
from orderhub.connectors._shopify_fulfill import push_fulfillment
from orderhub.connectors._shopify_orders import OrdersPoller
from orderhub.connectors._shopify_privacy import PRIVACY_ACTIONS, privacy_request, redact_payload
from orderhub.connectors._shopify_webhooks import ORDER_WEBHOOK_TOPICS, PRIVACY_TOPICS, WebhookSubscriptions
from orderhub.connectors.base import (
    Connector,
    NotAnOrder,
    Secret,
    Secrets,
    WebhookVerdict,
    hmac_matches,
)
from orderhub.mapping import Mapping, builtin_mapping
from orderhub.model.events import FulfillmentEvent, PrivacyRequest
from orderhub.model.order import Order
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import StoredRaw

log = structlog.get_logger("orderhub.connectors.shopify")

# topics whose body is the REST order resource
ORDER_TOPICS = frozenset(
    {
        "orders/create",
        "orders/updated",
        "orders/paid",
        "orders/cancelled",
        "orders/fulfilled",
        "orders/partially_fulfilled",
    }
)
_KEPT_HEADERS = (
    "X-Shopify-Topic",
    "X-Shopify-Shop-Domain",
    "X-Shopify-API-Version",
    "X-Shopify-Webhook-Id",
    "X-Shopify-Event-Id",
    "X-Shopify-Triggered-At",
    "X-Shopify-Hmac-Sha256",
)
_SHOP = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_VERSION = re.compile(r"(\d{4})-(01|04|07|10)|unstable")
_TOPIC = re.compile(r"[a-z_]+/[a-z_]+")


class ShopifySettings(PollSettings):
    webhook_secret: Secrets = Field(default_factory=list)
    shop: str | None = None  # x.myshopify.com
    access_token: Secret | None = None  # Admin API access token (X-Shopify-Access-Token)
    api_version: str = "2025-01"  # fulfillmentCreate needs 2023-07 or later
    base_url: str | None = None  # default https://{shop}; a test or proxy address otherwise
    # where Shopify should deliver webhooks (this daemon's /webhooks/{name}, as reachable from Shopify)
    webhook_url: str | None = None
    manage_webhooks: bool = True  # with API credentials: create missing subscriptions, re-create deleted ones
    webhook_topics: list[str] = Field(default_factory=lambda: list(ORDER_WEBHOOK_TOPICS))
    # the privacy topics are usually set in the app configuration; true: subscribe them through the API too
    subscribe_privacy_topics: bool = False
    webhook_check_interval: float = Field(900.0, gt=0)
    page_size: int = Field(50, ge=1, le=100)

    @field_validator("shop")
    @classmethod
    def _shop_domain(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if not _SHOP.fullmatch(value):
            raise ValueError("must be the shop's myshopify.com domain, e.g. acme.myshopify.com")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address (Shopify delivers webhooks over HTTPS only)")
        return value

    @field_validator("webhook_topics")
    @classmethod
    def _topics(cls, value: list[str]) -> list[str]:
        wrong = [topic for topic in value if not _TOPIC.fullmatch(topic)]
        if wrong:
            raise ValueError(f"not Shopify webhook topics (like orders/create): {', '.join(wrong)}")
        return list(dict.fromkeys(value))

    @field_validator("api_version")
    @classmethod
    def _version(cls, value: str) -> str:
        match = _VERSION.fullmatch(value)
        if match is None:
            raise ValueError("must be a Shopify API version like 2025-01 (or unstable)")
        if match.group(1) is not None and (int(match.group(1)), match.group(2)) < (2023, "07"):
            raise ValueError("must be 2023-07 or later (fulfillment orders and fulfillmentCreate)")
        return value

    @model_validator(mode="after")
    def _api_settings(self) -> Self:
        if self.access_token is not None and self.shop is None:
            raise ValueError("access_token needs shop (the myshopify.com domain)")
        if self.access_token is not None and self.manage_webhooks and not self.webhook_url:
            raise ValueError("webhook_url is required to manage webhook subscriptions (or set manage_webhooks: false)")
        return self

    @property
    def api_base(self) -> str:
        return (self.base_url or f"https://{self.shop}").rstrip("/")


class ShopifyConnector(Connector):
    kind: ClassVar[str] = "shopify"
    channel: ClassVar[str] = "shopify"
    settings_model = ShopifySettings
    takes_webhooks = True
    runs = True

    settings: ShopifySettings

    @property
    def has_api(self) -> bool:
        return self.settings.shop is not None and self.settings.access_token is not None

    def startup_notes(self) -> list[str]:
        notes = []
        if not self.settings.webhook_secret:
            notes.append("no webhook_secret: every webhook will be refused with 401")
        if not self.has_api:
            notes.append("webhook-only (no API credentials configured)")
        elif not self.settings.manage_webhooks:
            notes.append("webhook subscriptions are not managed (manage_webhooks: false)")
        return notes

    # webhooks -----------------------------------------------------------------------------------
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
            if topic in PRIVACY_ACTIONS:
                raise KeptWithoutOrder(f"Shopify {topic} is a privacy request, carried out by the privacy stage")
            if topic == "refunds/create":
                return builtin_mapping("shopify-refund")  # applied to the order it names
            raise NotAnOrder(f"Shopify topic {topic!r} is not an order topic this connector normalizes")
        return builtin_mapping("shopify")

    def may_be_privacy(self, headers: MappingABC[str, str]) -> bool:
        return headers.get("X-Shopify-Topic") in PRIVACY_ACTIONS

    def privacy_request(self, raw: StoredRaw) -> PrivacyRequest | None:
        """The privacy request a stored webhook makes, or None when it is not one (ValueError: unreadable)."""
        topic = raw.headers.get("X-Shopify-Topic")
        if raw.transport != "webhook" or topic not in PRIVACY_ACTIONS:
            return None
        return privacy_request(topic, raw.body)

    def redact_payload(self, body: bytes) -> bytes | None:
        return redact_payload(body)

    # API side -----------------------------------------------------------------------------------
    def client(self) -> httpx.AsyncClient:
        s = self.settings
        assert s.access_token is not None
        return httpx.AsyncClient(
            base_url=s.api_base,
            timeout=s.request_timeout,
            headers={
                "X-Shopify-Access-Token": s.access_token.get_secret_value(),
                "Accept": "application/json",
            },
        )

    def subscriptions(self) -> WebhookSubscriptions:
        s = self.settings
        assert s.webhook_url is not None
        topics = list(s.webhook_topics) + (list(PRIVACY_TOPICS) if s.subscribe_privacy_topics else [])
        return WebhookSubscriptions(self.intake, self.name, s.webhook_url, topics)

    def poller(self) -> OrdersPoller:
        s = self.settings
        return OrdersPoller(self.intake, self.name, self.channel, s.start_from, s.overlap_seconds, s.page_size)

    async def run(self) -> None:
        if not self.has_api:
            return  # webhook-only; said at start
        async with self.client() as client:
            shop = ShopifyApi(Api(client), self.settings.api_version)
            poller = self.poller()
            try:
                async with asyncio.TaskGroup() as tasks:
                    if self.settings.manage_webhooks:
                        tasks.create_task(self._keep_subscriptions(self.subscriptions(), shop))
                    tasks.create_task(every(self.settings.poll_interval, lambda: poller.poll_once(shop)))
            except ExceptionGroup as group:  # the poll failed: raised as itself, for the supervisor's log
                if len(group.exceptions) == 1:
                    raise group.exceptions[0] from None
                raise

    async def _keep_subscriptions(self, subscriptions: WebhookSubscriptions, shop: ShopifyApi) -> None:
        await every(self.settings.webhook_check_interval, lambda: self._check_subscriptions(subscriptions, shop))

    async def _check_subscriptions(self, subscriptions: WebhookSubscriptions, shop: ShopifyApi) -> None:
        """A failed check is logged and tried again at the next interval; it never stops the poll."""
        try:
            await subscriptions.reconcile(shop)
        except ApiError as exc:
            log.error("webhook subscription check failed", connector=self.name, error=str(exc))

    @property
    def pushes_tracking(self) -> bool:
        return self.has_api

    async def push_fulfillment(self, order: Order, event: FulfillmentEvent) -> str:
        """Tell Shopify about a shipment; returns the Shopify fulfillment id."""
        if not self.has_api:
            raise ApiError(f"connector {self.name} has no access_token: tracking cannot be pushed to Shopify")
        async with self.client() as client:
            return await push_fulfillment(ShopifyApi(Api(client), self.settings.api_version), order, event)
