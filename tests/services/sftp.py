"""A real SFTP server for tests: asyncssh's own, chrooted to a temporary folder, on 127.0.0.1.

Password or public key login, a host key generated per test and a known_hosts file naming it. The
server can be stopped (dropping every open session, as a crashed server would) and started again on
the same port, and it records each file opened for writing and each rename, so tests can tell what a
partner could have seen. `fail_reads` names files whose download drops the session instead.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

import asyncssh
import pytest

USERNAME = "partner"
PASSWORD = "s3cret-sftp"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class SftpLog:
    """What clients did on the server, in order."""

    writes: list[str] = field(default_factory=list)  # paths opened for writing, relative to the root
    renames: list[tuple[str, str]] = field(default_factory=list)
    sessions: int = 0  # logins that succeeded


class SftpServer:
    """The server and what a test needs to point a connector at it."""

    def __init__(self, root: Path, keys: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        keys.mkdir(parents=True, exist_ok=True)
        self.known_hosts = keys / "known_hosts"
        self.known_hosts.write_text(
            f"[127.0.0.1]:{self.port} {self.host_key.export_public_key().decode().strip()}\n", encoding="utf-8"
        )
        self.client_key_file = keys / "id_ed25519"
        self.client_key.write_private_key(str(self.client_key_file))
        self.log = SftpLog()
        self.fail_reads: set[str] = set()
        self.dropped = 0  # sessions dropped because of `fail_reads`
        self.on_rename: Callable[[str, str], None] | None = None  # called before each rename is done
        self._server: asyncssh.SSHAcceptor | None = None
        self._connections: list[asyncssh.SSHServerConnection] = []

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        server = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                server._connections.append(conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                return username == USERNAME and password == PASSWORD

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                return username == USERNAME and key.public_data == server.client_key.public_data

        class Files(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
                server.log.sessions += 1
                super().__init__(chan, chroot=str(server.root).encode())

            def _relative(self, path: bytes) -> str:
                return path.decode().lstrip("/")

            def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                name = self._relative(path)
                if pflags & asyncssh.FXF_WRITE:
                    server.log.writes.append(name)
                elif name in server.fail_reads:
                    server.dropped += 1
                    self.connection.abort()  # the server dies while the file is being fetched
                    raise asyncssh.SFTPConnectionLost("session dropped by the test")
                return super().open(path, pflags, attrs)

            def _note(self, oldpath: bytes, newpath: bytes) -> None:
                old, new = self._relative(oldpath), self._relative(newpath)
                server.log.renames.append((old, new))
                if server.on_rename is not None:
                    server.on_rename(old, new)

            def rename(self, oldpath: bytes, newpath: bytes) -> None:
                self._note(oldpath, newpath)
                super().rename(oldpath, newpath)

            def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
                self._note(oldpath, newpath)
                super().posix_rename(oldpath, newpath)

        self._server = await asyncssh.create_server(
            Server,
            "127.0.0.1",
            self.port,
            server_host_keys=[self.host_key],
            sftp_factory=Files,
            allow_scp=False,
            reuse_address=True,
        )

    async def stop(self) -> None:
        """Stop listening and drop every open session."""
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for conn in self._connections:
            conn.abort()
        self._connections.clear()

    def renames_from(self, folder: str) -> list[tuple[str, str]]:
        return [(old, new) for old, new in self.log.renames if old.startswith(f"{folder}/")]

    def files(self, folder: str) -> list[str]:
        path = self.root / folder
        return sorted(p.name for p in path.iterdir()) if path.is_dir() else []


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    root = tmp_path / "sftp-root"
    for folder in ("inbox", "archive", "error", "outbox"):
        (root / folder).mkdir(parents=True)
    server = SftpServer(root, tmp_path / "sftp-keys")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
