"""Shopify's mandatory privacy (compliance) webhooks read as `PrivacyRequest`s.

Bodies (shopify.dev, "privacy law compliance"):
  customers/data_request: {"shop_id", "shop_domain", "orders_requested": [ids],
                           "customer": {"id", "email", "phone"}, "data_request": {"id"}}
  customers/redact:       {"shop_id", "shop_domain", "customer": {"id", "email", "phone"},
                           "orders_to_redact": [ids]}
  shop/redact:            {"shop_id", "shop_domain"}   (48 hours after the app was uninstalled)

`redact_payload` removes the buyer's personal data from a stored Shopify payload (an order, a
webhook body, a privacy request) for the raw side of a redaction.
"""

from __future__ import annotations

from typing import Any

import orjson

from orderhub.connectors._poll import dump_json
from orderhub.mapping import MappingError, parse_json
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


# Raw payload redaction ---------------------------------------------------------------------------
# Keys whose values are the buyer's personal data wherever they appear in an order, customer or
# privacy payload (REST shapes); ids, money, products and dates are left as they are.
_PERSONAL = frozenset({"email", "contact_email", "phone", "browser_ip", "note", "customer_locale"})
# objects that are a person or an address as a whole: their name and location fields go too
_PERSON_OBJECTS = frozenset(
    {"customer", "billing_address", "shipping_address", "default_address", "addresses", "destination"}
)
_PERSON_FIELDS = frozenset(
    {"first_name", "last_name", "name", "company", "address1", "address2", "city", "zip", "latitude", "longitude"}
)
_CLEARED_LISTS = frozenset({"note_attributes"})


def _scrub(value: Any, in_person: bool) -> Any:
    if isinstance(value, list):
        return [_scrub(item, in_person) for item in value]
    if not isinstance(value, dict):
        return value
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key in _CLEARED_LISTS and isinstance(item, list):
            result[key] = []
        elif key == "client_details" and isinstance(item, dict):
            result[key] = dict.fromkeys(item)
        elif (key in _PERSONAL or (in_person and key in _PERSON_FIELDS)) and not isinstance(item, (dict, list)):
            result[key] = None
        else:
            result[key] = _scrub(item, in_person or key in _PERSON_OBJECTS)
    return result


def redact_payload(body: bytes) -> bytes | None:
    """The payload without the buyer's personal data, numbers written as received; None: not JSON."""
    try:
        document = parse_json(body)
    except MappingError:
        return None
    return dump_json(_scrub(document, in_person=False))
