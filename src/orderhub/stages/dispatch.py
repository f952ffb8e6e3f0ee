"""Outbound documents (X12 acknowledgments, 855/856/810) delivered by the connector that exchanges
with the partner: the `outbound` topic's `connector` header names it. A connector that delivers over
the network has `async deliver(filename, data)`, awaited here; a folder connector has a blocking
`write_outbound(filename, data)`, run in a thread.

Each connector delivers from its own consumer group (`dispatch.<connector>`), so a partner whose
server is down holds up only its own documents: a failed delivery is tried again, with a growing
pause, until it goes through, and the ones after it wait for it (the partner gets them in order).
The `dispatch` group only reports documents that no configured connector can deliver.

At-least-once: offsets are committed after delivery, and a re-delivered document is written again
under the same file name, which replaces it with the same bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import structlog

from orderhub.bus.base import Bus, Message
from orderhub.connectors import Connector

log = structlog.get_logger("orderhub.stages.dispatch")
GROUP = "dispatch"
FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 60.0

Deliver = Callable[[str, bytes], Awaitable[object]]


def _addressed(message: Message) -> tuple[str, str]:
    headers = {name: value.decode() for name, value in message.headers}
    return headers.get("connector", ""), headers.get("filename", "")


def _deliverer(connector: object) -> Deliver | None:
    deliver: Deliver | None = getattr(connector, "deliver", None)  # async: a transport over the network
    if deliver is not None:
        return deliver
    write = getattr(connector, "write_outbound", None)  # blocking: a local folder
    if write is None:
        return None
    return lambda filename, data: asyncio.to_thread(write, filename, data)


class DispatchStage:
    def __init__(self, bus: Bus, connectors: Mapping[str, Connector], first_retry: float = FIRST_RETRY_SECONDS) -> None:
        self.bus = bus
        self.connectors = connectors
        self.first_retry = first_retry
        self._deliverers = {name: d for name, c in connectors.items() if (d := _deliverer(c)) is not None}

    async def run(self) -> None:
        async with asyncio.TaskGroup() as loops:  # one failing ends (and restarts) them all, none left behind
            loops.create_task(self._report_unclaimed())
            for name, deliver in self._deliverers.items():
                loops.create_task(self._deliver_for(name, deliver))

    async def _deliver_for(self, name: str, deliver: Deliver) -> None:
        subscription = await self.bus.subscribe("outbound", f"{GROUP}.{name}")
        try:
            while True:
                messages = await subscription.fetch(100, timeout=0.5)
                for message in messages:
                    connector, filename = _addressed(message)
                    if connector == name and filename:
                        await self._until_delivered(name, deliver, filename, message.value)
                await subscription.commit(messages)
        finally:
            await subscription.close()

    async def _until_delivered(self, name: str, deliver: Deliver, filename: str, data: bytes) -> None:
        pause = self.first_retry
        while True:
            try:
                path = await deliver(filename, data)
            except Exception as exc:  # the partner's server, a full disk: tried again, never dropped
                log.error(
                    "outbound document not delivered; trying again",
                    connector=name,
                    filename=filename,
                    error=f"{type(exc).__name__}: {exc}",
                    retry_in_s=pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_RETRY_SECONDS)
                continue
            log.info("outbound document delivered", connector=name, filename=filename, path=str(path))
            return

    async def _report_unclaimed(self) -> None:
        subscription = await self.bus.subscribe("outbound", GROUP)
        try:
            while True:
                messages = await subscription.fetch(100, timeout=0.5)
                for message in messages:
                    connector, filename = _addressed(message)
                    if connector not in self._deliverers or not filename:
                        log.error(
                            "outbound document has no connector to deliver it; kept on the outbound topic",
                            connector=connector,
                            filename=filename,
                            offset=message.offset,
                        )
                await subscription.commit(messages)
        finally:
            await subscription.close()
