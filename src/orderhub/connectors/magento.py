"""Magento 2 / Adobe Commerce: poll REST `V1/orders` by `updated_at`, with an integration token or an
admin token obtained from a username and password (and renewed before it expires); optionally Adobe
I/O Events deliveries (RSA-signed), each taken as "go fetch this order". The poll also serves
`orderhub backfill`; tracking is pushed back as a Magento shipment (`POST /V1/order/{id}/ship`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping as MappingABC
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Self

import httpx
import structlog
from pydantic import Field, model_validator

from orderhub.connectors import _adobe_io as adobe_io
from orderhub.connectors import _magento_fulfill
from orderhub.connectors._http import Api, ApiError, expect_ok
from orderhub.connectors._oauth1 import OAuth1
from orderhub.connectors._poll import (
    NO_PROGRESS,
    PollSettings,
    Progress,
    Tally,
    Window,
    dump_json,
    poll_and_fetch,
    utc_naive_text,
)
from orderhub.connectors._rsa import RsaPublicKey, load_public_keys
from orderhub.connectors._windowed import WindowPolledConnector
from orderhub.connectors.base import NotAnOrder, Secret, WebhookVerdict
from orderhub.mapping import Mapping, builtin_mapping, parse_json
from orderhub.model.events import FulfillmentEvent
from orderhub.model.order import Order
from orderhub.stages.normalize import KeptWithoutOrder
from orderhub.store.base import RawIn, Receipt, StoredRaw

log = structlog.get_logger("orderhub.connectors.magento")

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"


class MagentoAuthError(RuntimeError):
    """Magento refused the credentials; the supervisor restarts the connector with backoff."""


class MagentoSettings(PollSettings):
    base_url: str | None = (
        None  # the site, e.g. https://shop.example.com (requests go to {base_url}/rest/{store_code}/V1/...)
    )
    store_code: str = "default"
    access_token: Secret | None = None  # an integration's access token: a Bearer token, or OAuth 1.0a (below)
    # with these three the integration signs each call with OAuth 1.0a (HMAC-SHA256), which Magento
    # accepts by default; a bare Bearer integration token needs enable_integration_as_bearer since 2.4.4
    consumer_key: Secret | None = None
    consumer_secret: Secret | None = None
    access_token_secret: Secret | None = None
    username: str | None = None  # an admin user: a 4 h admin token is requested with the password
    password: Secret | None = None
    admin_token_ttl: float = Field(4 * 3600.0, gt=60)  # Magento's default admin token lifetime
    # Adobe I/O Events: the PEM public key(s) that verify x-adobe-digital-signature-1/2 (relative paths
    # are relative to the connector file), and optionally the client id deliveries must be addressed to
    public_key_file: Path | None = None
    recipient_client_id: str | None = None

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.access_token is not None and self.username is not None:
            raise ValueError("give either access_token or username + password, not both")
        oauth = (self.consumer_key, self.consumer_secret, self.access_token_secret)
        if any(part is not None for part in oauth) and (None in oauth or self.access_token is None):
            raise ValueError("OAuth 1.0a needs consumer_key, consumer_secret, access_token and access_token_secret")
        has_api = self.access_token is not None or self.username is not None
        if not has_api and self.public_key_file is None:
            raise ValueError("give access_token, or username + password for an admin token (or public_key_file)")
        if has_api and not self.base_url:
            raise ValueError("base_url is needed to call the REST API")
        return self


class MagentoConnector(WindowPolledConnector):
    kind: ClassVar[str] = "magento"
    channel: ClassVar[str] = "magento"
    settings_model = MagentoSettings
    api_needs = "access_token or username + password"
    runs = True

    settings: MagentoSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._token_at = 0.0
        self.pending: asyncio.Queue[int] = asyncio.Queue()  # order ids announced by I/O Events

    @property
    def takes_webhooks(self) -> bool:  # type: ignore[override]  # only with Adobe I/O Events configured
        return self.settings.public_key_file is not None

    @property
    def has_api(self) -> bool:
        return self.settings.access_token is not None or self.settings.username is not None

    @property
    def rest(self) -> str:
        return f"/rest/{self.settings.store_code}/V1"

    def startup_notes(self) -> list[str]:
        notes = []
        if self.settings.public_key_file is not None:
            try:
                keys = self._public_keys
                notes.append(f"Adobe I/O Events webhooks verified with {len(keys)} public key(s)")
            except (OSError, ValueError) as exc:
                notes.append(f"cannot use public_key_file: {exc}; every I/O Events delivery will be refused")
        if not self.has_api:
            notes.append(
                "webhook-only: no access_token or username/password, so I/O Events deliveries are stored but "
                "cannot be resolved into orders (they go to the DLQ) and there is no poll"
            )
        return notes

    # Adobe I/O Events ---------------------------------------------------------------------------
    @cached_property
    def _public_keys(self) -> list[RsaPublicKey]:
        path = self.settings.public_key_file
        assert path is not None
        return load_public_keys((path if path.is_absolute() else self.base_dir / path).read_text(encoding="utf-8"))

    def webhook_challenge(self, query: MappingABC[str, str]) -> str | None:
        return query.get("challenge")  # Adobe I/O checks the address by GET ?challenge=X and wants X back

    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        if not any(headers.get(name) for name in adobe_io.SIGNATURE_HEADERS):
            return WebhookVerdict(False, "missing x-adobe-digital-signature-1/-2 header")
        try:
            keys = self._public_keys
        except (OSError, ValueError) as exc:
            return WebhookVerdict(False, f"cannot use public_key_file: {exc}")
        if not adobe_io.signed(keys, headers, body):
            return WebhookVerdict(False, "no x-adobe-digital-signature verifies the body with public_key_file")
        event = adobe_io.parse_event(body)
        wanted = self.settings.recipient_client_id
        if wanted is not None and event.recipient_client_id != wanted:
            return WebhookVerdict(False, f"recipient_client_id {event.recipient_client_id!r} is not this connector's")
        if event.order_id is not None and self.has_api:
            self.pending.put_nowait(event.order_id)
        kept = {name: value for name in adobe_io.KEPT_HEADERS if (value := headers.get(name)) is not None}
        return WebhookVerdict(True, dedupe_key=event.event_id, headers=kept)

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        if raw.transport != "webhook":
            return builtin_mapping("magento")
        order_id = adobe_io.parse_event(raw.body).order_id
        if order_id is None:
            raise NotAnOrder("Adobe I/O event has no order entity_id in data.value")
        if not self.has_api:
            raise NotAnOrder(
                f"Adobe I/O event for order {order_id} cannot be resolved: the connector has no access_token "
                "or username/password to fetch the order with"
            )
        raise KeptWithoutOrder(f"Adobe I/O event for order {order_id}: the order is fetched and stored on its own")

    # API ------------------------------------------------------------------------------------------
    async def run(self) -> None:
        if not self.has_api:
            return  # webhook-only; said at start
        async with self.client() as client:
            api = Api(client)
            # the queue stays empty unless I/O Events are configured
            await poll_and_fetch(
                self.pending,
                self.settings.poll_interval,
                lambda: self.poll_once(api),
                lambda i: self.fetch_order(api, i),
            )

    async def fetch_order(self, api: Api, entity_id: int) -> bool:
        """Fetch one order (announced by an event) and take it in."""
        try:
            response = await self._get(api, f"{self.rest}/orders/{entity_id}", {})
        except ApiError as exc:
            if exc.status == 404:
                log.warning("event order not found", connector=self.name, order=entity_id)
                return False
            raise
        order = parse_json(response.content)
        if not isinstance(order, dict):
            raise ApiError(f"GET {self.rest}/orders/{entity_id} did not return an order")
        await self._accept(response.content, order, f"{self.rest}/orders/{entity_id}", "webhook")
        return True

    def client(self) -> httpx.AsyncClient:
        s = self.settings
        assert s.base_url
        auth = None
        if s.consumer_key and s.consumer_secret and s.access_token and s.access_token_secret:
            auth = OAuth1(
                s.consumer_key.get_secret_value(),
                s.consumer_secret.get_secret_value(),
                s.access_token.get_secret_value(),
                s.access_token_secret.get_secret_value(),
            )
        return httpx.AsyncClient(
            base_url=s.base_url.rstrip("/"),
            auth=auth,
            timeout=s.request_timeout,
            headers={"Accept": "application/json"},
        )

    # auth -----------------------------------------------------------------------------------------
    async def _headers(self, api: Api, renew: bool = False) -> dict[str, str]:
        s = self.settings
        if s.access_token_secret is not None:
            return {}  # the client signs each request (OAuth 1.0a)
        if s.access_token is not None:
            return {"Authorization": f"Bearer {s.access_token.get_secret_value()}"}
        return {"Authorization": f"Bearer {await self._admin_token(api, renew)}"}

    async def _admin_token(self, api: Api, renew: bool) -> str:
        s = self.settings
        # renewed at 90% of its lifetime, so a token never expires between two calls of one poll
        if renew or self._token is None or time.monotonic() - self._token_at > 0.9 * s.admin_token_ttl:
            self._token = await self._login(api)
            self._token_at = time.monotonic()
        return self._token

    async def _login(self, api: Api) -> str:
        s = self.settings
        assert s.username is not None and s.password is not None
        response = await api.request(
            "POST",
            f"{self.rest}/integration/admin/token",
            json={"username": s.username, "password": s.password.get_secret_value()},
        )
        if response.status_code in (400, 401):
            # e.g. "Please use the 2fa provider-specific endpoints...": Magento_TwoFactorAuth is on
            said = response.text[:200].replace("\n", " ")
            raise MagentoAuthError(
                f"Magento refused the admin login of {s.username!r} (HTTP {response.status_code}): {said}"
            )
        expect_ok(response)
        token = parse_json(response.content)
        if not isinstance(token, str) or not token:
            raise ApiError("Magento's admin token endpoint did not return a token string")
        log.info("admin token obtained", connector=self.name)
        return token

    async def _get(self, api: Api, path: str, params: dict[str, str | int]) -> httpx.Response:
        """A GET that must succeed, with the current token."""
        response = await self._send(api, "GET", path, params)
        expect_ok(response)
        return response

    async def _send(
        self, api: Api, method: str, path: str, params: dict[str, str | int] | None = None, body: Any = None
    ) -> httpx.Response:
        """A call with the current token; a 401 renews an admin token once and tries again. A POST
        creates something: it is retried only when Magento surely did not act on it."""
        s = self.settings
        kwargs: dict[str, Any] = {"params": params, "idempotent": method != "POST"}
        if body is not None:
            kwargs["json"] = body
        response = await api.request(method, path, headers=await self._headers(api), **kwargs)
        if response.status_code == 401 and s.access_token is None:
            log.info("admin token refused; renewing it", connector=self.name)
            response = await api.request(method, path, headers=await self._headers(api, renew=True), **kwargs)
        if response.status_code == 401:
            hint = ""
            if s.access_token_secret is not None:
                hint = " (the integration's OAuth 1.0a keys or tokens were refused)"
            elif s.access_token is not None:
                hint = (
                    " (since Magento 2.4.4 an integration token works as a Bearer token only with "
                    "oauth/consumer/enable_integration_as_bearer=1; or give consumer_key, consumer_secret and "
                    "access_token_secret to sign with OAuth 1.0a)"
                )
            raise MagentoAuthError(f"Magento refused the token for {method} {path} (HTTP 401){hint}")
        return response

    # poll -----------------------------------------------------------------------------------------
    def _criteria(self, window: Window, page: int) -> dict[str, str | int]:
        filters = "searchCriteria[filter_groups][0][filters][0]"
        criteria: dict[str, str | int] = {
            f"{filters}[field]": "updated_at",
            f"{filters}[value]": window.after.astimezone(UTC).strftime(MAGENTO_TIME),
            f"{filters}[condition_type]": "gt",
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[pageSize]": self.settings.page_size,
            "searchCriteria[currentPage]": page,
        }
        if window.until is not None:  # a second group: groups are ANDed
            until = "searchCriteria[filter_groups][1][filters][0]"
            criteria[f"{until}[field]"] = "updated_at"
            criteria[f"{until}[value]"] = window.until.astimezone(UTC).strftime(MAGENTO_TIME)
            criteria[f"{until}[condition_type]"] = "lt"
        return criteria

    async def poll_window(
        self, api: Api, window: Window, trigger: str = "poll", progress: Progress = NO_PROGRESS
    ) -> Tally:
        tally = Tally()
        page = 1
        while True:
            response = await self._get(api, f"{self.rest}/orders", self._criteria(window, page))
            result = parse_json(response.content)
            if not isinstance(result, dict) or not isinstance(result.get("items"), list):
                raise ApiError(f"GET {self.rest}/orders did not return a search result with items")
            items = [item for item in result["items"] if isinstance(item, dict)]
            # a page's orders are stored together: one group commit instead of one per order
            receipts = await asyncio.gather(
                *(self._accept(dump_json(item), item, f"{self.rest}/orders", trigger) for item in items)
            )
            for item, receipt in zip(items, receipts, strict=True):
                updated = item.get("updated_at")
                tally.took(receipt, utc_naive_text(updated) if isinstance(updated, str) else None)
            tally.pages += 1
            progress(tally)
            total = result.get("total_count")
            # past the last page Magento may answer the last page again: stop by total_count
            if not items or not isinstance(total, int) or page * self.settings.page_size >= total:
                return tally
            page += 1

    async def _accept(self, body: bytes, order: dict[str, Any], resource: str, trigger: str) -> Receipt:
        return await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="poll",
                body=body,
                received_at=datetime.now(UTC),
                headers={"Resource": resource, "Trigger": trigger},
                dedupe_key=f"{order.get('entity_id')}:{order.get('updated_at')}",
            )
        )

    # tracking push-back ---------------------------------------------------------------------------
    async def push_fulfillment(self, order: Order, event: FulfillmentEvent) -> str:
        """Ship (part of) the order on Magento with its track; the shipment's entity id."""
        if not self.has_api:
            raise ApiError(f"connector {self.name} has no access_token or username: tracking cannot be pushed")
        async with self.client() as client:
            api = Api(client)

            async def send(method: str, path: str, params: dict[str, str | int] | None, body: Any) -> httpx.Response:
                return await self._send(api, method, path, params, body)

            return await _magento_fulfill.push_fulfillment(send, self.rest, order, event)
