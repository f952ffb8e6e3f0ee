"""`orderhub run` as a real process with a Shopify connector that has API credentials, against the local
fake Shopify: the poll brings the corpus order in, subscriptions are created, a fulfillment event is
pushed back, the access token stays out of the log, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from orderhub._sqlite import Database
from orderhub.bus.base import OutMessage
from orderhub.bus.embedded import EmbeddedBus
from tests.fakes import shopify as fake_shopify
from tests.fakes._server import serve_in_thread
from tests.helpers import Daemon, free_port, wait_for, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]
APP_SECRET = "daemon-shopify-secret"


def test_shopify_api_connector_in_the_daemon(tmp_path: Path, corpus: Path) -> None:
    fake = fake_shopify.FakeShopify(orders=[fake_shopify.corpus_order(corpus)])
    with serve_in_thread(fake.app()) as url:
        port = free_port()
        connectors = {
            "shop": {
                "kind": "shopify",
                "shop": "acme.myshopify.com",
                "base_url": url,
                "access_token": "${SHOPIFY_TOKEN}",
                "api_version": fake_shopify.VERSION,
                "webhook_secret": "${SHOPIFY_SECRET}",
                "webhook_url": "https://hub.example.test/webhooks/shop",
                "start_from": "2008-01-01T00:00:00Z",
                "poll_interval": 0.5,
            }
        }
        config = write_config(tmp_path, port, connectors)
        daemon = Daemon(config, port, {"SHOPIFY_TOKEN": fake_shopify.TOKEN, "SHOPIFY_SECRET": APP_SECRET})
        daemon.start()
        try:

            def order() -> dict[str, Any] | None:
                response = httpx.get(f"{daemon.url}/api/orders/shop:450789469", timeout=5)
                return dict(response.json()) if response.status_code == 200 else None

            found = wait_for(order, what="the polled order")
            assert found["source"]["external_number"] == "#1001"
            wait_for(lambda: len(fake.subscriptions) == 6, what="six webhook subscriptions")
            assert daemon.stop() == 0

            # a fulfillment event written to the embedded bus while the daemon is down is pushed after a restart
            event = {
                "order_id": "shop:450789469",
                "fulfillment_id": "WH-9",
                "status": "shipped",
                "carrier": "DHL",
                "tracking_number": "JD0001",
                "tracking_url": None,
                "lines": [],
            }
            _publish_offline(tmp_path, orjson.dumps(event))
            daemon.start()
            wait_for(lambda: len(fake.fulfillments) == 1, what="the fulfillmentCreate")
            assert fake.fulfillments[0]["trackingInfo"] == {"company": "DHL", "number": "JD0001"}
            assert daemon.stop() == 0
            db = sqlite3.connect(tmp_path / "var" / "orderhub.sqlite")
            pushed = db.execute("SELECT connector, fulfillment_id FROM pushed_fulfillments").fetchall()
            db.close()
            assert pushed == [("shop", "WH-9")]
            log = daemon.log.read_text(errors="replace")
            assert "webhook-only" not in log
            for secret in (fake_shopify.TOKEN, APP_SECRET):
                assert secret not in log
        finally:
            daemon.kill()


def _publish_offline(tmp_path: Path, value: bytes) -> None:
    """The embedded bus is a table of the store's file: a producer on this machine can append to it."""

    async def publish() -> None:
        db = Database(tmp_path / "var" / "orderhub.sqlite")
        bus = EmbeddedBus(db)
        db.open()
        await bus.start()
        try:
            await bus.publish([OutMessage(topic="fulfillment", key="shop:450789469", value=value)])
        finally:
            await bus.close()
            await db.close()

    asyncio.run(publish())
