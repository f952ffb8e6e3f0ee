"""Outbound API calls of the polling connectors: a timeout on every call, tenacity retries with jittered
exponential backoff, and Retry-After honoured on 429/503."""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, retry_if_exception_type, stop_after_attempt
from tenacity.wait import wait_random_exponential

RETRIED_STATUSES = frozenset({429, 500, 502, 503, 504})
# a call that creates something is retried only when the request surely was not acted on: refused for
# load (429/503), or never sent (no connection); after a read timeout or a 500 it may have been
NOT_ACTED_ON_STATUSES = frozenset({429, 503})
NOT_SENT_ERRORS = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
MAX_RETRY_AFTER = 600.0  # a Retry-After beyond this is capped, so one bad header cannot stall a connector


class ApiError(RuntimeError):
    """An API call that failed for good (after retries, or with a status that retrying cannot fix)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class _Retryable(Exception):
    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response
        self.retry_after = retry_after_seconds(response.headers.get("Retry-After"))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    seconds = when.timestamp() - (time.time() if now is None else now)
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def _sleep(seconds: float) -> Awaitable[None]:
    return asyncio.sleep(seconds)


class Api:
    """An httpx client plus the retry policy; every connector call goes through `request`."""

    def __init__(self, client: httpx.AsyncClient, attempts: int = 5, max_backoff: float = 30.0) -> None:
        self.client = client
        self.attempts = attempts
        self._backoff = wait_random_exponential(multiplier=0.5, max=max_backoff)
        self.last_response: httpx.Response | None = None  # for callers that read rate-limit headers

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(self._backoff(state))

    async def request(self, method: str, url: str, *, idempotent: bool = True, **kwargs: Any) -> httpx.Response:
        """The response of the first attempt that is not a transport error, 429 or 5xx.

        Other statuses (401, 404, ...) are returned for the caller to judge. Raises ApiError when the
        attempts run out. With `idempotent=False` (a call that creates something) only attempts the
        server surely did not act on are retried; the caller looks before it creates again.
        """
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._wait,
            retry=retry_if_exception_type((_Retryable, httpx.TransportError))
            if idempotent
            else retry_if_exception(_not_acted_on),
            sleep=_sleeper(),
            reraise=True,
        )
        tried = 0
        try:
            async for attempt in retrying:
                with attempt:
                    tried += 1
                    response = await self.client.request(method, url, **kwargs)
                    self.last_response = response
                    if response.status_code in RETRIED_STATUSES:
                        await response.aclose()
                        raise _Retryable(response)
                    return response
        except _Retryable as exc:
            raise ApiError(
                f"{method} {_path(exc.response.request)} still answered HTTP {exc.response.status_code} "
                f"after {_attempts(tried)}",
                exc.response.status_code,
            ) from None
        except httpx.TransportError as exc:
            raise ApiError(f"{method} {url} failed after {_attempts(tried)}: {type(exc).__name__}: {exc}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    async def get_json_bytes(self, url: str, **kwargs: Any) -> bytes:
        """The body of a GET that must succeed (2xx); 204 No Content reads as an empty JSON array."""
        response = await self.request("GET", url, **kwargs)
        expect_ok(response)
        return b"[]" if response.status_code == 204 or not response.content.strip() else response.content


async def pause(seconds: float) -> None:
    """Wait before the next call (a rate-limit window); cancellable like every wait here."""
    await _sleeper()(seconds)


def _attempts(count: int) -> str:
    return "1 attempt" if count == 1 else f"{count} attempts"


def _not_acted_on(exc: BaseException) -> bool:
    if isinstance(exc, _Retryable):
        return exc.response.status_code in NOT_ACTED_ON_STATUSES
    return isinstance(exc, NOT_SENT_ERRORS)


def _sleeper() -> Callable[[float], Awaitable[None]]:
    return _sleep  # looked up per call so tests can replace the module's _sleep


def _path(request: httpx.Request) -> str:
    return request.url.copy_with(query=None).path  # never the query: it may carry credentials


def expect_ok(response: httpx.Response) -> None:
    if response.is_success:
        return
    snippet = response.text[:200].replace("\n", " ")
    raise ApiError(
        f"{response.request.method} {_path(response.request)} answered HTTP {response.status_code}: {snippet}",
        response.status_code,
    )
