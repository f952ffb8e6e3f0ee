"""WooCommerce webhooks (`/wp-json/wc/v3/webhooks`) for the shared `HookKeeper`: listed page by page,
created with the connector's current webhook secret, and a `disabled` one (WooCommerce's doing,
after more than 5 failed deliveries) set back to `active`. A `paused` one is the merchant's choice."""

from __future__ import annotations

from typing import Any

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._push import expect_accepted
from orderhub.connectors._subscriptions import Hook, HookState
from orderhub.mapping import parse_json

WEBHOOKS_PATH = "/wp-json/wc/v3/webhooks"
TOPICS = ("order.created", "order.updated", "order.deleted")
PAGE_SIZE = 100
_STATES: dict[str, HookState] = {"active": "active", "disabled": "disabled", "paused": "held"}


class WooCommerceHooks:
    platform = "WooCommerce"

    def __init__(self, api: Api, connector: str, delivery_url: str, secret: str) -> None:
        self.api = api
        self.connector = connector
        self.delivery_url = delivery_url
        self._secret = secret

    async def hooks(self) -> list[Hook]:
        found: list[Hook] = []
        page = 1
        while True:
            response = await self.api.request("GET", WEBHOOKS_PATH, params={"per_page": PAGE_SIZE, "page": page})
            expect_accepted(response)
            listed = parse_json(response.content)
            if not isinstance(listed, list):
                raise ApiError(f"GET {WEBHOOKS_PATH} did not return a JSON array of webhooks")
            found += [_hook(item) for item in listed if isinstance(item, dict) and self._ours(item)]
            pages = response.headers.get("X-WP-TotalPages", "")
            if len(listed) < PAGE_SIZE or (pages.isdigit() and page >= int(pages)):
                return found
            page += 1

    def _ours(self, item: dict[str, Any]) -> bool:
        return item.get("delivery_url") == self.delivery_url and item.get("topic") in TOPICS

    async def create(self, topic: str) -> None:
        body = {
            "name": f"orderhub {self.connector} {topic}",
            "topic": topic,
            "delivery_url": self.delivery_url,
            "secret": self._secret,
            "status": "active",
        }
        expect_accepted(await self.api.request("POST", WEBHOOKS_PATH, idempotent=False, json=body))

    async def activate(self, hook: Hook) -> None:
        expect_accepted(await self.api.request("PUT", f"{WEBHOOKS_PATH}/{hook.id}", json={"status": "active"}))


def _hook(item: dict[str, Any]) -> Hook:
    status = str(item.get("status", ""))
    return Hook(str(item.get("id")), str(item["topic"]), _STATES.get(status, "disabled"), status)
