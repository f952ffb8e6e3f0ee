"""Bus protocol and backends (embedded SQLite, Kafka)."""

from orderhub.bus.base import TOPICS, Bus, BusError, Message, OutMessage, Subscription

__all__ = ["TOPICS", "Bus", "BusError", "Message", "OutMessage", "Subscription"]
