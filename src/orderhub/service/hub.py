"""The hub: store, bus, connectors and stages of one process, started and stopped together."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import replace

import structlog

from orderhub._sqlite import Database
from orderhub.bus.base import Bus
from orderhub.bus.embedded import EmbeddedBus
from orderhub.bus.factory import make_bus
from orderhub.connectors import Connector
from orderhub.mapping import Mapping
from orderhub.service.config import HubConfig
from orderhub.service.connectors import build_connectors
from orderhub.service.metrics import Metrics
from orderhub.service.supervisor import supervise
from orderhub.stages.dispatch import DispatchStage
from orderhub.stages.mapping_pool import MappingPool
from orderhub.stages.normalize import BatchResult, run_normalize
from orderhub.stages.privacy import PrivacyStage
from orderhub.stages.relay import Relay
from orderhub.stages.track import TrackStage
from orderhub.store.base import RawIn, Receipt, StoredRaw
from orderhub.store.sqlite import SqliteStore
from orderhub.x12.partners import PartnerDirectory, PartnerProfile

log = structlog.get_logger("orderhub.hub")


class UnknownConnector(LookupError):
    pass


class Hub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.metrics = Metrics()
        self.db = Database(config.db_path)
        self.store = SqliteStore(self.db)
        self.bus: Bus = make_bus(config.bus, self.db)
        # On the embedded bus (same file) messages are written in the store's own transactions;
        # on Kafka they go through the outbox and the relay.
        self._embedded = self.bus if isinstance(self.bus, EmbeddedBus) and self.bus.shares(self.db) else None
        if self._embedded is not None:
            self.store.publish_through(self._embedded.write_in_transaction)
        self.relay = Relay(self.store, self.bus)
        self.mapper = MappingPool(config.normalize_workers)
        self.connectors: dict[str, Connector] = {c.name: c for c in build_connectors(config, self, self.db)}
        self.track = TrackStage(self.bus, self.store, self.db, self.connectors, on_outcome=self._tracked)
        self.dispatch = DispatchStage(self.bus, self.connectors)
        self.privacy = PrivacyStage(self.bus, self.store, self.db, self.connectors, config.data_dir)
        self._tasks: list[asyncio.Task[None]] = []
        self._stages: list[asyncio.Task[None]] = []

    # Intake: what connectors and webhook handlers hand payloads to ---------------------------------
    async def accept(self, raw: RawIn) -> Receipt:
        if self.privacy.wants(raw):
            raw = replace(raw, also_to=("privacy",))
        receipt = await self.store.accept_raw(raw)
        if not receipt.duplicate:
            self._published("raw", *raw.also_to)
        metrics = self.metrics.of(raw.connector)
        metrics.accepted.inc()
        if receipt.duplicate:
            metrics.duplicate.inc()
        return receipt

    async def get_checkpoint(self, connector: str, key: str) -> str | None:
        return await self.store.get_checkpoint(connector, key)

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None:
        await self.store.set_checkpoint(connector, key, value)

    def resolve(self, raw: StoredRaw) -> tuple[Mapping, str]:
        connector = self.connectors.get(raw.connector)
        if connector is None:
            raise UnknownConnector(
                f"connector {raw.connector!r} is not configured any more; add it back and retry from the DLQ"
            )
        return connector.mapping_for(raw), connector.account_for(raw)

    def partner_of(self, raw: StoredRaw) -> PartnerProfile | None:
        """The X12 trading partner a stored file came from (its connector stored the profile id)."""
        partners = getattr(self.connectors.get(raw.connector), "partners", None)
        partner = raw.headers.get("partner")
        return partners.get(partner) if isinstance(partners, PartnerDirectory) and partner else None

    def _published(self, *topics: str) -> None:
        """Messages were committed (to `topics`; none named: any topic)."""
        if self._embedded is not None:
            self._embedded.notify(*topics)
        else:
            self.relay.wake()

    def _tracked(self, connector: str | None, outcome: str) -> None:
        self.metrics.tracking.labels(connector or "?", outcome).inc()

    def _observe(self, result: BatchResult) -> None:
        self._published()
        now = time.time()
        connector_of = {raw.receipt: raw.connector for raw in result.done}
        outcomes = Counter((connector_of.get(a.receipt, "?"), a.outcome) for a in result.applied)
        for (connector, outcome), count in outcomes.items():
            self.metrics.orders.labels(connector, outcome).inc(count)
        for raw in result.done:
            self.metrics.of(raw.connector).normalize_seconds.observe(now - raw.received_at.timestamp())
        for raw, _ in result.failed:
            self.metrics.dlq.labels(raw.connector).inc()

    # lifecycle -------------------------------------------------------------------------------------
    async def start(self, stages: bool = True, connectors: bool = True) -> None:
        await self.store.open()
        await self.bus.start()
        for name, connector in self.connectors.items():
            for note in connector.startup_notes():
                log.info("connector note", connector=name, note=note)
        if stages:
            await self.mapper.start()
            self._stages.append(self._spawn("relay", self.relay.run))
            self._stages.append(
                self._spawn(
                    "normalize",
                    lambda: run_normalize(
                        self.bus,
                        self.store,
                        self.resolve,
                        self._observe,
                        mapper=self.mapper,
                        partner_of=self.partner_of,
                    ),
                )
            )
            self._stages.append(self._spawn("track", self.track.run))
            self._stages.append(self._spawn("dispatch", self.dispatch.run))
            self._stages.append(self._spawn("privacy", self.privacy.run))
        if connectors:
            for name, connector in self.connectors.items():
                if connector.runs:
                    self._tasks.append(self._spawn(f"connector:{name}", connector.run, name))

    def _spawn(self, name: str, run: Callable[[], Awaitable[None]], connector: str | None = None) -> asyncio.Task[None]:
        on_restart = None
        if connector is not None:
            counter = self.metrics.connector_restarts.labels(connector)
            on_restart = counter.inc
        return asyncio.create_task(supervise(name, run, on_restart), name=name)

    async def ready(self) -> bool:
        return await self.store.ping() and await self.bus.ping()

    async def stop(self, drain: bool = True) -> None:
        """Connectors first (no new work), then stages finish the batch in hand, then the relay drains
        (unless `drain` is false: a CLI process that only stored payloads leaves them to the daemon's relay)."""
        for group in (self._tasks, self._stages):
            for task in group:
                task.cancel()
            for task in group:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            group.clear()
        self.mapper.close()
        if drain:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.relay.drain(), 10)
        await self.bus.close()
        await self.store.close()
