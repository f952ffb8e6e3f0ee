"""The generic signed JSON webhook: `X-Orderhub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping as MappingABC
from typing import ClassVar, Literal

from orderhub.connectors.base import MappedConnector, WebhookSettings, WebhookVerdict, hmac_matches


class GenericWebhookSettings(WebhookSettings):
    mapping: str  # a built-in mapping name (e.g. shopify) or a mapping file path
    signature_header: str = "X-Orderhub-Signature"
    signature_prefix: str = "sha256="
    signature_encoding: Literal["hex", "base64"] = "hex"
    dedupe_header: str | None = None  # a header carrying a unique delivery id, when the sender has one


def _hex(digest: bytes) -> bytes:
    return digest.hex().encode()


class WebhookConnector(MappedConnector):
    kind: ClassVar[str] = "webhook"
    channel: ClassVar[str] = "webhook"
    settings_model = GenericWebhookSettings
    takes_webhooks = True

    settings: GenericWebhookSettings

    def verify_webhook(self, headers: MappingABC[str, str], body: bytes) -> WebhookVerdict:
        settings = self.settings
        given = headers.get(settings.signature_header)
        if not given:
            return WebhookVerdict(False, f"missing {settings.signature_header} header")
        if not given.startswith(settings.signature_prefix):
            return WebhookVerdict(
                False, f"{settings.signature_header} does not start with {settings.signature_prefix!r}"
            )
        encode = _hex if settings.signature_encoding == "hex" else base64.b64encode
        value = given[len(settings.signature_prefix) :].strip().encode()
        if settings.signature_encoding == "hex":
            value = value.lower()
        if not hmac_matches(settings.webhook_secret, body, value, hashlib.sha256, encode):
            return WebhookVerdict(False, f"{settings.signature_header} does not match the body")
        dedupe = headers.get(settings.dedupe_header) if settings.dedupe_header else None
        kept = {settings.signature_header: given}
        if settings.dedupe_header and dedupe:
            kept[settings.dedupe_header] = dedupe
        return WebhookVerdict(True, dedupe_key=dedupe, headers=kept)
