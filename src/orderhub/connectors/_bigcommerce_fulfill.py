"""Tracking push-back to BigCommerce: a shipment (`POST /v2/orders/{id}/shipments`) per shipping
address the shipped products go to, with the tracking number, carrier and the order products.

The order's products are read fresh (`GET /v2/orders/{id}/products`): each names its
`order_address_id`, and `quantity - quantity_shipped` is what is left to ship. A shipment of the
whole order takes what is left of every physical product; a partial one names canonical lines, each
the order product it came from (`lines[].external_id`). Before creating, the order's shipments are
read: an address that already has a shipment with this tracking number (an answer lost after
BigCommerce committed) is not shipped again. Returns the shipment id(s), comma-separated.
"""

from __future__ import annotations

from typing import Any

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._push import PushRejected, expect_accepted, line_ids, whole
from orderhub.mapping import parse_json
from orderhub.model.events import FulfillmentEvent
from orderhub.model.order import Order

PAGE_SIZE = 250
NOT_SHIPPED = frozenset({"digital", "giftcertificate"})
# the carriers BigCommerce knows by name: shipping_provider (the rates integration) and tracking_carrier
PROVIDERS = {"ups": "ups", "usps": "usps", "fedex": "fedex", "canada post": "canadapost", "australia post": "auspost"}
TRACKING_CARRIERS = {
    "ups": "ups",
    "usps": "usps",
    "fedex": "fedex",
    "dhl": "dhl",
    "canada post": "canada-post",
    "canadapost": "canada-post",
    "australia post": "australia-post",
    "auspost": "australia-post",
    "royal mail": "royal-mail",
}


async def _pages(api: Api, path: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    page = 1
    while True:
        response = await api.request("GET", path, params={"page": page, "limit": PAGE_SIZE})
        expect_accepted(response)
        listed = parse_json(response.content) if response.status_code != 204 and response.content.strip() else []
        if not isinstance(listed, list):
            raise ApiError(f"GET {path} did not return a JSON array")
        found += [item for item in listed if isinstance(item, dict)]
        if len(listed) < PAGE_SIZE:
            return found
        page += 1


def items_by_address(order: Order, event: FulfillmentEvent, products: list[dict[str, Any]]) -> dict[int, list[Any]]:
    """order_address_id -> [{order_product_id, quantity}] of this shipment."""
    left = {str(p["id"]): int(p.get("quantity") or 0) - int(p.get("quantity_shipped") or 0) for p in products}
    by_id = {str(p["id"]): p for p in products}
    wanted: list[tuple[str, int]]
    if event.partial:
        wanted = [(pid, whole(qty, f"order {order.id} product {pid}")) for pid, qty in line_ids(order, event)]
    else:
        wanted = [(pid, n) for pid, n in left.items() if n > 0 and by_id[pid].get("type") not in NOT_SHIPPED]
        if not wanted:
            raise PushRejected(f"order {order.id} has nothing left to ship on BigCommerce")
    grouped: dict[int, list[Any]] = {}
    for product_id, quantity in wanted:
        if product_id not in by_id:
            raise PushRejected(f"order {order.id} has no product {product_id} on BigCommerce")
        if quantity > left[product_id]:
            raise PushRejected(
                f"order {order.id} product {product_id}: {quantity} is more than the {left[product_id]} left to ship"
            )
        address = int(by_id[product_id]["order_address_id"])
        grouped.setdefault(address, []).append({"order_product_id": int(product_id), "quantity": quantity})
    return grouped


def carrier_fields(event: FulfillmentEvent) -> dict[str, str]:
    carrier = (event.carrier or "").strip()
    key = carrier.lower()
    fields = {"shipping_provider": PROVIDERS.get(key, ""), "tracking_carrier": TRACKING_CARRIERS.get(key, "")}
    if carrier and not fields["tracking_carrier"]:
        fields["shipping_method"] = carrier  # a carrier BigCommerce does not know is kept as text
    return fields


async def push_fulfillment(api: Api, order: Order, event: FulfillmentEvent) -> str:
    base = f"/v2/orders/{order.source.external_id}"
    products = await _pages(api, f"{base}/products")
    if not products:
        raise PushRejected(f"BigCommerce has no products for order {order.source.external_id}")
    grouped = items_by_address(order, event, products)
    existing: dict[int, str] = {}
    if event.tracking_number:
        for shipment in await _pages(api, f"{base}/shipments"):
            if shipment.get("tracking_number") == event.tracking_number:
                existing[int(shipment["order_address_id"])] = str(shipment["id"])
    ids = []
    for address, items in grouped.items():
        if address in existing:
            ids.append(existing[address])
            continue
        body = {
            "order_address_id": address,
            "tracking_number": event.tracking_number or "",
            **carrier_fields(event),
            "items": items,
        }
        response = await api.request("POST", f"{base}/shipments", idempotent=False, json=body)
        expect_accepted(response)
        created = parse_json(response.content)
        if not isinstance(created, dict) or created.get("id") is None:
            raise ApiError(f"POST {base}/shipments answered without a shipment id")
        ids.append(str(created["id"]))
    return ",".join(ids)
