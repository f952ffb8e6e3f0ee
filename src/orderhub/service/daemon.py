"""`orderhub run`: the hub and its HTTP server until SIGTERM/SIGINT, then a graceful stop."""

from __future__ import annotations

import asyncio
import gc
import signal

import structlog
from aiohttp import web

from orderhub.service.config import HubConfig
from orderhub.service.http import make_app
from orderhub.service.hub import Hub

log = structlog.get_logger("orderhub.daemon")


async def serve(config: HubConfig, ready: asyncio.Event | None = None) -> None:
    hub = Hub(config)
    await hub.start()
    runner = web.AppRunner(make_app(hub), access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, config.http.host, config.http.port, backlog=2048)
    try:
        await site.start()
    except OSError as exc:
        await hub.stop()
        raise SystemExit(f"cannot listen on {config.http.host}:{config.http.port}: {exc.strerror}") from None
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info(
        "orderhub running",
        listen=f"http://{config.http.host}:{config.http.port}",
        data_dir=str(config.data_dir),
        bus=config.bus.kind,
        connectors=sorted(hub.connectors),
    )
    # What start-up made lives as long as the process: kept out of the collector's full passes, which
    # otherwise walk all of it again and again under load
    gc.collect()
    gc.freeze()
    if ready is not None:
        ready.set()
    await stop.wait()
    log.info("stopping: no new requests; finishing accepted work")
    await runner.cleanup()  # in-flight webhooks finish (their payloads are durable) before this returns
    await hub.stop()
    log.info("stopped")
