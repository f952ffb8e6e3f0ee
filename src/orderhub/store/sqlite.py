"""The SQLite store (the embedded default): one WAL file under data_dir, shared with the embedded bus."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from orderhub._sqlite import Database, DatabaseClosed
from orderhub.bus.base import OutMessage
from orderhub.store import control_numbers, interchanges
from orderhub.store.base import (
    Applied,
    OrderFacts,
    OrderRow,
    OrderWrite,
    OutboxItem,
    RawIn,
    Receipt,
    RefundWrite,
    StoredRaw,
    StoreUnavailable,
    TimelineEntry,
    sha256_hex,
)
from orderhub.store.revisions import merge_status, with_refunds

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS raw_blobs (
        sha256 TEXT PRIMARY KEY, size INTEGER NOT NULL, body BLOB NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS raw_receipts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, sha256 TEXT NOT NULL REFERENCES raw_blobs(sha256),
        connector TEXT NOT NULL, channel TEXT NOT NULL, transport TEXT NOT NULL,
        received_at TEXT NOT NULL, headers TEXT NOT NULL, dedupe_key TEXT,
        state TEXT NOT NULL, error TEXT)""",
    "CREATE INDEX IF NOT EXISTS raw_receipts_dedupe ON raw_receipts(connector, dedupe_key)",
    "CREATE INDEX IF NOT EXISTS raw_receipts_state ON raw_receipts(state)",
    """CREATE TABLE IF NOT EXISTS rejected_attempts (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, connector TEXT NOT NULL,
        source_address TEXT, reason TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS checkpoints (
        connector TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, updated_at TEXT NOT NULL,
        PRIMARY KEY (connector, key))""",
    """CREATE TABLE IF NOT EXISTS orders (
        id TEXT PRIMARY KEY, revision INTEGER NOT NULL, connector TEXT NOT NULL, status TEXT NOT NULL,
        payment_status TEXT NOT NULL, placed_at TEXT, grand_total TEXT NOT NULL,
        source_updated_us INTEGER, content_hash TEXT NOT NULL, body BLOB NOT NULL,
        created_at TEXT NOT NULL, modified_at TEXT NOT NULL, seq INTEGER NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS orders_seq ON orders(seq)",
    """CREATE TABLE IF NOT EXISTS order_revisions (
        order_id TEXT NOT NULL, revision INTEGER NOT NULL, receipt INTEGER NOT NULL,
        body BLOB NOT NULL, recorded_at TEXT NOT NULL, PRIMARY KEY (order_id, revision))""",
    """CREATE TABLE IF NOT EXISTS timeline (
        id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL, at TEXT NOT NULL,
        event TEXT NOT NULL, revision INTEGER, detail TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS timeline_order ON timeline(order_id)",
    """CREATE TABLE IF NOT EXISTS outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, key TEXT, value BLOB NOT NULL,
        headers BLOB NOT NULL)""",
    "CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
    # refunds received on their own (refunds/create): put on the order now or when it arrives
    """CREATE TABLE IF NOT EXISTS order_refunds (
        order_id TEXT NOT NULL, refund_id TEXT NOT NULL, body BLOB NOT NULL, receipt INTEGER NOT NULL,
        recorded_at TEXT NOT NULL, PRIMARY KEY (order_id, refund_id))""",
)


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def raw_message(receipt: int, raw: RawIn, sha256: str) -> OutMessage:
    value = orjson.dumps(
        {
            "receipt": receipt,
            "raw_ref": f"sha256:{sha256}",
            "connector": raw.connector,
            "channel": raw.channel,
            "transport": raw.transport,
            "received_at": _iso(raw.received_at),
        }
    )
    return OutMessage(topic="raw", value=value, key=raw.connector)


Enqueue = Callable[[sqlite3.Connection, OutMessage], None]
T = TypeVar("T")
# a step run first in a batch's transaction (X12 acknowledgments); returns the writes to apply
Prepare = Callable[[sqlite3.Connection, Enqueue, list[OrderWrite]], list[OrderWrite]]


def queue_in_outbox(conn: sqlite3.Connection, message: OutMessage) -> None:
    """The default: the outbox relay publishes the message after this transaction commits."""
    conn.execute(
        "INSERT INTO outbox (topic, key, value, headers) VALUES (?, ?, ?, ?)",
        (message.topic, message.key, message.value, orjson.dumps([[k, v.decode()] for k, v in message.headers])),
    )


def _next_seq(conn: sqlite3.Connection) -> int:
    row = conn.execute(
        "INSERT INTO counters (name, value) VALUES ('orders', 1) "
        "ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value"
    ).fetchone()
    return int(row[0])


class SqliteStore:
    """Store on a shared `Database` (group commit: a webhook's write is durable when it returns)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        db.add_schema(SCHEMA)
        db.add_schema(control_numbers.SCHEMA)
        db.add_schema(interchanges.SCHEMA)
        self._enqueue: Enqueue = queue_in_outbox

    def publish_through(self, enqueue: Enqueue) -> None:
        """Write bus messages with `enqueue` inside the transaction of the state they announce (the
        embedded bus on this same file) instead of through the outbox and its relay."""
        self._enqueue = enqueue

    async def open(self) -> None:
        self.db.open()

    async def close(self) -> None:
        await self.db.close()

    async def ping(self) -> bool:
        if not self.db.is_open:
            return False
        try:
            await self.db.read(lambda conn: conn.execute("SELECT 1").fetchone())
        except (sqlite3.Error, DatabaseClosed):
            return False
        return True

    async def _write(self, fn: Any, background: bool = False) -> Any:
        try:
            return await self.db.write(fn, background)
        except DatabaseClosed as exc:
            raise StoreUnavailable(str(exc)) from exc

    # raw payloads -------------------------------------------------------------------------------
    async def accept_raw(self, raw: RawIn) -> Receipt:
        headers = orjson.dumps(raw.headers).decode()
        received_at = _iso(raw.received_at)
        enqueue = self._enqueue

        def write(conn: sqlite3.Connection) -> Receipt:
            sha256 = sha256_hex(raw.body)  # here: hashing lets go of the interpreter, the event loop runs on
            conn.execute(
                "INSERT OR IGNORE INTO raw_blobs (sha256, size, body) VALUES (?, ?, ?)",
                (sha256, len(raw.body), raw.body),
            )
            duplicate = False
            if raw.dedupe_key is not None and not raw.replay:
                duplicate = (
                    conn.execute(
                        "SELECT 1 FROM raw_receipts WHERE connector = ? AND dedupe_key = ? LIMIT 1",
                        (raw.connector, raw.dedupe_key),
                    ).fetchone()
                    is not None
                )
            state = "duplicate" if duplicate else "pending"
            cursor = conn.execute(
                "INSERT INTO raw_receipts (sha256, connector, channel, transport, received_at, headers,"
                " dedupe_key, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (sha256, raw.connector, raw.channel, raw.transport, received_at, headers, raw.dedupe_key, state),
            )
            receipt = int(cursor.lastrowid or 0)
            if not duplicate:
                message = raw_message(receipt, raw, sha256)
                enqueue(conn, message)
                for topic in raw.also_to:
                    enqueue(conn, replace(message, topic=topic))
            return Receipt(id=receipt, sha256=sha256, duplicate=duplicate)

        result: Receipt = await self._write(write)
        return result

    async def record_rejected(self, connector: str, source_address: str | None, reason: str) -> None:
        at = _now()
        await self._write(
            lambda conn: conn.execute(
                "INSERT INTO rejected_attempts (at, connector, source_address, reason) VALUES (?, ?, ?, ?)",
                (at, connector, source_address, reason),
            )
        )

    async def load_raw(self, receipts: Sequence[int]) -> list[StoredRaw]:
        ids = list(receipts)

        def read(conn: sqlite3.Connection) -> list[StoredRaw]:
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                "SELECT r.id, r.sha256, r.connector, r.channel, r.transport, r.received_at, r.headers,"
                f" b.body, r.state FROM raw_receipts r JOIN raw_blobs b USING (sha256) WHERE r.id IN ({marks})",
                ids,
            ).fetchall()
            return [
                StoredRaw(
                    receipt=row[0],
                    sha256=row[1],
                    connector=row[2],
                    channel=row[3],
                    transport=row[4],
                    received_at=datetime.fromisoformat(row[5]),
                    headers=orjson.loads(row[6]),
                    body=bytes(row[7]),
                    state=row[8],
                )
                for row in rows
            ]

        return await self.db.read(read) if ids else []

    async def raw_body(self, sha256: str) -> bytes | None:
        row = await self.db.read(
            lambda conn: conn.execute("SELECT body FROM raw_blobs WHERE sha256 = ?", (sha256,)).fetchone()
        )
        return None if row is None else bytes(row[0])

    # normalization results ----------------------------------------------------------------------
    async def finish_batch(
        self,
        writes: Sequence[OrderWrite],
        failures: Sequence[tuple[int, str, OutMessage]],
        done: Sequence[int],
        refunds: Sequence[RefundWrite] = (),
        prepare: Prepare | None = None,
    ) -> list[Applied]:
        enqueue = self._enqueue

        def write(conn: sqlite3.Connection) -> list[Applied]:
            now = _now()
            kept = prepare(conn, enqueue, list(writes)) if prepare is not None else writes
            applied = [_apply(conn, item, now, enqueue) for item in kept]
            applied += [_apply_refund(conn, item, now, enqueue) for item in refunds]
            for receipt, error, dlq in failures:
                conn.execute("UPDATE raw_receipts SET state = 'failed', error = ? WHERE id = ?", (error, receipt))
                enqueue(conn, dlq)
            conn.executemany("UPDATE raw_receipts SET state = 'done' WHERE id = ?", [(r,) for r in done])
            return applied

        result: list[Applied] = await self._write(write, background=True)
        return result

    async def write_queued(self, fn: Callable[[sqlite3.Connection, Enqueue], T]) -> T:
        """Run `fn` in a write transaction; bus messages it queues commit with what it writes."""
        enqueue = self._enqueue
        result: T = await self._write(lambda conn: fn(conn, enqueue))
        return result

    # outbox -------------------------------------------------------------------------------------
    async def outbox_peek(self, limit: int) -> list[OutboxItem]:
        def read(conn: sqlite3.Connection) -> list[OutboxItem]:
            rows = conn.execute(
                "SELECT id, topic, key, value, headers FROM outbox ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            return [
                OutboxItem(
                    row[0],
                    OutMessage(
                        topic=row[1],
                        key=row[2],
                        value=bytes(row[3]),
                        headers=tuple((k, v.encode()) for k, v in orjson.loads(row[4])),
                    ),
                )
                for row in rows
            ]

        return await self.db.read(read)

    async def outbox_ack(self, ids: Sequence[int]) -> None:
        rows = [(i,) for i in ids]
        await self._write(lambda conn: conn.executemany("DELETE FROM outbox WHERE id = ?", rows))

    # checkpoints --------------------------------------------------------------------------------
    async def get_checkpoint(self, connector: str, key: str) -> str | None:
        row = await self.db.read(
            lambda conn: conn.execute(
                "SELECT value FROM checkpoints WHERE connector = ? AND key = ?", (connector, key)
            ).fetchone()
        )
        return None if row is None else str(row[0])

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None:
        now = _now()
        await self._write(
            lambda conn: conn.execute(
                "INSERT INTO checkpoints (connector, key, value, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(connector, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                (connector, key, value, now),
            )
        )

    # reads --------------------------------------------------------------------------------------
    async def get_order(self, order_id: str) -> dict[str, Any] | None:
        return await self.db.read(lambda conn: read_order(conn, order_id))

    async def list_orders(
        self, limit: int = 100, status: str | None = None, connector: str | None = None
    ) -> list[OrderRow]:
        return await self.db.read(lambda conn: read_order_rows(conn, limit, status, connector))

    async def timeline(self, order_id: str) -> list[TimelineEntry]:
        return await self.db.read(lambda conn: read_timeline(conn, order_id))


def read_order(conn: sqlite3.Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute("SELECT body FROM orders WHERE id = ?", (order_id,)).fetchone()
    return None if row is None else dict(orjson.loads(row[0]))


def read_order_rows(conn: sqlite3.Connection, limit: int, status: str | None, connector: str | None) -> list[OrderRow]:
    where, args = [], []
    if status:
        where.append("status = ?")
        args.append(status)
    if connector:
        where.append("connector = ?")
        args.append(connector)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    rows = conn.execute(
        "SELECT id, revision, status, payment_status, placed_at, grand_total, connector FROM orders"
        f" {clause} ORDER BY placed_at DESC, seq DESC LIMIT ?",
        [*args, limit],
    ).fetchall()
    return [OrderRow(r[0], r[1], r[2], r[3], r[4], orjson.loads(r[5]), r[6]) for r in rows]


def read_timeline(conn: sqlite3.Connection, order_id: str) -> list[TimelineEntry]:
    rows = conn.execute(
        "SELECT at, event, revision, detail FROM timeline WHERE order_id = ? ORDER BY id", (order_id,)
    ).fetchall()
    return [TimelineEntry(r[0], r[1], r[2], orjson.loads(r[3])) for r in rows]


def _apply(conn: sqlite3.Connection, item: OrderWrite, now: str, enqueue: Enqueue) -> Applied:
    """The revision rules of CONTRACTS.md, for one incoming order."""
    facts = item.facts
    order_id = facts.id
    current = conn.execute(
        "SELECT revision, status, source_updated_us, content_hash FROM orders WHERE id = ?", (order_id,)
    ).fetchone()
    detail = {"receipt": item.receipt, "raw_ref": facts.raw_ref}
    refunds = _stored_refunds(conn, order_id)
    if current is None:
        body = item.body
        if refunds:  # refunds that came before their order
            order = with_refunds(item.order(), refunds)
            body, facts = orjson.dumps(order), OrderFacts.of(order)
        _store_revision(conn, body, facts, 1, item.updated_at_us, item.receipt, now, enqueue, created=True)
        _timeline(conn, order_id, now, "created", 1, detail)
        return Applied(order_id, "created", 1, item.receipt)
    revision, status, updated_us, old_hash = current
    if facts.purpose == "duplicate":  # X12 BEG01 07: a copy of one we have
        _timeline(conn, order_id, now, "duplicate_ignored", revision, detail)
        return Applied(order_id, "unchanged", revision, item.receipt)
    if item.updated_at_us is not None and updated_us is not None and item.updated_at_us < updated_us:
        _timeline(conn, order_id, now, "stale_ignored", revision, detail)
        return Applied(order_id, "stale", revision, item.receipt)
    order = with_refunds(item.order(), refunds)
    order["status"] = merge_status(status, order["status"])
    order["revision"] = revision + 1
    facts = OrderFacts.of(order)
    if facts.content_hash == old_hash:
        if item.updated_at_us is not None and (updated_us is None or item.updated_at_us > updated_us):
            conn.execute("UPDATE orders SET source_updated_us = ? WHERE id = ?", (item.updated_at_us, order_id))
        _timeline(conn, order_id, now, "unchanged", revision, detail)
        return Applied(order_id, "unchanged", revision, item.receipt)
    revision += 1
    body = orjson.dumps(order)
    _store_revision(conn, body, facts, revision, item.updated_at_us, item.receipt, now, enqueue, created=False)
    _timeline(conn, order_id, now, "cancelled" if facts.status == "cancelled" else "revised", revision, detail)
    return Applied(order_id, "revised", revision, item.receipt)


def _stored_refunds(conn: sqlite3.Connection, order_id: str) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT body FROM order_refunds WHERE order_id = ?", (order_id,)).fetchall()
    return [orjson.loads(row[0]) for row in rows]


def _apply_refund(conn: sqlite3.Connection, item: RefundWrite, now: str, enqueue: Enqueue) -> Applied:
    """A refund received on its own: kept, and put on its order (a new revision) once the order exists."""
    order_id, refund = item.order_id, item.refund
    detail = {"receipt": item.receipt, "refund": refund["external_id"]}
    inserted = conn.execute(
        "INSERT OR IGNORE INTO order_refunds (order_id, refund_id, body, receipt, recorded_at) VALUES (?, ?, ?, ?, ?)",
        (order_id, refund["external_id"], orjson.dumps(refund), item.receipt, now),
    ).rowcount
    current = conn.execute("SELECT revision, content_hash, body FROM orders WHERE id = ?", (order_id,)).fetchone()
    if current is None:  # the order is not here yet: it gets the refund when it arrives
        _timeline(conn, order_id, now, "refund_waiting", None, detail)
        return Applied(order_id, "waiting", 0, item.receipt)
    revision, old_hash, body = current
    order = with_refunds(orjson.loads(body), _stored_refunds(conn, order_id))
    order["revision"] = revision + 1
    facts = OrderFacts.of(order)
    if not inserted or facts.content_hash == old_hash:
        _timeline(conn, order_id, now, "unchanged", revision, detail)
        return Applied(order_id, "unchanged", revision, item.receipt)
    revision += 1
    _store_revision(conn, orjson.dumps(order), facts, revision, None, item.receipt, now, enqueue, created=False)
    _timeline(conn, order_id, now, "refunded", revision, detail)
    return Applied(order_id, "revised", revision, item.receipt)


def _store_revision(
    conn: sqlite3.Connection,
    body: bytes,
    facts: OrderFacts,
    revision: int,
    updated_at_us: int | None,
    receipt: int,
    now: str,
    enqueue: Enqueue,
    created: bool,
) -> None:
    """Write revision `revision` (already in `body`): current state, the revision itself, the bus message."""
    order_id = facts.id
    if created:
        conn.execute(
            "INSERT INTO orders (id, revision, connector, status, payment_status, placed_at, grand_total,"
            " source_updated_us, content_hash, body, created_at, modified_at, seq)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                revision,
                facts.connector,
                facts.status,
                facts.payment_status,
                facts.placed_at,
                facts.grand_total,
                updated_at_us,
                facts.content_hash,
                body,
                now,
                now,
                _next_seq(conn),
            ),
        )
    else:
        conn.execute(
            "UPDATE orders SET revision = ?, connector = ?, status = ?, payment_status = ?, placed_at = ?,"
            " grand_total = ?, source_updated_us = max(coalesce(source_updated_us, 0), coalesce(?, 0)),"
            " content_hash = ?, body = ?, modified_at = ? WHERE id = ?",
            (
                revision,
                facts.connector,
                facts.status,
                facts.payment_status,
                facts.placed_at,
                facts.grand_total,
                updated_at_us,
                facts.content_hash,
                body,
                now,
                order_id,
            ),
        )
    conn.execute(
        "INSERT INTO order_revisions (order_id, revision, receipt, body, recorded_at) VALUES (?, ?, ?, ?, ?)",
        (order_id, revision, receipt, body, now),
    )
    enqueue(
        conn,
        OutMessage(topic="orders", key=order_id, value=body, headers=(("revision", str(revision).encode()),)),
    )


def _timeline(
    conn: sqlite3.Connection, order_id: str, at: str, event: str, revision: int | None, detail: dict[str, Any]
) -> None:
    conn.execute(
        "INSERT INTO timeline (order_id, at, event, revision, detail) VALUES (?, ?, ?, ?, ?)",
        (order_id, at, event, revision, orjson.dumps(detail).decode()),
    )
