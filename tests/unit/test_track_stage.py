"""The track stage on its own, with a stand-in connector and order store: retries, refusals, skips,
the idempotency record, and a cancellation (shutdown) that is never retried. Orders and events here are
made up for these tests."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from orderhub._sqlite import Database
from orderhub.bus.base import OutMessage
from orderhub.model.events import FulfillmentEvent, PushRefused
from orderhub.model.order import Order
from orderhub.model.serialize import dump_order
from orderhub.stages.track import TrackStage
from orderhub.store.sqlite import SqliteStore

ORDER = {
    "id": "cart:1001",
    "source": {
        "channel": "shopify",
        "connector": "cart",
        "account": "cart",
        "external_id": "1001",
        "received_at": "2026-11-21T04:52:41Z",
        "raw_ref": "sha256:0",
    },
    "placed_at": "2026-11-21T04:45:10Z",
    "currency": "EUR",
    "totals": {
        name: {"amount": amount, "currency": "EUR"}
        for name, amount in (
            ("subtotal", "10.00"),
            ("discount_total", "0.00"),
            ("shipping_total", "0.00"),
            ("tax_total", "0.00"),
            ("grand_total", "10.00"),
        )
    },
}


class Bus:
    def __init__(self) -> None:
        self.published: list[OutMessage] = []

    async def publish(self, messages: Sequence[OutMessage]) -> None:
        self.published.extend(messages)


class Orders:
    def __init__(self, orders: dict[str, dict[str, Any]]) -> None:
        self.orders = orders

    async def get_order(self, order_id: str) -> dict[str, Any] | None:
        return self.orders.get(order_id)


class Target:
    pushes_tracking = True

    def __init__(self, outcomes: list[BaseException | str]) -> None:
        self.outcomes = outcomes
        self.calls: list[FulfillmentEvent] = []
        self.started = asyncio.Event()

    async def push_fulfillment(self, order: Order, event: FulfillmentEvent) -> str:
        self.calls.append(event)
        self.started.set()
        outcome = self.outcomes.pop(0) if self.outcomes else "never"
        if outcome == "never":
            await asyncio.Event().wait()  # hangs like a call without an answer
        if isinstance(outcome, BaseException):
            raise outcome
        return str(outcome)


def event(fulfillment_id: str = "F-1", status: str = "shipped") -> bytes:
    return orjson.dumps(
        {"order_id": "cart:1001", "fulfillment_id": fulfillment_id, "status": status, "tracking_number": "T1"}
    )


@pytest.fixture
async def db(tmp_path: Path) -> Any:
    database = Database(tmp_path / "hub.sqlite")
    SqliteStore(database)  # the orders and timeline tables
    yield database
    await database.close()


def stage(db: Database, target: object, bus: Bus) -> TrackStage:
    order = orjson.loads(dump_order(Order.model_validate(ORDER)))
    track = TrackStage(bus, Orders({"cart:1001": order}), db, {"cart": target}, attempts=3, backoff=0.001)  # type: ignore[arg-type]
    db.open()
    return track


async def test_pushed_once_then_known(db: Database) -> None:
    bus, target = Bus(), Target(["remote-1"])
    track = stage(db, target, bus)
    assert await track.handle_one(event()) == "pushed"
    assert await track.handle_one(event()) == "already_pushed"
    assert await track.handle_one(event(status="packed")) == "skipped"
    assert len(target.calls) == 1 and bus.published == []
    assert await track.pushed.remote_id("cart", "F-1") == "remote-1"


async def test_transient_failures_are_retried_and_refusals_are_not(db: Database) -> None:
    bus, target = Bus(), Target([RuntimeError("timeout"), "remote-2", PushRefused("no such line")])
    track = stage(db, target, bus)
    assert await track.handle_one(event("F-2")) == "pushed"
    assert await track.handle_one(event("F-3")) == "dlq"
    assert len(target.calls) == 3
    [dead] = [orjson.loads(m.value) for m in bus.published]
    assert (dead["fulfillment_id"], dead["attempts"], dead["error"]) == ("F-3", 1, "PushRefused: no such line")


async def test_unreadable_events_and_connectors_without_tracking(db: Database) -> None:
    bus = Bus()
    track = stage(db, object(), bus)
    assert await track.handle_one(event()) == "skipped"  # the connector pushes no tracking
    assert await track.handle_one(b"{not json") == "dlq"
    assert await track.handle_one(orjson.dumps({"order_id": "x"})) == "dlq"
    assert [orjson.loads(m.value)["attempts"] for m in bus.published] == [0, 0]


async def test_a_cancelled_push_is_not_retried(db: Database) -> None:
    bus, target = Bus(), Target(["never"])
    track = stage(db, target, bus)
    task = asyncio.create_task(track.handle_one(event("F-9")))
    await target.started.wait()
    task.cancel()
    done, _ = await asyncio.wait([task], timeout=10)  # a swallowed cancellation would retry and hang
    assert done == {task} and task.cancelled()
    assert len(target.calls) == 1 and bus.published == []
    assert await track.pushed.remote_id("cart", "F-9") is None


def test_event_quantities_are_decimal_strings() -> None:
    lines = b'[{"line_number": "1", "quantity": "2"}]'
    parsed = FulfillmentEvent.model_validate_json(
        b'{"order_id": "a:1", "fulfillment_id": "f", "status": "shipped", "lines": ' + lines + b"}"
    )
    assert parsed.partial and str(parsed.lines[0].quantity) == "2"
