"""Shopify Admin API calls: GraphQL with its calculated-cost leaky bucket, and the REST order by id.

Every call goes through `_http.Api` (timeouts, jittered exponential retries, 429/5xx with
Retry-After). On top of that, GraphQL answers carry `extensions.cost.throttleStatus`
(`currentlyAvailable`, `maximumAvailable`, `restoreRate` points per second): before a query we wait
until the bucket has refilled enough for what that query cost last time, and a `THROTTLED` error
(HTTP 200 with `errors[].extensions.code`) is retried after the wait its cost says, with tenacity.
REST answers carry `X-Shopify-Shop-Api-Call-Limit: used/size` (leak 2 calls/s on standard plans):
when the bucket is nearly full we wait before the next REST call.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

from orderhub.connectors._http import Api, ApiError, expect_ok, pause

log = structlog.get_logger("orderhub.connectors.shopify")

REST_LEAK_PER_SECOND = 2.0  # standard plans; a faster plan only makes the waits longer than needed
REST_HEADROOM = 4  # calls kept free in the REST bucket (webhook-triggered tools of the merchant share it)


class ShopifyApiError(ApiError):
    """GraphQL `errors` (other than THROTTLED) or an unexpected answer."""


class Throttled(Exception):
    def __init__(self, wait: float | None) -> None:
        super().__init__("THROTTLED")
        self.wait = wait


@dataclass
class Bucket:
    """The GraphQL leaky bucket as last reported, and when."""

    available: float
    maximum: float
    restore_rate: float
    at: float

    def wait_for(self, cost: float, now: float) -> float:
        """Seconds until `cost` points are available (0 when they are now)."""
        if self.restore_rate <= 0:
            return 0.0
        refilled = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        needed = min(cost, self.maximum) - refilled
        return max(0.0, needed / self.restore_rate)


def _bucket(body: dict[str, Any], now: float) -> tuple[Bucket | None, float | None]:
    """(throttle status, requested cost) out of a GraphQL answer's extensions."""
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = cost.get("throttleStatus") or {}
    requested = cost.get("requestedQueryCost")
    bucket = None
    if {"currentlyAvailable", "maximumAvailable", "restoreRate"} <= status.keys():
        bucket = Bucket(
            float(status["currentlyAvailable"]), float(status["maximumAvailable"]), float(status["restoreRate"]), now
        )
    return bucket, float(requested) if isinstance(requested, (int, float)) else None


def _throttled(body: dict[str, Any]) -> bool:
    errors = body.get("errors")
    if not isinstance(errors, list):
        return False
    return any(isinstance(e, dict) and (e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors)


class ShopifyApi:
    """One shop's Admin API at one version; `api.client` carries the base URL and access token header."""

    def __init__(self, api: Api, version: str, attempts: int = 6) -> None:
        self.api = api
        self.version = version
        self.attempts = attempts
        self.bucket: Bucket | None = None
        self._costs: dict[str, float] = {}  # last requested cost of each query text
        self._backoff = wait_random_exponential(multiplier=0.5, max=30.0)
        self._rest_wait = 0.0

    @property
    def graphql_path(self) -> str:
        return f"/admin/api/{self.version}/graphql.json"

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def wait_before(self, query: str) -> float:
        """How long to wait before sending `query`, from its last cost and the bucket's last status."""
        # a query not sent yet is expected to cost what the dearest one seen so far did
        cost = self._costs.get(query, max(self._costs.values(), default=None))
        if cost is None or self.bucket is None:
            return 0.0
        return self.bucket.wait_for(cost, self._now())

    def _retry_wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, Throttled) and exc.wait is not None and exc.wait > 0:
            return exc.wait
        return float(self._backoff(state))

    async def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of a query or mutation; raises ShopifyApiError on GraphQL errors."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._retry_wait,
            retry=retry_if_exception_type(Throttled),
            sleep=pause,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._graphql_once(query, variables or {})
        except Throttled:
            raise ShopifyApiError(f"GraphQL still THROTTLED after {self.attempts} attempts", 429) from None
        raise AssertionError("unreachable")  # pragma: no cover

    async def _graphql_once(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        wait = self.wait_before(query)
        if wait > 0:
            log.debug("graphql bucket low; waiting", wait_s=round(wait, 3))
            await pause(wait)
        response = await self.api.request("POST", self.graphql_path, json={"query": query, "variables": variables})
        expect_ok(response)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise ShopifyApiError(f"POST {self.graphql_path} did not answer JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ShopifyApiError(f"POST {self.graphql_path} did not answer a JSON object")
        bucket, requested = _bucket(body, self._now())
        if requested is not None:
            self._costs[query] = requested
        if _throttled(body):
            retry_in = bucket.wait_for(requested, bucket.at) if bucket is not None and requested is not None else None
            log.info("graphql THROTTLED; retrying", wait_s=None if retry_in is None else round(retry_in, 3))
            self.bucket = None  # the retry's own wait is the refill; not waited for a second time
            raise Throttled(retry_in)
        if bucket is not None:
            self.bucket = bucket
        errors = body.get("errors")
        if errors:
            messages = "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in errors)
            raise ShopifyApiError(f"GraphQL errors: {messages}")
        data = body.get("data")
        if not isinstance(data, dict):
            raise ShopifyApiError("GraphQL answer without data")
        return data

    async def rest_order(self, order_id: str) -> bytes | None:
        """`GET /admin/api/{version}/orders/{id}.json` as received (`{"order": {...}}`); None when gone (404)."""
        if self._rest_wait > 0:
            wait, self._rest_wait = self._rest_wait, 0.0
            await pause(wait)
        path = f"/admin/api/{self.version}/orders/{order_id}.json"
        response = await self.api.request("GET", path)
        self._rest_wait = rest_wait(response.headers.get("X-Shopify-Shop-Api-Call-Limit"))
        if response.status_code == 404:
            return None
        expect_ok(response)
        return response.content


def rest_wait(call_limit: str | None) -> float:
    """Seconds to wait before the next REST call, from `X-Shopify-Shop-Api-Call-Limit: used/size`."""
    if not call_limit or "/" not in call_limit:
        return 0.0
    used_text, size_text = call_limit.split("/", 1)
    try:
        used, size = int(used_text), int(size_text)
    except ValueError:
        return 0.0
    over = used - (size - REST_HEADROOM)
    return over / REST_LEAK_PER_SECOND if over > 0 else 0.0
