"""`orderhub run` as a real process with WooCommerce, BigCommerce and Magento connector files pointing
at local fake platform servers: the kinds load from the entry points, the pollers bring the corpus
orders in, webhooks and pings are answered, secrets stay out of the log, and SIGTERM stops it cleanly."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes import woocommerce as woo_fake
from tests.fakes._server import serve_in_thread
from tests.fakes.signing import woo_headers
from tests.helpers import Daemon, free_port, wait_for, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]
WOO_SECRET = "daemon-woo-secret"


def order_at(daemon: Daemon, order_id: str, revision: int = 1) -> dict[str, Any]:
    def ready() -> dict[str, Any] | None:
        response = httpx.get(f"{daemon.url}/api/orders/{order_id}", timeout=5)
        if response.status_code == 200 and response.json()["revision"] >= revision:
            return dict(response.json())
        return None

    return dict(wait_for(ready, what=f"{order_id} at revision {revision}"))


def test_cart_connectors_in_the_daemon(tmp_path: Path, corpus: Path) -> None:
    woo = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus), throttle=1)
    bc = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    mage = mage_fake.FakeMagento(orders=[mage_fake.corpus_order(corpus)])
    with (
        serve_in_thread(woo.app()) as woo_url,
        serve_in_thread(bc.app()) as bc_url,
        serve_in_thread(mage.app()) as mage_url,
    ):
        port = free_port()
        common = {"start_from": "2017-01-01T00:00:00Z", "poll_interval": 0.5, "overlap_seconds": 0}
        connectors = {
            "woo": {
                "kind": "woocommerce",
                "base_url": woo_url,
                "consumer_key": woo_fake.KEY,
                "consumer_secret": "${WOO_CONSUMER_SECRET}",
                "auth": "query",  # the keys travel in the URL: they must still stay out of the log
                "webhook_secret": WOO_SECRET,
                **common,
            },
            "bc": {
                "kind": "bigcommerce",
                "store_hash": bc_fake.STORE,
                "access_token": "${BC_TOKEN}",
                "client_secret": "bc-secret",
                "base_url": bc_url,
                **common,
            },
            "mage": {
                "kind": "magento",
                "base_url": mage_url,
                "username": mage_fake.USER,
                "password": "${MAGE_PASSWORD}",
                **common,
            },
        }
        config = write_config(tmp_path, port, connectors)
        env = {
            "WOO_CONSUMER_SECRET": woo_fake.SECRET,
            "BC_TOKEN": bc_fake.TOKEN,
            "MAGE_PASSWORD": mage_fake.PASSWORD,
        }
        daemon = Daemon(config, port, env)
        daemon.start()
        try:
            totals = {
                "woo:723": "39.00",
                "woo:727": "29.35",
                "bc:218": "69.8400",
                "bc:247": "1008.74",
                "mage:3": "165",
            }
            for order_id, total in totals.items():
                assert order_at(daemon, order_id)["totals"]["grand_total"]["amount"] == total

            ping = httpx.post(f"{daemon.url}/webhooks/woo", content=b"webhook_id=3", timeout=5)
            assert (ping.status_code, ping.json()) == (200, {"ping": True})
            body = (corpus / "channels" / "woocommerce" / "wc-v3-order-727-update-completed.json").read_bytes()
            hook = httpx.post(f"{daemon.url}/webhooks/woo", content=body, headers=woo_headers(WOO_SECRET, body))
            assert hook.status_code == 200
            assert order_at(daemon, "woo:727", revision=2)["status"] == "closed"
            assert httpx.get(f"{daemon.url}/webhooks/mage", timeout=5).status_code == 404  # polls only
            woo_polls = [r for r in woo.requests if r.status == 200]
            assert woo_polls and all(r.query["consumer_key"] == woo_fake.KEY for r in woo_polls)

            assert daemon.stop() == 0
            db = sqlite3.connect(tmp_path / "var" / "orderhub.sqlite")
            cursors = dict(db.execute("SELECT connector, value FROM checkpoints WHERE key = 'modified_since'"))
            db.close()
            assert cursors == {
                "woo": "2017-03-22T19:28:08+00:00",
                "bc": "2019-06-20T16:07:08+00:00",
                "mage": "2017-08-21T22:22:20+00:00",
            }
            log = daemon.log.read_text(errors="replace")
            assert "webhook-only" not in log
            for secret in (woo_fake.SECRET, bc_fake.TOKEN, mage_fake.PASSWORD, WOO_SECRET, "admin-token-1"):
                assert secret not in log
        finally:
            daemon.kill()
