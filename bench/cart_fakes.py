"""The fake cart platforms of tests/fakes/ serving many distinct synthetic orders, for `bench.reconcile`.

Each platform's corpus order is copied under new ids/numbers with one second between change times,
starting at FIRST_CHANGE. Run as a process of its own so the fake and the daemon never share an
interpreter:

    python -m bench.cart_fakes PLATFORM COUNT

It prints the server's base URL on one line once it listens, then serves until it is terminated.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import orjson
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import bigcommerce as bc_fake  # noqa: E402
from tests.fakes import magento as mage_fake  # noqa: E402
from tests.fakes import shopify as shopify_fake  # noqa: E402
from tests.fakes import woocommerce as woo_fake  # noqa: E402
from tests.fakes._server import serve  # noqa: E402

PLATFORMS = ("shopify", "woocommerce", "bigcommerce", "magento")
FIRST_ID = 100_001
FIRST_CHANGE = datetime(2020, 1, 1, tzinfo=UTC)  # the first synthetic order's change time
START_FROM = FIRST_CHANGE - timedelta(days=1)  # where the daemon's poll and the bare client begin
MAGENTO_TIME = "%Y-%m-%d %H:%M:%S"  # Magento's updated_at: UTC without a zone


def corpus_dir() -> Path:
    return Path(os.environ.get("ORDERHUB_CORPUS", ROOT.parent / "shared" / "corpus")).resolve()


def changed_at(i: int) -> datetime:
    return FIRST_CHANGE + timedelta(seconds=i)


def shopify_orders(corpus: Path, count: int) -> list[dict[str, Any]]:
    order = shopify_fake.corpus_order(corpus)
    return [
        shopify_fake.variant(
            order, FIRST_ID + i, changed_at(i).isoformat(), name=f"#{FIRST_ID + i}", order_number=FIRST_ID + i
        )
        for i in range(count)
    ]


def woocommerce_orders(corpus: Path, count: int) -> list[dict[str, Any]]:
    template = orjson.dumps(woo_fake.corpus_orders(corpus)[0])
    orders = []
    for i in range(count):
        order = orjson.loads(template)
        stamp = changed_at(i).strftime("%Y-%m-%dT%H:%M:%S")
        order.update(
            id=FIRST_ID + i,
            number=str(FIRST_ID + i),
            order_key=f"wc_order_bench{FIRST_ID + i}",
            date_modified=stamp,
            date_modified_gmt=stamp,
        )
        orders.append(order)
    return orders


@dataclass
class _BigCommerceOrder(bc_fake.StoredOrder):
    """A stored order whose change time is parsed once, not on every list request (the fake's
    property parses the whole body each time, which at thousands of orders would time the fake)."""

    changed: datetime = field(default=FIRST_CHANGE)

    @property
    def modified(self) -> datetime:
        return self.changed


def bigcommerce_orders(corpus: Path, count: int) -> dict[int, bc_fake.StoredOrder]:
    template = bc_fake.corpus_orders(corpus)[218]
    orders: dict[int, bc_fake.StoredOrder] = {}
    for i in range(count):
        order_id, when = FIRST_ID + i, changed_at(i)
        body = re.sub(rb'\n  "id": \d+,', f'\n  "id": {order_id},'.encode(), template.body, count=1)
        body = re.sub(
            rb'\n  "date_modified": "[^"]+",', f'\n  "date_modified": "{format_datetime(when)}",'.encode(), body
        )
        orders[order_id] = _BigCommerceOrder(body, template.subs, changed=when)
    return orders


def magento_orders(corpus: Path, count: int) -> list[mage_fake.StoredOrder]:
    template = mage_fake.corpus_order(corpus)
    return [mage_fake.variant(template, FIRST_ID + i, changed_at(i).strftime(MAGENTO_TIME)) for i in range(count)]


def fake_app(platform: str, count: int, corpus: Path) -> web.Application:
    if platform == "shopify":
        return shopify_fake.FakeShopify(orders=shopify_orders(corpus, count)).app()
    if platform == "woocommerce":
        return woo_fake.FakeWooCommerce(orders=woocommerce_orders(corpus, count)).app()
    if platform == "bigcommerce":
        return bc_fake.FakeBigCommerce(orders=bigcommerce_orders(corpus, count)).app()
    if platform == "magento":
        return mage_fake.FakeMagento(orders=magento_orders(corpus, count)).app()
    raise SystemExit(f"unknown platform {platform!r}; one of {', '.join(PLATFORMS)}")


async def serve_forever(app: web.Application) -> None:
    async with serve(app) as url:
        print(url, flush=True)
        await asyncio.Event().wait()


def main() -> None:
    platform, count = sys.argv[1], int(sys.argv[2])
    asyncio.run(serve_forever(fake_app(platform, count, corpus_dir())))


if __name__ == "__main__":
    main()
