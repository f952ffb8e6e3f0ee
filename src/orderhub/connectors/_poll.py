"""What the cart pollers share: settings, the modified-since cursor, and one order's bytes out of a page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import structlog
from pydantic import Field, field_validator

from orderhub.connectors.base import ConnectorSettings, Intake
from orderhub.store.base import Receipt

log = structlog.get_logger("orderhub.connectors.poll")

CURSOR_KEY = "modified_since"


class PollSettings(ConnectorSettings):
    # where the first run begins; later runs continue from the checkpoint. Unset: from the first start.
    start_from: datetime | None = None
    poll_interval: float = Field(300.0, gt=0)
    # each poll re-reads this much before the cursor: changes committed late or with skewed clocks
    overlap_seconds: float = Field(300.0, ge=0)
    request_timeout: float = Field(30.0, gt=0)
    page_size: int = Field(100, ge=1, le=100)

    @field_validator("start_from")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # a time without a zone is UTC, like the platforms' GMT fields
        return value


class Cursor:
    """The newest change time durably taken in; stored as ISO 8601 UTC under the connector's checkpoint."""

    def __init__(self, intake: Intake, connector: str, start_from: datetime | None) -> None:
        self.intake = intake
        self.connector = connector
        self.start_from = start_from

    async def load(self) -> datetime:
        stored = await self.intake.get_checkpoint(self.connector, CURSOR_KEY)
        if stored is not None:
            return datetime.fromisoformat(stored)
        start = self.start_from or datetime.now(UTC).replace(microsecond=0)
        # saved at once, so a restart before the first order does not move the start forward
        await self.save(start)
        return start

    async def save(self, value: datetime) -> None:
        await self.intake.set_checkpoint(self.connector, CURSOR_KEY, iso_utc(value))


@dataclass(frozen=True, slots=True)
class Window:
    """The change times a poll asks for: after `after` and, for a backfill, up to `until` (exclusive)."""

    after: datetime
    until: datetime | None = None


@dataclass
class Tally:
    """What a poll (or a backfill) has taken in so far: pages read, orders stored, how many were new."""

    pages: int = 0
    orders: int = 0
    new: int = 0
    newest: datetime | None = None  # the newest change time taken in

    def took(self, receipt: Receipt, changed_at: datetime | None) -> None:
        self.orders += 1
        self.new += 0 if receipt.duplicate else 1
        if changed_at is not None and (self.newest is None or changed_at > self.newest):
            self.newest = changed_at


Progress = Callable[[Tally], None]  # called after each page


class CannotBackfill(RuntimeError):
    """This connector cannot pull history (no API credentials configured); said before any call."""


def _no_progress(tally: Tally) -> None:
    return None


NO_PROGRESS: Progress = _no_progress


def since(cursor: datetime, overlap_seconds: float) -> datetime:
    return cursor - timedelta(seconds=overlap_seconds)


def iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def utc_naive_text(value: str) -> datetime:
    """`2017-03-22T19:28:08` or `2017-08-21 22:22:20` (UTC without a zone) as an aware datetime."""
    return datetime.fromisoformat(value.replace(" ", "T")).replace(tzinfo=UTC)


def _decimal_as_written(value: Any) -> Any:
    if isinstance(value, Decimal):
        return orjson.Fragment(str(value).encode())
    raise TypeError(f"cannot serialize {type(value).__name__}")


def dump_json(value: Any) -> bytes:
    """JSON bytes of a value parsed with Decimal numbers, each number written as it was received."""
    return orjson.dumps(value, default=_decimal_as_written)


async def poll_and_fetch(
    pending: asyncio.Queue[int],
    interval: float,
    poll: Callable[[], Awaitable[object]],
    fetch: Callable[[int], Awaitable[object]],
) -> None:
    """Poll now and every `interval` seconds; in between, fetch each order id a webhook announced."""
    loop = asyncio.get_running_loop()
    next_poll = loop.time()
    while True:
        try:  # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the cancellation that stops us
            async with asyncio.timeout(max(0.0, next_poll - loop.time())):
                order_id = await pending.get()
        except TimeoutError:
            await poll()
            next_poll = loop.time() + interval
            continue
        await fetch(order_id)


async def every(interval: float, once: Callable[[], Awaitable[object]]) -> None:
    """Run `once` now and then every `interval` seconds, until cancelled."""
    while True:
        await once()
        await asyncio.sleep(interval)


async def run_together(*loops: Coroutine[Any, Any, None]) -> None:
    """Run the loops until cancelled; the first to fail is raised as itself (for the supervisor's log)."""
    try:
        async with asyncio.TaskGroup() as tasks:
            for loop in loops:
                tasks.create_task(loop)
    except ExceptionGroup as group:
        if len(group.exceptions) == 1:
            raise group.exceptions[0] from None
        raise


async def poll_from_cursor(
    intake: Intake,
    connector: str,
    start_from: datetime | None,
    overlap_seconds: float,
    poll_window: Callable[[Window], Awaitable[Tally]],
) -> int:
    """Take in every order changed since the cursor (less the overlap) and move the cursor to the newest
    change seen, only once every order up to it is durable (accept() returned for each); returns how
    many orders were read."""
    cursor = Cursor(intake, connector, start_from)
    start = await cursor.load()
    tally = await poll_window(Window(since(start, overlap_seconds)))
    newest = max(start, tally.newest or start)
    if newest > start:
        await cursor.save(newest)
    log.info("poll done", connector=connector, orders=tally.orders, cursor=newest.isoformat())
    return tally.orders
