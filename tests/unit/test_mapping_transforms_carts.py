"""Engine features the cart mappings (WooCommerce, Magento, BigCommerce) use, on small mapping files.

Arithmetic transforms, `@` and one-object `each`, the `nonzero` condition, HTML entities, and
document paths with a condition or a bare top-level array.
"""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from orderhub.mapping import Mapping, MappingContext, MappingError, MappingFileError
from orderhub.model import dump_order

CTX = MappingContext(
    connector="shop-1",
    account="acct",
    channel="test",
    received_at=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    raw_ref="sha256:abc",
)

BASE = """\
channel: test
documents: ["orders[]", $]
expect: [id]
order:
  source:
    external_id: id
  currency: currency
  totals:
    subtotal: {const: "0"}
    discount_total: {const: "0"}
    shipping_total: {const: "0"}
    tax_total: {const: "0"}
    grand_total: {const: "0"}
"""


def load(tmp_path: Path, extra: str = "", base: str = BASE) -> Mapping:
    path = tmp_path / "m.yaml"
    path.write_text(base + textwrap.indent(textwrap.dedent(extra), "  "))
    return Mapping.load(path)


def one(mapping: Mapping, doc: dict[str, Any]) -> Any:
    orders = mapping.apply({"id": 7, "currency": "EUR", **doc}, CTX)
    assert len(orders) == 1
    return json.loads(dump_order(orders[0]))


ATTRS = """
attributes:
  quotient: {path: a, as: divide, by: b}
  product: {path: a, as: multiply, by: b}
  difference: {path: a, as: subtract, minus: b}
  percent: {path: a, as: divide, by: {const: 100}}
"""


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        # Exact results keep their digits; money keeps its scale.
        ("6.00", 2, {"quotient": "3.00", "product": "12.00", "difference": "4.00", "percent": "0.06"}),
        ("7.5", "100", {"quotient": "0.075", "product": "750.0", "difference": "-92.5", "percent": "0.075"}),
        # Results needing more decimals than the value are rounded half up to the value's scale.
        ("10.00", 3, {"quotient": "3.33", "product": "30.00", "difference": "7.00", "percent": "0.10"}),
        ("12.00", "1.0825", {"quotient": "11.09", "product": "12.99", "difference": "10.9175", "percent": "0.12"}),
        ("12.0000", "1.0000000000", {"quotient": "12.0000", "product": "12.0000", "difference": "11.0000000000"}),
    ],
)
def test_arithmetic_transforms(tmp_path: Path, a: str, b: Any, expected: dict[str, str]) -> None:
    got = one(load(tmp_path, ATTRS), {"a": a, "b": b})["attributes"]
    if "percent" not in expected:
        got.pop("percent")
    assert {key: str(value) for key, value in got.items()} == expected


def test_arithmetic_without_the_other_operand_gives_no_value(tmp_path: Path) -> None:
    assert one(load(tmp_path, ATTRS), {"a": "6.00"})["attributes"] == {"percent": "0.06"}


def test_division_by_zero_is_a_payload_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load(tmp_path, ATTRS).apply({"id": 7, "currency": "EUR", "a": "6.00", "b": "0.00"}, CTX)
    assert (caught.value.field, caught.value.message) == ("attributes.quotient", "cannot divide 6.00 by zero")


def test_arithmetic_needs_its_operand_in_the_mapping(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE + "  attributes:\n    x: {path: a, as: divide}\n")
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(path)
    assert str(caught.value).endswith("order.attributes.x: divide: needs by: <path or rule> (the other operand)")


def test_unit_price_from_a_line_total_and_money(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          line_number: {position: 1}
          quantity: qty
          unit_price: {path: subtotal, as: divide, by: qty}
        """,
    )
    got = one(mapping, {"items": [{"qty": 2, "subtotal": "6.00"}, {"qty": 3, "subtotal": "10.00"}]})
    assert [line["unit_price"] for line in got["lines"]] == [
        {"amount": "3.00", "currency": "EUR"},
        {"amount": "3.33", "currency": "EUR"},
    ]


LINE_EXTRAS = """
lines:
  each: items
  when: {not: parent}
  line_number: {position: 1}
  quantity: qty
  discounts:
    each: "@"
    when: {path: discount, nonzero: true}
    code: {path: "$.coupons[0]", when: {not: "$.coupons[1]"}}
    amount: discount
  taxes:
    each: tax
    amount: amount
"""


def test_each_at_makes_a_list_of_the_object_itself(tmp_path: Path) -> None:
    got = one(
        load(tmp_path, LINE_EXTRAS),
        {
            "coupons": ["SAVE"],
            "items": [
                {"qty": 1, "discount": "1.50", "tax": {"amount": "0.20"}},
                {"qty": 1, "discount": "0.00", "parent": 1},  # a child line: skipped
                {"qty": 2, "discount": 0, "tax": [{"amount": "0.10"}, {"amount": "0.30"}]},
                {"qty": 3},
            ],
        },
    )
    assert [(line["line_number"], line["quantity"]) for line in got["lines"]] == [("1", "1"), ("2", "2"), ("3", "3")]
    assert [line["discounts"] for line in got["lines"]] == [
        [{"code": "SAVE", "amount": {"amount": "1.50", "currency": "EUR"}}],
        [],
        [],
    ]
    # A path to one object is a list of one; a list stays a list.
    assert [[tax["amount"]["amount"] for tax in line["taxes"]] for line in got["lines"]] == [
        ["0.20"],
        ["0.10", "0.30"],
        [],
    ]


def test_discount_code_only_when_there_is_exactly_one_coupon(tmp_path: Path) -> None:
    got = one(load(tmp_path, LINE_EXTRAS), {"coupons": ["A", "B"], "items": [{"qty": 1, "discount": "1"}]})
    assert got["lines"][0]["discounts"] == [{"code": None, "amount": {"amount": "1", "currency": "EUR"}}]


def test_each_over_a_text_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(MappingError) as caught:
        load(tmp_path, LINE_EXTRAS).apply({"id": 7, "currency": "EUR", "items": [{"qty": 1, "tax": "x"}]}, CTX)
    assert caught.value.message == "expected an array or an object, got a string"
    assert caught.value.source_path == "items[0].tax"


@pytest.mark.parametrize(
    ("value", "nonzero"),
    [("0.00", False), (0, False), ("", False), (None, False), ("0.01", True), (-3, True), ("12", True)],
)
def test_nonzero_condition(tmp_path: Path, value: Any, nonzero: bool) -> None:
    mapping = load(
        tmp_path,
        """
        notes: {all: [{const: "yes", when: {path: x, nonzero: true}}, {const: "no", when: {path: x, nonzero: false}}]}
        """,
    )
    doc = {} if value is None else {"x": value}
    assert one(mapping, doc)["notes"] == ["yes" if nonzero else "no"]


def test_nonzero_on_a_text_that_is_no_number_is_a_payload_error(tmp_path: Path) -> None:
    mapping = load(tmp_path, "notes: {const: hi, when: {path: x, nonzero: true}}\n")
    with pytest.raises(MappingError) as caught:
        mapping.apply({"id": 7, "currency": "EUR", "x": "abc"}, CTX)
    assert caught.value.message == "nonzero: not a number: 'abc'"


def test_nonzero_takes_a_boolean(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(BASE + "  notes: {const: hi, when: {path: x, nonzero: 1}}\n")
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(path)
    assert str(caught.value).endswith("nonzero takes true or false")


def test_unescape_html(tmp_path: Path) -> None:
    mapping = load(tmp_path, "notes: {path: name, as: unescape_html}\n")
    assert one(mapping, {"name": "Ship Your Idea &ndash; Black &amp; White &#8211; M"})["notes"] == [
        "Ship Your Idea – Black & White – M"
    ]


SEARCH = """\
channel: test
documents: [{path: "items[]", when: search_criteria}, "$[]", $]
expect: [id]
order:
  source:
    external_id: id
  currency: currency
  lines:
    each: items
    line_number: {position: 1}
    quantity: qty
  totals:
    subtotal: {const: "0"}
    discount_total: {const: "0"}
    shipping_total: {const: "0"}
    tax_total: {const: "0"}
    grand_total: {const: "0"}
"""


def test_documents_with_a_condition_and_a_top_level_array(tmp_path: Path) -> None:
    mapping = load(tmp_path, base=SEARCH)
    order = {"id": 1, "currency": "EUR", "items": [{"qty": 2}]}
    single = mapping.apply(order, CTX)
    search = mapping.apply(
        {"items": [order, {**order, "id": 2}], "search_criteria": {"filter_groups": []}, "total_count": 2}, CTX
    )
    array = mapping.apply([order, {**order, "id": 3}], CTX)
    # A single order's own `items` are its lines, not orders: the condition sends it to `$`.
    assert [(o.id, len(o.lines)) for o in single] == [("acct:1", 1)]
    assert [o.id for o in search] == ["acct:1", "acct:2"]
    assert [o.id for o in array] == ["acct:1", "acct:3"]
    assert mapping.apply([], CTX) == []
    assert mapping.apply({"items": [], "search_criteria": {"filter_groups": []}}, CTX) == []


def test_bad_document_entries_are_load_errors(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(SEARCH.replace("when: search_criteria", "if: search_criteria"))
    with pytest.raises(MappingFileError) as caught:
        Mapping.load(path)
    assert str(caught.value) == (f"{path}:2: documents: expected a list of paths or {{path: ..., when: <condition>}}")


def test_path_to_the_item_whose_key_matches(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          line_number: {position: 1}
          quantity: qty
          taxes:
            each: taxes
            name: "$.rates[rate_id=id].label"
            amount: total
        """,
    )
    got = one(
        mapping,
        {
            "rates": [{"rate_id": 74, "label": "City"}, {"rate_id": "75", "label": "State"}, {"label": "none"}],
            "items": [{"qty": 1, "taxes": [{"id": 75, "total": "0.45"}, {"id": 74, "total": "0.10"}, {"total": "1"}]}],
        },
    )
    # JSON 75 and "75" are equal, as in lookup tables; no id, or no such rate: no name.
    assert [tax["name"] for tax in got["lines"][0]["taxes"]] == ["State", "City", None]


def test_path_to_all_the_items_whose_key_matches(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        """
        lines:
          each: items
          when: {not: parent}
          line_number: {position: 1}
          quantity: qty
          attributes:
            parts: "$.items[?parent=id].sku"
            first_part: "$.items[parent=id].sku"
        """,
    )
    items = [
        {"id": 1, "qty": 1, "sku": "KIT"},
        {"id": 2, "qty": 1, "sku": "A", "parent": 1},
        {"id": 3, "qty": 1, "sku": "SOLO"},
        {"id": 4, "qty": 2, "sku": "B", "parent": "1"},
    ]
    got = one(mapping, {"items": items})
    assert [line["attributes"] for line in got["lines"]] == [{"parts": ["A", "B"], "first_part": "A"}, {}]
