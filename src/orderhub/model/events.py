"""Events about orders that are not orders themselves: fulfillment progress on the `fulfillment` topic,
and privacy requests a channel makes about a customer or a whole shop.

A `fulfillment` message (key: the order id) is the JSON of `FulfillmentEvent`:

    {"order_id": "shopify-acme:5719203847561029384",   # the canonical order id
     "fulfillment_id": "WH1-SHIP-000123",              # the producer's own id of this shipment; the
                                                       # idempotency key of the push-back per connector
     "status": "shipped",                              # picked | packed | shipped | delivered
     "carrier": "UPS", "tracking_number": "1Z999AA10123456784",
     "tracking_url": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
     "lines": [{"line_number": "1", "quantity": "2"}]} # canonical line numbers; [] = the whole order

Quantities are decimal strings like everywhere in the canonical model. Only `shipped` (and
`delivered`, for a shipment never reported as shipped) is pushed back to the selling channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FulfillmentStatus = Literal["picked", "packed", "shipped", "delivered"]
PUSHED_STATUSES = frozenset({"shipped", "delivered"})


class FulfillmentLine(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_number: str = Field(min_length=1)
    quantity: Decimal = Field(gt=0)


class FulfillmentEvent(BaseModel):
    """One shipment of (part of) an order, as warehouses report it on the `fulfillment` topic."""

    model_config = ConfigDict(extra="forbid")

    order_id: str = Field(min_length=1)
    fulfillment_id: str = Field(min_length=1)
    status: FulfillmentStatus
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None
    lines: list[FulfillmentLine] = Field(default_factory=list)  # empty: every line of the order

    @property
    def partial(self) -> bool:
        return bool(self.lines)


class PushRefused(Exception):
    """A channel refused a push for good (an unknown line, nothing left to fulfil): retrying cannot help."""


PrivacyAction = Literal["redact_customer", "redact_shop", "data_request"]


@dataclass(frozen=True, slots=True)
class PrivacyRequest:
    """A channel's privacy request, read out of its payload by the connector that received it.

    Orders of the connector match when their external id is listed, or their customer has the given
    external id or email. `redact_shop` matches every order of the connector.
    """

    action: PrivacyAction
    request_id: str | None = None  # the channel's id of a data request, when it gives one
    shop: str | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    customer_phone: str | None = None
    order_ids: tuple[str, ...] = field(default_factory=tuple)  # external ids
