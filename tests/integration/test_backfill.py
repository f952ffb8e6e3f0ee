"""`orderhub backfill` run in-process (`orderhub.cli.main`) against the local fake platforms (corpus
orders): the orders changed in the window are stored raw through the hub's intake, the live
checkpoint is left as it was, a second run stores nothing twice, a hub started afterwards normalizes
what was stored; unknown connectors, connectors without a poll and failures get their exit codes."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import structlog

from orderhub.cli import main
from orderhub.service import logging as service_logging
from orderhub.service.config import load_config
from orderhub.service.hub import Hub
from tests.fakes import bigcommerce as bc_fake
from tests.fakes import magento as mage_fake
from tests.fakes import shopify as shopify_fake
from tests.fakes import woocommerce as woo_fake
from tests.fakes._server import serve_in_thread
from tests.helpers import write_config

pytestmark = pytest.mark.corpus
LIVE = "2030-01-01T00:00:00+00:00"  # the live poll's checkpoint, which a backfill must not move


def _current_stderr(*_: Any) -> structlog.PrintLogger:
    return structlog.PrintLogger(sys.stderr)


@pytest.fixture(autouse=True)
def logs_on_captured_stderr(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[None]:
    """Log lines go to this test's stderr and are not cached on it, and the set-up is restored afterwards:
    the command configures logging for its own process, which here is the test run's."""
    saved = structlog.get_config()

    def configure(level: str = "info", json: bool | None = None) -> None:
        structlog.configure(logger_factory=_current_stderr, cache_logger_on_first_use=False)

    configure()
    monkeypatch.setattr(service_logging, "configure_logging", configure)
    yield
    structlog.configure(**saved)


def prepare(tmp_path: Path, connectors: dict[str, dict[str, Any]]) -> Path:
    """The config, and a store whose connectors' live checkpoints stand at LIVE."""
    config = write_config(tmp_path, 0, connectors)

    async def checkpoints() -> None:
        hub = Hub(load_config(config))
        await hub.start(stages=False, connectors=False)
        for name in connectors:
            await hub.set_checkpoint(name, "modified_since", LIVE)
        await hub.stop()

    asyncio.run(checkpoints())
    return config


def stored(config: Path, connector: str) -> list[tuple[str | None, dict[str, str]]]:
    """(dedupe_key, headers) of each payload the connector stored, and checks the live checkpoint."""

    async def read() -> list[tuple[str | None, dict[str, str]]]:
        hub = Hub(load_config(config))
        await hub.start(stages=False, connectors=False)
        try:
            assert await hub.get_checkpoint(connector, "modified_since") == LIVE
            rows = await hub.db.read(
                lambda c: c.execute(
                    "SELECT dedupe_key, headers FROM raw_receipts WHERE connector = ? AND state != 'duplicate' "
                    "ORDER BY id",
                    (connector,),
                ).fetchall()
            )
        finally:
            await hub.stop()
        return [(r[0], orjson.loads(r[1])) for r in rows]

    return asyncio.run(read())


def backfill(config: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["backfill", "--config", str(config), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_woocommerce_backfill_stores_the_window_and_leaves_the_live_checkpoint(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url:
        settings = {"kind": "woocommerce", "base_url": url, "consumer_key": woo_fake.KEY}
        config = prepare(tmp_path, {"woo": {**settings, "consumer_secret": woo_fake.SECRET}})
        # 723 changed on 2017-03-21, 727 on 2017-03-22: a one-day window holds 723 only
        code, out, err = backfill(
            config, capsys, "--connector", "woo", "--since", "2017-03-21", "--until", "2017-03-21"
        )
        assert code == 0, err
        assert out.startswith(
            "backfill of woo from 2017-03-21T00:00:00Z to 2017-03-22T00:00:00Z: 1 order(s) in 1 page(s)"
        )
        assert "1 new, 0 already stored" in out
        assert "woo: page 1, 1 order(s) stored, 1 new" in err  # plain progress lines off a terminal
        (listed,) = [r for r in fake.requests if r.path == woo_fake.ORDERS]
        assert (listed.query["modified_after"], listed.query["modified_before"]) == (
            "2017-03-21T00:00:00",
            "2017-03-22T00:00:00",
        )
        assert stored(config, "woo") == [
            ("723:2017-03-21T19:54:51", {"Resource": woo_fake.ORDERS, "Trigger": "backfill"})
        ]

        # the same window again stores nothing twice
        code, out, err = backfill(config, capsys, "--connector", "woo", "--since", "2017-03-21T00:00:00Z", "--json")
        assert code == 0, err
        assert json.loads(out) == {
            "connector": "woo",
            "since": "2017-03-21T00:00:00Z",
            "until": None,
            "pages": 1,
            "orders": 2,
            "new": 1,
            "already_stored": 1,
        }
        assert [key for key, _ in stored(config, "woo")] == ["723:2017-03-21T19:54:51", "727:2017-03-22T19:28:08"]

    # the hub normalizes what the backfill stored (no connector runs: only the stages)
    async def normalized() -> dict[str, Any]:
        hub = Hub(load_config(config))
        await hub.start(connectors=False)
        try:
            for _ in range(400):
                found = await hub.store.get_order("woo:723")
                if found is not None and await hub.store.get_order("woo:727") is not None:
                    return dict(found)
                await asyncio.sleep(0.05)
            raise AssertionError("the backfilled orders were not normalized")
        finally:
            await hub.stop()

    assert asyncio.run(normalized())["totals"]["grand_total"] == {"amount": "39.00", "currency": "USD"}


def test_bigcommerce_and_magento_backfill_their_windows(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bc = bc_fake.FakeBigCommerce(orders=bc_fake.corpus_orders(corpus))
    three = mage_fake.corpus_order(corpus)
    mage = mage_fake.FakeMagento(orders=[three, mage_fake.variant(three, 4, "2017-08-22 09:00:00")])
    with serve_in_thread(bc.app()) as bc_url, serve_in_thread(mage.app()) as mage_url:
        connectors = {
            "bc": {
                "kind": "bigcommerce",
                "base_url": bc_url,
                "store_hash": bc_fake.STORE,
                "access_token": bc_fake.TOKEN,
            },
            "mage": {
                "kind": "magento",
                "base_url": mage_url,
                "username": mage_fake.USER,
                "password": mage_fake.PASSWORD,
            },
        }
        config = prepare(tmp_path, connectors)
        # 218 changed in March 2019, 247 in June
        code, out, err = backfill(config, capsys, "--connector", "bc", "--since", "2019-06-01", "--until", "2019-07-01")
        assert code == 0, err
        assert [key for key, _ in stored(config, "bc")] == ["247:Thu, 20 Jun 2019 16:07:08 +0000"]
        listed = [r for r in bc.requests if r.path.endswith("/v2/orders")]
        assert listed[0].query["max_date_modified"] == "2019-07-01T23:59:59+00:00"
        # order 3 changed on 2017-08-21, order 4 on 2017-08-22
        code, out, err = backfill(
            config, capsys, "--connector", "mage", "--since", "2017-08-21", "--until", "2017-08-21"
        )
        assert code == 0, err
        assert [key for key, _ in stored(config, "mage")] == ["3:2017-08-21 22:22:20"]
        assert "1 order(s) in 1 page(s), 1 new" in out


def test_shopify_backfill_goes_through_the_reconciliation_poll(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = shopify_fake.corpus_order(corpus)
    b = shopify_fake.variant(a, 450789470, "2008-01-11T09:00:00-05:00")
    fake = shopify_fake.FakeShopify(orders=[a, b])
    with serve_in_thread(fake.app()) as url:
        settings = {
            "kind": "shopify",
            "shop": "acme.myshopify.com",
            "base_url": url,
            "access_token": shopify_fake.TOKEN,
            "api_version": shopify_fake.VERSION,
            "manage_webhooks": False,
        }
        config = prepare(tmp_path, {"shop": settings})
        code, _, err = backfill(config, capsys, "--connector", "shop", "--since", "2008-01-11")
        assert code == 0, err
        assert stored(config, "shop") == [
            (
                "poll:450789470:2008-01-11T14:00:00Z",
                {
                    "Resource": f"/admin/api/{shopify_fake.VERSION}/orders/450789470.json",
                    "X-Shopify-API-Version": shopify_fake.VERSION,
                    "Trigger": "backfill",
                },
            )
        ]
        assert fake.subscriptions == {}


def test_what_cannot_backfill_is_a_usage_error_and_a_failure_says_what_to_do(
    tmp_path: Path, corpus: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = woo_fake.FakeWooCommerce(orders=woo_fake.corpus_orders(corpus))
    with serve_in_thread(fake.app()) as url:
        connectors = {
            "woo-bad-key": {"kind": "woocommerce", "base_url": url, "consumer_key": "ck_x", "consumer_secret": "cs_x"},
            "woo-hooks": {"kind": "woocommerce", "webhook_secret": "s"},
            "generic": {"kind": "webhook", "webhook_secret": "s", "mapping": "shopify"},
        }
        config = prepare(tmp_path, connectors)
        code, _, err = backfill(config, capsys, "--connector", "nope", "--since", "2017-03-01")
        assert code == 2 and "no connector 'nope'" in err and "generic, woo-bad-key, woo-hooks" in err
        code, _, err = backfill(config, capsys, "--connector", "woo-hooks", "--since", "2017-03-01")
        assert code == 2 and "woo-hooks has no base_url, consumer_key and consumer_secret" in err
        code, _, err = backfill(config, capsys, "--connector", "generic", "--since", "2017-03-01")
        assert code == 2 and "kind webhook) has no poll" in err
        code, _, err = backfill(
            config, capsys, "--connector", "woo-bad-key", "--since", "2017-03-02", "--until", "2017-03-01"
        )
        assert code == 2 and "--until must be later than --since" in err
        code, out, err = backfill(config, capsys, "--connector", "woo-bad-key", "--since", "2017-03-01")
        assert code == 1 and out == ""
        assert "backfill of woo-bad-key failed after 0 order(s) in 0 page(s)" in err and "HTTP 401" in err
        assert "run the same command again" in err
        assert "cs_x" not in err
        with pytest.raises(SystemExit) as exit_info:
            main(["backfill", "--config", str(config), "--connector", "woo-bad-key", "--since", "March"])
        assert exit_info.value.code == 2
