"""Revision rules shared by every store backend: what counts as a change, how status moves."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

# lifecycle states a source payload may set; everything else is owned by the hub's own stages
_SOURCE_STATES = {"received", "cancelled"}


def content_hash(order: dict[str, Any]) -> str:
    """Hash of the canonical content: what arrived when, and which revision, are not content."""
    source = {k: v for k, v in order["source"].items() if k not in ("received_at", "raw_ref", "updated_at")}
    content = {k: v for k, v in order.items() if k not in ("revision", "source")}
    content["source"] = source
    return hashlib.sha256(orjson.dumps(content, option=orjson.OPT_SORT_KEYS)).hexdigest()


def merge_status(current: str, incoming: str) -> str:
    """A source payload can cancel an order but never moves it back (e.g. shipped -> received)."""
    if incoming == "cancelled" or current == "cancelled":
        return "cancelled"
    if incoming in _SOURCE_STATES and current not in _SOURCE_STATES:
        return current
    return incoming
