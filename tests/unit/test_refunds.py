"""Refunds keep their money: refund records on the order, payment.status moved, refunds that come
before their order kept until it arrives. Mapping tested on the real Shopify refund payload."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest

from orderhub._sqlite import Database
from orderhub.mapping import MappingContext, builtin_mapping, parse_json
from orderhub.model import Order, Source, Totals, money
from orderhub.store.base import OrderWrite, RefundWrite
from orderhub.store.revisions import with_refunds
from orderhub.store.sqlite import SqliteStore, read_timeline

CTX = MappingContext(
    connector="shop", account="shop", channel="shopify", received_at=datetime(2026, 11, 23, tzinfo=UTC), raw_ref="x"
)


@pytest.mark.corpus
def test_shopify_refund_payload_maps_to_a_refund_record(corpus: Path) -> None:
    body = (corpus / "channels/shopify/shopify_python_api-refund.json").read_bytes()
    [refund] = builtin_mapping("shopify-refund").apply_refunds(parse_json(body), CTX)
    assert refund.order_external_id == "450789469"
    usd = {"currency": "USD"}
    assert refund.model_dump(mode="json") == {
        "order_external_id": "450789469",
        "currency": "USD",
        "external_id": "509562969",
        "created_at": "2016-06-20T17:35:06Z",  # -04:00 in the payload
        "note": "it broke during shipping",
        "lines": [
            {
                "line_external_id": "703073504",
                "line_number": None,
                "sku": "IPOD2008BLACK",
                "quantity": "1",
                "amount": {"amount": "199.00", **usd},
                "tax": {"amount": "3.98", **usd},
            },
            {
                "line_external_id": "466157049",
                "line_number": None,
                "sku": "IPOD2008GREEN",
                "quantity": "1",
                "amount": {"amount": "199.00", **usd},
                "tax": {"amount": "3.98", **usd},
            },
        ],
        "shipping": None,
        "tax": {"amount": "7.96", **usd},
        "total": {"amount": "209.00", **usd},  # the refund transaction: what was paid back
        "attributes": {"restock": True, "user_id": "799407056"},
    }


def refund(refund_id: str, amount: str, created: str = "2026-11-22T10:00:00Z") -> dict[str, Any]:
    return {
        "external_id": refund_id,
        "created_at": created,
        "note": None,
        "lines": [],
        "shipping": None,
        "tax": None,
        "total": {"amount": amount, "currency": "CAD"},
        "attributes": {},
    }


def order(payment: str = "paid", refunds: list[dict[str, Any]] | None = None) -> OrderWrite:
    o = Order(
        id="shop:7",
        source=Source(
            channel="shopify",
            connector="shop",
            account="shop",
            external_id="7",
            received_at=datetime(2026, 11, 21, tzinfo=UTC),
            raw_ref="sha256:ab",
        ),
        currency="CAD",
        totals=Totals(
            subtotal=money("100.00", "CAD"),
            discount_total=money("0", "CAD"),
            shipping_total=money("0", "CAD"),
            tax_total=money("0", "CAD"),
            grand_total=money("100.00", "CAD"),
        ),
    )
    data = o.model_dump(mode="json")
    data["payment"]["status"] = payment
    data["refunds"] = refunds or []
    return OrderWrite.of(data, receipt=1, updated_at_us=None)


def test_payment_status_follows_what_was_paid_back() -> None:
    partial = with_refunds(order().order(), [refund("r1", "30.00")])
    assert partial["payment"]["status"] == "partially_refunded"
    full = with_refunds(order().order(), [refund("r1", "30.00"), refund("r2", "70.00")])
    assert full["payment"]["status"] == "refunded"
    assert [r["external_id"] for r in full["refunds"]] == ["r1", "r2"]
    voided = with_refunds(order(payment="voided").order(), [refund("r1", "30.00")])
    assert voided["payment"]["status"] == "voided"  # a refund never moves a voided payment
    already = with_refunds(order(payment="refunded").order(), [refund("r1", "30.00")])
    assert already["payment"]["status"] == "refunded"  # never backwards


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    store = SqliteStore(Database(tmp_path / "hub.sqlite"))
    await store.open()
    yield store
    await store.close()


async def test_a_refund_on_its_own_makes_a_new_revision_once(store: SqliteStore) -> None:
    await store.finish_batch([order()], [], [1])
    applied = await store.finish_batch([], [], [2], [RefundWrite("shop:7", refund("r1", "30.00"), 2)])
    assert [(a.outcome, a.revision) for a in applied] == [("revised", 2)]
    again = await store.finish_batch([], [], [3], [RefundWrite("shop:7", refund("r1", "30.00"), 3)])
    assert [(a.outcome, a.revision) for a in again] == [("unchanged", 2)]
    stored = await store.get_order("shop:7")
    assert stored is not None
    assert stored["payment"]["status"] == "partially_refunded"
    assert [(r["external_id"], r["total"]["amount"]) for r in stored["refunds"]] == [("r1", "30.00")]
    events = await store.db.read(lambda conn: [e.event for e in read_timeline(conn, "shop:7")])
    assert events == ["created", "refunded", "unchanged"]
    published = await store.db.read(
        lambda conn: conn.execute("SELECT value FROM outbox WHERE topic = 'orders' ORDER BY id").fetchall()
    )
    assert [orjson.loads(row[0])["revision"] for row in published] == [1, 2]


async def test_a_refund_before_its_order_waits_and_a_later_payload_keeps_it(store: SqliteStore) -> None:
    waiting = await store.finish_batch([], [], [1], [RefundWrite("shop:7", refund("r1", "100.00"), 1)])
    assert [a.outcome for a in waiting] == ["waiting"]
    await store.finish_batch([order()], [], [2])
    stored = await store.get_order("shop:7")
    assert stored is not None and stored["revision"] == 1
    assert stored["payment"]["status"] == "refunded"
    # a later order payload that does not list the refund does not lose it
    await store.finish_batch([order(payment="paid")], [], [3])
    latest = await store.get_order("shop:7")
    assert latest is not None and [r["external_id"] for r in latest["refunds"]] == ["r1"]
    assert latest["revision"] == 1  # same content: no new revision
