"""Cart connectors that read their orders by change-time window: the live poll from the cursor, an
on-demand backfill and the tracking push, one implementation for WooCommerce, BigCommerce and Magento."""

from __future__ import annotations

from typing import ClassVar

import httpx

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._poll import (
    NO_PROGRESS,
    CannotBackfill,
    PollSettings,
    Progress,
    Tally,
    Window,
    poll_from_cursor,
)
from orderhub.connectors.base import Connector
from orderhub.model import Order
from orderhub.model.events import FulfillmentEvent


class WindowPolledConnector(Connector):
    # what the settings need so that orders can be read, for the message when they cannot
    api_needs: ClassVar[str]

    settings: PollSettings

    @property
    def has_api(self) -> bool:
        raise NotImplementedError

    def client(self) -> httpx.AsyncClient:
        raise NotImplementedError

    async def poll_window(
        self, api: Api, window: Window, trigger: str = "poll", progress: Progress = NO_PROGRESS
    ) -> Tally:
        """Take in every order changed in the window, as `trigger` ("poll", "backfill")."""
        raise NotImplementedError

    async def poll_once(self, api: Api) -> int:
        settings = self.settings
        return await poll_from_cursor(
            self.intake, self.name, settings.start_from, settings.overlap_seconds, lambda w: self.poll_window(api, w)
        )

    async def backfill(self, window: Window, progress: Progress = NO_PROGRESS) -> Tally:
        """The orders changed in the window, taken in like polled ones; the live cursor is not touched."""
        if not self.has_api:
            raise CannotBackfill(f"connector {self.name} has no {self.api_needs} to read orders with")
        async with self.client() as client:
            return await self.poll_window(Api(client), window, "backfill", progress)

    @property
    def pushes_tracking(self) -> bool:
        return self.has_api

    async def push_fulfillment(self, order: Order, event: FulfillmentEvent) -> str:
        if not self.has_api:
            raise ApiError(f"connector {self.name} has no {self.api_needs}: tracking cannot be pushed")
        async with self.client() as client:
            return await self.fulfill(Api(client), order, event)

    async def fulfill(self, api: Api, order: Order, event: FulfillmentEvent) -> str:
        """Record the fulfillment on the platform; the platform's id of what it made."""
        raise NotImplementedError
