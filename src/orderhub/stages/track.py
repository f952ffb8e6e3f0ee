"""fulfillment -> tracking back to the channel the order came from.

Consumes the `fulfillment` topic (`model.events.FulfillmentEvent`). For a shipped (or delivered)
event it reads the order, finds its connector (`source.connector`) and, when that connector pushes
tracking (`TrackingTarget`), calls `push_fulfillment(order, event)`. Idempotent: a pushed
(connector, fulfillment_id) is recorded in `pushed_fulfillments` and a re-delivered event pushes
nothing. A push that fails is retried with jittered exponential backoff; after `attempts` it goes to
the `dlq` topic with the error, and the order's timeline says so; a push the channel refuses for good
(`PushRefused`) goes there at once. While one event is retried the events behind it wait, so the
events of one order stay in order. Events of other statuses, and
orders whose connector pushes no tracking, are passed over (logged).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson
import structlog
from pydantic import ValidationError
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from orderhub._sqlite import Database
from orderhub.bus.base import Bus, Message, OutMessage
from orderhub.model.events import PUSHED_STATUSES, FulfillmentEvent, PushRefused
from orderhub.model.order import Order
from orderhub.model.serialize import load_order
from orderhub.store.base import Store
from orderhub.store.fulfillments import PushedFulfillments

log = structlog.get_logger("orderhub.stages.track")

GROUP = "track"


@runtime_checkable
class TrackingTarget(Protocol):
    @property
    def pushes_tracking(self) -> bool:
        """False when this instance cannot push (e.g. no API credentials)."""
        ...

    async def push_fulfillment(self, order: Order, event: FulfillmentEvent) -> str:
        """Tell the channel; returns the channel's id of the fulfillment."""
        ...


class OrderNotFound(LookupError):
    pass


def _retried(exc: BaseException) -> bool:
    """Failures worth another attempt: not a refusal for good, and never a cancellation (shutdown)."""
    return isinstance(exc, Exception) and not isinstance(exc, PushRefused)


def dlq_message(event: dict[str, Any], connector: str | None, error: str, attempts: int) -> OutMessage:
    value = {
        "stage": "track",
        "connector": connector,
        "order_id": event.get("order_id"),
        "fulfillment_id": event.get("fulfillment_id"),
        "event": event,
        "error": error,
        "attempts": attempts,
        "failed_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
    }
    key = event.get("order_id")
    return OutMessage(topic="dlq", key=key if isinstance(key, str) else None, value=orjson.dumps(value))


class TrackStage:
    def __init__(
        self,
        bus: Bus,
        store: Store,
        db: Database,
        connectors: Mapping[str, object],
        attempts: int = 5,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        on_outcome: Callable[[str | None, str], None] | None = None,  # (connector, outcome), for metrics
    ) -> None:
        self.on_outcome = on_outcome
        self.bus = bus
        self.store = store
        self.connectors = connectors
        self.pushed = PushedFulfillments(db)
        self.attempts = attempts
        self.backoff = backoff
        self.max_backoff = max_backoff

    async def run(self) -> None:
        """The stage loop; runs until cancelled. A message is committed once pushed, skipped or in the DLQ;
        one cut off by shutdown is delivered again (the channel side finds an existing fulfillment)."""
        subscription = await self.bus.subscribe("fulfillment", GROUP)
        try:
            while True:
                messages = await subscription.fetch(50, timeout=0.5)
                if messages:
                    await self.handle(messages)
                    await subscription.commit(messages)
        finally:
            await subscription.close()

    async def handle(self, messages: Sequence[Message]) -> list[str]:
        return [await self.handle_one(message.value) for message in messages]

    async def handle_one(self, value: bytes) -> str:
        """What became of one event: pushed, already_pushed, skipped or dlq."""
        connector, outcome = await self._handle(value)
        if self.on_outcome is not None:
            self.on_outcome(connector, outcome)
        return outcome

    async def _handle(self, value: bytes) -> tuple[str | None, str]:
        try:
            document: Any = orjson.loads(value)
        except orjson.JSONDecodeError:
            document = {"value": value.decode(errors="replace")}
        try:
            event = FulfillmentEvent.model_validate(document)
        except ValidationError as exc:
            kept = document if isinstance(document, dict) else {"value": document}
            await self.bus.publish([dlq_message(kept, None, f"not a fulfillment event: {exc}", 0)])
            log.error("fulfillment event unreadable; sent to dlq", error=str(exc))
            return None, "dlq"
        if event.status not in PUSHED_STATUSES:
            return None, "skipped"
        connector_name: str | None = None
        error = ""
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=self.backoff, max=self.max_backoff),
            retry=retry_if_exception(_retried),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    order = await self._order(event.order_id)
                    connector_name = order.source.connector
                    target = self.connectors.get(connector_name)
                    if not isinstance(target, TrackingTarget) or not target.pushes_tracking:
                        log.info("connector pushes no tracking; event passed over", connector=connector_name)
                        return connector_name, "skipped"
                    if await self.pushed.remote_id(connector_name, event.fulfillment_id) is not None:
                        log.info("fulfillment already pushed", connector=connector_name, order_id=event.order_id)
                        return connector_name, "already_pushed"
                    remote = await target.push_fulfillment(order, event)
                    await self.pushed.record(connector_name, event.fulfillment_id, remote, event.order_id)
                    log.info("tracking pushed", connector=connector_name, order_id=event.order_id, remote_id=remote)
                    return connector_name, "pushed"
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
        log.error("tracking push failed; sent to dlq", connector=connector_name, order_id=event.order_id, error=error)
        await self.bus.publish([dlq_message(document, connector_name, error, attempts)])
        await self.pushed.record_failure(connector_name, event.order_id, event.fulfillment_id, error)
        return connector_name, "dlq"

    async def _order(self, order_id: str) -> Order:
        stored = await self.store.get_order(order_id)
        if stored is None:
            raise OrderNotFound(f"order {order_id} is not in the store")
        return load_order(orjson.dumps(stored))
