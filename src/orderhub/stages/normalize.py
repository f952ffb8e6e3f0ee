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
from orderhub.mapping import Mapping, MappingContext, map_payload
from orderhub.model import Order
from orderhub.store.base import Applied, OrderWrite, Store, StoredRaw

log = structlog.get_logger("orderhub.stages.normalize")

Resolver = Callable[[StoredRaw], tuple[Mapping, str]]  # -> (mapping, account); raises when none applies
GROUP = "normalize"


@dataclass(frozen=True, slots=True)
class BatchResult:
    applied: list[Applied]
    failed: list[tuple[StoredRaw, str]]
    done: list[StoredRaw]


def _updated_us(order: Order) -> int | None:
    updated = order.source.updated_at
    return None if updated is None else int(updated.timestamp() * 1_000_000)


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


async def normalize_batch(messages: Sequence[Message], store: Store, resolve: Resolver) -> BatchResult:
    receipts = [int(orjson.loads(m.value)["receipt"]) for m in messages]
    stored = await store.load_raw(receipts)
    writes: list[OrderWrite] = []
    failures: list[tuple[int, str, OutMessage]] = []
    failed: list[tuple[StoredRaw, str]] = []
    done: list[StoredRaw] = []
    for index, raw in enumerate(stored):
        if raw.state != "pending":  # already handled before a crash or a re-delivery
            continue
        mapping_name: str | None = None
        try:
            mapping, account = resolve(raw)
            mapping_name = mapping.name
            ctx = MappingContext(
                connector=raw.connector,
                account=account,
                channel=mapping.channel,
                received_at=raw.received_at,
                raw_ref=f"sha256:{raw.sha256}",
            )
            orders = map_payload(raw.body, mapping, ctx)
        except Exception as exc:  # any failure is recorded with the payload, never dropped
            error = f"{type(exc).__name__}: {exc}" if not isinstance(exc, ValueError) else str(exc)
            failures.append((raw.receipt, error, dlq_message(raw, error, mapping_name)))
            failed.append((raw, error))
            continue
        writes.extend(
            OrderWrite(order=o.model_dump(mode="json"), receipt=raw.receipt, updated_at_us=_updated_us(o))
            for o in orders
        )
        done.append(raw)
        if index % 32 == 31:
            await asyncio.sleep(0)  # let the HTTP side answer webhooks between CPU-bound mappings
    applied = []
    if writes or failures or done:
        applied = await store.finish_batch(writes, failures, [raw.receipt for raw in done])
    for raw, error in failed:
        log.warning("payload rejected to dlq", connector=raw.connector, receipt=raw.receipt, error=error)
    return BatchResult(applied, failed, done)


async def run_normalize(
    bus: Bus,
    store: Store,
    resolve: Resolver,
    on_batch: Callable[[BatchResult], None] | None = None,
    batch_size: int = 256,
) -> None:
    """The stage loop; runs until cancelled. Cancellation waits for the batch in hand."""
    subscription = await bus.subscribe("raw", GROUP)
    try:
        while True:
            messages = await subscription.fetch(batch_size, timeout=0.5)
            if not messages:
                continue
            result = await asyncio.shield(_process(messages, subscription, store, resolve))
            if on_batch is not None:
                on_batch(result)
    finally:
        await subscription.close()


async def _process(messages: Sequence[Message], subscription: object, store: Store, resolve: Resolver) -> BatchResult:
    result = await normalize_batch(messages, store, resolve)
    await subscription.commit(messages)  # type: ignore[attr-defined]
    return result
