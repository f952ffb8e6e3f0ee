"""raw -> normalize -> validate -> dedupe -> canonical order on `orders` (failures to `dlq`).

Consumes the `raw` topic. For each reference it loads the stored bytes, maps them with the
connector's mapping, and hands the orders to the store, which applies the revision rules and
queues the `orders`/`dlq` messages in the same transaction. Offsets are committed after that, so a
crash re-delivers the batch and the store's rules make the replay harmless.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import orjson
import structlog

from orderhub.bus.base import Bus, Message, OutMessage
from orderhub.mapping import Mapping, MappingContext
from orderhub.stages.acknowledge import X12Receipt, acknowledge_files
from orderhub.stages.mapping_pool import MapJob, MappingPool
from orderhub.store.base import Applied, OrderWrite, RefundWrite, Store, StoredRaw
from orderhub.x12.partners import PartnerProfile

log = structlog.get_logger("orderhub.stages.normalize")

Resolver = Callable[[StoredRaw], tuple[Mapping, str]]  # -> (mapping, account); raises when none applies
PartnerOf = Callable[[StoredRaw], PartnerProfile | None]  # the X12 trading partner a stored file is from
GROUP = "normalize"
STORE_CHUNK = 32  # orders per store transaction
IN_FLIGHT = 2  # batches read, mapped or stored at once
_INLINE = MappingPool(0)


class KeptWithoutOrder(Exception):
    """Raised by a resolver for a payload kept for the record that yields no order by design (a webhook
    that only points at an order the connector fetches and stores as its own payload): marked done."""


@dataclass(frozen=True, slots=True)
class BatchResult:
    applied: list[Applied]
    failed: list[tuple[StoredRaw, str]]
    done: list[StoredRaw]


def dlq_message(raw: StoredRaw, error: str, mapping: str | None) -> OutMessage:
    value = orjson.dumps(
        {
            "receipt": raw.receipt,
            "raw_ref": f"sha256:{raw.sha256}",
            "connector": raw.connector,
            "channel": raw.channel,
            "transport": raw.transport,
            "mapping": mapping,
            "error": error,
            "failed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
    )
    return OutMessage(topic="dlq", key=raw.connector, value=value)


@dataclass(slots=True)
class MappedBatch:
    """A batch mapped and not yet stored: what `store_batch` writes."""

    writes: list[OrderWrite] = field(default_factory=list)
    refunds: list[RefundWrite] = field(default_factory=list)
    failures: list[tuple[int, str, OutMessage]] = field(default_factory=list)
    failed: list[tuple[StoredRaw, str]] = field(default_factory=list)
    done: list[StoredRaw] = field(default_factory=list)
    acknowledgments: list[X12Receipt] = field(default_factory=list)


async def map_batch(
    messages: Sequence[Message],
    store: Store,
    resolve: Resolver,
    mapper: MappingPool | None = None,
    partner_of: PartnerOf | None = None,
) -> MappedBatch:
    receipts = [int(orjson.loads(m.value)["receipt"]) for m in messages]
    stored = {raw.receipt: raw for raw in await store.load_raw(receipts)}
    batch = MappedBatch()
    jobs: list[MapJob] = []
    mapping_of: dict[int, str] = {}
    partner_of_receipt: dict[int, PartnerProfile] = {}
    for raw in stored.values():
        if raw.state != "pending":  # already handled before a crash or a re-delivery
            continue
        try:
            mapping, account = resolve(raw)
        except KeptWithoutOrder:
            batch.done.append(raw)
            continue
        except Exception as exc:  # no connector or no mapping for it: recorded, never dropped
            error = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            batch.failures.append((raw.receipt, error, dlq_message(raw, error, None)))
            batch.failed.append((raw, error))
            continue
        mapping_of[raw.receipt] = mapping.name
        profile = partner_of(raw) if partner_of is not None and mapping.source_format == "x12" else None
        if profile is not None:
            partner_of_receipt[raw.receipt] = profile
        ctx = MappingContext(
            connector=raw.connector,
            account=account,
            channel=mapping.channel,
            received_at=raw.received_at,
            raw_ref=f"sha256:{raw.sha256}",
            timezone=profile.timezone if profile is not None else "UTC",
            currency=profile.currency if profile is not None else None,
            sku_xref=dict(profile.sku_xref) if profile is not None else {},
            uom_xref=dict(profile.uom_xref) if profile is not None else {},
        )
        jobs.append(MapJob(raw.receipt, raw.body, str(mapping.path), ctx))
    for mapped in await (mapper or _INLINE).map(jobs):
        raw = stored[mapped.receipt]
        if mapped.received and (profile := partner_of_receipt.get(raw.receipt)) is not None:
            filename = raw.headers.get("filename", "")
            batch.acknowledgments.append(X12Receipt(raw.receipt, raw.connector, filename, mapped.received, profile))
        if mapped.error is not None:
            batch.failures.append((raw.receipt, mapped.error, dlq_message(raw, mapped.error, mapping_of[raw.receipt])))
            batch.failed.append((raw, mapped.error))
            continue
        batch.writes.extend(OrderWrite(body, facts, raw.receipt, updated) for body, updated, facts in mapped.orders)
        batch.refunds.extend(
            RefundWrite(order_id, orjson.loads(refund), raw.receipt) for order_id, refund in mapped.refunds
        )
        batch.done.append(raw)
    return batch


async def store_batch(batch: MappedBatch, store: Store) -> BatchResult:
    """Apply a mapped batch: orders, refunds, DLQ entries (and X12 acknowledgments) in writes of
    about `STORE_CHUNK` orders each, whole payloads only, applied in order; the store lets webhooks
    waiting for their own commit go between them. A payload's orders are applied and its receipt
    marked done in one transaction, so a crash between two re-applies nothing (the next delivery
    skips receipts no longer pending)."""
    if batch.acknowledgments:  # X12: acknowledgments and the orders of their files in one transaction
        chunks = [(batch.writes, batch.failures, [raw.receipt for raw in batch.done], batch.refunds)]
        prepare = acknowledge_files(batch.acknowledgments)
    else:
        chunks, prepare = _chunks(batch), None
    parts = await asyncio.gather(*(store.finish_batch(*chunk, prepare) for chunk in chunks))
    applied = [item for part in parts for item in part]
    for raw, error in batch.failed:
        log.warning("payload rejected to dlq", connector=raw.connector, receipt=raw.receipt, error=error)
    return BatchResult(applied, batch.failed, batch.done)


Chunk = tuple[list[OrderWrite], list[tuple[int, str, OutMessage]], list[int], list[RefundWrite]]


def _chunks(batch: MappedBatch) -> list[Chunk]:
    writes_of: dict[int, list[OrderWrite]] = {}
    for write in batch.writes:
        writes_of.setdefault(write.receipt, []).append(write)
    refunds_of: dict[int, list[RefundWrite]] = {}
    for refund in batch.refunds:
        refunds_of.setdefault(refund.receipt, []).append(refund)
    chunks: list[Chunk] = []
    chunk: Chunk = ([], list(batch.failures), [], [])
    for raw in batch.done:
        if len(chunk[0]) + len(chunk[3]) >= STORE_CHUNK:
            chunks.append(chunk)
            chunk = ([], [], [], [])
        chunk[0].extend(writes_of.get(raw.receipt, ()))
        chunk[3].extend(refunds_of.get(raw.receipt, ()))
        chunk[2].append(raw.receipt)
    if any(chunk):
        chunks.append(chunk)
    return chunks


async def run_normalize(
    bus: Bus,
    store: Store,
    resolve: Resolver,
    on_batch: Callable[[BatchResult], None] | None = None,
    batch_size: int = 256,
    mapper: MappingPool | None = None,
    partner_of: PartnerOf | None = None,
) -> None:
    """The stage loop; runs until cancelled, after finishing the batches in hand.

    Up to `IN_FLIGHT` batches are worked on at once, each read, mapped, then stored and its offsets
    committed: the mapping worker always has the next batch queued while the daemon loads one and
    the store applies another. Batches are stored and committed strictly in the order fetched.
    """
    subscription = await bus.subscribe("raw", GROUP)
    in_flight: collections.deque[asyncio.Task[None]] = collections.deque()

    async def handle(messages: Sequence[Message], before: asyncio.Task[None] | None) -> None:
        batch = await map_batch(messages, store, resolve, mapper, partner_of)
        if before is not None:
            await before
        result = await store_batch(batch, store)
        await subscription.commit(messages)
        if on_batch is not None:
            on_batch(result)

    async def settle(keep: int) -> None:
        """Wait until at most `keep` batches are in flight; a failed one ends the stage (restarted,
        it reads on from the last commit)."""
        while len(in_flight) > keep:
            await asyncio.shield(in_flight.popleft())

    try:
        while True:
            messages = await subscription.fetch(batch_size, timeout=0.5)
            if not messages:
                await settle(0)
                continue
            await settle(IN_FLIGHT - 1)
            while in_flight and in_flight[0].done():
                in_flight.popleft().result()
            in_flight.append(asyncio.ensure_future(handle(messages, in_flight[-1] if in_flight else None)))
    finally:
        for task in in_flight:
            with contextlib.suppress(Exception):
                await asyncio.shield(task)
        await subscription.close()
