"""Webhook signatures made the way each platform makes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path


def woo_signature(secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature: base64 HMAC-SHA256 of the body as sent."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def woo_headers(secret: str, body: bytes, topic: str = "order.updated", delivery: str = "1") -> dict[str, str]:
    return {
        "X-WC-Webhook-Signature": woo_signature(secret, body),
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Resource": topic.split(".")[0],
        "X-WC-Webhook-Event": topic.split(".")[1],
        "X-WC-Webhook-Source": "https://shop.example.test/",
        "X-WC-Webhook-ID": "15",
        "X-WC-Webhook-Delivery-ID": delivery,
        "Content-Type": "application/json",
        "User-Agent": "WooCommerce/8.9.1 Hookshot (WordPress/6.5.2)",
    }


def standard_webhook_headers(
    secret: str, body: bytes, msg_id: str = "msg-1", stamp: int | None = None
) -> dict[str, str]:
    """BigCommerce (Standard Webhooks): v1,base64 HMAC-SHA256 of `{id}.{timestamp}.{body}`."""
    stamp = int(time.time()) if stamp is None else stamp
    content = f"{msg_id}.{stamp}.".encode() + body
    signature = base64.b64encode(hmac.new(secret.encode(), content, hashlib.sha256).digest()).decode()
    return {"webhook-id": msg_id, "webhook-timestamp": str(stamp), "webhook-signature": f"v1,{signature}"}


ADOBE_KEYS = Path(__file__).resolve().parent.parent / "fixtures" / "adobe-io"
_SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")


def adobe_signature(body: bytes) -> str:
    """x-adobe-digital-signature-N: base64 RSA PKCS#1 v1.5 SHA-256 signature, with orderhub's test key."""
    key = json.loads((ADOBE_KEYS / "signing-key.json").read_text(encoding="utf-8"))
    n, d = int(key["n"]), int(key["d"])
    size = (n.bit_length() + 7) // 8
    info = _SHA256_INFO + hashlib.sha256(body).digest()
    encoded = b"\x00\x01" + b"\xff" * (size - len(info) - 3) + b"\x00" + info
    return base64.b64encode(pow(int.from_bytes(encoded, "big"), d, n).to_bytes(size, "big")).decode()


def adobe_event(entity_id: int, event_id: str, recipient: str = "client-1") -> bytes:
    """An Adobe I/O Events delivery of a Commerce `sales_order_save_after` event (orderhub's own, trimmed)."""
    return json.dumps(
        {
            "specversion": "1.0",
            "type": "com.adobe.commerce.observer.sales_order_save_after",
            "source": "urn:uuid:7ea5c6d1-0000-4000-8000-000000000000",
            "id": event_id,
            "event_id": event_id,
            "recipient_client_id": recipient,
            "datacontenttype": "application/json",
            "data": {"key": f"order-{entity_id}", "value": {"entity_id": str(entity_id), "state": "processing"}},
        }
    ).encode()
