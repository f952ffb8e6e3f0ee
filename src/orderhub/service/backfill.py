"""History on demand: a connector's reconciliation poll over an explicit window of change times.

The orders are stored raw through the hub's intake (the store's write path, safe while the daemon
runs on the same database), under the usual dedupe keys, so an order already stored is a duplicate
and nothing is stored twice. No stage runs here: the daemon (or the next `orderhub run`) normalizes
what was stored. The live poll's checkpoint is never read or written.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from orderhub.connectors import Connector
from orderhub.connectors._http import Api
from orderhub.connectors._poll import CannotBackfill, Progress, Tally, Window
from orderhub.connectors._shopify_api import ShopifyApi
from orderhub.connectors.shopify import ShopifyConnector
from orderhub.service.config import HubConfig
from orderhub.service.hub import Hub

Runner = Callable[[Window, Progress], Awaitable[Tally]]


class UnknownConnector(LookupError):
    pass


@runtime_checkable
class Backfills(Protocol):
    async def backfill(self, window: Window, progress: Progress) -> Tally: ...


async def _shopify(connector: ShopifyConnector, window: Window, progress: Progress) -> Tally:
    if not connector.has_api:
        raise CannotBackfill(f"connector {connector.name} has no shop and access_token to read orders with")
    async with connector.client() as client:
        shop = ShopifyApi(Api(client), connector.settings.api_version)
        return await connector.poller().backfill(shop, window, progress)


def runner(connector: Connector) -> Runner:
    """How this connector backfills; CannotBackfill when its kind has no poll."""
    if isinstance(connector, ShopifyConnector):
        return lambda window, progress: _shopify(connector, window, progress)
    if isinstance(connector, Backfills):
        return connector.backfill
    raise CannotBackfill(f"connector {connector.name} (kind {connector.kind}) has no poll to read history with")


async def backfill(config: HubConfig, name: str, window: Window, progress: Progress) -> Tally:
    """Run one connector's backfill with the hub's store and intake, no stages, no connector loops."""
    hub = Hub(config)
    connector = hub.connectors.get(name)
    if connector is None:
        known = ", ".join(sorted(hub.connectors)) or "none"
        raise UnknownConnector(f"no connector {name!r} in {config.connectors_dir} (configured: {known})")
    run = runner(connector)
    await hub.start(stages=False, connectors=False)
    try:
        return await run(window, progress)
    finally:
        await hub.stop(drain=False)  # what went to the outbox is the daemon's relay's to send
