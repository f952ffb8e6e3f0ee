"""An X12 exchange on a trading partner's (or our own) SFTP server: files in `remote_inbox`, ours to `remote_outbox`.

Each poll lists `remote_inbox` and downloads every settled file into memory. Temporary names such as
`.part`, `.tmp` and dot files are left alone, as are files over `max_file_bytes`. A partner that
uploads under the final name is still writing while the size or modification time changes: a file
is settled once a listing at least `settle_seconds` after the first one that showed it still shows
the same size and time (our clock only, so the server's may be wrong). A file is judged exactly as
the `x12-folder` connector judges it (see `_x12_intake`). Only after the hub has stored it does the
remote file leave the inbox: into `remote_archive`, or deleted when there is none.

A file that is not ingested (an unknown sender, a partner this connector does not serve) or that does
not parse is kept locally in `error` with a `.error.txt` report beside it, written to disk before the
remote file is touched; the remote file then moves to `remote_error`, or is deleted when there is none.
To retry it, upload the file into the remote inbox again.

A refused or lost connection leaves every remote file where it is; the loop connects again with
exponential backoff (up to `reconnect_max_seconds`). A crash between storing a file and moving it
leaves the file in the inbox: it is stored again (at least once), and the interchange registry tells
the repeat from new content downstream.

Outbound documents (997/999, TA1) are uploaded by `deliver` under a hidden temporary name in
`remote_outbox` and renamed when complete, so the partner never picks up a partial file.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import posixpath
import time
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import asyncssh
import structlog
from pydantic import Field, field_validator, model_validator
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    stop_never,
    wait_exponential,
    wait_random,
)
from tenacity.stop import stop_base

from orderhub.connectors._sftp import (
    NETWORK_ERRORS,
    SftpAccess,
    download,
    local_path,
    move_to_free_name,
    sftp_session,
    upload_atomically,
)
from orderhub.connectors._x12_intake import (
    Outcome,
    X12Exchange,
    X12ExchangeSettings,
    check_outbound_name,
    free_path,
    is_temporary,
    with_newline,
)
from orderhub.connectors.base import ConnectorSettings, Intake

log = structlog.get_logger("orderhub.connectors.x12_sftp")

DELIVERY_ATTEMPTS = 3  # then the dispatch stage gives up for now and is restarted; the document stays queued


class LocalKeepError(RuntimeError):
    """The local error folder cannot take a file; the remote file stays in the inbox."""


class RemoteFolderError(RuntimeError):
    """A remote archive or error folder is missing and cannot be made; nothing is taken until it is there."""


Stamp = tuple[int | None, int | None]  # a remote file's size and modification time


@dataclass(frozen=True)
class _Unmoved:
    """A file taken in whose move out of the inbox has not happened yet."""

    stamp: Stamp  # its size and modification time when it was taken
    folder: str | None
    kept: str
    outcome: Outcome


class X12SftpSettings(X12ExchangeSettings, SftpAccess):
    remote_inbox: str
    remote_archive: str | None = None  # None: a stored file is deleted from the server
    remote_error: str | None = None  # None: a file not ingested is deleted from the server (kept in `error`)
    remote_outbox: str
    error: Path  # local: copies of files not ingested, with a report each
    poll_interval: float = Field(30.0, gt=0)
    max_file_bytes: int = Field(64 * 1024 * 1024, gt=0)
    settle_seconds: float = Field(5.0, ge=0)  # 0: a file is taken at its first listing
    reconnect_max_seconds: float = Field(60.0, gt=0)

    @field_validator("remote_inbox", "remote_archive", "remote_error", "remote_outbox")
    @classmethod
    def _folder(cls, value: str | None) -> str | None:
        if value is None:
            return None
        folder = posixpath.normpath(value.strip())
        if not value.strip() or folder == "..":
            raise ValueError("must name a folder on the server")
        return folder

    @model_validator(mode="after")
    def _not_the_inbox(self) -> X12SftpSettings:
        for name in ("remote_archive", "remote_error", "remote_outbox"):
            if getattr(self, name) == self.remote_inbox:
                raise ValueError(f"{name} must not be the remote_inbox: every file there is taken in")
        return self


class X12SftpConnector(X12Exchange):
    kind: ClassVar[str] = "x12-sftp"
    settings_model = X12SftpSettings
    transport: ClassVar[str] = "sftp"
    retry_hint: ClassVar[str] = "upload the file into the remote inbox again"

    settings: X12SftpSettings

    def __init__(self, settings: ConnectorSettings, intake: Intake, base_dir: Path) -> None:
        super().__init__(settings, intake, base_dir)
        self._unmoved: dict[str, _Unmoved] = {}
        self._live: asyncssh.SFTPClient | None = None  # the polling session, while it is open
        self._seen: dict[str, tuple[Stamp, float]] = {}  # each listed file's stamp, and since when it has not changed

    def error_folder(self) -> Path:
        return local_path(self.settings.error, self.base_dir)

    def startup_notes(self) -> list[str]:
        s = self.settings
        where = f"sftp://{s.username}@{s.host}:{s.port}/{s.remote_inbox.lstrip('/')}"
        notes = [*super().startup_notes(), f"inbox: {where}"]
        for setting in ("known_hosts", "private_key_file"):
            path: Path | None = getattr(s, setting)
            if path is not None and not local_path(path, self.base_dir).is_file():
                notes.append(f"{setting} {local_path(path, self.base_dir)} is not a file: no login will succeed")
        return notes

    # the loop -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        """Poll on one session at a time; a lost session is made again with backoff, never given up."""
        self.error_folder().mkdir(parents=True, exist_ok=True)
        while True:
            async with contextlib.AsyncExitStack() as stack:
                async for attempt in self._retrying(stop_never):
                    with attempt:
                        sftp = await stack.enter_async_context(sftp_session(self.settings, self.base_dir, self.name))
                log.info("sftp session open", connector=self.name, host=self.settings.host)
                self._live = sftp
                try:
                    while True:
                        await self._scan(sftp)
                        await asyncio.sleep(self.settings.poll_interval)
                except NETWORK_ERRORS as exc:
                    log.warning("sftp session lost; connecting again", connector=self.name, error=_describe(exc))
                finally:
                    self._live = None
            await asyncio.sleep(min(1.0, self.settings.reconnect_max_seconds))

    async def scan_once(self) -> int:
        """One session: take every file now in the remote inbox; returns how many were taken.

        Raises when the server cannot be reached or the store cannot write, with the remote files left.
        """
        self.error_folder().mkdir(parents=True, exist_ok=True)
        async with sftp_session(self.settings, self.base_dir, self.name) as sftp:
            return await self._scan(sftp)

    def _retrying(self, stop: stop_base) -> AsyncRetrying:
        top = self.settings.reconnect_max_seconds
        return AsyncRetrying(
            retry=retry_if_exception_type(NETWORK_ERRORS),
            wait=wait_exponential(multiplier=min(1.0, top), max=top) + wait_random(0, min(1.0, top)),
            stop=stop,
            before_sleep=self._note_retry,
            reraise=True,
        )

    def _note_retry(self, state: RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome is not None else None
        delay = state.next_action.sleep if state.next_action is not None else 0.0
        log.warning(
            "sftp server not reachable; trying again",
            connector=self.name,
            host=self.settings.host,
            port=self.settings.port,
            error=_describe(error),
            attempt=state.attempt_number,
            retry_in_s=round(delay, 2),
        )

    async def _scan(self, sftp: asyncssh.SFTPClient) -> int:
        s = self.settings
        await self._prepare(sftp)
        async with asyncio.timeout(s.timeout):
            entries = await sftp.readdir(s.remote_inbox)
        now = time.monotonic()
        listed: set[str] = set()
        taken = 0
        for entry in sorted(entries, key=lambda e: str(e.filename)):
            name = str(entry.filename)
            if is_temporary(name) or entry.attrs.type != asyncssh.FILEXFER_TYPE_REGULAR:
                continue
            path = posixpath.join(s.remote_inbox, name)
            stamp: Stamp = (entry.attrs.size, entry.attrs.mtime)
            listed.add(name)
            unmoved = self._unmoved.pop(name, None)
            if unmoved is not None and unmoved.stamp == stamp:
                # stored (or kept) already, but the move failed: only the move is tried again
                await self._finish(sftp, path, name, unmoved)
                taken += 1
                continue
            if not self._settled(name, stamp, now):
                continue
            if entry.attrs.size is not None and entry.attrs.size > s.max_file_bytes:
                self._too_large(name, entry.attrs.size)
                continue
            try:
                body = await download(sftp, path, s.max_file_bytes, s.timeout)
            except asyncssh.SFTPNoSuchFile:  # taken away meanwhile (the partner, another poller)
                continue
            except asyncssh.SFTPPermissionDenied as exc:
                log.warning("sftp file cannot be read; left in the inbox", connector=self.name, file=name, error=exc)
                continue
            if body is None:
                self._too_large(name, None)
                continue
            await self._take(sftp, path, name, body, stamp)
            self._seen.pop(name, None)  # a new file under this name settles afresh
            taken += 1
        for gone in self._seen.keys() - listed:  # taken, or removed by someone else
            del self._seen[gone]
        for gone in self._unmoved.keys() - listed:
            del self._unmoved[gone]
        return taken

    def _settled(self, name: str, stamp: Stamp, now: float) -> bool:
        """Unchanged since a listing at least `settle_seconds` ago (always, when that is 0)."""
        if self.settings.settle_seconds == 0:
            return True
        seen = self._seen.get(name)
        if seen is None or seen[0] != stamp:
            self._seen[name] = (stamp, now)
            return False
        return now - seen[1] >= self.settings.settle_seconds

    async def _take(self, sftp: asyncssh.SFTPClient, path: str, name: str, body: bytes, stamp: Stamp) -> None:
        outcome = await self.take_in(name, body)
        # the bytes are durable now (or kept locally below); only then does the file leave the inbox
        s = self.settings
        kept = outcome.kept_name(name)
        if outcome.kind == "ingested":
            folder = s.remote_archive
        else:
            folder = s.remote_error
            try:
                await asyncio.to_thread(self._keep_locally, kept, body, outcome)
            except OSError as exc:  # a local disk problem, not the server's: the supervisor restarts the loop
                raise LocalKeepError(f"cannot keep {name} in {self.error_folder()}: {exc}") from exc
        await self._finish(sftp, path, name, _Unmoved(stamp, folder, kept, outcome))

    async def _finish(self, sftp: asyncssh.SFTPClient, path: str, name: str, unmoved: _Unmoved) -> None:
        """Move the file out of the inbox; remembered until that is done, so it is not stored once more."""
        self._unmoved[name] = unmoved
        await self._leave_inbox(sftp, path, unmoved.folder, unmoved.kept)
        del self._unmoved[name]
        self.log_outcome(name, unmoved.outcome)

    async def _prepare(self, sftp: asyncssh.SFTPClient) -> None:
        """The remote archive and error folders exist before any file is taken (created when missing)."""
        for folder in (self.settings.remote_archive, self.settings.remote_error):
            if folder is None:
                continue
            try:
                async with asyncio.timeout(self.settings.timeout):
                    await sftp.makedirs(folder, exist_ok=True)
            except (asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection):
                raise  # the session is gone: made again, not a folder problem
            except asyncssh.SFTPError as exc:
                raise RemoteFolderError(f"cannot create the remote folder {folder!r}: {exc}") from exc

    async def _leave_inbox(self, sftp: asyncssh.SFTPClient, path: str, folder: str | None, name: str) -> None:
        if folder is None:
            async with asyncio.timeout(self.settings.timeout):
                await sftp.remove(path)
            return
        await move_to_free_name(sftp, path, folder, name, self.settings.timeout)

    def _keep_locally(self, name: str, body: bytes, outcome: Outcome) -> None:
        """The file and its report, on disk (fsynced) before the remote file is touched."""
        folder = self.error_folder()
        folder.mkdir(parents=True, exist_ok=True)
        target = free_path(folder / name)
        for path, data in ((target, body), (target.with_name(target.name + ".error.txt"), None)):
            content = data if data is not None else with_newline(outcome.report).encode("utf-8")
            temporary = path.with_name(f".{path.name}.part")
            with temporary.open("wb") as stream:
                stream.write(content)
                stream.flush()
                os.fsync(stream.fileno())
            os.replace(temporary, path)

    def _too_large(self, name: str, size: int | None) -> None:
        log.warning(
            "sftp file larger than max_file_bytes; left in the inbox",
            connector=self.name,
            file=name,
            size=size,
            max_file_bytes=self.settings.max_file_bytes,
        )

    # outbound -------------------------------------------------------------------------------------------
    async def deliver(self, filename: str, data: bytes) -> str:
        """Upload `data` to the remote outbox atomically; returns its remote path.

        On the polling session when one is open, else (or when that fails) on sessions of its own: a
        few attempts with backoff, then the error is raised and the caller keeps the document.
        """
        check_outbound_name(filename)
        live = self._live
        if live is not None:  # the polling session: partners often allow one login at a time
            try:
                return await upload_atomically(live, self.settings.remote_outbox, filename, data, self.settings.timeout)
            except NETWORK_ERRORS as exc:
                log.info("sftp upload failed on the polling session", connector=self.name, error=_describe(exc))
        async for attempt in self._retrying(stop_after_attempt(DELIVERY_ATTEMPTS)):
            with attempt:
                async with sftp_session(self.settings, self.base_dir, self.name) as sftp:
                    return await upload_atomically(
                        sftp, self.settings.remote_outbox, filename, data, self.settings.timeout
                    )
        raise AssertionError("unreachable: the retrying above returns or raises")  # pragma: no cover

    async def send_outbound(self, filename: str, data: bytes) -> str:
        return await self.deliver(filename, data)


def _describe(error: BaseException | None) -> str:
    if error is None:
        return ""
    text = str(error) or getattr(error, "reason", "")
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
