"""`orderhub backfill` as a process while `orderhub run` runs on the same data directory: the
backfilled orders are stored by the command, normalized by the daemon, and the daemon's live poll
checkpoint is where it was."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fakes import woocommerce as woo_fake
from tests.fakes._server import serve_in_thread
from tests.helpers import free_port, running, wait_for, write_config

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]
LIVE = "2030-01-01T00:00:00+00:00"


def test_backfill_while_the_daemon_runs(tmp_path: Path, corpus: Path) -> None:
    fake = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url:
        port = free_port()
        connectors = {
            "woo": {
                "kind": "woocommerce",
                "base_url": url,
                "consumer_key": woo_fake.KEY,
                "consumer_secret": "${WOO_CONSUMER_SECRET}",
                "webhook_secret": "s",
                "start_from": LIVE,  # the live poll finds nothing: only the backfill brings orders
                "poll_interval": 0.5,
            }
        }
        config = write_config(tmp_path, port, connectors)
        env = {**os.environ, "WOO_CONSUMER_SECRET": woo_fake.SECRET}
        with running(config, port, env) as daemon:
            command = [sys.executable, "-m", "orderhub.cli", "backfill", "--config", str(config)]
            command += ["--connector", "woo", "--since", "2017-03-01", "--until", "2017-03-31", "--json"]
            done = subprocess.run(command, capture_output=True, env=env, timeout=60, check=False)
            assert done.returncode == 0, done.stderr.decode()
            summary = json.loads(done.stdout)  # with --json stdout is JSON only
            assert (summary["orders"], summary["new"], summary["pages"]) == (2, 2, 1)
            assert woo_fake.SECRET.encode() not in done.stderr

            def normalized(order_id: str) -> dict[str, Any] | None:
                response = httpx.get(f"{daemon.url}/api/orders/{order_id}", timeout=5)
                return dict(response.json()) if response.status_code == 200 else None

            assert wait_for(lambda: normalized("woo:723"), what="woo:723")["source"]["connector"] == "woo"
            assert wait_for(lambda: normalized("woo:727"), what="woo:727")["revision"] == 1
            db = sqlite3.connect(tmp_path / "var" / "orderhub.sqlite")
            try:
                (checkpoint,) = db.execute(
                    "SELECT value FROM checkpoints WHERE connector = 'woo' AND key = 'modified_since'"
                ).fetchone()
            finally:
                db.close()
            assert checkpoint == LIVE
