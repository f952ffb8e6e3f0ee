"""The serialization form of the canonical order: what goes on the bus and what the CLI/API print."""

from __future__ import annotations

from typing import Any

import orjson

from orderhub.model.order import Order


def dump_order(order: Order) -> bytes:
    return orjson.dumps(order.model_dump(mode="json"))


def load_order(data: bytes | str) -> Order:
    return Order.model_validate_json(data)


def order_schema(ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """`ref_template` places the sub-schemas elsewhere (an OpenAPI document's components)."""
    schema = Order.model_json_schema(mode="serialization", ref_template=ref_template)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://orderhub.dev/schema/order/1.json"
    return schema
