"""Start an aiohttp app on 127.0.0.1 with a free port, for the length of a test."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field

from aiohttp import web
from aiohttp.test_utils import TestServer


@dataclass
class Seen:
    """One request the fake answered."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


@dataclass
class FakeBase:
    """What every fake keeps: the requests it saw and how many 429s it still owes."""

    requests: list[Seen] = field(default_factory=list)
    throttle: int = 0  # answer this many next requests with 429 + Retry-After
    retry_after: str = "1"

    def log(self, request: web.Request, status: int) -> None:
        self.requests.append(Seen(request.method, request.path, dict(request.query), dict(request.headers), status))

    def throttled(self, request: web.Request) -> web.Response | None:
        if self.throttle <= 0:
            return None
        self.throttle -= 1
        self.log(request, 429)
        headers = {"Retry-After": self.retry_after}
        return web.json_response({"message": "Too many requests"}, status=429, headers=headers)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()


@contextmanager
def serve_in_thread(app: web.Application) -> Iterator[str]:
    """The app on its own event loop in a thread, for tests that drive a daemon process synchronously."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="fake-platform", daemon=True)
    thread.start()
    server = TestServer(app, host="127.0.0.1", port=0)
    asyncio.run_coroutine_threadsafe(server.start_server(), loop).result(10)
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        asyncio.run_coroutine_threadsafe(server.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()
