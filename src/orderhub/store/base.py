"""The Store protocol: raw payloads, receipts, checkpoints, orders with revisions and timelines, outbox."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

import orjson

from orderhub.bus.base import OutMessage
from orderhub.store.revisions import content_hash

ApplyOutcome = Literal["created", "revised", "unchanged", "stale", "waiting"]  # waiting: a refund before its order


def sha256_hex(body: bytes) -> str:
    """Raw payloads are content-addressed by this; references read `sha256:<hex>`."""
    return hashlib.sha256(body).hexdigest()


class StoreUnavailable(RuntimeError):
    """The store cannot take writes now; webhooks answer 503 so the sender retries."""


@dataclass(frozen=True, slots=True)
class RawIn:
    """A payload as received, before anything else happens to it."""

    connector: str
    channel: str
    transport: str  # webhook, poll, file, email, sftp, as2
    body: bytes
    received_at: datetime
    headers: dict[str, str] = field(default_factory=dict)
    dedupe_key: str | None = None
    replay: bool = False  # explicit retries bypass the delivery dedupe
    also_to: tuple[str, ...] = ()  # topics that get the `raw` message too (privacy requests)


@dataclass(frozen=True, slots=True)
class Receipt:
    id: int
    sha256: str
    duplicate: bool

    @property
    def raw_ref(self) -> str:
        return f"sha256:{self.sha256}"


@dataclass(frozen=True, slots=True)
class StoredRaw:
    receipt: int
    sha256: str
    connector: str
    channel: str
    transport: str
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    state: str


class OrderFacts(NamedTuple):
    """What the store indexes and compares of an order: read once, where its JSON is written (a
    mapping worker), so applying a new order needs no second parse. A tuple: cheap to send back."""

    id: str
    connector: str
    raw_ref: str
    status: str
    payment_status: str
    placed_at: str | None
    grand_total: str  # JSON of totals.grand_total
    purpose: str | None  # b2b.purpose (X12 BEG01 as a word)
    content_hash: str

    @classmethod
    def of(cls, order: dict[str, Any]) -> OrderFacts:
        source = order["source"]
        return cls(
            order["id"],
            source["connector"],
            source["raw_ref"],
            order["status"],
            order["payment"]["status"],
            order["placed_at"],
            orjson.dumps(order["totals"]["grand_total"]).decode(),
            (order.get("b2b") or {}).get("purpose"),
            content_hash(order),
        )


@dataclass(frozen=True, slots=True)
class OrderWrite:
    """One normalized order to apply: its canonical JSON as revision 1, its facts, what produced it."""

    body: bytes
    facts: OrderFacts
    receipt: int
    updated_at_us: int | None  # the source's own change time, microseconds since the epoch

    @classmethod
    def of(cls, order: dict[str, Any], receipt: int, updated_at_us: int | None) -> OrderWrite:
        first = {**order, "revision": 1}
        return cls(orjson.dumps(first), OrderFacts.of(first), receipt, updated_at_us)

    def order(self) -> dict[str, Any]:
        """The canonical dict (parsed on demand: most writes are new orders that never need it)."""
        order: dict[str, Any] = orjson.loads(self.body)
        return order


@dataclass(frozen=True, slots=True)
class RefundWrite:
    """A refund received on its own (canonical refund dict) for the order with id `order_id`."""

    order_id: str
    refund: dict[str, Any]
    receipt: int


@dataclass(frozen=True, slots=True)
class Applied:
    order_id: str
    outcome: ApplyOutcome
    revision: int
    receipt: int


@dataclass(frozen=True, slots=True)
class OrderRow:
    id: str
    revision: int
    status: str
    payment_status: str
    placed_at: str | None
    grand_total: dict[str, str]
    connector: str


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    at: str
    event: str
    revision: int | None
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    message: OutMessage


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def ping(self) -> bool: ...

    # raw payloads
    async def accept_raw(self, raw: RawIn) -> Receipt:
        """Durably keep the bytes and a receipt, and queue a `raw` bus message (unless a duplicate)."""
        ...

    async def record_rejected(self, connector: str, source_address: str | None, reason: str) -> None: ...

    async def load_raw(self, receipts: Sequence[int]) -> list[StoredRaw]: ...

    async def raw_body(self, sha256: str) -> bytes | None: ...

    # normalization results, in one unit of work with their bus messages
    async def finish_batch(
        self,
        writes: Sequence[OrderWrite],
        failures: Sequence[tuple[int, str, OutMessage]],
        done: Sequence[int],
        refunds: Sequence[RefundWrite] = (),
        prepare: Callable[[Any, Any, list[OrderWrite]], list[OrderWrite]] | None = None,
    ) -> list[Applied]:
        """Apply orders (revision rules) and refunds, mark receipts done/failed, queue orders/dlq messages.

        `prepare(connection, enqueue, writes)` runs first in the same transaction and returns the
        writes to apply (X12 acknowledgments are queued there, repeated interchanges held back)."""
        ...

    # outbox: messages for the bus, written in the same transaction as the state they announce
    async def outbox_peek(self, limit: int) -> list[OutboxItem]: ...

    async def outbox_ack(self, ids: Sequence[int]) -> None: ...

    # checkpoints
    async def get_checkpoint(self, connector: str, key: str) -> str | None: ...

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None: ...

    # reads
    async def get_order(self, order_id: str) -> dict[str, Any] | None: ...

    async def list_orders(
        self, limit: int = 100, status: str | None = None, connector: str | None = None
    ) -> list[OrderRow]: ...

    async def timeline(self, order_id: str) -> list[TimelineEntry]: ...
