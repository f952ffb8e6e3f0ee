"""X12 control numbers: monotonic per (partner, direction, kind), allocated in the caller's
transaction, never reused across restarts, concurrent `Database` objects or processes; explicit wrap."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import structlog

from orderhub._sqlite import Database
from orderhub.store import control_numbers
from orderhub.store.control_numbers import MAX_CONTROL_NUMBER, allocate, peek
from orderhub.store.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parents[2]


def database(path: Path) -> Database:
    db = Database(path)
    db.add_schema(control_numbers.SCHEMA)
    db.open()
    return db


async def test_numbers_count_up_per_partner_direction_and_kind(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")
    try:
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange")) == [1]
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", 3)) == [2, 3, 4]
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "group")) == [1]
        assert await db.write(lambda c: allocate(c, "acme", "inbound", "interchange")) == [1]
        assert await db.write(lambda c: allocate(c, "globex", "outbound", "interchange")) == [1]
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange")) == [5]
    finally:
        await db.close()


async def test_peek_previews_without_consuming(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")
    try:
        assert await db.read(lambda c: peek(c, "acme", "outbound", "set")) == 1
        assert await db.read(lambda c: peek(c, "acme", "outbound", "set", start=500)) == 500
        await db.write(lambda c: allocate(c, "acme", "outbound", "set", 2))
        assert await db.read(lambda c: peek(c, "acme", "outbound", "set")) == 3
        assert await db.read(lambda c: peek(c, "acme", "outbound", "set")) == 3
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "set")) == [3]
    finally:
        await db.close()


def test_peek_on_a_store_that_never_allocated(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "empty.sqlite")
    assert peek(conn, "acme", "outbound", "interchange", start=42) == 42


async def test_numbers_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite"
    first = SqliteStore(Database(path))  # the store installs the table
    await first.open()
    await first.db.write(lambda c: allocate(c, "acme", "outbound", "interchange", 10))
    await first.close()
    second = SqliteStore(Database(path))
    await second.open()
    try:
        assert await second.db.write(lambda c: allocate(c, "acme", "outbound", "interchange")) == [11]
    finally:
        await second.close()


async def test_a_rolled_back_job_gives_its_numbers_back(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")

    def fails_after_allocating(conn: sqlite3.Connection) -> None:
        allocate(conn, "acme", "outbound", "interchange", 5)
        raise RuntimeError("the interchange could not be queued")

    try:
        with pytest.raises(RuntimeError):
            await db.write(fails_after_allocating)
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange")) == [1]
    finally:
        await db.close()


async def test_the_start_value_applies_until_the_first_wrap(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")
    try:
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", 2, start=1000)) == [1000, 1001]
        # a start below what was sent changes nothing; one above it moves the counter forward
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", start=5)) == [1002]
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", start=5000)) == [5000]
    finally:
        await db.close()


async def test_wrap_after_999999999_is_explicit_and_logged(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")
    try:
        start = MAX_CONTROL_NUMBER - 1
        with structlog.testing.capture_logs() as logs:
            numbers = await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", 4, start=start))
        assert numbers == [999_999_998, 999_999_999, 1, 2]
        (wrapped,) = [entry for entry in logs if entry["event"] == "control number wrapped"]
        assert wrapped["log_level"] == "warning"
        assert (wrapped["partner"], wrapped["after"], wrapped["next"], wrapped["wraps"]) == (
            "acme",
            MAX_CONTROL_NUMBER,
            1,
            1,
        )
        # once wrapped, the start value does not pull the counter back up
        assert await db.write(lambda c: allocate(c, "acme", "outbound", "interchange", start=start)) == [3]
        row = await db.read(lambda c: c.execute("SELECT value, wraps FROM control_numbers").fetchone())
        assert tuple(row) == (3, 1)
    finally:
        await db.close()


async def test_bad_arguments_are_refused(tmp_path: Path) -> None:
    db = database(tmp_path / "hub.sqlite")
    try:
        with pytest.raises(ValueError, match="kind"):
            await db.write(lambda c: allocate(c, "acme", "outbound", "isa", 1))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="direction"):
            await db.write(lambda c: allocate(c, "acme", "sideways", "set", 1))  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="count"):
            await db.write(lambda c: allocate(c, "acme", "outbound", "set", 0))
        with pytest.raises(ValueError, match="start"):
            await db.write(lambda c: allocate(c, "acme", "outbound", "set", start=MAX_CONTROL_NUMBER + 1))
    finally:
        await db.close()


def test_allocate_outside_a_transaction_is_refused(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "hub.sqlite", isolation_level=None)
    for statement in control_numbers.SCHEMA:
        conn.execute(statement)
    with pytest.raises(RuntimeError, match="inside a write transaction"):
        allocate(conn, "acme", "outbound", "set")


async def test_two_databases_on_one_file_never_hand_out_the_same_number(tmp_path: Path) -> None:
    path = tmp_path / "hub.sqlite"
    first, second = database(path), database(path)
    try:

        async def take(db: Database, count: int) -> list[int]:
            taken: list[int] = []
            for index in range(60):
                size = 1 + (index + count) % 3
                taken += await db.write(lambda c, size=size: allocate(c, "acme", "outbound", "interchange", size))
            return taken

        got = await asyncio.gather(take(first, 0), take(second, 1), take(first, 2), take(second, 3))
    finally:
        await first.close()
        await second.close()
    every = [n for numbers in got for n in numbers]
    assert len(every) == len(set(every))
    assert sorted(every) == list(range(1, len(every) + 1))
    for numbers in got:
        assert numbers == sorted(numbers)


JOBS = 1000
WORKER = textwrap.dedent(
    """
    import asyncio, json, sys, time
    from pathlib import Path
    from orderhub._sqlite import Database
    from orderhub.store import control_numbers
    from orderhub.store.control_numbers import allocate

    async def main(path: str, go: str, jobs: int, ready: str) -> None:
        db = Database(Path(path))
        db.add_schema(control_numbers.SCHEMA)
        db.open()
        Path(ready).touch()
        while not Path(go).exists():  # start together with the other process
            time.sleep(0.001)
        taken = []
        pending = []
        for index in range(jobs):
            size = 1 + index % 4
            pending.append(db.write(lambda c, size=size: allocate(c, "acme", "outbound", "interchange", size)))
            if len(pending) == 8:
                for numbers in await asyncio.gather(*pending):
                    taken += numbers
                pending = []
        for numbers in await asyncio.gather(*pending):
            taken += numbers
        await db.close()
        print(json.dumps(taken))

    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    """
)


def test_two_processes_allocating_at_once_never_share_a_number(tmp_path: Path) -> None:
    path, go = tmp_path / "hub.sqlite", tmp_path / "go"
    database_once = sqlite3.connect(path)  # create the file and table before both start
    for statement in control_numbers.SCHEMA:
        database_once.execute(statement)
    database_once.close()
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(path), str(go), str(JOBS), str(tmp_path / f"ready-{index}")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for index in range(2)
    ]
    while not all((tmp_path / f"ready-{index}").exists() for index in range(2)):
        if any(worker.poll() is not None for worker in workers):
            break  # a worker died before it was ready: its error is reported below
        time.sleep(0.01)
    go.touch()
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        results.append(json.loads(out))
    every = [n for numbers in results for n in numbers]
    per_process = sum(1 + index % 4 for index in range(JOBS))
    assert all(len(numbers) == per_process for numbers in results)
    assert len(every) == len(set(every)), "a number was handed out twice"
    assert sorted(every) == list(range(1, 2 * per_process + 1))
    for numbers in results:
        assert numbers == sorted(numbers)  # each process sees the counter only go up
