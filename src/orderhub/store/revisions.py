"""Revision rules shared by every store backend: what counts as a change, how status moves."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

import orjson

# lifecycle states a source payload may set; everything else is owned by the hub's own stages
_SOURCE_STATES = {"received", "cancelled"}


def content_hash(order: dict[str, Any]) -> str:
    """Hash of the canonical content: what arrived when, and which revision, are not content."""
    source = {k: v for k, v in order["source"].items() if k not in ("received_at", "raw_ref", "updated_at")}
    content = {k: v for k, v in order.items() if k not in ("revision", "source")}
    content["source"] = source
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def merge_status(current: str, incoming: str) -> str:
    """A source payload can cancel an order but never moves it back (e.g. shipped -> received)."""
    if incoming == "cancelled" or current == "cancelled":
        return "cancelled"
    if incoming in _SOURCE_STATES and current not in _SOURCE_STATES:
        return current
    return incoming


# how far along a payment is; a refund can only move it forward (voided stays voided)
_PAYMENT_RANK = {"pending": 0, "authorized": 1, "partially_paid": 2, "paid": 3, "partially_refunded": 4, "refunded": 5}


def with_refunds(order: dict[str, Any], received: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the refunds received on their own on the order (the payload's own version of a refund
    wins), and move payment.status to partially_refunded or refunded by what was paid back."""
    known = {refund["external_id"]: refund for refund in received}
    known.update({refund["external_id"]: refund for refund in order.get("refunds", [])})
    if not known:
        return order
    refunds = sorted(known.values(), key=lambda r: (r.get("created_at") or "", r["external_id"]))
    order["refunds"] = refunds
    currency = order["currency"]
    paid_back = sum((Decimal(r["total"]["amount"]) for r in refunds if r["total"]["currency"] == currency), Decimal(0))
    grand_total = Decimal(order["totals"]["grand_total"]["amount"])
    if paid_back <= 0:
        return order
    computed = "refunded" if paid_back >= grand_total else "partially_refunded"
    current = order["payment"]["status"]
    if current in _PAYMENT_RANK and _PAYMENT_RANK[computed] > _PAYMENT_RANK[current]:
        order["payment"]["status"] = computed
    return order
