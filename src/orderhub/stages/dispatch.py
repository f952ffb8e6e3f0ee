"""Outbound documents (X12 acknowledgments, later 855/856/810) delivered by the connector that
exchanges with the partner: the `outbound` topic's `connector` header names it. A connector that
delivers over the network has `async deliver(filename, data)`, awaited here; a folder connector has a
blocking `write_outbound(filename, data)`, run in a thread. A delivery that fails raises: the stage is
restarted and the uncommitted documents are delivered again.

At-least-once: offsets are committed after delivery, and a re-delivered document is written again
under the same file name, which replaces it with the same bytes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

import structlog

from orderhub.bus.base import Bus
from orderhub.connectors import Connector

log = structlog.get_logger("orderhub.stages.dispatch")
GROUP = "dispatch"


class DispatchStage:
    def __init__(self, bus: Bus, connectors: Mapping[str, Connector]) -> None:
        self.bus = bus
        self.connectors = connectors

    async def run(self) -> None:
        subscription = await self.bus.subscribe("outbound", GROUP)
        try:
            while True:
                messages = await subscription.fetch(100, timeout=0.5)
                for message in messages:
                    headers = {name: value.decode() for name, value in message.headers}
                    name, filename = headers.get("connector", ""), headers.get("filename", "")
                    connector = self.connectors.get(name)
                    deliver = getattr(connector, "deliver", None)  # async: a transport over the network
                    write = getattr(connector, "write_outbound", None)  # blocking: a local folder
                    if (deliver is None and write is None) or not filename:
                        log.error(
                            "outbound document has no connector to deliver it; kept on the outbound topic",
                            connector=name,
                            filename=filename,
                            offset=message.offset,
                        )
                        continue
                    if deliver is not None:
                        path = await deliver(filename, message.value)
                    elif write is not None:
                        path = await asyncio.to_thread(write, filename, message.value)
                    log.info("outbound document delivered", connector=name, filename=filename, path=str(path))
                await subscription.commit(messages)
        finally:
            await subscription.close()
