"""Test helpers: signing like the platforms do, free ports, a daemon process, synthetic orders.

The synthetic orders are orderhub's own (examples/shopify-order.json), not platform data.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import httpx

from orderhub._sqlite import Database
from orderhub.bus.embedded import EmbeddedBus

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_ORDER = ROOT / "examples" / "shopify-order.json"


def shopify_signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_headers(secret: str, body: bytes, event_id: str, topic: str = "orders/create") -> dict[str, str]:
    return {
        "X-Shopify-Hmac-Sha256": shopify_signature(secret, body),
        "X-Shopify-Topic": topic,
        "X-Shopify-Event-Id": event_id,
        "Content-Type": "application/json",
    }


def generic_headers(secret: str, body: bytes) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Orderhub-Signature": f"sha256={digest}", "Content-Type": "application/json"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def synthetic_order(order_id: int, **changes: Any) -> dict[str, Any]:
    order: dict[str, Any] = json.loads(EXAMPLE_ORDER.read_text(encoding="utf-8"))
    order["id"] = order_id
    order["name"] = f"#{order_id % 100000}"
    order.update(changes)
    return order


def write_config(directory: Path, port: int, connectors: dict[str, dict[str, Any]], **hub: Any) -> Path:
    """An orderhub.yaml plus one connector file per entry, in `directory`."""
    import yaml

    (directory / "connectors").mkdir(parents=True, exist_ok=True)
    config = {"data_dir": "./var", "http": {"host": "127.0.0.1", "port": port}, "connectors_dir": "./connectors"}
    config.update(hub)
    path = directory / "orderhub.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    for name, settings in connectors.items():
        body = {"name": name, **settings}
        (directory / "connectors" / f"{name}.yaml").write_text(yaml.safe_dump(body), encoding="utf-8")
    return path


class Daemon:
    """`orderhub run` as a real process."""

    def __init__(self, config: Path, port: int, env: dict[str, str] | None = None) -> None:
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {**os.environ, **(env or {})}
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = config.parent / "daemon.log"

    def start(self, timeout: float = 20.0) -> None:
        log = self.log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "orderhub.cli", "run", "--config", str(self.config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self.env,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"daemon exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise AssertionError(f"daemon not ready after {timeout}s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:]) if self.log.exists() else ""

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self, timeout: float = 20.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
                raise AssertionError(f"daemon did not stop on SIGTERM within {timeout}s") from None
        return self.proc.returncode


@contextmanager
def running(config: Path, port: int, env: dict[str, str] | None = None) -> Iterator[Daemon]:
    daemon = Daemon(config, port, env)
    daemon.start()
    try:
        yield daemon
    finally:
        daemon.kill()


def wait_for(predicate: Any, timeout: float = 20.0, interval: float = 0.05, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@asynccontextmanager
async def embedded_bus(path: Path) -> AsyncIterator[EmbeddedBus]:
    """An embedded bus on its own database file, closed (bus, then database) afterwards."""
    db = Database(path)
    bus = EmbeddedBus(db)
    await bus.start()
    try:
        yield bus
    finally:
        await bus.close()
        await db.close()
