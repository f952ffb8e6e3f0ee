"""What every connector is: a kind, typed settings, a mapping, and optionally webhooks and a run loop.

A connector never routes, never touches the bus: it hands raw payloads to the hub (`Intake`), which
makes them durable before anyone is told "received".
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, ClassVar, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator

from orderhub.mapping import Mapping, builtin_mapping
from orderhub.store.base import RawIn, Receipt, StoredRaw


def _resolve_secret(value: Any) -> Any:
    """`file:/path` reads the secret from a file (trailing newline dropped)."""
    if isinstance(value, str) and value.startswith("file:"):
        return Path(value[5:]).read_text(encoding="utf-8").rstrip("\r\n")
    return value


def _secret_list(value: Any) -> Any:
    if value is None:
        return []
    if isinstance(value, (str, SecretStr)):
        value = [value]
    if isinstance(value, list):
        return [_resolve_secret(v) for v in value]
    return value


Secret = Annotated[SecretStr, BeforeValidator(_resolve_secret)]
# a string, or a list during rotation: all accepted, the first is current
Secrets = Annotated[list[SecretStr], BeforeValidator(_secret_list)]


class ConnectorSettings(BaseModel):
    """Settings common to every connector; each kind subclasses with its own."""

    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str
    account: str | None = None

    @field_validator("name", "account")
    @classmethod
    def _no_separators(cls, value: str | None) -> str | None:
        if value is not None and (":" in value or "/" in value or not value.strip()):
            raise ValueError("must be non-empty and may not contain ':' or '/'")
        return value

    @property
    def account_id(self) -> str:
        return self.account or self.name


@dataclass(frozen=True, slots=True)
class WebhookVerdict:
    """What a connector makes of one webhook request."""

    ok: bool
    reason: str = ""
    dedupe_key: str | None = None
    headers: dict[str, str] | None = None  # the transport headers worth keeping with the payload
    ping: bool = False  # a platform ping: answered 200, nothing stored


class Intake(Protocol):
    """The hub side a connector hands payloads to."""

    async def accept(self, raw: RawIn) -> Receipt: ...

    async def get_checkpoint(self, connector: str, key: str) -> str | None: ...

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None: ...


class NotAnOrder(ValueError):
    """A stored payload that this connector's order mapping does not apply to (e.g. another topic)."""


class Connector:
    """Base of every connector kind. Subclasses set the class attributes and override what they do."""

    kind: ClassVar[str]
    channel: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    takes_webhooks: ClassVar[bool] = False
    runs: ClassVar[bool] = False  # has a long-running loop (poller, watcher)

    def __init__(self, settings: ConnectorSettings, intake: Intake, base_dir: Path) -> None:
        self.settings = settings
        self.intake = intake
        self.base_dir = base_dir

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def account(self) -> str:
        return self.settings.account_id

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        """The mapping that turns this stored payload into orders; raise NotAnOrder if none does."""
        return builtin_mapping(self.kind)

    def account_for(self, raw: StoredRaw) -> str:
        """The account of the orders in this stored payload (order ids are `{account}:{external id}`)."""
        return self.account

    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        raise NotImplementedError

    def webhook_challenge(self, query: MappingABC[str, str]) -> str | None:
        """The answer to a platform's GET check of the webhook address when it is registered; None: not one."""
        return None

    async def run(self) -> None:
        """The connector's loop; returns only on cancellation. Raising gets it restarted with backoff."""
        raise NotImplementedError

    def startup_notes(self) -> list[str]:
        return []


def hmac_matches(secrets: list[SecretStr], body: bytes, given: bytes, digest: Any, encode: Any) -> bool:
    """Constant-time comparison of `given` with the HMAC of `body` under each configured secret."""
    matched = False
    for secret in secrets:
        expected = encode(hmac.digest(secret.get_secret_value().encode(), body, digest))
        # no early exit: every secret is tried, so timing says nothing about which one matched
        matched |= hmac.compare_digest(expected, given)
    return matched


def load_mapping_setting(value: str, base_dir: Path) -> Mapping:
    """A mapping setting is a built-in kind name or a path to a mapping file (relative to the config)."""
    if value.endswith((".yaml", ".yml")):
        path = Path(value)
        return Mapping.load(path if path.is_absolute() else base_dir / path)
    return builtin_mapping(value)


class MappedConnector(Connector):
    """A connector whose settings name its mapping (`mapping:` a built-in kind or a file)."""

    @cached_property
    def _mapping(self) -> Mapping:
        return load_mapping_setting(self.settings.mapping, self.base_dir)  # type: ignore[attr-defined]

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        return self._mapping


class WebhookSettings(ConnectorSettings):
    webhook_secret: Secrets = Field(default_factory=list)
