"""raw -> normalize -> validate -> dedupe -> canonical order on `orders` (failures to `dlq`).

Consumes the `raw` topic. For each reference it loads the stored bytes, maps them with the
connector's mapping, and hands the orders to the store, which applies the revision rules and
queues the `orders`/`dlq` messages in the same transaction. Offsets are committed after that, so a
crash re-delivers the batch and the store's rules make the replay harmless.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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


async def normalize_batch(
    messages: Sequence[Message],
    store: Store,
    resolve: Resolver,
    mapper: MappingPool | None = None,
    partner_of: PartnerOf | None = None,
) -> BatchResult:
    receipts = [int(orjson.loads(m.value)["receipt"]) for m in messages]
    stored = {raw.receipt: raw for raw in await store.load_raw(receipts)}
    jobs: list[MapJob] = []
    acknowledgments: list[X12Receipt] = []
    mapping_of: dict[int, str] = {}
    failures: list[tuple[int, str, OutMessage]] = []
    failed: list[tuple[StoredRaw, str]] = []
    done: list[StoredRaw] = []
    for raw in stored.values():
        if raw.state != "pending":  # already handled before a crash or a re-delivery
            continue
        try:
            mapping, account = resolve(raw)
        except KeptWithoutOrder:
            done.append(raw)
            continue
        except Exception as exc:  # no connector or no mapping for it: recorded, never dropped
            error = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            failures.append((raw.receipt, error, dlq_message(raw, error, None)))
            failed.append((raw, error))
            continue
        mapping_of[raw.receipt] = mapping.name
        profile = partner_of(raw) if partner_of is not None and mapping.source_format == "x12" else None
        if profile is not None:
            filename = raw.headers.get("filename", "")
            acknowledgments.append(X12Receipt(raw.receipt, raw.connector, filename, raw.body, profile))
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
    writes: list[OrderWrite] = []
    refunds: list[RefundWrite] = []
    for mapped in await (mapper or _INLINE).map(jobs):
        raw = stored[mapped.receipt]
        if mapped.error is not None:
            failures.append((raw.receipt, mapped.error, dlq_message(raw, mapped.error, mapping_of[raw.receipt])))
            failed.append((raw, mapped.error))
            continue
        writes.extend(OrderWrite(body, facts, raw.receipt, updated) for body, updated, facts in mapped.orders)
        refunds.extend(RefundWrite(order_id, orjson.loads(refund), raw.receipt) for order_id, refund in mapped.refunds)
        done.append(raw)
    applied = []
    if writes or refunds or failures or done:
        prepare = acknowledge_files(acknowledgments) if acknowledgments else None
        applied = await store.finish_batch(writes, failures, [raw.receipt for raw in done], refunds, prepare)
    for raw, error in failed:
        log.warning("payload rejected to dlq", connector=raw.connector, receipt=raw.receipt, error=error)
    return BatchResult(applied, failed, done)


async def run_normalize(
    bus: Bus,
    store: Store,
    resolve: Resolver,
    on_batch: Callable[[BatchResult], None] | None = None,
    batch_size: int = 256,
    mapper: MappingPool | None = None,
    partner_of: PartnerOf | None = None,
) -> None:
    """The stage loop; runs until cancelled. Cancellation waits for the batch in hand."""
    subscription = await bus.subscribe("raw", GROUP)
    try:
        while True:
            messages = await subscription.fetch(batch_size, timeout=0.5)
            if not messages:
                continue
            result = await asyncio.shield(_process(messages, subscription, store, resolve, mapper, partner_of))
            if on_batch is not None:
                on_batch(result)
    finally:
        await subscription.close()


async def _process(
    messages: Sequence[Message],
    subscription: object,
    store: Store,
    resolve: Resolver,
    mapper: MappingPool | None,
    partner_of: PartnerOf | None,
) -> BatchResult:
    result = await normalize_batch(messages, store, resolve, mapper, partner_of)
    await subscription.commit(messages)  # type: ignore[attr-defined]
    return result
