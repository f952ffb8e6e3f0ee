"""A watched folder of JSON order files: each is made durable, then moved to `done/` or `failed/`."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

import structlog
from pydantic import Field

from orderhub.connectors.base import ConnectorSettings, MappedConnector
from orderhub.store.base import RawIn

log = structlog.get_logger("orderhub.connectors.files")


class FilesSettings(ConnectorSettings):
    path: Path
    mapping: str
    pattern: str = "*.json"
    poll_interval: float = Field(1.0, gt=0)
    settle_seconds: float = Field(0.5, ge=0)  # a file younger than this may still be being written


class FilesConnector(MappedConnector):
    kind: ClassVar[str] = "files"
    channel: ClassVar[str] = "files"
    settings_model = FilesSettings
    runs = True

    settings: FilesSettings

    @property
    def folder(self) -> Path:
        path = self.settings.path
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    async def run(self) -> None:
        folder = self.folder
        for sub in ("done", "failed"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        while True:
            await self.scan_once()
            await asyncio.sleep(self.settings.poll_interval)

    async def scan_once(self) -> int:
        """Ingest every settled file now in the folder; returns how many were taken."""
        taken = 0
        now = time.time()
        for file in sorted(self.folder.glob(self.settings.pattern)):
            if not file.is_file() or now - file.stat().st_mtime < self.settings.settle_seconds:
                continue
            await self._take(file)
            taken += 1
        return taken

    async def _take(self, file: Path) -> None:
        body = file.read_bytes()
        receipt = await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="file",
                body=body,
                received_at=datetime.now(UTC),
                headers={"filename": file.name},
            )
        )
        # the bytes are durable now; only then does the file leave the inbox
        problem = _json_problem(body)
        target = self.folder / ("failed" if problem else "done") / f"{receipt.id:08d}-{file.name}"
        file.replace(target)
        if problem:
            target.with_name(target.name + ".error.txt").write_text(
                f"{file.name}: {problem}\nThe bytes are kept as {receipt.raw_ref}; fix the file and move it back "
                "into the folder to retry.\n",
                encoding="utf-8",
            )
            log.warning("file rejected", connector=self.name, file=file.name, error=problem)
        else:
            log.info("file ingested", connector=self.name, file=file.name, raw_ref=receipt.raw_ref)


def _json_problem(body: bytes) -> str | None:
    try:
        json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return f"not UTF-8 text (byte {exc.start})"
    except json.JSONDecodeError as exc:
        return f"line {exc.lineno} column {exc.colno}: {exc.msg}"
    return None
