"""Which fulfillments were pushed to which channel: the idempotency record of the tracking push-back.

One row per (connector, fulfillment_id): a re-delivered `fulfillment` event finds it and pushes
nothing. The row and the order's `tracking_pushed` timeline entry commit together.
"""

from __future__ import annotations

import sqlite3

from orderhub._sqlite import Database
from orderhub.store.timeline import add_event, now_text

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS pushed_fulfillments (
        connector TEXT NOT NULL, fulfillment_id TEXT NOT NULL, remote_id TEXT NOT NULL,
        pushed_at TEXT NOT NULL, order_id TEXT NOT NULL, PRIMARY KEY (connector, fulfillment_id))""",
)


class PushedFulfillments:
    def __init__(self, db: Database) -> None:
        self.db = db
        db.add_schema(SCHEMA)

    async def remote_id(self, connector: str, fulfillment_id: str) -> str | None:
        """The channel's id of this fulfillment when it was pushed already."""

        def read(conn: sqlite3.Connection) -> str | None:
            row = conn.execute(
                "SELECT remote_id FROM pushed_fulfillments WHERE connector = ? AND fulfillment_id = ?",
                (connector, fulfillment_id),
            ).fetchone()
            return None if row is None else str(row[0])

        return await self.db.read(read)

    async def record(self, connector: str, fulfillment_id: str, remote_id: str, order_id: str) -> None:
        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "INSERT INTO pushed_fulfillments (connector, fulfillment_id, remote_id, pushed_at, order_id)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT(connector, fulfillment_id) DO NOTHING",
                (connector, fulfillment_id, remote_id, now_text(), order_id),
            )
            add_event(
                conn,
                order_id,
                "tracking_pushed",
                {"connector": connector, "fulfillment_id": fulfillment_id, "remote_id": remote_id},
            )

        await self.db.write(write)

    async def record_failure(self, connector: str | None, order_id: str, fulfillment_id: str, error: str) -> None:
        """A push given up on (it went to the DLQ): on the order's timeline, when the order is known."""

        def write(conn: sqlite3.Connection) -> None:
            if conn.execute("SELECT 1 FROM orders WHERE id = ?", (order_id,)).fetchone() is None:
                return
            detail = {"connector": connector, "fulfillment_id": fulfillment_id, "error": error}
            add_event(conn, order_id, "tracking_push_failed", detail)

        await self.db.write(write)
