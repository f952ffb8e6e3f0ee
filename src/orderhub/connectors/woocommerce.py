"""WooCommerce: order.* webhooks signed with X-WC-Webhook-Signature, and, with REST API keys, a v3
reconciliation poll (also used by `orderhub backfill`), tracking push-back (a customer note and the
status completed), and, with `webhook_url`, the order webhooks kept registered and active."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
from collections.abc import Mapping as MappingABC
from datetime import UTC, datetime
from typing import Any, ClassVar, Literal, Self

import httpx
import structlog
from pydantic import Field, SecretStr, model_validator

from orderhub.connectors import _woocommerce_fulfill
from orderhub.connectors._http import Api, ApiError, expect_ok
from orderhub.connectors._poll import (
    NO_PROGRESS,
    PollSettings,
    Progress,
    Tally,
    Window,
    dump_json,
    every,
    run_together,
    utc_naive_text,
)
from orderhub.connectors._subscriptions import HookKeeper
from orderhub.connectors._windowed import WindowPolledConnector
from orderhub.connectors._woocommerce_hooks import TOPICS, WooCommerceHooks
from orderhub.connectors.base import NotAnOrder, Secret, Secrets, WebhookVerdict, hmac_matches
from orderhub.mapping import Mapping, MappingError, builtin_mapping, parse_json
from orderhub.model import Order
from orderhub.model.events import FulfillmentEvent
from orderhub.store.base import RawIn, Receipt, StoredRaw

log = structlog.get_logger("orderhub.connectors.woocommerce")

ORDERS_PATH = "/wp-json/wc/v3/orders"
ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
_KEPT_HEADERS = (
    "X-WC-Webhook-Source",
    "X-WC-Webhook-Topic",
    "X-WC-Webhook-Resource",
    "X-WC-Webhook-Event",
    "X-WC-Webhook-Signature",
    "X-WC-Webhook-ID",
    "X-WC-Webhook-Delivery-ID",
)
_PING = re.compile(rb"webhook_id=\d+")
# what wp_specialchars_decode(..., ENT_QUOTES) turns back into characters; `&amp;` last
_WP_ENTITIES = (
    ("&lt;", "<"),
    ("&#060;", "<"),
    ("&gt;", ">"),
    ("&#062;", ">"),
    ("&quot;", '"'),
    ("&#034;", '"'),
    ("&#x22;", '"'),
    ("&#039;", "'"),
    ("&#39;", "'"),
    ("&#x27;", "'"),
    ("&amp;", "&"),
    ("&#038;", "&"),
    ("&#x26;", "&"),
)


class WooCommerceSettings(PollSettings):
    base_url: str | None = None  # the site, e.g. https://shop.example.com (the REST path is added)
    consumer_key: Secret | None = None
    consumer_secret: Secret | None = None
    # basic: HTTP Basic over HTTPS; query: the keys as query parameters, for hosts that strip the
    # Authorization header (WooCommerce's documented fallback)
    auth: Literal["basic", "query"] = "basic"
    webhook_secret: Secrets = Field(default_factory=list)
    # where WooCommerce should deliver webhooks (this daemon's /webhooks/{name}, as the site reaches it);
    # with the API keys the order webhooks are registered there and kept active
    webhook_url: str | None = None
    subscription_check_interval: float = Field(3600.0, gt=0)

    @model_validator(mode="after")
    def _webhooks_need_a_secret(self) -> Self:
        api = {"base_url": self.base_url, "consumer_key": self.consumer_key, "consumer_secret": self.consumer_secret}
        missing = [name for name, value in api.items() if value is None]
        if 0 < len(missing) < len(api):  # half an API credential is a mistake, not webhook-only mode
            raise ValueError(
                f"the REST API needs base_url, consumer_key and consumer_secret; missing {', '.join(missing)}"
            )
        if self.webhook_url is not None and not self.webhook_url.startswith(("https://", "http://")):
            raise ValueError("webhook_url must be an http:// or https:// address")
        if self.webhook_url is not None and not self.webhook_secret:
            raise ValueError("webhook_url needs webhook_secret (the webhooks are registered with it)")
        return self


def wp_specialchars_decode(text: str) -> str:
    for entity, char in _WP_ENTITIES:
        text = text.replace(entity, char)
    return text


def dedupe_key(body: bytes) -> str | None:
    """Order id + date_modified_gmt: WooCommerce has no stable event id (the delivery id changes per send)."""
    try:
        document = parse_json(body)
    except MappingError:
        return None
    if not isinstance(document, dict) or document.get("id") is None:
        return None
    if set(document) == {"id"}:
        return f"{document['id']}:deleted"  # order.deleted sends only the id
    modified = document.get("date_modified_gmt")
    return f"{document['id']}:{modified}" if modified else None


class WooCommerceConnector(WindowPolledConnector):
    kind: ClassVar[str] = "woocommerce"
    channel: ClassVar[str] = "woocommerce"
    settings_model = WooCommerceSettings
    api_needs = "base_url, consumer_key and consumer_secret"
    takes_webhooks = True
    runs = True

    settings: WooCommerceSettings

    @property
    def has_api(self) -> bool:
        s = self.settings
        return bool(s.base_url and s.consumer_key and s.consumer_secret)

    def startup_notes(self) -> list[str]:
        notes = []
        if not self.settings.webhook_secret:
            notes.append("no webhook_secret: every signed webhook will be refused with 401")
        if not self.has_api:
            notes.append("webhook-only: no base_url/consumer_key/consumer_secret, so no reconciliation poll")
        return notes

    @property
    def manages_webhooks(self) -> bool:
        return self.has_api and self.settings.webhook_url is not None

    # webhooks -----------------------------------------------------------------------------------
    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        given = headers.get("X-WC-Webhook-Signature")
        if not given and _PING.fullmatch(body.strip()):
            return WebhookVerdict(True, ping=True)  # sent unsigned when a webhook is saved; must get 200
        if not given:
            return WebhookVerdict(False, "missing X-WC-Webhook-Signature header")
        secrets = [SecretStr(wp_specialchars_decode(s.get_secret_value())) for s in self.settings.webhook_secret]
        if not hmac_matches(secrets, body, given.strip().encode(), hashlib.sha256, base64.b64encode):
            return WebhookVerdict(False, "X-WC-Webhook-Signature does not match the body under any configured secret")
        kept = {name: value for name in _KEPT_HEADERS if (value := headers.get(name)) is not None}
        return WebhookVerdict(True, dedupe_key=dedupe_key(body), headers=kept)

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        topic = raw.headers.get("X-WC-Webhook-Topic")
        if raw.transport == "webhook" and topic is not None and topic not in ORDER_TOPICS:
            if topic == "order.deleted":
                raise NotAnOrder("WooCommerce order.deleted carries only the order id; the order is left as it was")
            raise NotAnOrder(f"WooCommerce topic {topic!r} is not an order topic this connector normalizes")
        return builtin_mapping("woocommerce")

    # reconciliation poll ------------------------------------------------------------------------
    async def run(self) -> None:
        if not self.has_api:
            return  # webhook-only; said at start
        async with self.client() as client:
            api = Api(client)
            loops = [every(self.settings.poll_interval, lambda: self.poll_once(api))]
            if self.manages_webhooks:
                keeper = self.hook_keeper(api)
                loops.append(every(self.settings.subscription_check_interval, keeper.check_or_log))
            await run_together(*loops)

    def hook_keeper(self, api: Api) -> HookKeeper:
        s = self.settings
        assert s.webhook_url is not None and s.webhook_secret
        hooks = WooCommerceHooks(api, self.name, s.webhook_url, s.webhook_secret[0].get_secret_value())
        return HookKeeper(self.intake, self.name, hooks, list(TOPICS))

    def client(self) -> httpx.AsyncClient:
        s = self.settings
        assert s.base_url and s.consumer_key and s.consumer_secret
        key, secret = s.consumer_key.get_secret_value(), s.consumer_secret.get_secret_value()
        return httpx.AsyncClient(
            base_url=s.base_url.rstrip("/"),
            auth=httpx.BasicAuth(key, secret) if s.auth == "basic" else None,
            params={"consumer_key": key, "consumer_secret": secret} if s.auth == "query" else None,
            timeout=s.request_timeout,
            headers={"Accept": "application/json"},
        )

    async def poll_window(
        self, api: Api, window: Window, trigger: str = "poll", progress: Progress = NO_PROGRESS
    ) -> Tally:
        tally = Tally()
        page = 1
        while True:
            orders, total_pages = await self._page(api, window, page)
            # a page's orders are stored together: one group commit instead of one per order
            receipts = await asyncio.gather(*(self._accept(order, trigger) for order in orders))
            for order, receipt in zip(orders, receipts, strict=True):
                modified = order.get("date_modified_gmt")
                tally.took(receipt, utc_naive_text(modified) if isinstance(modified, str) else None)
            tally.pages += 1
            progress(tally)
            last = total_pages is not None and page >= total_pages
            if not orders or len(orders) < self.settings.page_size or last:
                return tally
            page += 1

    async def _page(self, api: Api, window: Window, page: int) -> tuple[list[dict[str, Any]], int | None]:
        params: dict[str, str | int] = {
            "modified_after": _gmt(window.after),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": self.settings.page_size,
            "page": page,
        }
        if window.until is not None:
            params["modified_before"] = _gmt(window.until)
        response = await api.request("GET", ORDERS_PATH, params=params)
        expect_ok(response)
        orders = parse_json(response.content)
        if not isinstance(orders, list):
            raise ApiError(f"GET {ORDERS_PATH} did not return a JSON array of orders")
        pages = response.headers.get("X-WP-TotalPages", "")
        return [o for o in orders if isinstance(o, dict)], int(pages) if pages.isdigit() else None

    async def _accept(self, order: dict[str, Any], trigger: str = "poll") -> Receipt:
        body = dump_json(order)
        headers = {"Resource": ORDERS_PATH}
        if trigger != "poll":
            headers["Trigger"] = trigger
        return await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="poll",
                body=body,
                received_at=datetime.now(UTC),
                headers=headers,
                dedupe_key=dedupe_key(body),
            )
        )

    # tracking push-back ---------------------------------------------------------------------------
    async def fulfill(self, api: Api, order: Order, event: FulfillmentEvent) -> str:
        return await _woocommerce_fulfill.push_fulfillment(api, order, event)


def _gmt(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")
