"""An SFTP account as settings, and what a connector does on it: connect, fetch, move, upload atomically.

Every call has a timeout: `connect_timeout` covers TCP, key exchange and authentication; `timeout`
covers each SFTP request. The server's host key is checked against a known_hosts file unless
`insecure_skip_host_key_check` is set. No ssh agent, no `~/.ssh` keys and no `~/.ssh/config` are
used: the connector file says everything. Passwords and passphrases are never logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import posixpath
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Self

import asyncssh
import structlog
from pydantic import BaseModel, Field, model_validator

from orderhub.connectors.base import Secret

log = structlog.get_logger("orderhub.connectors.sftp")

# what a lost or refused connection raises: the session is given up and made again
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, asyncssh.Error, TimeoutError)
_warned_insecure: set[str] = set()  # connectors told once per process that the host key is not checked


class SftpAccess(BaseModel):
    """Where the SFTP server is and how to log in; mixed into a connector's settings."""

    host: str = Field(min_length=1)
    port: int = Field(22, ge=1, le=65535)
    username: str = Field(min_length=1)
    password: Secret | None = None
    private_key_file: Path | None = None
    passphrase: Secret | None = None  # of the private key, when it is encrypted
    known_hosts: Path | None = None
    insecure_skip_host_key_check: bool = False
    connect_timeout: float = Field(15.0, gt=0)
    timeout: float = Field(60.0, gt=0)  # each SFTP request

    @model_validator(mode="after")
    def _can_log_in(self) -> Self:
        if self.password is None and self.private_key_file is None:
            raise ValueError("set password or private_key_file to log in")
        if self.passphrase is not None and self.private_key_file is None:
            raise ValueError("passphrase is for private_key_file, which is not set")
        if self.known_hosts is None and not self.insecure_skip_host_key_check:
            raise ValueError(
                "set known_hosts (a file with the server's host key) or insecure_skip_host_key_check: true"
            )
        return self


def local_path(path: Path, base_dir: Path) -> Path:
    return path if path.is_absolute() else (base_dir / path).resolve()


@asynccontextmanager
async def sftp_session(access: SftpAccess, base_dir: Path, connector: str) -> AsyncIterator[asyncssh.SFTPClient]:
    """Connect, log in, start SFTP; closed on the way out. Raises one of NETWORK_ERRORS when it cannot."""
    options: dict[str, Any] = {
        "port": access.port,
        "username": access.username,
        "connect_timeout": access.connect_timeout,
        "login_timeout": access.connect_timeout,
        "keepalive_interval": 30,
        "keepalive_count_max": 3,
        "agent_path": None,
        "config": None,
        "client_keys": None,
        "known_hosts": None,
    }
    if access.known_hosts is not None and not access.insecure_skip_host_key_check:
        options["known_hosts"] = str(local_path(access.known_hosts, base_dir))
    elif connector not in _warned_insecure:
        _warned_insecure.add(connector)
        log.warning(
            "sftp host key not checked (insecure_skip_host_key_check): anyone on the path can pose as the server",
            connector=connector,
            host=access.host,
        )
    if access.private_key_file is not None:
        options["client_keys"] = [str(local_path(access.private_key_file, base_dir))]
        if access.passphrase is not None:
            options["passphrase"] = access.passphrase.get_secret_value()
    if access.password is not None:
        options["password"] = access.password.get_secret_value()
    async with asyncio.timeout(access.connect_timeout + access.timeout):
        connection = await asyncssh.connect(access.host, **options)
    try:
        async with asyncio.timeout(access.timeout):
            sftp = await connection.start_sftp_client()
        try:
            yield sftp
        finally:
            sftp.exit()
    finally:
        connection.close()
        # a dead peer must not hold up the caller: give the close a moment, no more
        try:
            async with asyncio.timeout(access.timeout):
                await connection.wait_closed()
        except TimeoutError:
            connection.abort()


async def download(sftp: asyncssh.SFTPClient, path: str, limit: int, timeout: float) -> bytes | None:
    """The whole file in memory, or None when it is larger than `limit` bytes."""
    async with asyncio.timeout(timeout), sftp.open(path, "rb") as stream:
        body: bytes = await stream.read(limit + 1)
    return None if len(body) > limit else body


async def move_to_free_name(sftp: asyncssh.SFTPClient, source: str, folder: str, name: str, timeout: float) -> str:
    """Rename `source` into `folder`, under `name` or `name` with a counter before its suffix when taken."""
    stem, suffix = posixpath.splitext(name)
    candidate, counter = posixpath.join(folder, name), 1
    async with asyncio.timeout(timeout):
        while await sftp.exists(candidate):
            candidate = posixpath.join(folder, f"{stem}.{counter}{suffix}")
            counter += 1
        await sftp.rename(source, candidate)
    return candidate


async def upload_atomically(sftp: asyncssh.SFTPClient, folder: str, filename: str, data: bytes, timeout: float) -> str:
    """Write under a hidden temporary name, then rename: the partner never sees a partial file."""
    temporary = posixpath.join(folder, f".{filename}.{uuid.uuid4().hex}.part")
    target = posixpath.join(folder, filename)
    try:
        async with asyncio.timeout(timeout):
            async with sftp.open(temporary, "wb") as stream:
                await stream.write(data)
            await _replace(sftp, temporary, target)
    except NETWORK_ERRORS:
        # a failed upload leaves no temporary behind when the server can still be asked to remove it
        with contextlib.suppress(*NETWORK_ERRORS):
            async with asyncio.timeout(timeout):
                await sftp.remove(temporary)
        raise
    return target


async def _replace(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
    """Rename over an existing target: POSIX rename when the server has it, else remove and rename."""
    try:
        await sftp.posix_rename(source, target)
        return
    except asyncssh.SFTPOpUnsupported:
        pass
    try:
        await sftp.rename(source, target)
    except asyncssh.SFTPFailure:
        # SFTP v3 rename refuses an existing target: a re-delivered document has the same bytes
        await sftp.remove(target)
        await sftp.rename(source, target)
