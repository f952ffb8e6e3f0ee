"""Tracking push-back to WooCommerce: a customer note with the carrier, tracking number and link
(`POST /orders/{id}/notes`, `customer_note: true`, which WooCommerce e-mails to the customer), and for
a shipment of the whole order the status `completed` (`PUT /orders/{id}`). A partial shipment adds
the note only: the order is not complete yet.

Before writing a note, the order's customer notes are read: one that already names this tracking
number is the same shipment pushed before (an answer lost after WooCommerce committed) and is
returned instead of writing a second one. The note id is what the push returns.
"""

from __future__ import annotations

from typing import Any

from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._push import expect_accepted, shipment_text
from orderhub.mapping import parse_json
from orderhub.model.events import FulfillmentEvent
from orderhub.model.order import Order

ORDERS_PATH = "/wp-json/wc/v3/orders"


async def existing_note(api: Api, order_path: str, tracking_number: str | None) -> str | None:
    if not tracking_number:
        return None
    response = await api.request("GET", f"{order_path}/notes", params={"type": "customer"})
    expect_accepted(response)
    notes = parse_json(response.content)
    for note in notes if isinstance(notes, list) else []:
        if isinstance(note, dict) and tracking_number in str(note.get("note", "")):
            return str(note["id"])
    return None


async def push_fulfillment(api: Api, order: Order, event: FulfillmentEvent) -> str:
    order_path = f"{ORDERS_PATH}/{order.source.external_id}"
    note_id = await existing_note(api, order_path, event.tracking_number)
    if note_id is None:
        response = await api.request(
            "POST", f"{order_path}/notes", idempotent=False, json={"note": shipment_text(event), "customer_note": True}
        )
        expect_accepted(response)
        note_id = _id(parse_json(response.content), "note")
    if not event.partial:
        # completing an order already completed changes nothing, so a repeat is harmless
        response = await api.request("PUT", order_path, json={"status": "completed"})
        expect_accepted(response)
    return note_id


def _id(document: Any, what: str) -> str:
    if not isinstance(document, dict) or not isinstance(document.get("id"), (int, str)):
        raise ApiError(f"WooCommerce answered the new {what} without an id")
    return str(document["id"])
