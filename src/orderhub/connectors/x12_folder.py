"""A folder exchange with X12 trading partners: files in `inbox/`, acknowledgments out to `outbox/`.

Each settled file in the inbox is read, its sender identified from the ISA and matched to a partner
profile. A file from a sender without a profile is quarantined in `error/` (never guessed, never
ingested). Every other file is stored raw first; only once the store has it does the file move to
`archive/`, or to `error/` with a report when it does not parse (plus a TA1 rejection in the outbox
when the partner asks for TA1s). A file still being written is skipped: a `.part` or dot-file name, or
one modified less than `settle_seconds` ago.

A crash between storing a file and moving it leaves the file in the inbox: it is stored again on
restart (at least once), and the interchange registry tells the repeat from new content downstream.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import Field, ValidationInfo, field_validator

from orderhub.connectors._x12_intake import (
    X12Exchange,
    X12ExchangeSettings,
    check_outbound_name,
    free_path,
    is_temporary,
    with_newline,
)

Folder = Literal["inbox", "archive", "error", "outbox"]


class X12FolderSettings(X12ExchangeSettings):
    inbox: Path
    archive: Path
    error: Path
    outbox: Path
    settle_seconds: float = Field(1.0, ge=0)  # a file modified more recently may still be being written

    @field_validator("archive", "error", "outbox")
    @classmethod
    def _not_the_inbox(cls, value: Path, info: ValidationInfo) -> Path:
        inbox = info.data.get("inbox")
        if inbox is not None and os.path.normpath(value) == os.path.normpath(inbox):
            raise ValueError("must not be the inbox: every file there is taken in")
        return value


class X12FolderConnector(X12Exchange):
    kind: ClassVar[str] = "x12-folder"
    settings_model = X12FolderSettings

    settings: X12FolderSettings

    def folder(self, which: Folder) -> Path:
        path: Path = getattr(self.settings, which)
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    # the loop -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        for which in ("inbox", "archive", "error", "outbox"):
            self.folder(which).mkdir(parents=True, exist_ok=True)
        while True:
            await self.scan_once()
            await asyncio.sleep(self.settings.poll_interval)

    async def scan_once(self) -> int:
        """Take every settled file now in the inbox; returns how many were taken.

        A store that cannot write (`StoreUnavailable`) stops the scan with the file left in the inbox.
        """
        taken = 0
        now = time.time()
        for file in sorted(self.folder("inbox").iterdir()):
            if is_temporary(file.name) or not file.is_file():
                continue
            try:
                if now - file.stat().st_mtime < self.settings.settle_seconds:
                    continue
                await self._take(file)
            except FileNotFoundError:  # taken away meanwhile (an operator, another poller of the folder)
                continue
            taken += 1
        return taken

    async def _take(self, file: Path) -> None:
        body = await asyncio.to_thread(file.read_bytes)
        outcome = await self.take_in(file.name, body)
        # the bytes are durable now (or the file was never to be stored); only then does it leave the inbox
        if outcome.kind == "ingested":
            archive = self.folder("archive")
            archive.mkdir(parents=True, exist_ok=True)
            file.replace(free_path(archive / outcome.kept_name(file.name)))
        else:
            self._move_with_report(file, self.folder("error") / outcome.kept_name(file.name), outcome.report)
        self.log_outcome(file.name, outcome)

    async def send_outbound(self, filename: str, data: bytes) -> str:
        return str(self.write_outbound(filename, data))

    # files ----------------------------------------------------------------------------------------------
    def write_outbound(self, filename: str, data: bytes) -> Path:
        """Write `data` to the outbox atomically: a hidden temporary name first, then a rename."""
        check_outbound_name(filename)
        outbox = self.folder("outbox")
        outbox.mkdir(parents=True, exist_ok=True)
        temporary = outbox / f".{filename}.{uuid.uuid4().hex}.part"
        with temporary.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        target = outbox / filename
        os.replace(temporary, target)
        return target

    def _move_with_report(self, file: Path, target: Path, report: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target = free_path(target)
        file.replace(target)
        target.with_name(target.name + ".error.txt").write_text(with_newline(report), encoding="utf-8")
