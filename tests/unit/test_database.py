"""The group-committing writer: a failing write rolls back alone, and webhook writes go before bulk ones."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from orderhub import _sqlite
from orderhub._sqlite import Database


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    database = Database(tmp_path / "t.sqlite", ["CREATE TABLE log (what TEXT NOT NULL)"])
    database.open()
    yield database  # type: ignore[misc]
    await database.close()


def insert(what: str):  # type: ignore[no-untyped-def]
    return lambda conn: conn.execute("INSERT INTO log (what) VALUES (?)", (what,))


async def logged(db: Database) -> list[str]:
    return await db.read(lambda conn: [row[0] for row in conn.execute("SELECT what FROM log ORDER BY rowid")])


async def test_a_failing_write_rolls_back_alone(db: Database) -> None:
    def failing(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO log (what) VALUES ('half')")
        raise ValueError("no")

    results = await asyncio.gather(
        db.write(insert("a")), db.write(failing), db.write(insert("b")), return_exceptions=True
    )
    assert isinstance(results[1], ValueError)
    assert await logged(db) == ["a", "b"]


async def _order_after_a_busy_writer(db: Database) -> list[str]:
    """Three background writes, then a plain one, queued while the writer is busy with another."""
    release = threading.Event()

    def blocking(conn: sqlite3.Connection) -> None:
        release.wait(10)
        conn.execute("INSERT INTO log (what) VALUES ('first')")

    first = asyncio.ensure_future(db.write(blocking))
    await asyncio.sleep(0.05)  # the writer thread is inside `blocking` now
    bulk = [asyncio.ensure_future(db.write(insert(f"bulk{i}"), background=True)) for i in range(3)]
    await asyncio.sleep(0)
    webhook = asyncio.ensure_future(db.write(insert("webhook")))
    await asyncio.sleep(0.05)
    release.set()
    await asyncio.gather(first, webhook, *bulk)
    return await logged(db)


async def test_writes_go_before_background_writes_queued_earlier(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite, "_BACKGROUND_PATIENCE", 60.0)
    assert await _order_after_a_busy_writer(db) == ["first", "webhook", "bulk0", "bulk1", "bulk2"]


async def test_a_background_write_waiting_too_long_goes_first(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_sqlite, "_BACKGROUND_PATIENCE", 0.0)
    # the next transaction starts with the overdue one, then takes the webhook's before the others
    assert await _order_after_a_busy_writer(db) == ["first", "bulk0", "webhook", "bulk1", "bulk2"]


async def test_background_writes_are_not_starved_by_a_stream_of_writes(db: Database) -> None:
    stop = False

    async def stream() -> int:
        count = 0
        while not stop:
            await asyncio.gather(*(db.write(insert("webhook")) for _ in range(20)))
            count += 20
        return count

    streams = [asyncio.ensure_future(stream()) for _ in range(4)]
    await asyncio.sleep(0.05)
    await asyncio.wait_for(asyncio.gather(*(db.write(insert("bulk"), background=True) for _ in range(5))), 10)
    stop = True
    assert sum(await asyncio.gather(*streams)) > 0
    assert (await logged(db)).count("bulk") == 5


async def test_the_wal_is_copied_into_the_database_file_beside_the_writer(db: Database) -> None:
    await db.write(lambda conn: conn.execute("CREATE TABLE blobs (body BLOB NOT NULL)"))
    for _ in range(8):  # 2 MB, far below the writer's own checkpoint threshold
        await db.write(lambda conn: conn.execute("INSERT INTO blobs (body) VALUES (?)", (b"x" * 262_144,)))
    for _ in range(200):  # up to 10 s
        if db.path.stat().st_size >= 2_000_000:
            break
        await asyncio.sleep(0.05)
    assert db.path.stat().st_size >= 2_000_000
