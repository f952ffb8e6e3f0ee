"""`orderhub run` as a process exchanging X12 with partners over a folder and a real SFTP server: the
corpus 850s become orders, their 997s go to the outbox (local and remote), the inputs are archived;
the same files sent again after a SIGKILL and a restart make no new order or revision, and no
control number of ours is ever used twice."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import yaml

from orderhub.mapping import MappingContext, builtin_mapping
from orderhub.mapping.x12 import map_interchange
from orderhub.x12 import parse
from tests.helpers import Daemon, free_port, wait_for
from tests.services.sftp import PASSWORD, USERNAME, SftpServer

pytestmark = [pytest.mark.e2e, pytest.mark.corpus]

# every corpus 850 but the one whose ISA sender id is mangled by pasted no-break spaces
SKIPPED = {"edinet_tab_indent_nbsp_isa.edi"}


def corpus_850s(corpus: Path) -> list[Path]:
    return sorted(path for path in (corpus / "x12" / "850").iterdir() if path.name not in SKIPPED)


def profiles(files: list[Path]) -> dict[str, dict[str, Any]]:
    """One partner profile per ISA sender of the files (the profile id is the orders' account)."""
    found: dict[str, dict[str, Any]] = {}
    for path in files:
        for interchange in parse(path.read_bytes()).interchanges:
            qualifier, sender = interchange.sender_qualifier.strip(), interchange.sender_id.strip()
            partner = "p-" + re.sub(r"[^A-Za-z0-9]", "", sender)
            found[partner] = {
                "id": partner,
                "name": sender,
                "isa": {"qualifier": qualifier, "id": sender},
                "us": {"qualifier": "ZZ", "id": "ORDERHUB"},
                "gs": {"partner_id": sender, "our_id": "ORDERHUB"},
            }
    return found


def expected_orders(files: list[Path]) -> set[str]:
    """The order ids of the accepted 850 sets, with each sender's profile id as the account."""
    accounts = {(p["isa"]["qualifier"], p["isa"]["id"]): p["id"] for p in profiles(files).values()}
    ids = set()
    for path in files:
        data = path.read_bytes()
        interchange = parse(data).interchanges[0]
        account = accounts[(interchange.sender_qualifier.strip(), interchange.sender_id.strip())]
        ctx = MappingContext(connector="", account=account, channel="x12", received_at=datetime.now(UTC), raw_ref="x")
        ids |= {order.id for order in map_interchange(data, builtin_mapping("x12-850"), ctx).orders}
    return ids


def write_setup(root: Path, files: list[Path], sftp: SftpServer, port: int) -> Path:
    for folder in ("connectors", "partners", "edi/in", "edi/archive", "edi/error", "edi/out", "edi/sftp-error"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    for partner, profile in profiles(files).items():
        (root / "partners" / f"{partner}.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    folder = {
        "name": "edi-folder",
        "kind": "x12-folder",
        "inbox": "../edi/in",
        "archive": "../edi/archive",
        "error": "../edi/error",
        "outbox": "../edi/out",
        "poll_interval": 0.2,
        "settle_seconds": 0,
    }
    remote = {
        "name": "edi-sftp",
        "kind": "x12-sftp",
        "host": "127.0.0.1",
        "port": sftp.port,
        "username": USERNAME,
        "password": PASSWORD,
        "known_hosts": str(sftp.known_hosts),
        "remote_inbox": "inbox",
        "remote_archive": "archive",
        "remote_error": "error",
        "remote_outbox": "outbox",
        "error": "../edi/sftp-error",
        "poll_interval": 0.2,
        "settle_seconds": 0,
        "reconnect_max_seconds": 0.5,
    }
    for name, settings in (("edi-folder", folder), ("edi-sftp", remote)):
        (root / "connectors" / f"{name}.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    config = root / "orderhub.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": "./var",
                "connectors_dir": "./connectors",
                "partners_dir": "./partners",
                "http": {"host": "127.0.0.1", "port": port},
            }
        ),
        encoding="utf-8",
    )
    return config


async def upload(server: SftpServer, name: str, body: bytes) -> None:
    async with (
        asyncssh.connect(
            "127.0.0.1", server.port, username=USERNAME, password=PASSWORD, known_hosts=str(server.known_hosts)
        ) as conn,
        conn.start_sftp_client() as sftp,
    ):
        async with sftp.open(f"inbox/.{name}.part", "wb") as handle:
            await handle.write(body)
        await sftp.rename(f"inbox/.{name}.part", f"inbox/{name}")


def orders(root: Path) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{root / 'var' / 'orderhub.sqlite'}?mode=ro", uri=True)
    try:
        return dict(conn.execute("SELECT id, revision FROM orders").fetchall())
    finally:
        conn.close()


def acknowledgments(root: Path, sftp: SftpServer) -> list[tuple[str, str]]:
    """(partner, ISA13) of every interchange we sent, locally and to the SFTP server: our control
    numbers are kept per partner, so they must be unique per partner."""
    files = [*(root / "edi" / "out").glob("*.x12"), *(sftp.root / "outbox").glob("*.x12")]
    sent = [parse(path.read_bytes()).interchanges[0] for path in files]
    return [(interchange.receiver_id.strip(), interchange.control_number) for interchange in sent]


def unnumbered(names: list[str]) -> list[str]:
    return [name.split("-", 1)[1] for name in names]


def settled(root: Path, sftp: SftpServer, sent: int) -> bool:
    inbox_empty = not any((root / "edi" / "in").iterdir()) and not sftp.files("inbox")
    return inbox_empty and len(acknowledgments(root, sftp)) >= sent


async def test_partners_over_folder_and_sftp_survive_a_sigkill(
    tmp_path: Path, corpus: Path, sftp_server: SftpServer
) -> None:
    files = corpus_850s(corpus)
    wanted = expected_orders(files)
    assert len(wanted) == 13  # 19 files; rejected sets and repeated POs make no orders of their own
    port = free_port()
    daemon = Daemon(write_setup(tmp_path, files, sftp_server, port), port)
    await asyncio.to_thread(daemon.start)
    try:
        # half the partners use the folder, the other half the SFTP server
        by_folder, by_sftp = files[::2], files[1::2]
        for path in by_folder:
            shutil.copy(path, tmp_path / "edi" / "in" / path.name)
        for path in by_sftp:
            await upload(sftp_server, path.name, path.read_bytes())
        interchanges = sum(len(parse(path.read_bytes()).interchanges) for path in files)
        await asyncio.to_thread(
            wait_for, lambda: settled(tmp_path, sftp_server, interchanges), 120.0, 0.1, "every file acknowledged"
        )
        first = await asyncio.to_thread(
            wait_for, lambda: orders(tmp_path) if set(orders(tmp_path)) >= wanted else None, 30.0, 0.1, "the orders"
        )
        assert set(first) == wanted
        # archived under "{receipt}-{name}"
        assert sorted(unnumbered(sftp_server.files("archive"))) == sorted(path.name for path in by_sftp)
        local = [p.name for p in (tmp_path / "edi" / "archive").iterdir()]
        assert sorted(unnumbered(local)) == sorted(p.name for p in by_folder)

        # the partners send everything again; the daemon is killed while it works through it
        for path in by_folder:
            shutil.copy(path, tmp_path / "edi" / "in" / f"again-{path.name}")
        for path in by_sftp:
            await upload(sftp_server, f"again-{path.name}", path.read_bytes())
        await asyncio.sleep(0.5)
        daemon.kill()
        await asyncio.to_thread(daemon.start)
        await asyncio.to_thread(
            wait_for,
            lambda: settled(tmp_path, sftp_server, 2 * interchanges),
            120.0,
            0.1,
            "the files sent again acknowledged",
        )
        await asyncio.to_thread(daemon.stop)
    finally:
        daemon.kill()

    assert orders(tmp_path) == first  # no new order, no new revision from the repeats
    sent = Counter(acknowledgments(tmp_path, sftp_server))
    assert [number for number, times in sent.items() if times > 1] == []  # never reused
    assert len(sent) >= 2 * interchanges
