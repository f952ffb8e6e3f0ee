"""Privacy data exports: files under `data_dir/exports/{connector}/{customer}-{receipt}.json`.

Written under a temporary name and renamed, so a half-written export is never mistaken for one.
A later redaction of the same customer (or of the whole shop) removes them.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from orderhub.model.events import PrivacyRequest

_UNSAFE = re.compile(r"[^A-Za-z0-9_.]+")


def _part(text: str) -> str:
    safe = _UNSAFE.sub("_", text)
    return "_" if safe in ("", ".", "..") else safe


def _who(request: PrivacyRequest) -> str:
    return _part(request.customer_id or request.request_id or "customer")


def write_export(
    root: Path, connector: str, request: PrivacyRequest, receipt: int, orders: list[dict[str, Any]]
) -> Path:
    folder = root / _part(connector)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{_who(request)}-{receipt}.json"
    document = {
        "connector": connector,
        "shop": request.shop,
        "data_request_id": request.request_id,
        "customer": {"id": request.customer_id, "email": request.customer_email, "phone": request.customer_phone},
        "orders_requested": list(request.order_ids),
        "exported_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        "orders": orders,
    }
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2))
    os.replace(partial, path)
    return path


def remove_exports(root: Path, connector: str, customer_id: str | None) -> list[Path]:
    """The exports of one customer of the connector (None: of every customer); the paths removed."""
    folder = root / _part(connector)
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        who = path.name.split(".json", 1)[0].rsplit("-", 1)[0]
        if customer_id is None or who == _part(customer_id):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed
