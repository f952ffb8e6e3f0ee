"""BigCommerce hooks (`/v3/hooks`) for the shared `HookKeeper`: listed page by page, created active
for our destination, and one BigCommerce deactivated (`is_active: false`, after two days of failed
deliveries or 90 days without any) set active again."""

from __future__ import annotations

from typing import Any

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._push import expect_accepted
from orderhub.connectors._subscriptions import Hook
from orderhub.mapping import parse_json

HOOKS_PATH = "/v3/hooks"
SCOPES = ("store/order/created", "store/order/updated", "store/order/statusUpdated", "store/order/refund/created")
PAGE_SIZE = 250


class BigCommerceHooks:
    platform = "BigCommerce"

    def __init__(self, api: Api, destination: str) -> None:
        self.api = api
        self.destination = destination

    async def hooks(self) -> list[Hook]:
        found: list[Hook] = []
        page = 1
        while True:
            response = await self.api.request("GET", HOOKS_PATH, params={"page": page, "limit": PAGE_SIZE})
            expect_accepted(response)
            document = parse_json(response.content)
            listed = document.get("data") if isinstance(document, dict) else None
            if not isinstance(listed, list):
                raise ApiError(f"GET {HOOKS_PATH} did not return {{data: [...]}}")
            found += [_hook(item) for item in listed if isinstance(item, dict) and self._ours(item)]
            pagination = (document.get("meta") or {}).get("pagination") or {}
            total_pages = pagination.get("total_pages")
            if len(listed) < PAGE_SIZE or (isinstance(total_pages, int) and page >= total_pages):
                return found
            page += 1

    def _ours(self, item: dict[str, Any]) -> bool:
        return item.get("destination") == self.destination and item.get("scope") in SCOPES

    async def create(self, topic: str) -> None:
        body = {"scope": topic, "destination": self.destination, "is_active": True}
        expect_accepted(await self.api.request("POST", HOOKS_PATH, idempotent=False, json=body))

    async def activate(self, hook: Hook) -> None:
        expect_accepted(await self.api.request("PUT", f"{HOOKS_PATH}/{hook.id}", json={"is_active": True}))


def _hook(item: dict[str, Any]) -> Hook:
    active = item.get("is_active") is True
    return Hook(str(item.get("id")), str(item["scope"]), "active" if active else "disabled", f"is_active: {active}")
