"""The OpenAPI description of the daemon's HTTP API (served at `GET /api/openapi.json`).

The order schema inside it is the canonical order's own JSON Schema, so the two never drift apart.
"""

from __future__ import annotations

from typing import Any

from orderhub import __version__
from orderhub.model import order_schema


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ORDER_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "description": "order id `{account}:{external_id}`, URL-encoded",
    "schema": {"type": "string"},
}
_CONNECTOR = {"name": "connector", "in": "path", "required": True, "schema": {"type": "string"}}
_WEBHOOK_RESPONSES = {
    "200": _json(
        "the raw payload is durably stored (duplicates too); platform pings answered",
        {
            "type": "object",
            "properties": {
                "received": {"type": "boolean"},
                "raw_ref": {"type": "string", "example": "sha256:9f2c..."},
                "duplicate": {"type": "boolean"},
            },
        },
    ),
    "401": _error("bad or missing signature (only metadata of the attempt is kept)"),
    "404": _error("unknown connector, or one that takes no webhooks"),
    "405": _error("a method other than POST"),
    "413": _error("body over http.max_body_bytes"),
    "503": _error("the store is unavailable; retry later"),
}


def openapi() -> dict[str, Any]:
    schema = order_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    schema.pop("$schema", None)
    order_ref = {"$ref": "#/components/schemas/Order"}
    row = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "revision": {"type": "integer"},
            "status": {"type": "string"},
            "payment_status": {"type": "string"},
            "placed_at": {"type": ["string", "null"], "format": "date-time"},
            "grand_total": {"$ref": "#/components/schemas/Money"},
            "connector": {"type": "string"},
        },
    }
    timeline = {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "at": {"type": "string", "format": "date-time"},
                "event": {"type": "string"},
                "revision": {"type": ["integer", "null"]},
                "detail": {"type": "object"},
            },
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "orderhub",
            "version": __version__,
            "description": "Canonical orders from every channel. Every /api call needs `Authorization: Bearer "
            '<http.api_token>` when the token is set; errors are {"error": {"code", "message"}}.',
        },
        "paths": {
            "/api/openapi.json": {
                "get": {
                    "summary": "this description",
                    "responses": {"200": _json("the OpenAPI document", {"type": "object"})},
                }
            },
            "/api/orders": {
                "get": {
                    "summary": "orders, newest first",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 100}},
                        {"name": "status", "in": "query", "schema": {"type": "string"}},
                        {"name": "connector", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _json("order rows", {"type": "array", "items": row}),
                        "400": _error("a bad query parameter"),
                        "401": _error("missing or wrong bearer token"),
                    },
                }
            },
            "/api/orders/{id}": {
                "get": {
                    "summary": "one canonical order",
                    "parameters": [_ORDER_ID],
                    "responses": {
                        "200": _json("the order", order_ref),
                        "401": _error("missing or wrong bearer token"),
                        "404": _error("no such order"),
                    },
                }
            },
            "/api/orders/{id}/timeline": {
                "get": {
                    "summary": "what happened to an order, oldest first",
                    "parameters": [_ORDER_ID],
                    "responses": {
                        "200": _json("timeline entries", timeline),
                        "401": _error("missing or wrong bearer token"),
                        "404": _error("no such order"),
                    },
                }
            },
            "/as2/{connector}": {
                "post": {
                    "summary": "an AS2 message for an x12-as2 connector; answered with its MDN once stored",
                    "parameters": [_CONNECTOR],
                    "requestBody": {"required": True, "content": {"*/*": {"schema": {}}}},
                    "responses": {
                        "200": {"description": "the MDN (negative when decryption or the signature fails)"},
                        "400": _error("not an AS2 message"),
                        "401": _error("not secured as agreed, and no synchronous MDN asked for"),
                        "403": _error("AS2-From or AS2-To is not this connector's partner"),
                        "404": _error("not an AS2 connector"),
                        "405": _error("a method other than POST"),
                        "413": _error("body over http.max_body_bytes"),
                        "503": _error("the store is unavailable; the partner sends it again"),
                    },
                }
            },
            "/webhooks/{connector}": {
                "post": {
                    "summary": "a channel's webhook delivery, verified over the raw body",
                    "parameters": [_CONNECTOR],
                    "requestBody": {"required": True, "content": {"*/*": {"schema": {}}}},
                    "responses": _WEBHOOK_RESPONSES,
                }
            },
            "/healthz": {"get": {"summary": "the process runs", "responses": {"200": {"description": "ok"}}}},
            "/readyz": {
                "get": {
                    "summary": "store and bus answer",
                    "responses": {"200": {"description": "ready"}, "503": {"description": "not ready"}},
                }
            },
            "/metrics": {"get": {"summary": "Prometheus text", "responses": {"200": {"description": "metrics"}}}},
        },
        "components": {
            "schemas": {
                "Order": schema,
                **definitions,
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                            "required": ["code", "message"],
                        }
                    },
                    "required": ["error"],
                },
            }
        },
    }
