"""Store protocol and backends."""

from orderhub.store.base import (
    Applied,
    OrderRow,
    OrderWrite,
    OutboxItem,
    RawIn,
    Receipt,
    Store,
    StoredRaw,
    StoreUnavailable,
    TimelineEntry,
)

__all__ = [
    "Applied",
    "OrderRow",
    "OrderWrite",
    "OutboxItem",
    "RawIn",
    "Receipt",
    "Store",
    "StoreUnavailable",
    "StoredRaw",
    "TimelineEntry",
]
