"""Build the configured bus."""

from __future__ import annotations

from typing import TYPE_CHECKING

from orderhub._sqlite import Database
from orderhub.bus.base import Bus

if TYPE_CHECKING:
    from orderhub.service.config import EmbeddedBusSettings, KafkaBusSettings


def make_bus(settings: EmbeddedBusSettings | KafkaBusSettings, db: Database) -> Bus:
    if settings.kind == "kafka":
        from orderhub.bus.kafka import KafkaBus

        return KafkaBus(
            settings.bootstrap_servers,
            topic_prefix=settings.topic_prefix,
            enable_idempotence=settings.enable_idempotence,
            partitions=settings.partitions,
            session_timeout_ms=settings.session_timeout_ms,
            heartbeat_interval_ms=settings.heartbeat_interval_ms,
        )
    from orderhub.bus.embedded import EmbeddedBus

    return EmbeddedBus(db)
