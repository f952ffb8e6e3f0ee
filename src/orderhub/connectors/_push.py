"""What the cart connectors' tracking push-back shares: a refusal that retrying cannot fix, the words
of a shipment for the customer, and canonical line numbers turned into the platform's line ids."""

from __future__ import annotations

from decimal import Decimal

import httpx

from orderhub.connectors._http import ApiError, expect_ok
from orderhub.model.events import FulfillmentEvent, PushRefused
from orderhub.model.order import Order

# the platform understood the call and said no (unknown order or line, nothing left to ship): the
# event goes to the DLQ at once. 401/403 are left to the retries: a credential can be fixed meanwhile.
REFUSING_STATUSES = frozenset({400, 404, 409, 422})


class PushRejected(ApiError, PushRefused):
    """The platform refused the shipment for good."""


def expect_accepted(response: httpx.Response) -> None:
    """Like `expect_ok`, but a refusal of the request itself is a `PushRejected`."""
    try:
        expect_ok(response)
    except ApiError as exc:
        if exc.status in REFUSING_STATUSES:
            raise PushRejected(str(exc), exc.status) from None
        raise


def shipment_text(event: FulfillmentEvent) -> str:
    """A customer-facing line about the shipment: carrier, tracking number and link, as known."""
    what = "Part of your order has shipped" if event.partial else "Your order has shipped"
    if event.carrier:
        what += f" with {event.carrier}"
    parts = [what + "."]
    if event.tracking_number:
        parts.append(f"Tracking number: {event.tracking_number}.")
    if event.tracking_url:
        parts.append(f"Track it at {event.tracking_url}")
    return " ".join(parts)


def line_ids(order: Order, event: FulfillmentEvent) -> list[tuple[str, Decimal]]:
    """(platform line id, quantity) of each line the event names; PushRejected for an unknown line."""
    by_number = {line.line_number: line.external_id for line in order.lines}
    result = []
    for line in event.lines:
        external = by_number.get(line.line_number)
        if not external:
            raise PushRejected(f"order {order.id} has no line {line.line_number} with a platform line id")
        result.append((external, line.quantity))
    return result


def whole(quantity: Decimal, what: str) -> int:
    if quantity != quantity.to_integral_value():
        raise PushRejected(f"{what}: the platform ships whole units, not {quantity}")
    return int(quantity)
