"""Supervised tasks: a loop that fails is restarted with backoff and never takes the others down."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable

import structlog

log = structlog.get_logger("orderhub.supervisor")


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    on_restart: Callable[[], None] | None = None,
    max_backoff: float = 60.0,
) -> None:
    backoff = 1.0
    while True:
        started = asyncio.get_running_loop().time()
        try:
            await run()
            log.info("task finished", task=name)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if asyncio.get_running_loop().time() - started > 60:
                backoff = 1.0  # it ran fine for a while: this is a new failure, not the same one
            delay = min(backoff, max_backoff) * (0.5 + random.random() / 2)
            log.error(
                "task failed; restarting",
                task=name,
                error=f"{type(exc).__name__}: {exc}",
                retry_in_s=round(delay, 2),
                exc_info=True,
            )
            if on_restart is not None:
                on_restart()
            await asyncio.sleep(delay)
            backoff *= 2
