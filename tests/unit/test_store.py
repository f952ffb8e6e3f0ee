"""The SQLite store: raw bytes kept exactly, delivery dedupe, and the revision rules of CONTRACTS.md."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from orderhub._sqlite import Database
from orderhub.model import B2B, Order, Source, Totals, money
from orderhub.store.base import OrderWrite, RawIn, StoreUnavailable
from orderhub.store.sqlite import SqliteStore, read_timeline

T0 = datetime(2026, 11, 21, 4, 52, 40, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> Any:
    store = SqliteStore(Database(tmp_path / "hub.sqlite"))
    await store.open()
    yield store
    await store.close()


def raw(body: bytes, dedupe: str | None = None) -> RawIn:
    return RawIn("shop-a", "shopify", "webhook", body, T0, {"X-Shopify-Topic": "orders/create"}, dedupe)


def order(updated: datetime, grand: str = "81.27", status: str = "received", b2b: B2B | None = None) -> OrderWrite:
    o = Order(
        id="shop-a:1001",
        source=Source(
            channel="shopify",
            connector="shop-a",
            account="shop-a",
            external_id="1001",
            updated_at=updated,
            received_at=datetime.now(UTC),
            raw_ref="sha256:ab",
        ),
        status=status,  # type: ignore[arg-type]
        b2b=b2b,
        currency="CAD",
        totals=Totals(
            subtotal=money("67.49", "CAD"),
            discount_total=money("6.75", "CAD"),
            shipping_total=money("9.95", "CAD"),
            tax_total=money("10.58", "CAD"),
            grand_total=money(grand, "CAD"),
        ),
    )
    return OrderWrite.of(o.model_dump(mode="json"), receipt=1, updated_at_us=int(updated.timestamp() * 1e6))


async def test_raw_bytes_are_kept_exactly_and_content_addressed(store: SqliteStore) -> None:
    body = b'{"id": 1, "note": "caf\xc3\xa9"}\r\n'
    first = await store.accept_raw(raw(body))
    second = await store.accept_raw(raw(body))
    assert first.sha256 == second.sha256 == hashlib.sha256(body).hexdigest()
    assert first.id != second.id
    assert await store.raw_body(first.sha256) == body
    loaded = await store.load_raw([first.id])
    assert loaded[0].body == body
    assert loaded[0].headers == {"X-Shopify-Topic": "orders/create"}
    assert loaded[0].received_at == T0
    blobs = await store.db.read(lambda c: c.execute("SELECT count(*) FROM raw_blobs").fetchone()[0])
    assert blobs == 1


async def test_same_delivery_id_is_a_duplicate_and_queues_nothing(store: SqliteStore) -> None:
    first = await store.accept_raw(raw(b"{}", dedupe="evt-1"))
    again = await store.accept_raw(raw(b"{}", dedupe="evt-1"))
    other = await store.accept_raw(raw(b"{}", dedupe="evt-2"))
    assert (first.duplicate, again.duplicate, other.duplicate) == (False, True, False)
    queued = await store.outbox_peek(10)
    assert [orjson.loads(i.message.value)["receipt"] for i in queued] == [first.id, other.id]
    assert all(i.message.topic == "raw" for i in queued)


async def test_revision_rules(store: SqliteStore) -> None:
    created = await store.finish_batch([order(T0)], [], [])
    assert [(a.outcome, a.revision) for a in created] == [("created", 1)]
    same = await store.finish_batch([order(T0)], [], [])
    assert [(a.outcome, a.revision) for a in same] == [("unchanged", 1)]
    newer = await store.finish_batch([order(T0 + timedelta(minutes=5), grand="90.00")], [], [])
    assert [(a.outcome, a.revision) for a in newer] == [("revised", 2)]
    stale = await store.finish_batch([order(T0 + timedelta(minutes=1), grand="1.00")], [], [])
    assert [(a.outcome, a.revision) for a in stale] == [("stale", 2)]
    current = await store.get_order("shop-a:1001")
    assert current is not None
    assert current["revision"] == 2
    assert current["totals"]["grand_total"] == {"amount": "90.00", "currency": "CAD"}
    cancelled = await store.finish_batch([order(T0 + timedelta(minutes=9), grand="90.00", status="cancelled")], [], [])
    assert [(a.outcome, a.revision) for a in cancelled] == [("revised", 3)]
    rows = await store.list_orders()
    assert [(r.id, r.revision, r.status) for r in rows] == [("shop-a:1001", 3, "cancelled")]
    events = [(e.event, e.revision) for e in await store.timeline("shop-a:1001")]
    assert events == [("created", 1), ("unchanged", 1), ("revised", 2), ("stale_ignored", 2), ("cancelled", 3)]
    published = [(i.message.topic, i.message.headers) for i in await store.outbox_peek(10)]
    assert published == [
        ("orders", (("revision", b"1"),)),
        ("orders", (("revision", b"2"),)),
        ("orders", (("revision", b"3"),)),
    ]


async def test_closed_store_is_unavailable(store: SqliteStore) -> None:
    await store.close()
    with pytest.raises(StoreUnavailable):
        await store.accept_raw(raw(b"{}"))
    assert await store.ping() is False


async def test_a_po_marked_duplicate_makes_no_revision_of_the_original(store: SqliteStore) -> None:
    await store.finish_batch([order(T0)], [], [1])
    copy = order(T0 + timedelta(minutes=5), grand="90.00", b2b=B2B(po_number="1001", purpose="duplicate"))
    applied = await store.finish_batch([copy], [], [2])
    assert [(a.outcome, a.revision) for a in applied] == [("unchanged", 1)]
    stored = await store.get_order("shop-a:1001")
    assert stored is not None and stored["totals"]["grand_total"]["amount"] == "81.27"
    events = await store.db.read(lambda conn: [e.event for e in read_timeline(conn, "shop-a:1001")])
    assert events == ["created", "duplicate_ignored"]
