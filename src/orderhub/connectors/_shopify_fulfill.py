"""Tracking push-back to Shopify: the order's fulfillment orders, then `fulfillmentCreate` (2023-07+).

A shipment of the whole order fulfils every open fulfillment order. A partial one names canonical
line numbers; each maps to the Shopify line item the order line came from (`lines[].external_id`)
and its quantity is taken from the fulfillment order line items that still have some remaining.
Before creating anything, a fulfillment that already carries the same tracking number is looked for
and returned: a push whose answer was lost (timeout after Shopify committed) does not ship twice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from orderhub.connectors._shopify_api import ShopifyApi, ShopifyApiError
from orderhub.model.events import FulfillmentEvent, PushRefused
from orderhub.model.order import Order

FULFILLABLE = frozenset({"OPEN", "IN_PROGRESS"})

FULFILLMENT_ORDERS_QUERY = """
query OrderFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) { id trackingInfo(first: 10) { number } }
    fulfillmentOrders(first: 50) {
      nodes {
        id
        status
        lineItems(first: 250) { nodes { id remainingQuantity lineItem { id } } }
      }
    }
  }
}
""".strip()

FULFILLMENT_CREATE = """
mutation FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
""".strip()


class FulfillmentRefused(ShopifyApiError, PushRefused):
    """The shipment cannot be expressed on this order (unknown line, more than remains, nothing open)."""


def order_gid(order: Order) -> str:
    return f"gid://shopify/Order/{order.source.external_id}"


def line_item_gid(external_id: str) -> str:
    return external_id if external_id.startswith("gid://") else f"gid://shopify/LineItem/{external_id}"


def existing_fulfillment(order_node: dict[str, Any], tracking_number: str | None) -> str | None:
    if not tracking_number:
        return None
    for fulfillment in order_node.get("fulfillments") or []:
        numbers = {info.get("number") for info in fulfillment.get("trackingInfo") or []}
        if tracking_number in numbers:
            return str(fulfillment["id"])
    return None


def fulfillment_input(order: Order, event: FulfillmentEvent, order_node: dict[str, Any]) -> dict[str, Any]:
    """The `FulfillmentInput` of this shipment."""
    open_orders = [
        fo for fo in (order_node.get("fulfillmentOrders") or {}).get("nodes") or [] if fo.get("status") in FULFILLABLE
    ]
    if not open_orders:
        raise FulfillmentRefused(f"order {order.id} has no open fulfillment order on Shopify")
    by_fulfillment_order: list[dict[str, Any]]
    if not event.partial:
        by_fulfillment_order = [{"fulfillmentOrderId": fo["id"]} for fo in open_orders]
    else:
        by_fulfillment_order = _partial(order, event, open_orders)
    tracking = {
        key: value
        for key, value in (
            ("company", event.carrier),
            ("number", event.tracking_number),
            ("url", event.tracking_url),
        )
        if value
    }
    result: dict[str, Any] = {"lineItemsByFulfillmentOrder": by_fulfillment_order, "notifyCustomer": True}
    if tracking:
        result["trackingInfo"] = tracking
    return result


def _partial(order: Order, event: FulfillmentEvent, open_orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
    line_items = {line.line_number: line.external_id for line in order.lines}
    remaining: dict[str, int] = {}  # fulfillment order line item id -> what is left of it
    candidates: dict[str, list[tuple[str, str]]] = {}  # line item gid -> [(fulfillment order, its line item)]
    for fo in open_orders:
        for item in (fo.get("lineItems") or {}).get("nodes") or []:
            line_item = (item.get("lineItem") or {}).get("id")
            if line_item is None:
                continue
            remaining[item["id"]] = int(item.get("remainingQuantity") or 0)
            candidates.setdefault(line_item, []).append((fo["id"], item["id"]))
    taken: dict[str, dict[str, int]] = {}
    for line in event.lines:
        external = line_items.get(line.line_number)
        if not external:
            raise FulfillmentRefused(f"order {order.id} has no line {line.line_number} with a Shopify line item id")
        quantity = _whole(line.quantity, line.line_number)
        for fo_id, item_id in candidates.get(line_item_gid(external), []):
            step = min(quantity, remaining[item_id])
            if step > 0:
                remaining[item_id] -= step
                quantity -= step
                per_fo = taken.setdefault(fo_id, {})
                per_fo[item_id] = per_fo.get(item_id, 0) + step
        if quantity > 0:
            raise FulfillmentRefused(
                f"order {order.id} line {line.line_number}: {quantity} more than remains to fulfil on Shopify"
            )
    return [
        {
            "fulfillmentOrderId": fo_id,
            "fulfillmentOrderLineItems": [{"id": item, "quantity": qty} for item, qty in items.items()],
        }
        for fo_id, items in taken.items()
    ]


def _whole(quantity: Decimal, line_number: str) -> int:
    if quantity != quantity.to_integral_value():
        raise FulfillmentRefused(f"line {line_number}: Shopify fulfils whole units, not {quantity}")
    return int(quantity)


async def push_fulfillment(shop: ShopifyApi, order: Order, event: FulfillmentEvent) -> str:
    """Create the fulfillment (or find the one already made for this tracking number); its Shopify id."""
    data = await shop.graphql(FULFILLMENT_ORDERS_QUERY, {"id": order_gid(order)})
    node = data.get("order")
    if not isinstance(node, dict):
        raise FulfillmentRefused(f"Shopify has no order {order_gid(order)}")
    if (found := existing_fulfillment(node, event.tracking_number)) is not None:
        return found
    created = await shop.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment_input(order, event, node)})
    result = created.get("fulfillmentCreate") or {}
    errors = result.get("userErrors") or []
    if errors:
        messages = "; ".join(f"{'.'.join(e.get('field') or [])}: {e.get('message')}" for e in errors)
        raise FulfillmentRefused(f"fulfillmentCreate refused: {messages}")
    fulfillment = result.get("fulfillment")
    if not isinstance(fulfillment, dict) or not fulfillment.get("id"):
        raise ShopifyApiError("fulfillmentCreate answered without a fulfillment")
    return str(fulfillment["id"])
