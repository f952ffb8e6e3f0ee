"""The `x12-folder` connector in-process with a real store: corpus 850 files copied into a temporary
inbox at test time, stored byte for byte, archived only after that, quarantine of unknown senders,
error reports and TA1 rejections for files that do not parse, and a store that cannot write."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import structlog
import yaml

from orderhub.connectors.base import NotAnOrder
from orderhub.connectors.x12_folder import X12FolderConnector
from orderhub.service.config import ConfigErrors, load_config
from orderhub.service.hub import Hub
from orderhub.store.base import StoredRaw, StoreUnavailable
from orderhub.x12 import parse

pytestmark = pytest.mark.corpus

PARTNERS: dict[str, dict[str, Any]] = {
    # ISA senders as they appear in the corpus files used below
    "vics-buyer": {"isa": {"qualifier": "12", "id": "4405197800"}, "acks": {"ta1": True}},
    "aojuk": {"isa": {"qualifier": "ZZ", "id": "SITESTUFFP2P"}},
    "dropship": {"isa": {"qualifier": "ZZ", "id": "ANOTHERMERCH"}, "version": "005010"},
}
TAKEN = ["nodex12_vics.edi", "nodex12_two_interchanges.edi", "oop_aojuk.txt", "stedi_005010_dropship.edi"]


def write_setup(root: Path, connector: dict[str, Any] | None = None) -> Path:
    (root / "connectors").mkdir(parents=True)
    (root / "partners").mkdir()
    for partner_id, extra in PARTNERS.items():
        profile = {
            "id": partner_id,
            "name": partner_id.title(),
            "us": {"qualifier": "ZZ", "id": "ORDERHUB"},
            "gs": {"partner_id": extra["isa"]["id"], "our_id": "ORDERHUB"},
            "control_numbers": {"interchange_start": 1000},
            **extra,
        }
        (root / "partners" / f"{partner_id}.yaml").write_text(yaml.safe_dump(profile), encoding="utf-8")
    settings = {
        "name": "edi",
        "kind": "x12-folder",
        "inbox": "../edi/in",
        "archive": "../edi/archive",
        "error": "../edi/error",
        "outbox": "../edi/out",
        "poll_interval": 1,
        **(connector or {}),
    }
    (root / "connectors" / "edi.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    config = root / "orderhub.yaml"
    config.write_text("data_dir: ./var\nconnectors_dir: ./connectors\npartners_dir: ./partners\n", encoding="utf-8")
    return config


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    hub = Hub(load_config(write_setup(tmp_path)))
    await hub.start(stages=False, connectors=False)
    for sub in ("in", "archive", "error", "out"):
        (tmp_path / "edi" / sub).mkdir(parents=True, exist_ok=True)
    try:
        yield hub
    finally:
        await hub.stop()


def edi(hub: Hub) -> X12FolderConnector:
    connector = hub.connectors["edi"]
    assert isinstance(connector, X12FolderConnector)
    return connector


def drop(connector: X12FolderConnector, name: str, body: bytes, settled: bool = True) -> Path:
    path = connector.folder("inbox") / name
    path.write_bytes(body)
    if settled:
        past = time.time() - 60
        os.utime(path, (past, past))
    return path


def copy_in(connector: X12FolderConnector, corpus: Path, name: str) -> bytes:
    body = (corpus / "x12" / "850" / name).read_bytes()
    drop(connector, name, body)
    return body


async def stored(hub: Hub) -> list[StoredRaw]:
    count = await hub.db.read(lambda c: c.execute("SELECT max(id) FROM raw_receipts").fetchone()[0])
    return await hub.store.load_raw(range(1, (count or 0) + 1))


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


async def test_corpus_files_are_stored_byte_for_byte_then_archived(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    bodies = {name: copy_in(connector, corpus, name) for name in TAKEN}
    assert await connector.scan_once() == len(TAKEN)

    assert names(connector.folder("inbox")) == []
    assert names(connector.folder("error")) == []
    archived = names(connector.folder("archive"))
    assert len(archived) == len(TAKEN)
    raws = await stored(hub)
    assert len(raws) == len(TAKEN)
    partner_of = {"nodex12_vics.edi": "vics-buyer", "nodex12_two_interchanges.edi": "vics-buyer"}
    partner_of |= {"oop_aojuk.txt": "aojuk", "stedi_005010_dropship.edi": "dropship"}
    for raw in raws:
        name = raw.headers["filename"]
        assert raw.body == bodies[name]
        assert (raw.connector, raw.channel, raw.transport, raw.state) == ("edi", "x12", "file", "pending")
        assert raw.headers["partner"] == partner_of[name]
        assert connector.account_for(raw) == partner_of[name]
        assert "x12_error" not in raw.headers
        assert f"{raw.receipt:08d}-{name}" in archived
        assert (connector.folder("archive") / f"{raw.receipt:08d}-{name}").read_bytes() == bodies[name]
    two = next(raw for raw in raws if raw.headers["filename"] == "nodex12_two_interchanges.edi")
    assert two.headers["sender"] == "12:4405197800"
    assert two.headers["interchange_control_numbers"] == "000003438,000003438"


async def test_files_still_being_written_are_left_alone(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    body = (corpus / "x12" / "850" / "oop_aojuk.txt").read_bytes()
    drop(connector, "upload.edi.part", body)
    drop(connector, ".upload.edi", body)
    fresh = drop(connector, "fresh.edi", body, settled=False)
    assert await connector.scan_once() == 0
    assert names(connector.folder("inbox")) == [".upload.edi", "fresh.edi", "upload.edi.part"]
    assert await stored(hub) == []

    past = time.time() - 60
    os.utime(fresh, (past, past))  # the writer is done with it now
    assert await connector.scan_once() == 1
    assert names(connector.folder("inbox")) == [".upload.edi", "upload.edi.part"]


async def test_an_unknown_sender_is_quarantined_and_not_ingested(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    body = copy_in(connector, corpus, "gozer_walmart_vics.txt")  # ZZ:ABCDEFGHIJKLMNO has no profile
    assert await connector.scan_once() == 1

    assert names(connector.folder("inbox")) == []
    assert names(connector.folder("archive")) == []
    assert names(connector.folder("error")) == ["gozer_walmart_vics.txt", "gozer_walmart_vics.txt.error.txt"]
    assert (connector.folder("error") / "gozer_walmart_vics.txt").read_bytes() == body
    report = (connector.folder("error") / "gozer_walmart_vics.txt.error.txt").read_text(encoding="utf-8")
    assert report.startswith(
        "unknown sender ZZ:ABCDEFGHIJKLMNO; add a partner profile with isa: {qualifier: ZZ, id: ABCDEFGHIJKLMNO}\n"
    )
    assert await stored(hub) == []
    assert names(connector.folder("outbox")) == []

    # the same name quarantined twice keeps both files
    copy_in(connector, corpus, "gozer_walmart_vics.txt")
    assert await connector.scan_once() == 1
    assert "gozer_walmart_vics.1.txt" in names(connector.folder("error"))


async def test_a_partner_this_connector_does_not_serve_is_quarantined(tmp_path: Path, corpus: Path) -> None:
    hub = Hub(load_config(write_setup(tmp_path, {"partners": ["vics-buyer"]})))
    await hub.start(stages=False, connectors=False)
    try:
        connector = edi(hub)
        connector.folder("inbox").mkdir(parents=True)
        copy_in(connector, corpus, "oop_aojuk.txt")
        copy_in(connector, corpus, "nodex12_vics.edi")
        assert await connector.scan_once() == 2
        report = (connector.folder("error") / "oop_aojuk.txt.error.txt").read_text(encoding="utf-8")
        assert "sender ZZ:SITESTUFFP2P is the partner 'aojuk', which connector 'edi' does not serve" in report
        assert [raw.headers["partner"] for raw in await stored(hub)] == ["vics-buyer"]
    finally:
        await hub.stop()


async def test_a_file_that_does_not_parse_is_kept_reported_and_rejected_with_a_ta1(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    whole = (corpus / "x12" / "850" / "nodex12_vics.edi").read_bytes()
    body = whole[: whole.index(b"IEA*")]  # cut off before the interchange trailer
    drop(connector, "cut.edi", body)
    assert await connector.scan_once() == 1

    (raw,) = await stored(hub)
    assert raw.body == body  # nothing received is lost
    assert raw.headers["partner"] == "vics-buyer"
    assert "IEA missing" in raw.headers["x12_error"]
    with pytest.raises(NotAnOrder, match=r"cut\.edi: not a readable X12 file: IEA missing"):
        connector.mapping_for(raw)

    target = f"{raw.receipt:08d}-cut.edi"
    assert names(connector.folder("inbox")) == []
    assert names(connector.folder("archive")) == []
    assert names(connector.folder("error")) == [target, f"{target}.error.txt"]
    report = (connector.folder("error") / f"{target}.error.txt").read_text(encoding="utf-8").splitlines()
    assert report[0].startswith("cut.edi: not a readable X12 file: IEA missing at the end of the file")
    segments = body.count(b"~")
    assert f"segment: {segments} (GE)" in report
    assert any(line.startswith("line: ") for line in report)
    assert "X12 code: TA1 023" in report
    assert f"The bytes are kept as sha256:{raw.sha256} (receipt {raw.receipt}); " in report[-2]
    assert report[-1] == "A TA1 rejection (note code 023) was written to the outbox as vics-buyer-TA1-000001000.x12."

    assert names(connector.folder("outbox")) == ["vics-buyer-TA1-000001000.x12"]
    (reply,) = parse((connector.folder("outbox") / "vics-buyer-TA1-000001000.x12").read_bytes()).interchanges
    assert (reply.sender_qualifier, reply.sender_id, reply.receiver_qualifier, reply.receiver_id) == (
        "ZZ",
        "ORDERHUB",
        "12",
        "4405197800",
    )
    assert reply.control_number == "000001000"  # the profile's interchange_start, from the store
    assert reply.groups == []
    (ta1,) = reply.other
    assert ta1.tag == "TA1"
    assert (ta1.element(1), ta1.element(4), ta1.element(5)) == ("000003438", "R", "023")

    # the next TA1 takes the next number: allocated in the store, never reused
    drop(connector, "cut-again.edi", body)
    assert await connector.scan_once() == 1
    assert "vics-buyer-TA1-000001001.x12" in names(connector.folder("outbox"))


async def test_an_unreadable_file_without_a_sender_is_kept_and_reported(hub: Hub) -> None:
    connector = edi(hub)
    drop(connector, "notes.txt", b"this is not X12 at all\n")
    assert await connector.scan_once() == 1
    (raw,) = await stored(hub)
    assert raw.body == b"this is not X12 at all\n"
    assert "partner" not in raw.headers
    report = (connector.folder("error") / f"{raw.receipt:08d}-notes.txt.error.txt").read_text(encoding="utf-8")
    assert report.startswith("notes.txt: not a readable X12 file: expected an ISA segment")
    assert names(connector.folder("outbox")) == []


async def test_the_file_stays_in_the_inbox_when_the_store_cannot_write(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    copy_in(connector, corpus, "oop_aojuk.txt")
    await hub.store.close()
    with pytest.raises(StoreUnavailable):
        await connector.scan_once()
    assert names(connector.folder("inbox")) == ["oop_aojuk.txt"]
    assert names(connector.folder("archive")) == []
    assert names(connector.folder("error")) == []


async def test_outbound_files_appear_whole(hub: Hub) -> None:
    connector = edi(hub)
    path = connector.write_outbound("acme-997-000000001.x12", b"ISA*...~IEA*1*000000001~")
    assert path == connector.folder("outbox") / "acme-997-000000001.x12"
    assert path.read_bytes() == b"ISA*...~IEA*1*000000001~"
    assert names(connector.folder("outbox")) == ["acme-997-000000001.x12"]  # no temporary left behind
    for bad in ("", "../escape.x12", "sub/dir.x12", ".hidden"):
        with pytest.raises(ValueError):
            connector.write_outbound(bad, b"x")


def test_settings_are_checked_against_the_partner_profiles(tmp_path: Path) -> None:
    config = write_setup(tmp_path, {"partners": ["vics-buyer", "nobody"]})
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(config))
    file = tmp_path / "connectors" / "edi.yaml"
    line = file.read_text(encoding="utf-8").splitlines().index("partners:") + 3  # the second entry
    assert [str(e) for e in caught.value.errors] == [f"{file}:{line}: partners.1: no partner profile with id 'nobody'"]
    shutil.rmtree(tmp_path / "connectors")
    config = write_setup(tmp_path / "again", {"account": "acme"})
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(config))
    (error,) = caught.value.errors
    assert error.field == "account" and "partner profile id" in error.message


def test_broken_partner_files_stop_start_up(tmp_path: Path) -> None:
    config = write_setup(tmp_path)
    (tmp_path / "partners" / "aojuk.yaml").write_text("id: aojuk\nname: A\n", encoding="utf-8")
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(config))
    assert any(str(e).startswith(f"{tmp_path / 'partners' / 'aojuk.yaml'}:1: isa: ") for e in caught.value.errors)


async def test_envelope_mismatches_are_logged_and_still_ingested(hub: Hub, corpus: Path) -> None:
    connector = edi(hub)
    copy_in(connector, corpus, "oop_aojuk.txt")  # addressed to ZZ:SUPPLIERID, not ZZ:ORDERHUB
    with structlog.testing.capture_logs() as logs:
        assert await connector.scan_once() == 1
    (receiver,) = [e for e in logs if e["event"] == "x12 interchange addressed to another receiver"]
    assert (receiver["partner"], receiver["expected"]) == ("aojuk", "ZZ:ORDERHUB")
    assert receiver["receiver"] != "ZZ:ORDERHUB"
    assert len(await stored(hub)) == 1


def test_the_other_folders_may_not_be_the_inbox(tmp_path: Path) -> None:
    config = write_setup(tmp_path, {"archive": "../edi/./in"})
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(config))
    (error,) = caught.value.errors
    assert (error.field, error.message) == (
        "archive",
        "Value error, must not be the inbox: every file there is taken in",
    )


async def test_the_running_daemon_loop_takes_files_in(tmp_path: Path, corpus: Path) -> None:
    hub = Hub(load_config(write_setup(tmp_path, {"poll_interval": 0.05})))
    await hub.start(stages=False, connectors=True)
    try:
        connector = edi(hub)
        inbox, archive = connector.folder("inbox"), connector.folder("archive")
        for _ in range(500):  # the loop creates its folders first
            if inbox.is_dir():
                break
            await asyncio.sleep(0.01)
        body = copy_in(connector, corpus, "nodex12_vics.edi")
        for _ in range(500):
            if names(archive):
                break
            await asyncio.sleep(0.01)
        (archived,) = names(archive)
        assert (archive / archived).read_bytes() == body
        assert names(inbox) == []
    finally:
        await hub.stop()
