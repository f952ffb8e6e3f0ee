"""The baseline: a bare aiohttp handler that reads the body and answers 200."""

from __future__ import annotations

import sys

from aiohttp import web


async def handler(request: web.Request) -> web.Response:
    await request.read()
    return web.Response(text='{"received": true}', content_type="application/json")


def main() -> None:
    app = web.Application(client_max_size=5 * 1024 * 1024)
    app.router.add_post("/webhooks/{connector}", handler)
    app.router.add_get("/healthz", lambda r: handler(r))
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None, backlog=2048)


if __name__ == "__main__":
    main()
