"""The `x12-sftp` connector against a real SFTP server (asyncssh's, chrooted to a temporary folder):
corpus 850 files uploaded by the partner, stored raw, moved to the remote archive only once stored;
quarantine of unknown senders; TA1 rejections uploaded; a refused or dropped connection loses
nothing and the loop recovers; 997s uploaded whole by the whole hub."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncssh
import pytest
import structlog
import yaml

from orderhub.connectors.x12_sftp import X12SftpConnector
from orderhub.service.config import ConfigErrors, load_config
from orderhub.service.hub import Hub
from orderhub.store.base import StoreUnavailable
from orderhub.x12 import parse
from tests.integration.test_x12_folder import TAKEN, stored, write_setup
from tests.services.sftp import PASSWORD, USERNAME, SftpServer

pytestmark = pytest.mark.corpus


def write_sftp_setup(root: Path, server: SftpServer, **overrides: Any) -> Path:
    config = write_setup(root)  # the partner profiles of the folder tests
    settings: dict[str, Any] = {
        "name": "edi",
        "kind": "x12-sftp",
        "host": "127.0.0.1",
        "port": server.port,
        "username": USERNAME,
        "password": PASSWORD,
        "known_hosts": str(server.known_hosts),
        "remote_inbox": "inbox",
        "remote_archive": "archive",
        "remote_error": "error",
        "remote_outbox": "outbox",
        "error": "../edi/error",
        "poll_interval": 0.05,
        "reconnect_max_seconds": 0.2,
        "settle_seconds": 0,
        "connect_timeout": 10,
        "timeout": 10,
    }
    settings.update(overrides)
    settings = {key: value for key, value in settings.items() if value is not None}
    (root / "connectors" / "edi.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


@pytest.fixture
async def hub(tmp_path: Path, sftp_server: SftpServer) -> AsyncIterator[Hub]:
    hub = Hub(load_config(write_sftp_setup(tmp_path, sftp_server)))
    await hub.start(stages=False, connectors=False)
    try:
        yield hub
    finally:
        await hub.stop()


def edi(hub: Hub) -> X12SftpConnector:
    connector = hub.connectors["edi"]
    assert isinstance(connector, X12SftpConnector)
    return connector


async def upload(server: SftpServer, name: str, body: bytes, folder: str = "inbox") -> None:
    """What the partner does: log in and put a file into the inbox."""
    async with (
        asyncssh.connect(
            "127.0.0.1",
            server.port,
            username=USERNAME,
            password=PASSWORD,
            known_hosts=str(server.known_hosts),
            client_keys=None,
            agent_path=None,
            config=None,
        ) as conn,
        conn.start_sftp_client() as sftp,
        sftp.open(f"{folder}/{name}", "wb") as stream,
    ):
        await stream.write(body)


def corpus_850(corpus: Path, name: str) -> bytes:
    return (corpus / "x12" / "850" / name).read_bytes()


async def wait_for(check: Callable[[], Awaitable[bool]], what: str, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def delivered(server: SftpServer) -> list[str]:
    """What the partner picks up from the outbox: not the hidden temporary of an upload in progress."""
    return [name for name in server.files("outbox") if not name.startswith(".")]


def local_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


async def test_corpus_files_are_stored_then_archived_on_the_server(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    connector = edi(hub)
    bodies = {name: corpus_850(corpus, name) for name in TAKEN}
    for name, body in bodies.items():
        await upload(sftp_server, name, body)

    # each time a file leaves the inbox, its bytes must already be in the store
    stored_at_rename: list[int] = []
    database = hub.config.db_path

    def count_stored() -> int:
        with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
            count: int = conn.execute("SELECT count(*) FROM raw_receipts").fetchone()[0]
            return count

    sftp_server.on_rename = lambda old, new: stored_at_rename.append(count_stored())
    assert await connector.scan_once() == len(TAKEN)

    assert sftp_server.files("inbox") == []
    assert sftp_server.files("error") == []
    archived = sftp_server.files("archive")
    assert len(archived) == len(TAKEN)
    assert stored_at_rename == [1, 2, 3, 4]
    raws = await stored(hub)
    partner_of = {"nodex12_vics.edi": "vics-buyer", "nodex12_two_interchanges.edi": "vics-buyer"}
    partner_of |= {"oop_aojuk.txt": "aojuk", "stedi_005010_dropship.edi": "dropship"}
    assert sorted(raw.headers["filename"] for raw in raws) == sorted(TAKEN)
    for raw in raws:
        name = raw.headers["filename"]
        assert raw.body == bodies[name]
        assert (raw.connector, raw.channel, raw.transport) == ("edi", "x12", "sftp")
        assert raw.headers["partner"] == partner_of[name]
        assert connector.account_for(raw) == partner_of[name]
        assert (sftp_server.root / "archive" / f"{raw.receipt:08d}-{name}").read_bytes() == bodies[name]


async def test_files_still_being_uploaded_and_folders_are_left_alone(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    body = corpus_850(corpus, "oop_aojuk.txt")
    for name in ("po.edi.part", "po.edi.tmp", ".po.edi"):
        await upload(sftp_server, name, body)
    (sftp_server.root / "inbox" / "sub").mkdir()
    assert await edi(hub).scan_once() == 0
    assert sftp_server.files("inbox") == [".po.edi", "po.edi.part", "po.edi.tmp", "sub"]
    assert await stored(hub) == []


async def test_a_file_is_taken_only_once_it_stopped_changing(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    hub = Hub(load_config(write_sftp_setup(tmp_path, sftp_server, settle_seconds=0.2)))
    await hub.start(stages=False, connectors=False)
    try:
        connector = edi(hub)
        body = corpus_850(corpus, "nodex12_vics.edi")
        await upload(sftp_server, "po.edi", body[:100])  # the partner writes under the final name
        assert await connector.scan_once() == 0  # first seen: not settled yet
        await asyncio.sleep(0.3)
        await upload(sftp_server, "po.edi", body)  # still growing when listed again
        assert await connector.scan_once() == 0
        assert sftp_server.files("inbox") == ["po.edi"]
        assert await stored(hub) == []
        await asyncio.sleep(0.3)
        assert await connector.scan_once() == 1  # unchanged since the last listing, long enough
        [raw] = await stored(hub)
        assert raw.body == body
    finally:
        await hub.stop()


async def test_without_a_remote_archive_a_stored_file_is_deleted(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    hub = Hub(load_config(write_sftp_setup(tmp_path, sftp_server, remote_archive=None)))
    await hub.start(stages=False, connectors=False)
    try:
        body = corpus_850(corpus, "nodex12_vics.edi")
        await upload(sftp_server, "po.edi", body)
        assert await edi(hub).scan_once() == 1
        assert sftp_server.files("inbox") == []
        assert sftp_server.files("archive") == []
        [raw] = await stored(hub)
        assert raw.body == body
    finally:
        await hub.stop()


async def test_an_unknown_sender_is_quarantined_locally_and_moved_out_of_the_inbox(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    connector = edi(hub)
    body = corpus_850(corpus, "gozer_walmart_vics.txt")  # ZZ:ABCDEFGHIJKLMNO has no profile
    await upload(sftp_server, "gozer.txt", body)
    assert await connector.scan_once() == 1

    assert sftp_server.files("inbox") == []
    assert sftp_server.files("archive") == []
    assert sftp_server.files("error") == ["gozer.txt"]
    local = connector.error_folder()
    assert local_names(local) == ["gozer.txt", "gozer.txt.error.txt"]
    assert (local / "gozer.txt").read_bytes() == body
    report = (local / "gozer.txt.error.txt").read_text(encoding="utf-8")
    assert report.startswith("unknown sender ZZ:ABCDEFGHIJKLMNO; add a partner profile with isa:")
    assert "upload the file into the remote inbox again" in report
    assert await stored(hub) == []
    assert sftp_server.files("outbox") == []

    # quarantined again under the same name: both kept, here and on the server
    await upload(sftp_server, "gozer.txt", body)
    assert await connector.scan_once() == 1
    assert sftp_server.files("error") == ["gozer.1.txt", "gozer.txt"]
    assert "gozer.1.txt.error.txt" in local_names(local)


async def test_an_unreadable_file_is_stored_reported_and_rejected_with_an_uploaded_ta1(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    connector = edi(hub)
    whole = corpus_850(corpus, "nodex12_vics.edi")
    body = whole[: whole.index(b"IEA*")]  # cut off before the interchange trailer
    await upload(sftp_server, "cut.edi", body)
    assert await connector.scan_once() == 1

    [raw] = await stored(hub)
    assert raw.body == body
    assert raw.headers["partner"] == "vics-buyer"
    assert "IEA missing" in raw.headers["x12_error"]
    kept = f"{raw.receipt:08d}-cut.edi"
    assert sftp_server.files("inbox") == []
    assert sftp_server.files("error") == [kept]
    report = (connector.error_folder() / f"{kept}.error.txt").read_text(encoding="utf-8").splitlines()
    assert report[0].startswith("cut.edi: not a readable X12 file: IEA missing")
    assert report[-1] == "A TA1 rejection (note code 023) was written to the outbox as vics-buyer-TA1-000001000.x12."
    assert sftp_server.files("outbox") == ["vics-buyer-TA1-000001000.x12"]
    (reply,) = parse((sftp_server.root / "outbox" / "vics-buyer-TA1-000001000.x12").read_bytes()).interchanges
    (ta1,) = reply.other
    assert (ta1.element(1), ta1.element(4), ta1.element(5)) == ("000003438", "R", "023")


async def test_the_file_stays_on_the_server_when_the_store_cannot_write(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    await upload(sftp_server, "po.edi", corpus_850(corpus, "oop_aojuk.txt"))
    await hub.store.close()
    with pytest.raises(StoreUnavailable):
        await edi(hub).scan_once()
    assert sftp_server.files("inbox") == ["po.edi"]
    assert sftp_server.files("archive") == []
    assert sftp_server.renames_from("inbox") == []


async def test_a_file_whose_move_failed_is_moved_later_and_not_stored_again(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    connector = edi(hub)
    await upload(sftp_server, "po.edi", corpus_850(corpus, "oop_aojuk.txt"))

    def refuse(old: str, new: str) -> None:
        raise asyncssh.SFTPPermissionDenied("the archive is read-only for now")

    sftp_server.on_rename = refuse
    with pytest.raises(asyncssh.SFTPPermissionDenied):
        await connector.scan_once()
    assert sftp_server.files("inbox") == ["po.edi"]
    assert len(await stored(hub)) == 1

    sftp_server.on_rename = None
    assert await connector.scan_once() == 1
    [raw] = await stored(hub)  # the move is done now, without storing the file a second time
    assert sftp_server.files("inbox") == []
    assert sftp_server.files("archive") == [f"{raw.receipt:08d}-po.edi"]


async def test_missing_remote_archive_and_error_folders_are_created(
    hub: Hub, sftp_server: SftpServer, corpus: Path
) -> None:
    (sftp_server.root / "archive").rmdir()
    (sftp_server.root / "error").rmdir()
    await upload(sftp_server, "po.edi", corpus_850(corpus, "oop_aojuk.txt"))
    await upload(sftp_server, "gozer.txt", corpus_850(corpus, "gozer_walmart_vics.txt"))
    assert await edi(hub).scan_once() == 2
    assert len(sftp_server.files("archive")) == 1
    assert sftp_server.files("error") == ["gozer.txt"]


async def test_outbound_documents_appear_whole_under_their_final_name(hub: Hub, sftp_server: SftpServer) -> None:
    connector = edi(hub)
    assert await connector.deliver("acme-997-000000001.x12", b"ISA*first~") == "outbox/acme-997-000000001.x12"
    assert sftp_server.files("outbox") == ["acme-997-000000001.x12"]  # no temporary left behind
    # delivered again (at least once): the same name is replaced
    await connector.deliver("acme-997-000000001.x12", b"ISA*again~")
    assert (sftp_server.root / "outbox" / "acme-997-000000001.x12").read_bytes() == b"ISA*again~"
    assert sftp_server.files("outbox") == ["acme-997-000000001.x12"]

    # the final name is never opened for writing: it only comes into being by a rename of a whole file
    assert "outbox/acme-997-000000001.x12" not in sftp_server.log.writes
    assert len(sftp_server.log.writes) == 2
    for written in sftp_server.log.writes:
        assert written.startswith("outbox/.acme-997-000000001.x12.") and written.endswith(".part")
    assert sftp_server.log.renames == [(w, "outbox/acme-997-000000001.x12") for w in sftp_server.log.writes]
    for bad in ("", "../escape.x12", "sub/dir.x12", ".hidden"):
        with pytest.raises(ValueError):
            await connector.deliver(bad, b"x")


async def test_a_refused_or_dropped_connection_loses_nothing_and_the_loop_recovers(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    first, second = corpus_850(corpus, "nodex12_vics.edi"), corpus_850(corpus, "oop_aojuk.txt")
    await upload(sftp_server, "first.edi", first)
    await sftp_server.stop()  # connection refused from the start
    hub = Hub(load_config(write_sftp_setup(tmp_path, sftp_server)))
    await hub.start(stages=False, connectors=True)
    try:
        with structlog.testing.capture_logs() as logs:

            async def retried() -> bool:
                return sum(e["event"] == "sftp server not reachable; trying again" for e in logs) >= 2

            await wait_for(retried, "a second connection attempt")
            assert sftp_server.files("inbox") == ["first.edi"]
            assert await stored(hub) == []

            await sftp_server.start()

            async def archived(count: int) -> bool:
                return len(sftp_server.files("archive")) == count

            await wait_for(lambda: archived(1), "the first file archived")
            # the server goes away while the loop runs, a file arrives meanwhile, the server comes back
            await sftp_server.stop()
            (sftp_server.root / "inbox" / "second.edi").write_bytes(second)
            attempts = sum(e["event"] == "sftp server not reachable; trying again" for e in logs)

            async def retried_again() -> bool:
                return sum(e["event"] == "sftp server not reachable; trying again" for e in logs) > attempts

            await wait_for(retried_again, "a connection attempt while the server is down")
            assert sftp_server.files("inbox") == ["second.edi"]
            await sftp_server.start()
            await wait_for(lambda: archived(2), "the second file archived")
        assert sftp_server.files("inbox") == []
        assert sorted(raw.body for raw in await stored(hub)) == sorted([first, second])
        assert all(PASSWORD not in repr(event) for event in logs)  # the secret is never logged
        assert not [e for e in logs if e["event"] == "task failed; restarting"]  # the loop recovered by itself
    finally:
        await hub.stop()


async def test_a_session_dropped_during_a_download_leaves_the_file_for_the_next_session(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    body = corpus_850(corpus, "nodex12_vics.edi")
    await upload(sftp_server, "po.edi", body)
    sftp_server.fail_reads.add("inbox/po.edi")
    hub = Hub(load_config(write_sftp_setup(tmp_path, sftp_server)))
    await hub.start(stages=False, connectors=True)
    try:
        with structlog.testing.capture_logs() as logs:

            async def dropped_twice() -> bool:
                return sftp_server.dropped >= 2

            await wait_for(dropped_twice, "two sessions dropped during the download")
            assert sftp_server.files("inbox") == ["po.edi"]
            assert await stored(hub) == []
            sftp_server.fail_reads.clear()

            async def archived() -> bool:
                return len(sftp_server.files("archive")) == 1

            await wait_for(archived, "the file archived")
        [raw] = await stored(hub)
        assert raw.body == body
        assert [e for e in logs if e["event"] == "sftp session lost; connecting again"]
        assert not [e for e in logs if e["event"] == "task failed; restarting"]  # the loop recovered by itself
    finally:
        await hub.stop()


async def test_the_whole_hub_makes_the_partners_order_and_uploads_its_997(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    config = load_config(write_sftp_setup(tmp_path, sftp_server)).model_copy(update={"normalize_workers": 0})
    hub = Hub(config)
    await hub.start()
    try:
        body = corpus_850(corpus, "nodex12_vics.edi")
        await upload(sftp_server, "po-1.edi", body)

        async def ordered() -> bool:
            return await hub.store.get_order("vics-buyer:08292233294") is not None

        async def acknowledged() -> bool:
            return len(delivered(sftp_server)) == 1

        await wait_for(ordered, "the order")
        await wait_for(acknowledged, "the 997")
        order = await hub.store.get_order("vics-buyer:08292233294")
        assert order is not None
        assert order["source"]["account"] == "vics-buyer"
        assert sftp_server.files("inbox") == []
        [archived] = sftp_server.files("archive")
        assert (sftp_server.root / "archive" / archived).read_bytes() == body

        [name] = delivered(sftp_server)
        segments = (sftp_server.root / "outbox" / name).read_text().strip().split("~")
        assert segments[0].endswith("*U*00401*000001000*0*P*>")
        assert [s.strip() for s in segments[3:8]] == [
            "ST*997*0001",
            "AK1*PO*1421",
            "AK2*850*000000010",
            "AK5*A",
            "AK9*A*1*1*1",
        ]
        assert sftp_server.log.sessions == 2  # the partner's upload and our polling session, which took the 997
        # uploaded under a temporary name and renamed: the partner never sees a partial 997
        assert f"outbox/{name}" not in sftp_server.log.writes
        assert (next(w for w in sftp_server.log.writes if w.startswith("outbox/")), f"outbox/{name}") in (
            sftp_server.log.renames
        )
    finally:
        await hub.stop()


async def test_a_997_that_cannot_be_uploaded_stays_queued_until_it_can(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    config = load_config(write_sftp_setup(tmp_path, sftp_server)).model_copy(update={"normalize_workers": 0})
    (sftp_server.root / "outbox").rmdir()  # the partner's outbox is missing for now
    hub = Hub(config)
    await hub.start()
    try:
        with structlog.testing.capture_logs() as logs:
            await upload(sftp_server, "po-1.edi", corpus_850(corpus, "nodex12_vics.edi"))

            async def dispatch_failed() -> bool:
                return any(e["event"] == "outbound document not delivered; trying again" for e in logs)

            await wait_for(dispatch_failed, "a failed delivery")
            assert await hub.store.get_order("vics-buyer:08292233294") is not None
            (sftp_server.root / "outbox").mkdir()

            async def acknowledged() -> bool:
                return len(delivered(sftp_server)) == 1

            await wait_for(acknowledged, "the 997 once the outbox is there")
        [name] = delivered(sftp_server)
        assert name.startswith("vics-buyer-") and name.endswith(".x12")
    finally:
        await hub.stop()


async def test_a_private_key_logs_in_and_a_wrong_host_key_is_refused(
    tmp_path: Path, sftp_server: SftpServer, corpus: Path
) -> None:
    key_login = write_sftp_setup(
        tmp_path / "key", sftp_server, password=None, private_key_file=str(sftp_server.client_key_file)
    )
    hub = Hub(load_config(key_login))
    await hub.start(stages=False, connectors=False)
    try:
        await upload(sftp_server, "po.edi", corpus_850(corpus, "oop_aojuk.txt"))
        assert await edi(hub).scan_once() == 1
    finally:
        await hub.stop()

    other = asyncssh.generate_private_key("ssh-ed25519").export_public_key().decode().strip()
    impostor = tmp_path / "known_hosts_other"
    impostor.write_text(f"[127.0.0.1]:{sftp_server.port} {other}\n", encoding="utf-8")
    hub = Hub(load_config(write_sftp_setup(tmp_path / "impostor", sftp_server, known_hosts=str(impostor))))
    await hub.start(stages=False, connectors=False)
    try:
        await upload(sftp_server, "po2.edi", corpus_850(corpus, "oop_aojuk.txt"))
        with pytest.raises(asyncssh.HostKeyNotVerifiable):
            await edi(hub).scan_once()
        assert sftp_server.files("inbox") == ["po2.edi"]
    finally:
        await hub.stop()


async def test_skipping_the_host_key_check_is_allowed_only_when_asked_and_warned_about(
    tmp_path: Path, sftp_server: SftpServer
) -> None:
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(write_sftp_setup(tmp_path / "a", sftp_server, known_hosts=None)))
    assert any("known_hosts" in error.message for error in caught.value.errors)
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(write_sftp_setup(tmp_path / "b", sftp_server, password=None)))
    assert any("set password or private_key_file" in error.message for error in caught.value.errors)
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(write_sftp_setup(tmp_path / "c", sftp_server, remote_archive="./inbox/")))
    assert any("remote_archive must not be the remote_inbox" in error.message for error in caught.value.errors)

    missing = Hub(load_config(write_sftp_setup(tmp_path / "e", sftp_server, known_hosts="keys/none")))
    assert any(note.startswith("known_hosts ") and "is not a file" in note for note in edi(missing).startup_notes())

    config = write_sftp_setup(tmp_path / "d", sftp_server, known_hosts=None, insecure_skip_host_key_check=True)
    hub = Hub(load_config(config))
    await hub.start(stages=False, connectors=False)
    try:
        with structlog.testing.capture_logs() as logs:
            assert await edi(hub).scan_once() == 0
        assert any(e["event"].startswith("sftp host key not checked") for e in logs)
    finally:
        await hub.stop()
