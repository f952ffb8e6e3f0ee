"""One SQLite file shared by the embedded store and bus: a writer thread with group commit.

Every write is a callable run on the writer thread's connection. The thread takes the writes
queued so far (for a few milliseconds of work at most), runs each inside its own SAVEPOINT (a
failing write rolls back alone), commits once, and only then resolves the callers' futures: nobody
hears "done" before the commit.
Reads use a pool of read-only connections (WAL readers never block the writer).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal, TypeVar

T = TypeVar("T")

_MAX_BATCH = 2000
_TRANSACTION_SECONDS = 0.005
_BACKGROUND_PATIENCE = 0.05  # seconds a background write may wait behind others
_CHECKPOINT_SECONDS = 0.2
_FALLBACK_CHECKPOINT_PAGES = 8192  # 32 MB of WAL with 4 KB pages
_WAKE = object()  # put on the queue with each background write, to wake the writer thread


class DatabaseClosed(RuntimeError):
    """The database was closed or its writer died; callers answer 503 and the sender retries."""


_BUSY_TIMEOUT = 10.0  # seconds another process (the daemon, a CLI command) may hold the write lock


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Switch to WAL, waiting out another process doing the same: SQLite can answer that switch with
    "database is locked" at once, without calling the busy handler."""
    deadline = time.monotonic() + _BUSY_TIMEOUT
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _connect(path: Path, readonly: bool) -> sqlite3.Connection:
    # the busy timeout is set by connect(), before the first statement: switching a new file to WAL
    # takes the write lock, and two processes opening it at once must wait for each other, not fail
    if readonly:
        conn = sqlite3.connect(
            f"file:{path}?mode=ro", uri=True, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT
        )
    else:
        conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=_BUSY_TIMEOUT)
        _enable_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


class _Job:
    __slots__ = ("error", "fn", "future", "queued_at", "result")

    def __init__(self, fn: Callable[[sqlite3.Connection], Any], future: asyncio.Future[Any]) -> None:
        self.fn = fn
        self.future = future
        self.queued_at = time.monotonic()
        self.result: Any = None
        self.error: BaseException | None = None


def _settle(jobs: Iterable[_Job]) -> None:
    for job in jobs:
        if job.future.done():
            continue
        if job.error is not None:
            job.future.set_exception(job.error)
        else:
            job.future.set_result(job.result)


class _Checkpointer:
    """Copies the WAL back into the database file on its own thread and connection, a few times a
    second after writes, so commits never wait for it: left to SQLite, a commit does it every 1000
    pages, which cost the writer a third of its time per order. The writer keeps SQLite's own
    checkpoint for a WAL grown past `_FALLBACK_CHECKPOINT_PAGES` (this thread falling far behind)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
        self.pending = False  # set by the writer after a commit

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join()

    def _run(self) -> None:
        conn = _connect(self._path, readonly=False)
        try:
            while not self._stopping.wait(_CHECKPOINT_SECONDS):
                if self.pending:
                    self.pending = False
                    with contextlib.suppress(sqlite3.Error):  # the writer's own fallback still runs
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        finally:
            conn.close()


class Database:
    """A SQLite file in WAL mode with one group-committing writer thread."""

    def __init__(self, path: Path, schema: Iterable[str] = (), readers: int = 2) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._schema = list(schema)
        self._queue: queue.SimpleQueue[_Job | object | None] = queue.SimpleQueue()
        self._background: collections.deque[_Job] = collections.deque()
        self._writer: threading.Thread | None = None
        self._closed = False
        self._readers = readers
        self._read_pool: ThreadPoolExecutor | None = None
        self._local = threading.local()
        self._read_conns: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._checkpointer: _Checkpointer | None = None

    def add_schema(self, statements: Iterable[str]) -> None:
        """Schema of one more user of this file (store, bus); applied on open."""
        self._schema.extend(statements)

    def open(self) -> None:
        if self._writer is not None:
            return
        conn = _connect(self.path, readonly=False)
        for statement in self._schema:
            conn.execute(statement)
        conn.execute(f"PRAGMA wal_autocheckpoint={_FALLBACK_CHECKPOINT_PAGES}")
        self._checkpointer = _Checkpointer(self.path)
        self._checkpointer.start()
        self._read_pool = ThreadPoolExecutor(self._readers, thread_name_prefix="sqlite-read")
        self._writer = threading.Thread(target=self._write_loop, args=(conn,), name="sqlite-write", daemon=True)
        self._writer.start()

    @property
    def is_open(self) -> bool:
        return self._writer is not None and self._writer.is_alive() and not self._closed

    async def write(self, fn: Callable[[sqlite3.Connection], T], background: bool = False) -> T:
        """Run `fn` in a write transaction; returns after the transaction is committed.

        `background` writes (bulk work nobody is waiting on, like storing normalized orders) run
        in order among themselves when no other write is queued, or first once they have waited
        `_BACKGROUND_PATIENCE`: a webhook's write rarely waits behind them, and they always move on."""
        if not self.is_open:
            raise DatabaseClosed(f"database {self.path} is not open")
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        if background:
            self._background.append(_Job(fn, future))
            self._queue.put(_WAKE)
        else:
            self._queue.put(_Job(fn, future))
        return await future

    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._read_pool is None or self._closed:
            raise DatabaseClosed(f"database {self.path} is not open")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._read_pool, self._read_in_thread, fn)

    def read_sync(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """For tools that read without an event loop (CLI)."""
        return self._read_in_thread(fn)

    def _read_in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = _connect(self.path, readonly=True)
            self._local.conn = conn
            with self._lock:
                self._read_conns.append(conn)
        conn.execute("BEGIN")
        try:
            return fn(conn)
        finally:
            conn.execute("COMMIT")

    async def close(self) -> None:
        if self._writer is None or self._closed:
            return
        self._closed = True
        self._queue.put(None)
        await asyncio.get_running_loop().run_in_executor(None, self._writer.join)
        if self._checkpointer is not None:
            self._checkpointer.stop()
        if self._read_pool is not None:
            self._read_pool.shutdown(wait=True)
        with self._lock:
            for conn in self._read_conns:
                conn.close()
            self._read_conns.clear()

    def _take(self, wait: bool, overdue_first: bool = False) -> _Job | Literal[False] | None:
        """The next write: queued ones first, then background ones (with `overdue_first`, a
        background write queued `_BACKGROUND_PATIENCE` ago goes first, so they are never starved).
        None: stop (once the background writes are done); False: nothing queued and `wait` is false."""
        background = self._background
        if overdue_first and background and time.monotonic() - background[0].queued_at > _BACKGROUND_PATIENCE:
            return background.popleft()
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                if self._background:
                    return self._background.popleft()
                if not wait:
                    return False
                item = self._queue.get()
            if item is _WAKE:
                continue
            if item is None and self._background:
                self._queue.put(None)
                return self._background.popleft()
            assert item is None or isinstance(item, _Job)
            return item

    def _write_loop(self, conn: sqlite3.Connection) -> None:
        running = True
        while running:
            first = self._take(wait=True, overdue_first=True)
            if not isinstance(first, _Job):
                break
            running = self._run_batch(conn, first)
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        conn.close()

    def _run_batch(self, conn: sqlite3.Connection, first: _Job) -> bool:
        """One transaction: `first` and the jobs queued behind it, until the queue is empty or the
        transaction has run `_TRANSACTION_SECONDS` (so one long job delays the answers of the jobs
        queued behind it by at most that much more). False when the queue said to stop."""
        batch = [first]
        running = True
        try:
            conn.execute("BEGIN IMMEDIATE")
            deadline = time.monotonic() + _TRANSACTION_SECONDS
            job: _Job | None = first
            while job is not None:
                conn.execute("SAVEPOINT job")
                try:
                    job.result = job.fn(conn)
                except Exception as exc:  # the job's own failure: roll back only its part
                    job.error = exc
                    conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                if len(batch) >= _MAX_BATCH or time.monotonic() > deadline:
                    break
                taken = self._take(wait=False)
                if taken is False:
                    break
                job = taken
                if job is None:
                    running = False
                else:
                    batch.append(job)
            conn.execute("COMMIT")
            if self._checkpointer is not None:
                self._checkpointer.pending = True
        except sqlite3.Error as exc:  # the commit itself failed: nothing in the batch is durable
            try:
                conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass
            for job in batch:
                job.error = DatabaseClosed(f"write to {self.path} failed: {exc}")
        by_loop: dict[asyncio.AbstractEventLoop, list[_Job]] = {}
        for job in batch:
            by_loop.setdefault(job.future.get_loop(), []).append(job)
        for loop, jobs in by_loop.items():
            try:
                loop.call_soon_threadsafe(_settle, jobs)
            except RuntimeError:  # that loop is closed; its callers are gone
                pass
        return running
