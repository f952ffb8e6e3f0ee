"""The embedded bus: topics as rows of one SQLite table in the shared database file.

Each topic has one partition (0) and a message's offset is its row's `seq`. A group's position is
the highest committed seq per topic. Publishers in this process wake fetchers at once; fetchers
also poll the file, so messages published by another process on the same file are seen too.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import struct
import time
from collections.abc import Awaitable, Sequence
from typing import TypeVar

from orderhub._sqlite import Database, DatabaseClosed
from orderhub.bus.base import BusError, Message, OutMessage

T = TypeVar("T")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS bus_messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        key TEXT,
        value BLOB NOT NULL,
        headers BLOB,
        ts_ms INTEGER NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS bus_messages_topic_seq ON bus_messages (topic, seq)",
    """CREATE TABLE IF NOT EXISTS bus_offsets (
        grp TEXT NOT NULL,
        topic TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (grp, topic)
    )""",
)

POLL_INTERVAL = 0.1

_HEADER = struct.Struct("<HI")


def _pack_headers(headers: tuple[tuple[str, bytes], ...]) -> bytes | None:
    if not headers:
        return None
    out = bytearray()
    for name, value in headers:
        raw_name = name.encode()
        out += _HEADER.pack(len(raw_name), len(value))
        out += raw_name
        out += value
    return bytes(out)


def _unpack_headers(blob: bytes | None) -> tuple[tuple[str, bytes], ...]:
    if not blob:
        return ()
    headers = []
    pos = 0
    while pos < len(blob):
        name_len, value_len = _HEADER.unpack_from(blob, pos)
        pos += _HEADER.size
        name = blob[pos : pos + name_len].decode()
        pos += name_len
        headers.append((name, blob[pos : pos + value_len]))
        pos += value_len
    return tuple(headers)


class EmbeddedBus:
    """Bus on the shared SQLite `Database`; durable once `publish` returns."""

    def __init__(self, db: Database, topic_prefix: str = "") -> None:
        self._db = db
        self._prefix = topic_prefix
        self._wakeups: dict[str, asyncio.Event] = {}
        self._subscriptions: set[EmbeddedSubscription] = set()
        self._closed = False

    async def start(self) -> None:
        self._db.open()  # no-op when the store opened it already

        def create(conn: sqlite3.Connection) -> None:
            for statement in SCHEMA:
                conn.execute(statement)

        await self._guard(self._db.write(create))
        self._closed = False

    async def close(self) -> None:
        """Closes the bus and its subscriptions; the database belongs to its owner and stays open."""
        self._closed = True
        for subscription in list(self._subscriptions):
            await subscription.close()
        for event in self._wakeups.values():
            event.set()
        self._wakeups.clear()

    async def publish(self, messages: Sequence[OutMessage]) -> None:
        self._check_open()
        if not messages:
            return
        ts_ms = time.time_ns() // 1_000_000
        rows = [(self._prefix + m.topic, m.key, m.value, _pack_headers(m.headers), ts_ms) for m in messages]

        def insert(conn: sqlite3.Connection) -> None:
            conn.executemany(
                "INSERT INTO bus_messages (topic, key, value, headers, ts_ms) VALUES (?, ?, ?, ?, ?)", rows
            )

        await self._guard(self._db.write(insert))
        for topic in {row[0] for row in rows}:
            event = self._wakeups.pop(topic, None)
            if event is not None:
                event.set()

    def write_in_transaction(self, conn: sqlite3.Connection, message: OutMessage) -> None:
        """Publish as part of a caller's own write on this bus's database: the message is durable, and
        visible, exactly when that transaction commits. Call `notify()` after the commit."""
        conn.execute(
            "INSERT INTO bus_messages (topic, key, value, headers, ts_ms) VALUES (?, ?, ?, ?, ?)",
            (
                self._prefix + message.topic,
                message.key,
                message.value,
                _pack_headers(message.headers),
                time.time_ns() // 1_000_000,
            ),
        )

    def shares(self, db: Database) -> bool:
        return db is self._db

    def notify(self, *topics: str) -> None:
        """Wake this process's fetchers of `topics` (none named: of every topic) after messages were
        written with `write_in_transaction`. Naming them spares the others a read per webhook."""
        if not topics:
            wakeups, self._wakeups = self._wakeups, {}
            for event in wakeups.values():
                event.set()
            return
        for topic in topics:
            if (waiting := self._wakeups.pop(self._prefix + topic, None)) is not None:
                waiting.set()

    async def subscribe(self, topic: str, group: str) -> EmbeddedSubscription:
        self._check_open()
        physical = self._prefix + topic

        def committed(conn: sqlite3.Connection) -> int:
            row = conn.execute("SELECT seq FROM bus_offsets WHERE grp = ? AND topic = ?", (group, physical)).fetchone()
            return int(row[0]) if row else 0

        position = await self._guard(self._db.read(committed))
        subscription = EmbeddedSubscription(self, topic, physical, group, position)
        self._subscriptions.add(subscription)
        return subscription

    async def ping(self) -> bool:
        return not self._closed and self._db.is_open

    # helpers for subscriptions ---------------------------------------------------------------------
    def _wakeup(self, physical_topic: str) -> asyncio.Event:
        """The event the next publish to this topic sets (each publish replaces it)."""
        event = self._wakeups.get(physical_topic)
        if event is None:
            event = self._wakeups[physical_topic] = asyncio.Event()
        return event

    def _check_open(self) -> None:
        if self._closed:
            raise BusError("the embedded bus is closed")

    async def _guard(self, operation: Awaitable[T]) -> T:
        try:
            return await operation
        except DatabaseClosed as exc:
            raise BusError(f"the embedded bus's database is not available: {exc}") from exc
        except sqlite3.Error as exc:
            raise BusError(f"the embedded bus's database failed: {exc}") from exc


class EmbeddedSubscription:
    def __init__(self, bus: EmbeddedBus, topic: str, physical: str, group: str, position: int) -> None:
        self._bus = bus
        self._topic = topic
        self._physical = physical
        self._group = group
        self._position = position  # highest seq handed out (or committed before we started)
        self._closed = False

    async def fetch(self, max_messages: int = 500, timeout: float = 1.0) -> list[Message]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            self._check_open()
            # Take the event before reading so a publish committed after the read still wakes us.
            wakeup = self._bus._wakeup(self._physical)
            messages = await self._read(max_messages)
            if messages:
                self._position = messages[-1].offset
                return messages
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            # asyncio.timeout, not wait_for: on Python 3.11, wait_for swallows a cancellation that
            # arrives as the event is set, and a stopping stage then never ends
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(remaining, POLL_INTERVAL)):
                    await wakeup.wait()

    async def _read(self, max_messages: int) -> list[Message]:
        topic, physical, after = self._topic, self._physical, self._position

        def select(conn: sqlite3.Connection) -> list[Message]:
            rows = conn.execute(
                "SELECT seq, key, value, headers, ts_ms FROM bus_messages"
                " WHERE topic = ? AND seq > ? ORDER BY seq LIMIT ?",
                (physical, after, max_messages),
            ).fetchall()
            return [
                Message(topic, 0, seq, value, key, _unpack_headers(headers), ts_ms)
                for seq, key, value, headers, ts_ms in rows
            ]

        return await self._bus._guard(self._bus._db.read(select))

    async def commit(self, messages: Sequence[Message]) -> None:
        self._check_open()
        if not messages:
            return
        seq = max(m.offset for m in messages)
        group, physical = self._group, self._physical

        def store(conn: sqlite3.Connection) -> None:
            # Never move a group backwards: a late commit of an older batch must not cause replays.
            conn.execute(
                "INSERT INTO bus_offsets (grp, topic, seq) VALUES (?, ?, ?)"
                " ON CONFLICT (grp, topic) DO UPDATE SET seq = max(seq, excluded.seq)",
                (group, physical, seq),
            )

        await self._bus._guard(self._bus._db.write(store))

    async def close(self) -> None:
        self._closed = True
        self._bus._subscriptions.discard(self)

    def _check_open(self) -> None:
        if self._closed:
            raise BusError(f"the subscription of group {self._group!r} to {self._topic!r} is closed")
        self._bus._check_open()
