"""An in-memory Intake that records, in order, what a connector accepted and checkpointed."""

from __future__ import annotations

from dataclasses import dataclass, field

from orderhub.store.base import RawIn, Receipt, sha256_hex


@dataclass
class RecordingIntake:
    accepted: list[RawIn] = field(default_factory=list)
    checkpoints: dict[tuple[str, str], str] = field(default_factory=dict)
    events: list[tuple[str, str | None]] = field(default_factory=list)  # ("accept", dedupe) / ("checkpoint", v)
    fail_on_accept: int | None = None  # the n-th accept (1-based) raises, like a store that went away

    async def accept(self, raw: RawIn) -> Receipt:
        if self.fail_on_accept is not None and len(self.accepted) + 1 == self.fail_on_accept:
            raise RuntimeError("store unavailable")
        duplicate = raw.dedupe_key is not None and any(
            a.connector == raw.connector and a.dedupe_key == raw.dedupe_key for a in self.accepted
        )
        self.accepted.append(raw)
        self.events.append(("accept", raw.dedupe_key))
        return Receipt(id=len(self.accepted), sha256=sha256_hex(raw.body), duplicate=duplicate)

    async def get_checkpoint(self, connector: str, key: str) -> str | None:
        return self.checkpoints.get((connector, key))

    async def set_checkpoint(self, connector: str, key: str, value: str) -> None:
        self.checkpoints[(connector, key)] = value
        self.events.append(("checkpoint", value))
