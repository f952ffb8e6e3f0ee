"""Webhook subscriptions kept in place on a cart platform (WooCommerce webhooks, BigCommerce hooks).

Both platforms turn a subscription off on their own: WooCommerce sets a webhook `disabled` after
more than 5 failed deliveries, BigCommerce sets a hook `is_active: false` after two days of failures
(or 90 days of inactivity), and either may be deleted in the store's admin. A check lists the
subscriptions that deliver to our address, creates the missing topics, and turns the disabled ones
back on; one that an earlier check had seen and that is gone or disabled now is logged as a warning
naming it. The topics seen are kept as a checkpoint (`webhook_subscriptions`, as Shopify's), so a
restart still tells "deleted" from "never created". Each platform adapter knows only its own calls.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Protocol

import orjson
import structlog

from orderhub.connectors._http import ApiError
from orderhub.connectors.base import Intake

log = structlog.get_logger("orderhub.connectors.subscriptions")

SEEN_KEY = "webhook_subscriptions"

HookState = Literal["active", "disabled", "held"]  # held: paused by the merchant, left alone


@dataclass(frozen=True, slots=True)
class Hook:
    """One subscription delivering to our address, in the platform's terms."""

    id: str
    topic: str
    state: HookState
    status: str  # the platform's own word for it, for the log


class HookPlatform(Protocol):
    platform: str  # "WooCommerce", "BigCommerce": for the log

    async def hooks(self) -> list[Hook]:
        """The subscriptions whose delivery address is ours."""
        ...

    async def create(self, topic: str) -> None: ...

    async def activate(self, hook: Hook) -> None: ...


@dataclass
class Checked:
    """What one check found and did."""

    present: list[str] = field(default_factory=list)
    created: list[str] = field(default_factory=list)
    recreated: list[str] = field(default_factory=list)  # created again after an earlier check saw them
    reactivated: list[str] = field(default_factory=list)
    held: list[str] = field(default_factory=list)


class HookKeeper:
    def __init__(self, intake: Intake, connector: str, platform: HookPlatform, topics: list[str]) -> None:
        self.intake = intake
        self.connector = connector
        self.platform = platform
        self.topics = topics

    async def _seen(self) -> set[str]:
        stored = await self.intake.get_checkpoint(self.connector, SEEN_KEY)
        return set(orjson.loads(stored)) if stored else set()

    async def check_or_log(self) -> None:
        """The periodic check: one that fails is logged and tried again next time; it never stops the poll."""
        try:
            await self.check()
        except ApiError as exc:
            log.error("webhook subscription check failed", connector=self.connector, error=str(exc))

    async def check(self) -> Checked:
        seen = await self._seen()
        before = set(seen)
        hooks = await self.platform.hooks()
        result = Checked()
        name = self.platform.platform
        for topic in self.topics:
            mine = [hook for hook in hooks if hook.topic == topic]
            if any(hook.state == "active" for hook in mine):
                result.present.append(topic)
            elif held := [hook for hook in mine if hook.state == "held"]:
                result.held.append(topic)
                log.warning(
                    f"webhook subscription is paused on {name}; left as the merchant set it",
                    connector=self.connector,
                    subscription=_named(topic, held[0]),
                    status=held[0].status,
                )
            elif mine:
                await self.platform.activate(mine[0])
                result.reactivated.append(topic)
                log.warning(
                    f"webhook subscription was disabled by {name}; set active again",
                    connector=self.connector,
                    subscription=_named(topic, mine[0]),
                    status=mine[0].status,
                )
            else:
                await self.platform.create(topic)
                if topic in seen:
                    result.recreated.append(topic)
                    log.warning(
                        f"webhook subscription was deleted on {name}; registered again",
                        connector=self.connector,
                        subscription=topic,
                    )
                else:
                    result.created.append(topic)
                    log.info("webhook subscription created", connector=self.connector, subscription=topic)
            seen.add(topic)
        if seen != before:
            await self.intake.set_checkpoint(self.connector, SEEN_KEY, orjson.dumps(sorted(seen)).decode())
        return result


def _named(topic: str, hook: Hook) -> str:
    return f"{topic} (id {hook.id})"
