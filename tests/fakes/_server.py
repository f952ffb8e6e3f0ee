"""Start an aiohttp app on 127.0.0.1 with a free port, for the length of a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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
