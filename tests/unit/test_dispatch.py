"""Outbound documents: each connector delivers its own, and one that cannot deliver holds up no other."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from orderhub.bus.base import OutMessage
from orderhub.bus.embedded import EmbeddedBus
from orderhub.stages.dispatch import DispatchStage
from tests.helpers import embedded_bus


class Partner:
    """A network transport whose server is down until `up` is set."""

    def __init__(self, up: bool = True) -> None:
        self.up = up
        self.delivered: list[tuple[str, bytes]] = []
        self.attempts = 0

    async def deliver(self, filename: str, data: bytes) -> str:
        self.attempts += 1
        if not self.up:
            raise ConnectionRefusedError("partner's server is down")
        self.delivered.append((filename, data))
        return f"remote/{filename}"


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root

    def write_outbound(self, filename: str, data: bytes) -> Path:
        path = self.root / filename
        path.write_bytes(data)
        return path


@pytest.fixture
async def bus(tmp_path: Path) -> AsyncIterator[EmbeddedBus]:
    async with embedded_bus(tmp_path / "bus.sqlite") as embedded:
        yield embedded


def document(connector: str, filename: str) -> OutMessage:
    headers = (("connector", connector.encode()), ("filename", filename.encode()))
    return OutMessage("outbound", filename.encode(), key=connector, headers=headers)


async def until(check: Any, within: float = 10.0) -> None:
    for _ in range(int(within / 0.02)):
        if check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not in time")


async def test_a_partner_that_is_down_holds_up_only_its_own_documents(bus: EmbeddedBus, tmp_path: Path) -> None:
    down, up = Partner(up=False), Partner()
    stage = DispatchStage(bus, {"down": down, "up": up, "folder": Folder(tmp_path)}, first_retry=0.05)  # type: ignore[dict-item]
    running = asyncio.create_task(stage.run())
    try:
        names = [("down", "a-1"), ("up", "b-1"), ("down", "a-2"), ("folder", "c-1"), ("nobody", "d-1")]
        await bus.publish([document(connector, f"{name}.x12") for connector, name in names])
        await until(lambda: up.delivered and (tmp_path / "c-1.x12").exists())
        assert up.delivered == [("b-1.x12", b"b-1.x12")]
        assert (tmp_path / "c-1.x12").read_bytes() == b"c-1.x12"
        await until(lambda: down.attempts >= 3)  # tried again and again, nothing dropped
        assert down.delivered == []
        down.up = True
        await until(lambda: len(down.delivered) == 2)
        assert down.delivered == [("a-1.x12", b"a-1.x12"), ("a-2.x12", b"a-2.x12")]  # in order
    finally:
        running.cancel()
        with pytest.raises(asyncio.CancelledError):
            await running
