"""An in-process hub serving real HTTP for the connector tests, and waiting for what it does."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from aiohttp.test_utils import TestServer

from orderhub.service.config import load_config
from orderhub.service.http import make_app
from orderhub.service.hub import Hub
from tests.helpers import write_config


@asynccontextmanager
async def hub_running(
    tmp_path: Path,
    connectors: dict[str, dict[str, Any]],
    prepare: Callable[[Hub], None] | None = None,
    *,
    http: dict[str, Any] | None = None,
    run_connectors: bool = True,
) -> AsyncIterator[tuple[Hub, httpx.AsyncClient]]:
    """The hub with these connector files (and `http` settings), started, and an API client (bearer
    token "tok"). `run_connectors=False`: their loops (polls, folder scans) are not started."""
    settings = {"host": "127.0.0.1", "port": 0, "api_token": "tok", **(http or {})}
    config = write_config(tmp_path, 0, connectors, http=settings)
    hub = Hub(load_config(config))
    if prepare is not None:
        prepare(hub)
    await hub.start(connectors=run_connectors)
    server = TestServer(make_app(hub))
    await server.start_server()
    client = httpx.AsyncClient(base_url=str(server.make_url("")), headers={"Authorization": "Bearer tok"})
    try:
        yield hub, client
    finally:
        await client.aclose()
        await server.close()
        await hub.stop()


async def eventually(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 20.0) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        value = await check()
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def order(client: httpx.AsyncClient, order_id: str, revision: int = 1) -> dict[str, Any]:
    """The order from GET /api/orders/{id} once it is at `revision` or later."""

    async def ready() -> dict[str, Any] | None:
        response = await client.get(f"/api/orders/{order_id}")
        if response.status_code == 200 and response.json()["revision"] >= revision:
            return dict(response.json())
        return None

    return dict(await eventually(ready, f"{order_id} at revision {revision}"))
