"""Magento 2 / Adobe Commerce: poll REST `V1/orders` by `updated_at`, with an integration token or an
admin token obtained from a username and password (and renewed before it expires)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import httpx
import structlog
from pydantic import Field, model_validator

from orderhub.connectors._http import Api, ApiError, expect_ok
from orderhub.connectors._poll import Cursor, PollSettings, dump_json, every, since, utc_naive_text
from orderhub.connectors.base import Connector, Secret
from orderhub.mapping import parse_json
from orderhub.store.base import RawIn

log = structlog.get_logger("orderhub.connectors.magento")

MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"


class MagentoAuthError(RuntimeError):
    """Magento refused the credentials; the supervisor restarts the connector with backoff."""


class MagentoSettings(PollSettings):
    base_url: str  # the site, e.g. https://shop.example.com (requests go to {base_url}/rest/{store_code}/V1/...)
    store_code: str = "default"
    access_token: Secret | None = None  # an integration token used as a Bearer token
    username: str | None = None  # an admin user: a 4 h admin token is requested with the password
    password: Secret | None = None
    admin_token_ttl: float = Field(4 * 3600.0, gt=60)  # Magento's default admin token lifetime

    @model_validator(mode="after")
    def _one_way_to_authenticate(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password go together")
        if self.access_token is not None and self.username is not None:
            raise ValueError("give either access_token or username + password, not both")
        if self.access_token is None and self.username is None:
            raise ValueError("give access_token, or username + password for an admin token")
        return self


class MagentoConnector(Connector):
    kind: ClassVar[str] = "magento"
    channel: ClassVar[str] = "magento"
    settings_model = MagentoSettings
    runs = True

    settings: MagentoSettings

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._token: str | None = None
        self._token_at = 0.0

    @property
    def rest(self) -> str:
        return f"/rest/{self.settings.store_code}/V1"

    async def run(self) -> None:
        async with self.client() as client:
            await every(self.settings.poll_interval, lambda: self.poll_once(Api(client)))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=self.settings.base_url.rstrip("/"),
            timeout=self.settings.request_timeout,
            headers={"Accept": "application/json"},
        )

    # auth -----------------------------------------------------------------------------------------
    async def _bearer(self, api: Api, renew: bool = False) -> str:
        s = self.settings
        if s.access_token is not None:
            return s.access_token.get_secret_value()
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
            raise MagentoAuthError(f"Magento refused the admin login of {s.username!r} (HTTP {response.status_code})")
        expect_ok(response)
        token = parse_json(response.content)
        if not isinstance(token, str) or not token:
            raise ApiError("Magento's admin token endpoint did not return a token string")
        log.info("admin token obtained", connector=self.name)
        return token

    async def _get(self, api: Api, path: str, params: dict[str, str | int]) -> httpx.Response:
        """A GET with the current token; a 401 renews an admin token once and tries again."""
        response = await api.request("GET", path, params=params, headers=self._auth(await self._bearer(api)))
        if response.status_code == 401 and self.settings.access_token is None:
            log.info("admin token refused; renewing it", connector=self.name)
            response = await api.request("GET", path, params=params, headers=self._auth(await self._bearer(api, True)))
        if response.status_code == 401:
            hint = (
                " (since Magento 2.4.4 an integration token works as a Bearer token only with "
                "oauth/consumer/enable_integration_as_bearer=1)"
                if self.settings.access_token is not None
                else ""
            )
            raise MagentoAuthError(f"Magento refused the token for GET {path} (HTTP 401){hint}")
        expect_ok(response)
        return response

    @staticmethod
    def _auth(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    # poll -----------------------------------------------------------------------------------------
    def _criteria(self, after: datetime, page: int) -> dict[str, str | int]:
        filters = "searchCriteria[filter_groups][0][filters][0]"
        return {
            f"{filters}[field]": "updated_at",
            f"{filters}[value]": after.astimezone(UTC).strftime(MAGENTO_TIME),
            f"{filters}[condition_type]": "gt",
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[pageSize]": self.settings.page_size,
            "searchCriteria[currentPage]": page,
        }

    async def poll_once(self, api: Api) -> int:
        cursor = Cursor(self.intake, self.name, self.settings.start_from)
        start = await cursor.load()
        after = since(start, self.settings.overlap_seconds)
        newest = start
        seen = 0
        page = 1
        while True:
            response = await self._get(api, f"{self.rest}/orders", self._criteria(after, page))
            result = parse_json(response.content)
            if not isinstance(result, dict) or not isinstance(result.get("items"), list):
                raise ApiError(f"GET {self.rest}/orders did not return a search result with items")
            items = [item for item in result["items"] if isinstance(item, dict)]
            for item in items:
                await self._accept(item)
                seen += 1
                if isinstance(item.get("updated_at"), str):
                    newest = max(newest, utc_naive_text(item["updated_at"]))
            total = result.get("total_count")
            # past the last page Magento may answer the last page again: stop by total_count
            if not items or not isinstance(total, int) or page * self.settings.page_size >= total:
                break
            page += 1
        if newest > start:
            await cursor.save(newest)  # every order up to `newest` is durable
        log.info("poll done", connector=self.name, orders=seen, cursor=newest.isoformat())
        return seen

    async def _accept(self, order: dict[str, Any]) -> None:
        await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="poll",
                body=dump_json(order),
                received_at=datetime.now(UTC),
                headers={"Resource": f"{self.rest}/orders"},
                dedupe_key=f"{order.get('entity_id')}:{order.get('updated_at')}",
            )
        )
