"""Shopify's mandatory privacy (compliance) webhooks read as `PrivacyRequest`s.

Bodies (shopify.dev, "privacy law compliance"):
  customers/data_request: {"shop_id", "shop_domain", "orders_requested": [ids],
                           "customer": {"id", "email", "phone"}, "data_request": {"id"}}
  customers/redact:       {"shop_id", "shop_domain", "customer": {"id", "email", "phone"},
                           "orders_to_redact": [ids]}
  shop/redact:            {"shop_id", "shop_domain"}   (48 hours after the app was uninstalled)
"""

from __future__ import annotations

from typing import Any

import orjson

from orderhub.model.events import PrivacyAction, PrivacyRequest

PRIVACY_ACTIONS: dict[str, PrivacyAction] = {
    "customers/redact": "redact_customer",
    "shop/redact": "redact_shop",
    "customers/data_request": "data_request",
}


def _text(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)


def privacy_request(topic: str, body: bytes) -> PrivacyRequest:
    """Raises ValueError when the body is not the topic's JSON object."""
    action = PRIVACY_ACTIONS[topic]
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"{topic} body is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise ValueError(f"{topic} body is not a JSON object")
    customer = document.get("customer") or {}
    if not isinstance(customer, dict):
        raise ValueError(f"{topic} customer is not an object")
    listed = document.get("orders_to_redact") if action == "redact_customer" else document.get("orders_requested")
    request = (document.get("data_request") or {}) if action == "data_request" else {}
    if action != "redact_shop" and not (customer.get("id") or customer.get("email") or listed):
        raise ValueError(f"{topic} names no customer and no orders")
    return PrivacyRequest(
        action=action,
        request_id=_text(request.get("id")) if isinstance(request, dict) else None,
        shop=_text(document.get("shop_domain")),
        customer_id=_text(customer.get("id")),
        customer_email=_text(customer.get("email")),
        customer_phone=_text(customer.get("phone")),
        order_ids=tuple(str(i) for i in listed or [] if i is not None),
    )
