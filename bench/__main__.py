"""`make bench`: signed Shopify webhooks through the daemon (embedded and Kafka bus) against a bare
aiohttp handler, all measured in this run, with the load generators (wrk, and a fixed-rate Python
client for latency) in separate processes.

Prints one table; the raw numbers also go to bench/results/webhooks.json.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, synthetic_order  # noqa: E402
from tests.services.kafka import start_broker, stop_broker  # noqa: E402

from bench._process import stop, wait_ready  # noqa: E402

SECRET = "bench-secret"
DURATION = float(os.environ.get("BENCH_SECONDS", "8"))
END_TO_END_ORDERS = int(os.environ.get("BENCH_ORDERS", "150000"))  # distinct orders in the request file
CONNECTIONS = 64
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def write_requests(path: Path, first_id: int, count: int) -> None:
    template = synthetic_order(0)
    with path.open("wb") as handle:
        for i in range(count):
            order_id = first_id + i
            template["id"] = order_id
            template["name"] = f"#{order_id}"
            body = orjson.dumps(template)
            sig = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
            handle.write(sig + b"\t" + f"evt-{order_id}".encode() + b"\t" + body + b"\n")


def cpu_seconds(pid: int) -> float:
    """utime + stime of the process, all its threads, and its live child processes (mapping workers)."""
    total = 0.0
    children: list[str] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += (task / "children").read_text().split()
    for process in [str(pid), *children]:
        try:
            fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / CLK_TCK
    return total


@contextmanager
def server(kind: str, workdir: Path, bus: dict[str, Any] | None = None) -> Iterator[tuple[int, str]]:
    port = free_port()
    log_path = workdir / f"{kind}.log"
    logfile = log_path.open("ab")
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.bare_server", str(port)]
        ready = f"http://127.0.0.1:{port}/healthz"
    else:
        home = workdir / kind
        shutil.rmtree(home, ignore_errors=True)
        (home / "connectors").mkdir(parents=True)
        config = {
            "data_dir": "./var",
            "http": {"host": "127.0.0.1", "port": port},
            "connectors_dir": "./connectors",
            "log_level": "warning",
        }
        if bus is not None:
            config["bus"] = bus
        (home / "orderhub.yaml").write_text(yaml.safe_dump(config))
        (home / "connectors" / "shop.yaml").write_text(
            yaml.safe_dump({"name": "shop", "kind": "shopify", "webhook_secret": SECRET})
        )
        cmd = [sys.executable, "-m", "orderhub.cli", "run", "--config", str(home / "orderhub.yaml")]
        ready = f"http://127.0.0.1:{port}/readyz"
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT)
    try:
        wait_ready(ready, proc, log_path)
        yield proc.pid, f"http://127.0.0.1:{port}"
    finally:
        stop(proc)


def wrk(url: str, requests: Path, seconds: float | None) -> dict[str, float]:
    env = {
        **os.environ,
        "REQUESTS_FILE": str(requests),
        "WRK_THREADS": "2",
        "WRK_PATH": "/webhooks/shop",
        "STOP_AT_END": "0" if seconds else "1",
    }
    duration = f"{max(1, round(seconds))}s" if seconds else "600s"
    out = subprocess.run(
        ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{duration}", "--latency", "-s", str(ROOT / "bench" / "signed.lua"), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "requests": float(re.search(r"(\d+) requests in", out).group(1)),  # type: ignore[union-attr]
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


def fixed_rate(url: str, requests: Path, rate: int, seconds: float) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.loadgen", f"{url}/webhooks/shop", str(requests), str(rate), str(seconds)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return dict(json.loads(out))


def orders_done(db: Path) -> tuple[int, int]:
    if not db.exists():
        return 0, 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        orders = conn.execute("SELECT count(*) FROM orders").fetchone()[0]
        pending = conn.execute("SELECT count(*) FROM outbox").fetchone()[0]
    except sqlite3.OperationalError:
        return 0, 0
    finally:
        conn.close()
    return int(orders), int(pending)


def wait_drained(db: Path, expected: int, timeout: float = 300) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        orders, pending = orders_done(db)
        if orders >= expected and pending == 0:
            return time.monotonic()
        time.sleep(0.02)
    raise SystemExit(f"only {orders_done(db)[0]} of {expected} orders after {timeout}s")


def measure_daemon(kind: str, workdir: Path, files: dict[str, Path], bus: dict[str, Any] | None) -> dict[str, Any]:
    """(a) and (b) from one steady run: wrk sends distinct signed orders for DURATION seconds while
    the daemon normalizes behind the acknowledgments; (b) counts until the last acked order is on the
    bus. The request file is larger than the run needs, so no order is sent twice."""
    result: dict[str, Any] = {}
    db = workdir / kind / "var" / "orderhub.sqlite"
    log(f"{kind}: (a)+(b) {DURATION:.0f} s of distinct signed orders at {CONNECTIONS} connections")
    with server(kind, workdir, bus) as (pid, url):
        cpu0 = cpu_seconds(pid)
        start = time.monotonic()
        a = wrk(url, files["orders"], DURATION)
        acked = int(a["requests"] - a["non_2xx"])
        if acked >= END_TO_END_ORDERS:
            raise SystemExit(f"wrk sent every request in the file; raise BENCH_ORDERS above {END_TO_END_ORDERS}")
        end = wait_drained(db, acked)
        cpu = cpu_seconds(pid) - cpu0
        result.update(
            ack_rps=a["rps"],
            non_2xx=a["non_2xx"],
            orders=acked,
            orders_per_s=acked / (end - start),
            cpu_us_per_order=cpu / acked * 1e6,
        )
        log(f"{kind}: ack p50/p99 at 500 webhooks/s")
        result.update(latency=fixed_rate(url, files["latency"], 500, 6))
    return result


def measure_bare(workdir: Path, files: dict[str, Path]) -> dict[str, Any]:
    log("bare aiohttp handler: same load")
    with server("bare", workdir) as (pid, url):
        cpu0 = cpu_seconds(pid)
        a = wrk(url, files["orders"], DURATION)
        cpu = cpu_seconds(pid) - cpu0
        latency = fixed_rate(url, files["latency"], 500, 6)
    return {"ack_rps": a["rps"], "cpu_us_per_request": cpu / a["requests"] * 1e6, "latency": latency}


def table(bare: dict[str, Any], embedded: dict[str, Any], kafka: dict[str, Any]) -> str:
    def pct(x: float, of: float) -> str:
        return f"{x / of * 100:.0f}%"

    rows = [
        (
            "(a) signed webhooks acked/s",
            f"{bare['ack_rps']:,.0f}",
            f"{embedded['ack_rps']:,.0f} ({pct(embedded['ack_rps'], bare['ack_rps'])})",
            f"{kafka['ack_rps']:,.0f} ({pct(kafka['ack_rps'], bare['ack_rps'])})",
            ">= 4,000 and >= 60% of bare",
        ),
        (
            "ack latency p50 / p99 at 500/s (ms)",
            *(f"{r['latency']['p50_ms']:.2f} / {r['latency']['p99_ms']:.2f}" for r in (bare, embedded, kafka)),
            "p99 < 50 ms",
        ),
        (
            "(b) orders/s, webhook to order on the bus",
            "-",
            f"{embedded['orders_per_s']:,.0f}",
            f"{kafka['orders_per_s']:,.0f}",
            ">= 3,000 embedded, >= 2,000 kafka",
        ),
        (
            "(d) server CPU µs per order (bare: per request)",
            f"{bare['cpu_us_per_request']:.0f}",
            f"{embedded['cpu_us_per_order']:.0f} ({embedded['cpu_us_per_order'] / bare['cpu_us_per_request']:.1f}x)",
            f"{kafka['cpu_us_per_order']:.0f} ({kafka['cpu_us_per_order'] / bare['cpu_us_per_request']:.1f}x)",
            "<= 3x bare",
        ),
    ]
    head = ("measure", "bare aiohttp", "orderhub embedded", "orderhub kafka", "target")
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk); `make bench` installs it")
    workdir = Path(tempfile.mkdtemp(prefix="orderhub-bench-"))
    log(f"working in {workdir}; {os.cpu_count()} cores")
    files = {"latency": workdir / "latency.txt", "orders": workdir / "orders.txt"}
    write_requests(files["latency"], 20_000_000, 3_000)
    write_requests(files["orders"], 30_000_000, END_TO_END_ORDERS)
    bare = measure_bare(workdir, files)
    embedded = measure_daemon("embedded", workdir, files, None)
    broker, bootstrap = start_broker(workdir / "tansu.log")
    try:
        kafka_bus = {
            "kind": "kafka",
            "bootstrap_servers": bootstrap,
            "enable_idempotence": False,
            "session_timeout_ms": 1000,
            "heartbeat_interval_ms": 200,
        }
        kafka = measure_daemon("kafka", workdir, files, kafka_bus)
    finally:
        stop_broker(broker)
    out = table(bare, embedded, kafka)
    print(out)
    results = ROOT / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "webhooks.json").write_text(json.dumps({"bare": bare, "embedded": embedded, "kafka": kafka}, indent=2))
    (results / "webhooks.md").write_text(out + "\n")
    shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
