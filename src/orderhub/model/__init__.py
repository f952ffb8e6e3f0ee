"""Canonical model: orders, money, addresses."""

from orderhub.model.money import Money, decimal_str, money, to_decimal
from orderhub.model.order import (
    B2B,
    SCHEMA_VERSION,
    Address,
    Charge,
    Customer,
    Discount,
    EdiEnvelope,
    Issue,
    Line,
    Order,
    OrderStatus,
    Payment,
    PaymentStatus,
    Shipping,
    Source,
    Tax,
    Totals,
)
from orderhub.model.serialize import dump_order, load_order, order_schema
from orderhub.model.totals import check_totals

__all__ = [
    "B2B",
    "SCHEMA_VERSION",
    "Address",
    "Charge",
    "Customer",
    "Discount",
    "EdiEnvelope",
    "Issue",
    "Line",
    "Money",
    "Order",
    "OrderStatus",
    "Payment",
    "PaymentStatus",
    "Shipping",
    "Source",
    "Tax",
    "Totals",
    "check_totals",
    "decimal_str",
    "dump_order",
    "load_order",
    "money",
    "order_schema",
    "to_decimal",
]
