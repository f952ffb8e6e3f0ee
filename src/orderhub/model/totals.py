"""The totals arithmetic behind `totals_mismatch` (CONTRACTS.md)."""

from __future__ import annotations

from decimal import Decimal

from orderhub.model.money import decimal_str
from orderhub.model.order import Issue, Order


def _mismatch(field: str, declared: Decimal, computed: Decimal, why: str) -> Issue:
    return Issue(
        code="totals_mismatch",
        message=f"declared {decimal_str(declared)}, {why} {decimal_str(computed)}",
        field=f"totals.{field}",
    )


def check_totals(order: Order) -> list[Issue]:
    """Compare the declared totals with the sum of their parts; the declared totals stay as they are.

    subtotal = sum(quantity x unit price); grand_total = subtotal - discount_total + shipping_total
    + other charges + tax_total (tax only when prices exclude it).
    """
    totals = order.totals
    issues: list[Issue] = []
    subtotal = sum(
        (line.quantity * line.unit_price.amount for line in order.lines if line.unit_price is not None),
        Decimal(0),
    )
    if subtotal != totals.subtotal.amount:
        issues.append(_mismatch("subtotal", totals.subtotal.amount, subtotal, "lines add up to"))
    shipping = sum((c.amount.amount for c in order.charges if c.kind == "shipping"), Decimal(0))
    if shipping != totals.shipping_total.amount:
        issues.append(_mismatch("shipping_total", totals.shipping_total.amount, shipping, "charges add up to"))
    taxes = sum((t.amount.amount for t in order.taxes), Decimal(0))
    if order.taxes and taxes != totals.tax_total.amount:
        issues.append(_mismatch("tax_total", totals.tax_total.amount, taxes, "tax lines add up to"))
    others = sum(
        (
            -c.amount.amount if c.kind in ("discount", "allowance") else c.amount.amount
            for c in order.charges
            if c.kind not in ("shipping", "tax")
        ),
        Decimal(0),
    )
    grand = (
        totals.subtotal.amount
        - totals.discount_total.amount
        + totals.shipping_total.amount
        + others
        + (Decimal(0) if order.prices_include_tax else totals.tax_total.amount)
    )
    if grand != totals.grand_total.amount:
        issues.append(_mismatch("grand_total", totals.grand_total.amount, grand, "its parts add up to"))
    return issues
