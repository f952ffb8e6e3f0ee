"""Webhook signatures made the way each platform makes them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time


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
