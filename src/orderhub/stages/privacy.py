"""Privacy requests from channels (Shopify's customers/redact, shop/redact, customers/data_request):
carried out on the stored orders of the connector that received them.

Consumes the `privacy` topic: at intake (`PrivacyStage.wants`) a webhook whose connector reads
privacy requests (`PrivacySource`) and says, from its headers, that it may be one gets its `raw`
message sent there too, so this stage never reads the whole `raw` topic. The request is carried out
and recorded (`privacy_actions`, keyed by receipt, so a re-delivery does nothing twice).
Redaction: `store.privacy.redact` on the stored orders, then the stored payloads behind them through
the connector's `redact_payload`. A data request: the customer's orders as a JSON file under
`data_dir/exports/` (`store.exports`), removed again by a later redaction of that customer or of the
shop. An unreadable request goes to the DLQ.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import orjson
import structlog

from orderhub._sqlite import Database
from orderhub.bus.base import Bus, Message
from orderhub.model.events import PrivacyRequest
from orderhub.stages.normalize import dlq_message
from orderhub.store import privacy
from orderhub.store.base import RawIn, Store, StoredRaw
from orderhub.store.exports import remove_exports, write_export

log = structlog.get_logger("orderhub.stages.privacy")

GROUP = "privacy"
SETTLE_SECONDS = 60.0  # how long a request waits for the connector's earlier payloads to be normalized


@runtime_checkable
class PrivacySource(Protocol):
    def may_be_privacy(self, headers: Mapping[str, str]) -> bool:
        """From the stored headers alone: could this payload be a privacy request?"""
        ...

    def privacy_request(self, raw: StoredRaw) -> PrivacyRequest | None:
        """The request the payload makes (None: not one); ValueError when it cannot be read."""
        ...

    def redact_payload(self, body: bytes) -> bytes | None:
        """One of its stored payloads without the personal data (None: leave it as it is)."""
        ...


class PrivacyStage:
    def __init__(self, bus: Bus, store: Store, db: Database, connectors: Mapping[str, object], data_dir: Path) -> None:
        self.bus = bus
        self.store = store
        self.db = db
        self.connectors = connectors
        # looked up for every raw payload: the Protocol check runs once per connector, not per payload
        self._sources = {name: c for name, c in connectors.items() if isinstance(c, PrivacySource)}
        self.exports = data_dir / "exports"
        db.add_schema(privacy.SCHEMA)

    async def run(self) -> None:
        subscription = await self.bus.subscribe("privacy", GROUP)
        try:
            while True:
                messages = await subscription.fetch(256, timeout=0.5)
                if not messages:
                    continue
                await asyncio.shield(self.handle(messages))
                await subscription.commit(messages)
        finally:
            await subscription.close()

    def _source(self, name: str) -> PrivacySource | None:
        return self._sources.get(name)

    def wants(self, raw: RawIn) -> bool:
        """At intake: may this payload be a privacy request (its `raw` message then comes here too)?"""
        source = self._source(raw.connector)
        return raw.transport == "webhook" and source is not None and source.may_be_privacy(raw.headers)

    async def handle(self, messages: Sequence[Message]) -> int:
        """Carry out the privacy requests these messages point at; how many there were."""
        receipts = [int(orjson.loads(message.value)["receipt"]) for message in messages]
        done = 0
        for raw in await self.store.load_raw(receipts):
            source = self._source(raw.connector)
            if source is None:  # the connector is gone or no longer reads privacy requests
                continue
            try:
                request = source.privacy_request(raw)
            except ValueError as exc:
                log.error("privacy request unreadable; sent to dlq", connector=raw.connector, receipt=raw.receipt)
                await self.bus.publish([dlq_message(raw, f"privacy request: {exc}", None)])
                continue
            if request is not None:
                await self.carry_out(raw, request, source)
                done += 1
        return done

    async def _settle(self, connector: str, receipt: int) -> None:
        """Let the orders received before the request be stored first, so the request covers them
        (bounded: a connector whose normalization is stuck does not hold the request back for ever)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while await self.db.read(lambda conn: privacy.earlier_pending(conn, connector, receipt)):
            if loop.time() > deadline:
                log.warning("privacy request carried out while earlier payloads are still pending", receipt=receipt)
                return
            await asyncio.sleep(0.1)

    async def carry_out(self, raw: StoredRaw, request: PrivacyRequest, source: PrivacySource) -> None:
        connector, receipt = raw.connector, raw.receipt
        if await self.db.read(lambda conn: privacy.handled(conn, receipt)):
            return
        await self._settle(connector, receipt)
        if request.action == "data_request":
            orders = await self.db.read(lambda conn: privacy.matching_orders(conn, connector, request))
            path = await asyncio.to_thread(write_export, self.exports, connector, request, receipt, orders)
            ids = [str(o["id"]) for o in orders]
            await self.db.write(lambda conn: privacy.record_export(conn, connector, request, receipt, ids, str(path)))
            log.info("privacy data exported", connector=connector, receipt=receipt, orders=len(ids), path=str(path))
            return

        def redact(conn: Any) -> tuple[list[str], int]:
            ids = privacy.redact(conn, connector, request, receipt)
            if request.action == "redact_shop":
                receipts = privacy.connector_receipts(conn, connector)
            else:
                receipts = privacy.order_receipts(conn, ids) | {receipt}
            payloads = privacy.redact_blobs(conn, receipts, source.redact_payload, receipt)
            privacy.record(conn, connector, request, receipt, ids, payloads=payloads)
            return ids, payloads

        ids, payloads = await self.db.write(redact)
        customer = None if request.action == "redact_shop" else request.customer_id
        if request.action == "redact_shop" or customer is not None:
            await asyncio.to_thread(remove_exports, self.exports, connector, customer)
        log.info(
            "privacy redaction done",
            connector=connector,
            receipt=receipt,
            action=request.action,
            orders=len(ids),
            payloads=payloads,
        )
