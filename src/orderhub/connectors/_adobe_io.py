"""Adobe I/O Events deliveries: RSA-SHA256 signatures over the raw body, and the order an event names."""

from __future__ import annotations

import base64
from collections.abc import Mapping as MappingABC
from dataclasses import dataclass

from orderhub.connectors._rsa import RsaPublicKey, verify_sha256
from orderhub.mapping import MappingError, parse_json

SIGNATURE_HEADERS = ("x-adobe-digital-signature-1", "x-adobe-digital-signature-2")
KEPT_HEADERS = (*SIGNATURE_HEADERS, "x-adobe-public-key1-path", "x-adobe-public-key2-path", "x-adobe-event-id")


@dataclass(frozen=True, slots=True)
class Event:
    event_id: str | None
    order_id: int | None  # data.value.entity_id of a Commerce order event
    recipient_client_id: str | None


def signed(keys: list[RsaPublicKey], headers: MappingABC[str, str], body: bytes) -> bool:
    """Whether either signature header verifies the body under any key (two exist for key rotation)."""
    matched = False
    for name in SIGNATURE_HEADERS:
        try:
            signature = base64.b64decode(headers.get(name, "").strip(), validate=True)
        except ValueError:
            continue
        for key in keys:
            matched |= verify_sha256(key, body, signature)
    return matched


def parse_event(body: bytes) -> Event:
    try:
        event = parse_json(body)
    except MappingError:
        return Event(None, None, None)
    if not isinstance(event, dict):
        return Event(None, None, None)
    event_id = event.get("event_id") or event.get("id")
    data = event.get("data")
    value = data.get("value") if isinstance(data, dict) else None
    entity = value.get("entity_id") if isinstance(value, dict) else None
    if isinstance(entity, str) and entity.isdigit():
        entity = int(entity)
    recipient = event.get("recipient_client_id") or event.get("recipientclientid")
    return Event(
        str(event_id) if event_id is not None else None,
        entity if type(entity) is int else None,
        str(recipient) if recipient is not None else None,
    )
