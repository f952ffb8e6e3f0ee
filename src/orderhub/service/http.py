"""The daemon's HTTP side: webhooks, health, metrics and the JSON API."""

from __future__ import annotations

import hmac
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

import orjson
import structlog
from aiohttp import web

from orderhub.service.hub import Hub
from orderhub.service.openapi import openapi
from orderhub.store.base import RawIn, StoreUnavailable

log = structlog.get_logger("orderhub.http")

HUB = web.AppKey("hub", Hub)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(data), status=status, content_type="application/json")


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    response = json_response({"error": {"code": code, "message": message}}, status)
    if headers:
        response.headers.update(headers)
    return response


async def webhook(request: web.Request) -> web.StreamResponse:
    started = time.perf_counter()
    hub = request.app[HUB]
    name = request.match_info["connector"]
    connector = hub.connectors.get(name)
    if connector is None or not connector.takes_webhooks:
        return error(404, "unknown_connector", f"no connector {name!r} takes webhooks here")
    if request.method == "GET" and (answer := connector.webhook_challenge(request.query)) is not None:
        return json_response({"challenge": answer})
    if request.method != "POST":
        return error(405, "method_not_allowed", "webhooks are delivered with POST", {"Allow": "POST"})
    metrics = hub.metrics
    metrics.of(name).received.inc()
    limit = hub.config.http.max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        metrics.rejected.labels(name, "too_large").inc()
        return error(413, "payload_too_large", f"body over {limit} bytes (http.max_body_bytes)")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.rejected.labels(name, "too_large").inc()
        return error(413, "payload_too_large", f"body over {limit} bytes (http.max_body_bytes)")
    verdict = connector.verify_webhook(request.headers, body)
    if not verdict.ok:
        metrics.rejected.labels(name, "signature").inc()
        log.warning("webhook refused", connector=name, reason=verdict.reason, peer=request.remote)
        try:  # only metadata of a forged attempt is kept, never its bytes
            await hub.store.record_rejected(name, request.remote, verdict.reason)
        except StoreUnavailable:
            pass
        return error(401, "bad_signature", verdict.reason)
    if verdict.ping:
        return json_response({"ping": True})
    raw = RawIn(
        connector=name,
        channel=connector.channel,
        transport="webhook",
        body=body,
        received_at=datetime.now(UTC),
        headers=verdict.headers or {},
        dedupe_key=verdict.dedupe_key,
    )
    try:
        receipt = await hub.accept(raw)
    except StoreUnavailable as exc:
        log.error("store unavailable; webhook refused with 503", connector=name, error=str(exc))
        return error(503, "store_unavailable", "the payload could not be stored; retry later")
    metrics.of(name).ack_seconds.observe(time.perf_counter() - started)
    return json_response({"received": True, "raw_ref": receipt.raw_ref, "duplicate": receipt.duplicate})


class As2Answer(Protocol):
    status: int
    headers: dict[str, str]
    body: bytes
    refused: str | None


@runtime_checkable
class As2Receiver(Protocol):
    """A connector that takes AS2 messages (x12-as2)."""

    async def receive_as2(self, headers: Iterable[tuple[str, str]], body: bytes) -> As2Answer: ...


async def as2(request: web.Request) -> web.StreamResponse:
    """`POST /as2/{connector}`: an AS2 message, answered with its MDN once the content is stored."""
    started = time.perf_counter()
    hub = request.app[HUB]
    name = request.match_info["connector"]
    connector = hub.connectors.get(name)
    if not isinstance(connector, As2Receiver):
        return error(404, "unknown_connector", f"no connector {name!r} takes AS2 messages here")
    if request.method != "POST":
        return error(405, "method_not_allowed", "AS2 messages are delivered with POST", {"Allow": "POST"})
    metrics = hub.metrics
    metrics.of(name).received.inc()
    limit = hub.config.http.max_body_bytes
    try:
        if request.content_length is not None and request.content_length > limit:
            raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=request.content_length)
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        metrics.rejected.labels(name, "too_large").inc()
        return error(413, "payload_too_large", f"body over {limit} bytes (http.max_body_bytes)")
    try:
        answer = await connector.receive_as2(request.headers.items(), body)
    except StoreUnavailable as exc:
        log.error("store unavailable; AS2 message refused with 503", connector=name, error=str(exc))
        return error(503, "store_unavailable", "the message could not be stored; retry later", {"Retry-After": "60"})
    if answer.refused is not None:
        metrics.rejected.labels(name, "as2").inc()
        try:  # only metadata of a refused message is kept, never its bytes
            await hub.store.record_rejected(name, request.remote, answer.refused)
        except StoreUnavailable:
            pass
    else:
        metrics.of(name).ack_seconds.observe(time.perf_counter() - started)
    return web.Response(status=answer.status, body=answer.body, headers=answer.headers)


async def healthz(request: web.Request) -> web.StreamResponse:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    store_ok = await hub.store.ping()
    bus_ok = await hub.bus.ping()
    status = 200 if store_ok and bus_ok else 503
    return json_response({"store": store_ok, "bus": bus_ok}, status)


async def metrics(request: web.Request) -> web.StreamResponse:
    body = request.app[HUB].metrics.render()
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})


async def openapi_description(request: web.Request) -> web.StreamResponse:
    return json_response(openapi())


async def list_orders(request: web.Request) -> web.StreamResponse:
    query = request.query
    try:
        limit = int(query.get("limit", "100"))
    except ValueError:
        return error(400, "bad_request", "limit must be a whole number")
    rows = await request.app[HUB].store.list_orders(limit, query.get("status"), query.get("connector"))
    return json_response([order_row_json(row) for row in rows])


def order_row_json(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "revision": row.revision,
        "status": row.status,
        "payment_status": row.payment_status,
        "placed_at": row.placed_at,
        "grand_total": row.grand_total,
        "connector": row.connector,
    }


async def get_order(request: web.Request) -> web.StreamResponse:
    order_id = request.match_info["id"]
    order = await request.app[HUB].store.get_order(order_id)
    if order is None:
        return error(404, "not_found", f"no order {order_id!r}")
    return json_response(order)


async def order_timeline(request: web.Request) -> web.StreamResponse:
    order_id = request.match_info["id"]
    entries = await request.app[HUB].store.timeline(order_id)
    if not entries:
        return error(404, "not_found", f"no order {order_id!r}")
    return json_response([{"at": e.at, "event": e.event, "revision": e.revision, "detail": e.detail} for e in entries])


@web.middleware
async def api_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    token = request.app[HUB].config.http.api_token
    if token and request.path.startswith("/api/"):
        given = request.headers.get("Authorization", "")
        if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return error(401, "unauthorized", "send Authorization: Bearer <http.api_token>")
    return await handler(request)


def make_app(hub: Hub) -> web.Application:
    app = web.Application(client_max_size=hub.config.http.max_body_bytes, middlewares=[api_auth])
    app[HUB] = hub
    app.router.add_route("*", "/webhooks/{connector}", webhook)
    app.router.add_route("*", "/as2/{connector}", as2)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/api/openapi.json", openapi_description)
    app.router.add_get("/api/orders", list_orders)
    app.router.add_get("/api/orders/{id}/timeline", order_timeline)
    app.router.add_get("/api/orders/{id}", get_order)
    return app
