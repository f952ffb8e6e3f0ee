"""BigCommerce: Standard Webhooks pointers (order id only), resolved through the v2 Orders API into one
assembled document per order, a `min_date_modified` reconciliation poll (also used by `orderhub
backfill`), tracking push-back (v2 shipments), and, with `webhook_url`, the order hooks (v3) kept
registered and active."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Mapping as MappingABC
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar, Self

import httpx
import structlog
from pydantic import Field, field_validator, model_validator

from orderhub.connectors import _bigcommerce_fulfill
from orderhub.connectors._bigcommerce_hooks import SCOPES, BigCommerceHooks
from orderhub.connectors._http import Api, ApiError, pause
from orderhub.connectors._poll import (
    NO_PROGRESS,
    PollSettings,
    Progress,
    Tally,
    Window,
    dump_json,
    every,
    poll_and_fetch,
    run_together,
)
from orderhub.connectors._subscriptions import HookKeeper
from orderhub.connectors._windowed import WindowPolledConnector
from orderhub.connectors.base import NotAnOrder, Secret, Secrets, WebhookVerdict, hmac_matches
from orderhub.mapping import Mapping, MappingError, builtin_mapping, parse_json
from orderhub.model import Order
from orderhub.model.events import FulfillmentEvent
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import RawIn, Receipt, StoredRaw

log = structlog.get_logger("orderhub.connectors.bigcommerce")

SUB_RESOURCES = ("products", "shipping_addresses", "coupons", "taxes")
TIMESTAMP_TOLERANCE = 300  # seconds, as the Standard Webhooks libraries allow
_REMEMBERED = 10_000  # order versions remembered to skip re-fetching sub-resources
_KEPT_HEADERS = ("webhook-id", "webhook-timestamp", "webhook-signature")


class BigCommerceSettings(PollSettings):
    store_hash: str | None = None
    access_token: Secret | None = None
    client_secret: Secrets = Field(default_factory=list)  # the app's client secret(s): webhook signatures
    base_url: str = "https://api.bigcommerce.com"
    page_size: int = Field(50, ge=1, le=250)
    # where BigCommerce should deliver hooks (this daemon's /webhooks/{name}, as BigCommerce reaches it);
    # with the API credentials the order hooks are registered there and kept active
    webhook_url: str | None = None
    subscription_check_interval: float = Field(3600.0, gt=0)

    @model_validator(mode="after")
    def _whole_credential(self) -> Self:
        if (self.store_hash is None) != (self.access_token is None):  # half of it is a mistake, not webhook-only
            missing = "access_token" if self.access_token is None else "store_hash"
            raise ValueError(f"the API needs store_hash and access_token; missing {missing}")
        return self

    @field_validator("webhook_url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// address (BigCommerce delivers hooks over HTTPS only)")
        return value


def standard_webhook_content(headers: MappingABC[str, str], body: bytes) -> bytes:
    return f"{headers.get('webhook-id', '')}.{headers.get('webhook-timestamp', '')}.".encode() + body


def assemble(order: bytes, parts: dict[str, bytes]) -> bytes:
    """`{"order": <GET body>, "products": <GET body>, ...}` with each body kept byte for byte."""
    pieces = [b'{"order":', order.strip()]
    for name in SUB_RESOURCES:
        pieces += [b',"', name.encode(), b'":', parts.get(name, b"[]").strip()]
    pieces.append(b"}")
    return b"".join(pieces)


def _pointer(body: bytes) -> tuple[str | None, int | None]:
    """(hash, order id) of a webhook body; the id only when it is about an order."""
    try:
        document = parse_json(body)
    except MappingError:
        return None, None
    if not isinstance(document, dict):
        return None, None
    hash_ = document.get("hash")
    data = document.get("data")
    order_id = None
    if isinstance(data, dict) and data.get("type") == "order" and type(data.get("id")) is int:
        order_id = int(data["id"])
    return (str(hash_) if hash_ else None), order_id


class BigCommerceConnector(WindowPolledConnector):
    kind: ClassVar[str] = "bigcommerce"
    channel: ClassVar[str] = "bigcommerce"
    settings_model = BigCommerceSettings
    api_needs = "store_hash and access_token"
    takes_webhooks = True
    runs = True

    settings: BigCommerceSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # order ids announced by webhooks, fetched by the run loop (a lost one is found by the poll)
        self.pending: asyncio.Queue[int] = asyncio.Queue()
        self._taken: dict[int, str] = {}  # order id -> date_modified last taken in, to skip re-fetching

    @property
    def has_api(self) -> bool:
        return bool(self.settings.store_hash and self.settings.access_token)

    @property
    def manages_webhooks(self) -> bool:
        return self.has_api and self.settings.webhook_url is not None

    def startup_notes(self) -> list[str]:
        notes = []
        if not self.settings.client_secret:
            notes.append("no client_secret: every webhook will be refused with 401")
        if not self.has_api:
            notes.append(
                "webhook-only: no store_hash/access_token, so webhook pointers are stored but cannot be "
                "resolved into orders (they go to the DLQ) and there is no reconciliation poll"
            )
        return notes

    # webhooks -----------------------------------------------------------------------------------
    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        given = headers.get("webhook-signature")
        if not given or not headers.get("webhook-id") or not headers.get("webhook-timestamp"):
            return WebhookVerdict(False, "missing webhook-id, webhook-timestamp or webhook-signature header")
        try:
            stamp = int(headers["webhook-timestamp"])
        except ValueError:
            return WebhookVerdict(False, "webhook-timestamp is not epoch seconds")
        if abs(time.time() - stamp) > TIMESTAMP_TOLERANCE:
            return WebhookVerdict(False, f"webhook-timestamp is more than {TIMESTAMP_TOLERANCE} s from now")
        content = standard_webhook_content(headers, body)
        matched = False
        for entry in given.split():
            version, _, signature = entry.partition(",")
            if version == "v1":
                matched |= hmac_matches(
                    self.settings.client_secret, content, signature.encode(), hashlib.sha256, base64.b64encode
                )
        if not matched:
            return WebhookVerdict(False, "webhook-signature does not match under any configured client_secret")
        hash_, order_id = _pointer(body)
        if order_id is not None and self.has_api:
            self.pending.put_nowait(order_id)
        kept = {name: value for name in _KEPT_HEADERS if (value := headers.get(name)) is not None}
        return WebhookVerdict(True, dedupe_key=hash_ or headers["webhook-id"], headers=kept)

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        mapping = builtin_mapping("bigcommerce")
        if raw.transport != "webhook":
            return mapping
        _, order_id = _pointer(raw.body)
        if order_id is None:
            raise NotAnOrder("BigCommerce webhook is not about an order (data.type is not 'order')")
        if not self.has_api:
            raise NotAnOrder(
                f"BigCommerce webhook for order {order_id} cannot be resolved: the connector has no "
                "store_hash/access_token to fetch the order with"
            )
        raise KeptWithoutOrder(f"BigCommerce webhook for order {order_id}: the order is fetched and stored on its own")

    # API ----------------------------------------------------------------------------------------
    async def run(self) -> None:
        if not self.has_api:
            return  # webhook-only; said at start
        async with self.client() as client:
            api = Api(client)
            loops = [
                poll_and_fetch(
                    self.pending,
                    self.settings.poll_interval,
                    lambda: self.poll_once(api),
                    lambda order_id: self.fetch_order(api, order_id, trigger="webhook"),
                )
            ]
            if self.manages_webhooks:
                keeper = self.hook_keeper(api)
                loops.append(every(self.settings.subscription_check_interval, keeper.check_or_log))
            await run_together(*loops)

    def hook_keeper(self, api: Api) -> HookKeeper:
        assert self.settings.webhook_url is not None
        return HookKeeper(self.intake, self.name, BigCommerceHooks(api, self.settings.webhook_url), list(SCOPES))

    def client(self) -> httpx.AsyncClient:
        """The store's API root; paths name their version (/v2/orders, /v3/hooks)."""
        s = self.settings
        assert s.store_hash and s.access_token
        return httpx.AsyncClient(
            base_url=f"{s.base_url.rstrip('/')}/stores/{s.store_hash}",
            headers={"X-Auth-Token": s.access_token.get_secret_value(), "Accept": "application/json"},
            timeout=s.request_timeout,
        )

    async def _get(self, api: Api, path: str, **params: Any) -> bytes:
        body = await api.get_json_bytes(path, params=params or None)
        await self._respect_quota(api)
        return body

    async def _respect_quota(self, api: Api) -> None:
        """The store-wide quota is shared with other apps: when it is spent, wait for its window to reset."""
        response = api.last_response
        if response is None:
            return
        left = response.headers.get("X-Rate-Limit-Requests-Left")
        reset_ms = response.headers.get("X-Rate-Limit-Time-Reset-Ms")
        if left == "0" and reset_ms and reset_ms.isdigit():
            await pause(min(int(reset_ms) / 1000, 30.0))

    async def fetch_order(self, api: Api, order_id: int, trigger: str = "webhook") -> bool:
        """Fetch one order and its sub-resources and take the assembled document in."""
        try:
            order = await self._get(api, f"/v2/orders/{order_id}")
        except ApiError as exc:
            if exc.status == 404:
                log.warning("webhook order not found", connector=self.name, order=order_id)
                return False
            raise
        return await self._take(api, order_id, order, trigger) is not None

    async def _take(self, api: Api, order_id: int, order: bytes, trigger: str) -> Receipt | None:
        """The receipt of the assembled document; None when this version was taken in already."""
        modified = parse_json(order).get("date_modified")
        if modified is not None and self._taken.get(order_id) == modified:
            return None
        parts = {name: await self._get(api, f"/v2/orders/{order_id}/{name}") for name in SUB_RESOURCES}
        document = assemble(order, parts)
        receipt = await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="poll",
                body=document,
                received_at=datetime.now(UTC),
                headers={"Resource": f"/v2/orders/{order_id}", "Trigger": trigger},
                dedupe_key=f"{order_id}:{modified}" if modified else None,
            )
        )
        if modified:
            self._taken.pop(order_id, None)
            self._taken[order_id] = str(modified)
            if len(self._taken) > _REMEMBERED:
                del self._taken[next(iter(self._taken))]  # the least recently taken
        return receipt

    async def poll_window(
        self, api: Api, window: Window, trigger: str = "poll", progress: Progress = NO_PROGRESS
    ) -> Tally:
        tally = Tally()
        page = 1
        params: dict[str, Any] = {"min_date_modified": window.after.isoformat(), "sort": "date_modified:asc"}
        if window.until is not None:
            # max_date_modified is inclusive; a second less keeps the window's end exclusive
            params["max_date_modified"] = (window.until - timedelta(seconds=1)).isoformat()
        while True:
            body = await self._get(api, "/v2/orders", **params, page=page, limit=self.settings.page_size)
            orders = parse_json(body)
            if not isinstance(orders, list):
                raise ApiError("GET /v2/orders did not return a JSON array of orders")
            for order in orders:
                modified = order.get("date_modified")
                changed = parsedate_to_datetime(modified).astimezone(UTC) if modified else None
                receipt = await self._take(api, int(order["id"]), dump_json(order), trigger)
                if receipt is not None:
                    tally.took(receipt, changed)
                elif changed is not None:
                    tally.orders += 1  # taken in before, in this process: nothing new to store
                    tally.newest = max(tally.newest or changed, changed)
            tally.pages += 1
            progress(tally)
            if len(orders) < self.settings.page_size:
                return tally
            page += 1

    # tracking push-back ---------------------------------------------------------------------------
    async def fulfill(self, api: Api, order: Order, event: FulfillmentEvent) -> str:
        return await _bigcommerce_fulfill.push_fulfillment(api, order, event)
