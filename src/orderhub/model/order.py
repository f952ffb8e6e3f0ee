"""The canonical order (CONTRACTS.md, schema_version 1)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer, field_validator

from orderhub.model.money import Dec, Money

SCHEMA_VERSION = "1"


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp has no time zone")
    return value.astimezone(UTC)


def _rfc3339_z(value: datetime) -> str:
    text = value.astimezone(UTC).isoformat()
    return text.replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_utc),
    PlainSerializer(_rfc3339_z, return_type=str, when_used="json"),
]


class OrderStatus(StrEnum):
    received = "received"
    accepted = "accepted"
    rejected = "rejected"
    on_hold = "on_hold"
    routed = "routed"
    released = "released"
    picked = "picked"
    packed = "packed"
    shipped = "shipped"
    delivered = "delivered"
    invoiced = "invoiced"
    closed = "closed"
    cancelled = "cancelled"


class PaymentStatus(StrEnum):
    pending = "pending"
    authorized = "authorized"
    partially_paid = "partially_paid"
    paid = "paid"
    partially_refunded = "partially_refunded"
    refunded = "refunded"
    voided = "voided"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Source(_Model):
    channel: str
    connector: str
    account: str
    external_id: str
    external_number: str | None = None
    updated_at: UtcDatetime | None = None
    received_at: UtcDatetime
    raw_ref: str


class Customer(_Model):
    external_id: str | None = None
    name: str | None = None
    company: str | None = None
    email: str | None = None
    phone: str | None = None


class Address(_Model):
    name: str | None = None
    company: str | None = None
    lines: list[str] = Field(default_factory=list)
    city: str | None = None
    region: str | None = None
    region_code: str | None = None
    postal_code: str | None = None
    country: str | None = None
    phone: str | None = None
    email: str | None = None

    @field_validator("country")
    @classmethod
    def _alpha2(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if len(code) != 2 or not code.isalpha():
            raise ValueError(f"not an ISO 3166-1 alpha-2 country code: {value!r}")
        return code


class Discount(_Model):
    code: str | None = None
    amount: Money


class Tax(_Model):
    name: str | None = None
    rate: Dec | None = None
    amount: Money


class Line(_Model):
    line_number: str
    external_id: str | None = None
    sku: str | None = None
    gtin: str | None = None
    buyer_part_number: str | None = None
    vendor_part_number: str | None = None
    description: str | None = None
    quantity: Dec
    uom: str = "EA"
    unit_price: Money | None = None
    discounts: list[Discount] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    requires_shipping: bool = True
    attributes: dict[str, Any] = Field(default_factory=dict)


class Charge(_Model):
    kind: Literal["shipping", "handling", "fee", "discount", "allowance", "tax", "other"]
    code: str | None = None
    description: str | None = None
    amount: Money


class Totals(_Model):
    subtotal: Money
    discount_total: Money
    shipping_total: Money
    tax_total: Money
    grand_total: Money


class Payment(_Model):
    status: PaymentStatus = PaymentStatus.pending
    method: str | None = None
    terms: str | None = None


class Shipping(_Model):
    service_level: str | None = None
    carrier: str | None = None
    ship_by: UtcDatetime | None = None
    deliver_by: UtcDatetime | None = None


class EdiEnvelope(_Model):
    sender_qualifier: str | None = None
    sender_id: str | None = None
    receiver_qualifier: str | None = None
    receiver_id: str | None = None
    interchange_control: str | None = None
    group_control: str | None = None
    set_control: str | None = None
    version: str | None = None


class B2B(_Model):
    po_number: str
    po_date: date | None = None
    purpose: Literal["original", "replace", "cancel", "duplicate"] = "original"
    release_number: str | None = None
    buyer_id: str | None = None
    seller_id: str | None = None
    department: str | None = None
    vendor_number: str | None = None
    terms: str | None = None
    edi: EdiEnvelope | None = None


class RefundLine(_Model):
    line_external_id: str | None = None
    line_number: str | None = None
    sku: str | None = None
    quantity: Dec
    amount: Money | None = None  # before tax
    tax: Money | None = None


class Refund(_Model):
    """Money given back on an order: per line, shipping and tax, and what was actually paid out."""

    external_id: str
    created_at: UtcDatetime | None = None
    note: str | None = None
    lines: list[RefundLine] = Field(default_factory=list)
    shipping: Money | None = None
    tax: Money | None = None
    total: Money
    attributes: dict[str, Any] = Field(default_factory=dict)


class Issue(_Model):
    code: str
    message: str
    field: str | None = None


class RefundOf(Refund):
    """What a refund mapping yields: the refund and the order it belongs to (its source id)."""

    order_external_id: str
    currency: str


class Order(_Model):
    schema_version: Literal["1"] = "1"
    id: str
    revision: int = 0
    source: Source
    status: OrderStatus = OrderStatus.received
    test: bool = False
    placed_at: UtcDatetime | None = None
    currency: str
    prices_include_tax: bool = False
    customer: Customer | None = None
    bill_to: Address | None = None
    ship_to: Address | None = None
    lines: list[Line] = Field(default_factory=list)
    charges: list[Charge] = Field(default_factory=list)
    taxes: list[Tax] = Field(default_factory=list)
    totals: Totals
    payment: Payment = Field(default_factory=Payment)
    refunds: list[Refund] = Field(default_factory=list)
    shipping: Shipping = Field(default_factory=Shipping)
    b2b: B2B | None = None
    notes: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    issues: list[Issue] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
