"""`make bench`, reconciliation: orders/s the cart pollers pull and normalize from a local fake platform.

For each platform the fake server of tests/fakes/ runs in a process of its own (`bench.cart_fakes`),
serving BENCH_RECONCILE_ORDERS distinct synthetic orders made from the platform's corpus order. Two
clients page through it, one after the other:

- bare httpx: this process, sequentially, with the same requests the connector makes (Shopify: a
  GraphQL page of ids, then each REST order; BigCommerce: a page of orders, then each order's four
  sub-resources; WooCommerce and Magento: pages of whole orders), storing nothing. It is what the
  platform protocol and the fake cost on their own.
- `orderhub run` as a real process with one connector file for the platform, `start_from` the day
  before the first order. Timed from the moment it answers /readyz (startup excluded; the first poll
  starts then too) until the last order is stored (rows in raw_receipts: pulled) and normalized (rows
  in orders), both read from its SQLite database read-only. CPU is the daemon's (its threads, its
  live and reaped child processes, from /proc) over the same span.

Prints one markdown table and writes it to bench/results/reconcile.md.

    python -m bench.reconcile [PLATFORM ...]    # default: all four
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fakes import bigcommerce as bc_fake  # noqa: E402
from tests.fakes import magento as mage_fake  # noqa: E402
from tests.fakes import shopify as shopify_fake  # noqa: E402
from tests.fakes import woocommerce as woo_fake  # noqa: E402
from tests.helpers import free_port  # noqa: E402

from bench._process import stop, wait_ready  # noqa: E402
from bench.cart_fakes import MAGENTO_TIME, PLATFORMS, START_FROM, corpus_dir  # noqa: E402
from orderhub.connectors._shopify_orders import ORDERS_QUERY  # noqa: E402

ORDERS = int(os.environ.get("BENCH_RECONCILE_ORDERS", "5000"))
STALL_SECONDS = 60.0  # no new row for this long: the run is given up
CLK_TCK = os.sysconf("SC_CLK_TCK")
# the largest page each platform (and the connector's settings) allows
PAGE_SIZE = {"shopify": 100, "woocommerce": 100, "bigcommerce": 250, "magento": 100}


def log(message: str) -> None:
    print(f"bench.reconcile: {message}", file=sys.stderr, flush=True)


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process and all its threads, of its live children, and of the children it
    has reaped (cutime + cstime)."""
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    total = 0.0
    for process in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += sum(int(f) for f in fields[11:13]) / CLK_TCK
        if process == str(pid):
            total += sum(int(f) for f in fields[13:15]) / CLK_TCK
    return total


@contextmanager
def fake_server(platform: str, workdir: Path) -> Iterator[str]:
    """The platform's fake in its own process; its base URL once it listens."""
    errors = (workdir / f"{platform}-fake.log").open("ab")
    cmd = [sys.executable, "-m", "bench.cart_fakes", platform, str(ORDERS)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=errors, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url:
            raise SystemExit(f"the {platform} fake did not start; see {errors.name}")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        errors.close()


# bare httpx ---------------------------------------------------------------------------------------
async def bare_shopify(client: httpx.AsyncClient) -> int:
    headers = {"X-Shopify-Access-Token": shopify_fake.TOKEN}
    graphql = f"/admin/api/{shopify_fake.VERSION}/graphql.json"
    query = f"updated_at:>'{START_FROM.strftime('%Y-%m-%dT%H:%M:%SZ')}'"
    after: str | None = None
    seen = 0
    while True:
        variables = {"first": PAGE_SIZE["shopify"], "after": after, "query": query}
        response = await client.post(graphql, json={"query": ORDERS_QUERY, "variables": variables}, headers=headers)
        connection = orjson.loads(response.content)["data"]["orders"]
        for node in connection["nodes"]:
            order = await client.get(
                f"/admin/api/{shopify_fake.VERSION}/orders/{node['legacyResourceId']}.json", headers=headers
            )
            order.raise_for_status()
            seen += 1
        if not connection["pageInfo"]["hasNextPage"]:
            return seen
        after = connection["pageInfo"]["endCursor"]


async def bare_woocommerce(client: httpx.AsyncClient) -> int:
    auth = httpx.BasicAuth(woo_fake.KEY, woo_fake.SECRET)
    page, seen = 1, 0
    while True:
        params: dict[str, str | int] = {
            "modified_after": START_FROM.strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "orderby": "modified",
            "order": "asc",
            "per_page": PAGE_SIZE["woocommerce"],
            "page": page,
        }
        response = await client.get(woo_fake.ORDERS, params=params, auth=auth)
        response.raise_for_status()
        seen += len(orjson.loads(response.content))
        if page >= int(response.headers["X-WP-TotalPages"]):
            return seen
        page += 1


async def bare_bigcommerce(client: httpx.AsyncClient) -> int:
    headers = {"X-Auth-Token": bc_fake.TOKEN, "Accept": "application/json"}
    base, size = f"/stores/{bc_fake.STORE}/v2/orders", PAGE_SIZE["bigcommerce"]
    page, seen = 1, 0
    while True:
        params: dict[str, str | int] = {
            "min_date_modified": START_FROM.isoformat(),
            "sort": "date_modified:asc",
            "page": page,
            "limit": size,
        }
        response = await client.get(base, params=params, headers=headers)
        response.raise_for_status()
        orders = orjson.loads(response.content) if response.status_code == 200 else []
        for order in orders:
            for sub in bc_fake.SUBS:
                (await client.get(f"{base}/{order['id']}/{sub}", headers=headers)).raise_for_status()
            seen += 1
        if len(orders) < size:
            return seen
        page += 1


async def bare_magento(client: httpx.AsyncClient) -> int:
    rest = mage_fake.REST
    login = {"username": mage_fake.USER, "password": mage_fake.PASSWORD}
    token = (await client.post(f"{rest}/integration/admin/token", json=login)).json()
    headers = {"Authorization": f"Bearer {token}"}
    group = "searchCriteria[filter_groups][0][filters][0]"
    page, seen, size = 1, 0, PAGE_SIZE["magento"]
    while True:
        params: dict[str, str | int] = {
            f"{group}[field]": "updated_at",
            f"{group}[value]": START_FROM.strftime(MAGENTO_TIME),
            f"{group}[condition_type]": "gt",
            "searchCriteria[sortOrders][0][field]": "updated_at",
            "searchCriteria[sortOrders][0][direction]": "ASC",
            "searchCriteria[pageSize]": size,
            "searchCriteria[currentPage]": page,
        }
        response = await client.get(f"{rest}/orders", params=params, headers=headers)
        response.raise_for_status()
        listed = orjson.loads(response.content)
        seen += len(listed["items"])
        if not listed["items"] or page * size >= listed["total_count"]:
            return seen
        page += 1


BARE: dict[str, Callable[[httpx.AsyncClient], Awaitable[int]]] = {
    "shopify": bare_shopify,
    "woocommerce": bare_woocommerce,
    "bigcommerce": bare_bigcommerce,
    "magento": bare_magento,
}


@dataclass
class Bare:
    orders_per_s: float
    cpu_us_per_order: float


def measure_bare(platform: str, url: str) -> Bare:
    async def page_through() -> int:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            return await BARE[platform](client)

    cpu0, start = time.process_time(), time.monotonic()
    seen = asyncio.run(page_through())
    elapsed, cpu = time.monotonic() - start, time.process_time() - cpu0
    if seen != ORDERS:
        raise SystemExit(f"{platform}: the bare client read {seen} orders, not {ORDERS}")
    return Bare(seen / elapsed, cpu / seen * 1e6)


# the daemon ---------------------------------------------------------------------------------------
def connector_file(platform: str, url: str) -> dict[str, Any]:
    common = {
        "name": platform,
        "kind": platform,
        "start_from": START_FROM.isoformat(),
        "poll_interval": 1.0,
        "overlap_seconds": 0,
        "page_size": PAGE_SIZE[platform],
    }
    if platform == "shopify":
        return {
            **common,
            "shop": "bench.myshopify.com",
            "access_token": shopify_fake.TOKEN,
            "base_url": url,
            "manage_webhooks": False,
        }
    if platform == "woocommerce":
        return {**common, "base_url": url, "consumer_key": woo_fake.KEY, "consumer_secret": woo_fake.SECRET}
    if platform == "bigcommerce":
        return {**common, "base_url": url, "store_hash": bc_fake.STORE, "access_token": bc_fake.TOKEN}
    return {**common, "base_url": url, "username": mage_fake.USER, "password": mage_fake.PASSWORD}


def counts(db: Path, connector: str) -> tuple[int, int]:
    """(raw receipts, orders) of the connector; read-only, so the daemon's writes are not disturbed."""
    if not db.exists():
        return 0, 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        raw = conn.execute("SELECT count(*) FROM raw_receipts WHERE connector = ?", (connector,)).fetchone()[0]
        orders = conn.execute("SELECT count(*) FROM orders WHERE connector = ?", (connector,)).fetchone()[0]
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        conn.close()
    return int(raw), int(orders)


@dataclass
class Daemon:
    pulled_per_s: float
    normalized_per_s: float
    cpu_us_per_order: float


def measure_daemon(platform: str, url: str, workdir: Path) -> Daemon:
    home = workdir / platform
    (home / "connectors").mkdir(parents=True)
    port = free_port()
    config = {
        "data_dir": "./var",
        "http": {"host": "127.0.0.1", "port": port},
        "connectors_dir": "./connectors",
        "log_level": "warning",
    }
    (home / "orderhub.yaml").write_text(yaml.safe_dump(config))
    (home / "connectors" / f"{platform}.yaml").write_text(yaml.safe_dump(connector_file(platform, url)))
    db, daemon_log = home / "var" / "orderhub.sqlite", home / "daemon.log"
    cmd = [sys.executable, "-m", "orderhub.cli", "run", "--config", str(home / "orderhub.yaml")]
    with daemon_log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc, daemon_log)
        start, cpu0 = time.monotonic(), cpu_seconds(proc.pid)
        log(f"{platform}: daemon ready, {counts(db, platform)[0]} orders already pulled")
        pulled_at: float | None = None
        last, progress_at = (0, 0), start
        while True:
            now, current = time.monotonic(), counts(db, platform)
            if pulled_at is None and current[0] >= ORDERS:
                pulled_at = now
            if current[1] >= ORDERS:
                cpu = cpu_seconds(proc.pid) - cpu0
                break
            if current != last:
                last, progress_at = current, now
            elif now - progress_at > STALL_SECONDS or proc.poll() is not None:
                raise SystemExit(f"{platform}: stuck at {current} (raw, orders) of {ORDERS}; see {daemon_log}")
            time.sleep(0.02)
        assert pulled_at is not None
        return Daemon(ORDERS / (pulled_at - start), ORDERS / (now - start), cpu / ORDERS * 1e6)
    finally:
        stop(proc)


def table(rows: list[tuple[str, Bare, Daemon]]) -> str:
    head = (
        "platform",
        "orders",
        "bare httpx orders/s",
        "pulled/s (of bare)",
        "normalized/s",
        "CPU µs/order",
        "bare client CPU µs/order",
    )
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for platform, bare, daemon in rows:
        cells = (
            platform,
            f"{ORDERS:,}",
            f"{bare.orders_per_s:,.0f}",
            f"{daemon.pulled_per_s:,.0f} ({daemon.pulled_per_s / bare.orders_per_s:.0%})",
            f"{daemon.normalized_per_s:,.0f}",
            f"{daemon.cpu_us_per_order:,.0f}",
            f"{bare.cpu_us_per_order:,.0f}",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    platforms = sys.argv[1:] or list(PLATFORMS)
    if unknown := set(platforms) - set(PLATFORMS):
        raise SystemExit(f"unknown platform(s) {', '.join(sorted(unknown))}; one of {', '.join(PLATFORMS)}")
    if not (corpus_dir() / "channels").is_dir():
        raise SystemExit(f"the shared corpus is missing at {corpus_dir()} (set ORDERHUB_CORPUS)")
    workdir = Path(tempfile.mkdtemp(prefix="orderhub-reconcile-"))
    log(f"working in {workdir}; {ORDERS:,} orders per platform; {os.cpu_count()} cores")
    rows = []
    for platform in platforms:
        with fake_server(platform, workdir) as url:
            log(f"{platform}: bare httpx client")
            bare = measure_bare(platform, url)
            log(f"{platform}: orderhub run")
            daemon = measure_daemon(platform, url, workdir)
        rows.append((platform, bare, daemon))
    out = table(rows)
    print(out)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "reconcile.md").write_text(out + "\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
