"""The Bus protocol: topics of keyed messages, consumer groups, explicit offset commits.

Topic names given to a bus are logical (`raw`, `orders`, `dlq`, ...); each backend adds its
configured prefix. Correctness never relies on broker transactions or idempotent producers:
messages carry keys (order id) and consumers are idempotent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

TOPICS = ("raw", "orders", "dlq", "outbound", "routed", "fulfillment", "privacy")


@dataclass(frozen=True, slots=True)
class OutMessage:
    topic: str
    value: bytes
    key: str | None = None
    headers: tuple[tuple[str, bytes], ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: str | None = None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0
    extra: dict[str, object] = field(default_factory=dict, compare=False)


class BusError(RuntimeError):
    """The bus could not take or give messages (broker down, closed)."""


@runtime_checkable
class Subscription(Protocol):
    async def fetch(self, max_messages: int = 500, timeout: float = 1.0) -> list[Message]:
        """Next messages after the group's committed position; [] when none came within timeout."""
        ...

    async def commit(self, messages: Sequence[Message]) -> None:
        """Mark these messages (and everything before them on their partitions) as processed."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class Bus(Protocol):
    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def publish(self, messages: Sequence[OutMessage]) -> None:
        """Returns once every message is durably accepted (acks=all / committed); raises BusError."""
        ...

    async def subscribe(self, topic: str, group: str) -> Subscription: ...

    async def ping(self) -> bool:
        """True when the bus answers (for /readyz)."""
        ...
