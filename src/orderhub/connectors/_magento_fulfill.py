"""Tracking push-back to Magento 2: `POST /V1/order/{id}/ship` with the items, the track and
`notify: true` (Magento e-mails the customer). A shipment of the whole order names no items, which
Magento takes as "everything left to ship"; a partial one names canonical lines, each the order item
it came from (`lines[].external_id` is the item_id). The carrier code is Magento's own for the
carriers it knows (ups, usps, fedex, dhl) and `custom` otherwise, with the carrier's name as title.

Before shipping, the order's shipments are read (`GET /V1/shipments` by order_id): one that already
carries this tracking number (an answer lost after Magento committed) is returned instead of
shipping again. Returns the shipment's entity id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

import httpx

from orderhub.connectors._http import ApiError
from orderhub.connectors._push import PushRejected, expect_accepted, line_ids
from orderhub.mapping import parse_json
from orderhub.model.events import FulfillmentEvent
from orderhub.model.order import Order

KNOWN_CARRIERS = frozenset({"ups", "usps", "fedex", "dhl"})
# (method, path, params, json) -> the response, with the connector's authentication
Send = Callable[[str, str, dict[str, str | int] | None, Any], Awaitable[httpx.Response]]


def ship_body(order: Order, event: FulfillmentEvent) -> dict[str, Any]:
    body: dict[str, Any] = {"notify": True}
    if event.partial:
        items = line_ids(order, event)
        if not all(item.isdigit() for item, _ in items):
            raise PushRejected(f"order {order.id}: a shipped line has no Magento item_id")
        body["items"] = [{"order_item_id": int(item), "qty": _qty(qty)} for item, qty in items]
    if event.tracking_number:
        carrier = (event.carrier or "").strip()
        code = carrier.lower() if carrier.lower() in KNOWN_CARRIERS else "custom"
        body["tracks"] = [{"track_number": event.tracking_number, "title": carrier or "Shipment", "carrier_code": code}]
    return body


def _qty(quantity: Decimal) -> int | float:
    return int(quantity) if quantity == quantity.to_integral_value() else float(quantity)


def shipments_query(entity_id: str) -> dict[str, str | int]:
    filters = "searchCriteria[filter_groups][0][filters][0]"
    return {f"{filters}[field]": "order_id", f"{filters}[value]": entity_id, f"{filters}[condition_type]": "eq"}


async def existing_shipment(send: Send, rest: str, entity_id: str, tracking_number: str | None) -> str | None:
    if not tracking_number:
        return None
    response = await send("GET", f"{rest}/shipments", shipments_query(entity_id), None)
    expect_accepted(response)
    result = parse_json(response.content)
    for shipment in (result.get("items") if isinstance(result, dict) else None) or []:
        numbers = {track.get("track_number") for track in shipment.get("tracks") or [] if isinstance(track, dict)}
        if tracking_number in numbers:
            return str(shipment["entity_id"])
    return None


async def push_fulfillment(send: Send, rest: str, order: Order, event: FulfillmentEvent) -> str:
    entity_id = order.source.external_id
    found = await existing_shipment(send, rest, entity_id, event.tracking_number)
    if found is not None:
        return found
    response = await send("POST", f"{rest}/order/{entity_id}/ship", None, ship_body(order, event))
    expect_accepted(response)
    shipment_id = parse_json(response.content)
    if not isinstance(shipment_id, (int, str)) or isinstance(shipment_id, bool) or not str(shipment_id):
        raise ApiError(f"POST {rest}/order/{entity_id}/ship answered without a shipment id")
    return str(shipment_id)
