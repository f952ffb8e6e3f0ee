"""The outbox relay: moves messages the store queued (in the same transaction as the state they
announce) onto the bus, and forgets them only after the bus has acknowledged them."""

from __future__ import annotations

import asyncio

import structlog

from orderhub.bus.base import Bus
from orderhub.store.base import Store

log = structlog.get_logger("orderhub.stages.relay")


class Relay:
    def __init__(self, store: Store, bus: Bus, batch_size: int = 1000) -> None:
        self.store = store
        self.bus = bus
        self.batch_size = batch_size
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def drain(self) -> int:
        """Publish everything queued now; returns how many messages went out."""
        sent = 0
        while True:
            items = await self.store.outbox_peek(self.batch_size)
            if not items:
                return sent
            await self.bus.publish([item.message for item in items])
            await self.store.outbox_ack([item.id for item in items])
            sent += len(items)

    async def run(self, idle_poll: float = 0.2) -> None:
        while True:
            self._wake.clear()
            await asyncio.shield(self.drain())
            try:  # asyncio.timeout: wait_for on Python 3.11 can swallow the cancellation that stops the relay
                async with asyncio.timeout(idle_poll):
                    await self._wake.wait()
            except TimeoutError:
                pass
