"""The built-in BigCommerce mapping on orders assembled from the v2 payloads in the shared corpus.

The corpus has an order's sub-resources only for order 247 (two of its products); the missing
pieces are orderhub's own fixtures in tests/fixtures/bigcommerce (see the README there). Every
expected value is written out by hand from those files and the rules of CONTRACTS.md.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orderhub.mapping import MappingContext, MappingError, builtin_mapping, map_payload, parse_json
from orderhub.model import Order, dump_order

pytestmark = pytest.mark.corpus

CTX = MappingContext(
    connector="bc-main",
    account="bc",
    channel="bigcommerce",
    received_at=datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC),
    raw_ref="sha256:0000",
)
OURS = Path(__file__).resolve().parent.parent / "fixtures" / "bigcommerce"


def usd(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "USD"}


def load(path: Path) -> Any:
    return parse_json(path.read_bytes())


def corpus_file(corpus: Path, name: str) -> Any:
    return load(corpus / "channels" / "bigcommerce" / name)


def order_247(corpus: Path) -> dict[str, Any]:
    return {
        "order": corpus_file(corpus, "v2-order-247-multiple-items.json"),
        "products": [
            corpus_file(corpus, "v2-order-247-custom-product.json"),
            corpus_file(corpus, "v2-order-247-product-with-variants.json"),
        ],
        "shipping_addresses": load(OURS / "order-247-shipping-addresses.json"),
        "coupons": [],
        "taxes": load(OURS / "order-247-taxes.json"),
    }


def order_218(corpus: Path) -> dict[str, Any]:
    return {
        "order": corpus_file(corpus, "v2-order-218-get.json"),
        "products": load(OURS / "order-218-products.json"),
        "shipping_addresses": load(OURS / "order-218-shipping-addresses.json"),
        "coupons": load(OURS / "order-218-coupons.json"),
        "taxes": load(OURS / "order-218-taxes.json"),
    }


def as_json(order: Order) -> Any:
    return json.loads(dump_order(order))


def map_one(document: Any) -> Any:
    (order,) = builtin_mapping("bigcommerce").apply(document, CTX)
    return as_json(order)


def source(external_id: str, updated_at: str) -> dict[str, Any]:
    return {
        "channel": "bigcommerce",
        "connector": "bc-main",
        "account": "bc",
        "external_id": external_id,
        "external_number": external_id,
        "updated_at": updated_at,
        "received_at": "2026-11-23T08:00:00Z",
        "raw_ref": "sha256:0000",
    }


def line(number: str, external_id: str, sku: str | None, name: str, quantity: str, price: str) -> dict[str, Any]:
    return {
        "line_number": number,
        "external_id": external_id,
        "sku": sku,
        "gtin": None,
        "buyer_part_number": None,
        "vendor_part_number": None,
        "description": name,
        "quantity": quantity,
        "uom": "EA",
        "unit_price": usd(price),
        "discounts": [],
        "taxes": [],
        "requires_shipping": True,
        "attributes": {},
    }


def tax(amount: str, name: str | None = None, rate: str | None = None) -> dict[str, Any]:
    return {"name": name, "rate": rate, "amount": usd(amount)}


JANE = {
    "name": "Jane Doe",
    "company": None,
    "lines": ["555 East Street"],
    "city": "Austin",
    "region": "Texas",
    "region_code": None,
    "postal_code": "78108",
    "country": "US",
    "phone": "1234567890",
    "email": "janedoe@email.com",
}

ORDER_247 = {
    "schema_version": "1",
    "id": "bc:247",
    "revision": 0,
    "source": source("247", "2019-06-20T16:07:08Z"),
    "status": "received",  # 11 Awaiting Fulfillment
    "test": False,
    "placed_at": "2019-06-20T16:07:08Z",
    "currency": "USD",
    "prices_include_tax": False,
    "customer": {
        "external_id": "11",
        "name": "Jane Doe",
        "company": None,
        "email": "janedoe@email.com",
        "phone": "1234567890",
    },
    "bill_to": JANE,
    "ship_to": {**JANE, "lines": ["555 East Street", "Unit 4"]},
    "lines": [
        {
            **line("1", "238", "Jour-BLK", "Journal", "1", "41.5700"),
            "taxes": [tax("3.4300")],
            "attributes": {"type": "physical"},  # product_id 0: a custom product
        },
        {
            **line("2", "240", "SKU-201-Red-Small T-Shirt-Able Brewing System", "BigCommerce T-Shirt", "4", "217.0900"),
            "taxes": [tax("71.6400")],
            "attributes": {"product_id": "201", "variant_id": "477", "type": "physical"},
        },
    ],
    "charges": [{"kind": "shipping", "code": "Flat Rate", "description": None, "amount": usd("7.39")}],
    "taxes": [tax("76.8800", "Texas Sales Tax", "0.0825")],
    "totals": {
        "subtotal": usd("924.47"),
        "discount_total": usd("0"),
        "shipping_total": usd("7.39"),
        "tax_total": usd("76.88"),
        "grand_total": usd("1008.74"),  # 924.47 + 7.39 + 76.88
    },
    "payment": {"status": "paid", "method": "Test Payment Gateway", "terms": None},  # captured
    "refunds": [],
    "shipping": {"service_level": "Flat Rate", "carrier": None, "ship_by": None, "deliver_by": None},
    "b2b": None,
    "notes": ["Custom Journal Added"],
    "tags": [],
    # The published example has 11 items, but only two of its products: 41.57 + 4 x 217.09.
    "issues": [
        {"code": "totals_mismatch", "message": "declared 924.47, lines add up to 909.9300", "field": "totals.subtotal"}
    ],
    "attributes": {
        "status": "Awaiting Fulfillment",
        "status_id": 11,
        "payment_status": "captured",
        "order_source": "manual",
        "channel_id": "1",
        "staff_notes": "BIN-45",
        "is_tax_inclusive_pricing": False,
    },
}


def test_order_247_with_its_products(corpus: Path) -> None:
    assert map_one(order_247(corpus)) == ORDER_247


def test_order_218_with_coupon_fees_and_four_decimal_money(corpus: Path) -> None:
    got = map_one(order_218(corpus))
    assert got["id"] == "bc:218"
    assert got["source"] == source("218", "2019-03-11T15:17:25Z")
    assert got["placed_at"] == "2019-03-05T21:40:11Z"
    assert (got["status"], got["payment"]) == (
        "received",  # 7 Awaiting Payment
        {"status": "authorized", "method": "Cash", "terms": None},
    )
    assert got["customer"] == {
        "external_id": "11",
        "name": "Jane Doe",
        "company": None,
        "email": "janedoe@example.com",
        "phone": "1234567890",
    }
    assert got["bill_to"] == {**JANE, "email": "janedoe@example.com"}
    assert got["ship_to"] == {
        "name": "John Roe",
        "company": "Roe Consulting",
        "lines": ["12 Lake Shore Dr"],
        "city": "Chicago",
        "region": "Illinois",
        "region_code": None,
        "postal_code": "60611",
        "country": "US",
        "phone": "312-555-0199",
        "email": None,
    }
    assert got["lines"] == [
        {
            **line("1", "301", "MUG-WHT", "Ceramic Mug", "3", "12.5598"),
            "gtin": "0123456789012",
            "discounts": [{"code": "SAVE5", "amount": usd("3.0000")}],
            "taxes": [tax("2.6400")],
            "attributes": {"product_id": "86", "variant_id": "66", "type": "physical"},
        },
        {
            **line("2", "302", None, "Gift Card", "1", "24.9999"),
            "discounts": [{"code": "SAVE5", "amount": usd("2.0000")}],
            "taxes": [tax("1.7600")],
            "requires_shipping": False,  # digital
            "attributes": {"type": "digital"},
        },
    ]
    assert got["charges"] == [
        {"kind": "shipping", "code": "UPS Ground", "description": None, "amount": usd("11.0900")},
        {"kind": "fee", "code": "custom_fee", "description": "A Fee", "amount": usd("12.3000")},  # cost_exc_tax
        {"kind": "fee", "code": "custom_fee", "description": "B Fee", "amount": usd("4.0000")},
    ]
    assert got["taxes"] == [tax("5.3100", "Tax", "0.0800")]
    assert got["totals"] == {
        "subtotal": usd("62.6793"),
        "discount_total": usd("5.0000"),
        "shipping_total": usd("11.0900"),
        "tax_total": usd("5.3100"),
        "grand_total": usd("69.8400"),
    }
    # The published example's total leaves out its fees (and more): 62.6793 - 5 + 11.09 + 12.30 + 4 + 5.31.
    assert got["issues"] == [
        {
            "code": "totals_mismatch",
            "message": "declared 69.8400, its parts add up to 90.3793",
            "field": "totals.grand_total",
        }
    ]
    assert got["shipping"]["service_level"] == "UPS Ground"
    assert got["notes"] == []
    assert got["attributes"] == {
        "status": "Awaiting Payment",
        "status_id": 7,
        "payment_status": "authorized",
        "order_source": "external",
        "channel_id": "1",
        "is_tax_inclusive_pricing": False,
        "coupon_discount": "5.0000",
        "coupons": [{"id": 9, "coupon_id": 4, "order_id": 218, "code": "SAVE5", "amount": 5, "type": 1, "discount": 5}],
    }


def test_sub_resources_of_other_orders(corpus: Path) -> None:
    # The corpus products, shipping addresses, coupons and taxes belong to orders 149, 229, 120 and
    # 138, whose orders are not published: only how each piece maps is checked here.
    document = order_218(corpus)
    document.update(
        products=corpus_file(corpus, "v2-order-149-products.json"),
        shipping_addresses=corpus_file(corpus, "v2-order-229-shipping-addresses.json"),
        coupons=corpus_file(corpus, "v2-order-120-coupons.json"),
        taxes=corpus_file(corpus, "v2-order-138-taxes.json"),
    )
    got = map_one(document)
    assert [
        (line["external_id"], line["sku"], line["gtin"], line["quantity"], line["unit_price"], line["discounts"])
        for line in got["lines"]
    ] == [
        ("65", "S-ORAN", "1234567891112", "1", usd("55.9900"), [{"code": "Manual Discount", "amount": usd("1.5900")}]),
        # Picked from the towel's pick list: its own line, priced 0, pointing at its parent.
        ("66", "ABS", None, "1", usd("0.0000"), []),
    ]
    assert [line["taxes"] for line in got["lines"]] == [[tax("9.2400")], []]
    assert got["lines"][0]["attributes"]["product_options"][0]["display_value"] == "S"
    assert got["lines"][1]["attributes"] == {"product_id": "86", "type": "physical", "parent_line_id": "65"}
    assert got["ship_to"] == {
        "name": "Trishy Smith",
        "company": "Acme Pty Ltd",
        "lines": ["666 Sussex St"],
        "city": "San Antonio",
        "region": "Texas",
        "region_code": None,
        "postal_code": "78251",
        "country": "US",
        "phone": None,
        "email": "janedoe@example.com",
    }
    assert got["shipping"]["service_level"] == "None"  # as the example has it
    assert len(got["attributes"]["shipping_addresses"]) == 2  # two consignments
    assert got["taxes"] == [tax("17.6400", "Tax", "0.0800"), tax("4.4000", "Tax", "0.0800")]
    assert got["attributes"]["coupons"] == [
        {"id": 3, "coupon_id": 1, "order_id": 120, "code": "S2549JM0Y", "amount": 5, "type": 2, "discount": 5}
    ]


def test_presentment_totals_in_the_display_currency(corpus: Path) -> None:
    document = order_218(corpus)
    document["order"].update(currency_code="EUR", currency_exchange_rate="0.9200000000")
    got = map_one(document)
    assert got["currency"] == "USD"
    assert got["totals"]["grand_total"] == usd("69.8400")
    # 62.6793 x 0.92 = 57.665..., 5 x 0.92, 11.09 x 0.92 = 10.2028, 5.31 x 0.92 = 4.8852, 69.84 x 0.92 = 64.2528
    assert got["attributes"]["presentment_totals"] == {
        "subtotal": {"amount": "57.6650", "currency": "EUR"},
        "discount_total": {"amount": "4.6000", "currency": "EUR"},
        "shipping_total": {"amount": "10.2028", "currency": "EUR"},
        "tax_total": {"amount": "4.8852", "currency": "EUR"},
        "grand_total": {"amount": "64.2528", "currency": "EUR"},
    }


@pytest.mark.parametrize(
    ("status_id", "payment_status", "expected"),
    [
        (0, "", ("on_hold", "pending")),
        (1, "pending", ("received", "pending")),
        (2, "captured", ("shipped", "paid")),
        (3, "captured", ("released", "paid")),
        (4, "refunded", ("closed", "refunded")),
        (5, "void", ("cancelled", "voided")),
        (6, "declined", ("rejected", "pending")),
        (8, "paid", ("packed", "paid")),
        (9, "captured", ("packed", "paid")),
        (10, "captured", ("closed", "paid")),
        (12, "held for review", ("on_hold", "pending")),
        (13, "captured", ("on_hold", "paid")),
        (14, "partially refunded", ("received", "partially_refunded")),
    ],
)
def test_status_and_payment_status(
    corpus: Path, status_id: int, payment_status: str, expected: tuple[str, str]
) -> None:
    document = order_247(corpus)
    document["order"].update(status_id=status_id, payment_status=payment_status)
    got = map_one(document)
    assert (got["status"], got["payment"]["status"]) == expected
    assert [issue["code"] for issue in got["issues"]] == ["totals_mismatch"]  # the subtotal, as above


def test_an_unknown_status_is_an_issue(corpus: Path) -> None:
    document = order_247(corpus)
    document["order"].update(status_id=99, payment_status="settled")
    got = map_one(document)
    assert (got["status"], got["payment"]["status"]) == ("received", "pending")
    assert got["issues"][:2] == [
        {"code": "unmapped_value", "message": "'99' has no entry in the lookup table", "field": "status"},
        {"code": "unmapped_value", "message": "'settled' has no entry in the lookup table", "field": "payment.status"},
    ]


def test_shipped_date_guest_and_handling(corpus: Path) -> None:
    document = order_247(corpus)
    document["order"].update(
        customer_id=0,
        date_shipped="Fri, 21 Jun 2019 09:30:00 -0500",
        handling_cost_ex_tax="2.5000",
        wrapping_cost_ex_tax="1.0000",
        total_inc_tax="1012.24",
    )
    got = map_one(document)
    assert got["customer"]["external_id"] is None
    assert got["attributes"]["date_shipped"] == "2019-06-21T14:30:00Z"
    assert got["charges"][1:] == [
        {"kind": "handling", "code": None, "description": None, "amount": usd("2.5000")},
        {"kind": "fee", "code": "gift_wrapping", "description": None, "amount": usd("1.0000")},
    ]
    # 924.47 + 7.39 + 2.50 + 1.00 + 76.88 = 1012.24: only the known subtotal gap is left.
    assert [issue["field"] for issue in got["issues"]] == ["totals.subtotal"]


def test_a_list_of_assembled_orders(corpus: Path) -> None:
    orders = builtin_mapping("bigcommerce").apply([order_247(corpus), order_218(corpus)], CTX)
    assert [order.id for order in orders] == ["bc:247", "bc:218"]
    assert as_json(orders[0]) == ORDER_247


def test_a_bare_v2_order_is_not_an_assembled_order(corpus: Path) -> None:
    with pytest.raises(MappingError) as caught:
        builtin_mapping("bigcommerce").apply(corpus_file(corpus, "v2-order-218-get.json"), CTX)
    assert caught.value.message == (
        "not an order for mapping 'bigcommerce': missing order.id, order.status_id, order.default_currency_code, "
        "order.total_inc_tax (its keys: id, customer_id, date_created, date_modified, date_shipped, status_id, "
        "status, subtotal_ex_tax)"
    )


def test_a_webhook_body_is_not_an_order(corpus: Path) -> None:
    path = corpus / "channels" / "bigcommerce" / "webhook-store_order_created.json"
    with pytest.raises(MappingError) as caught:
        map_payload(path.read_bytes(), builtin_mapping("bigcommerce"), CTX)
    assert caught.value.message.startswith("not an order for mapping 'bigcommerce': missing order.id")


def test_fixtures_are_not_corpus_copies(corpus: Path) -> None:
    names = {path.name for path in (corpus / "channels" / "bigcommerce").iterdir()}
    ours = {path.name for path in OURS.iterdir()}
    assert not names & ours
    assert "orderhub's own" in (OURS / "README.md").read_text()
