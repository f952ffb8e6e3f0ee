"""An EDI partner's 850 through the whole hub: stored, orders made under the partner's account, and
the 997 queued in the same unit of work and written to the outbox; a re-sent interchange is
acknowledged again and makes no second order. Real corpus files, real store, real stages."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from orderhub.service.config import load_config
from orderhub.service.hub import Hub
from tests.integration.test_x12_folder import drop, edi, write_setup

pytestmark = pytest.mark.corpus


@pytest.fixture
async def hub(tmp_path: Path) -> AsyncIterator[Hub]:
    setup = write_setup(tmp_path)
    # the sender of gozer's VICS sample, a file whose set fails validation
    (tmp_path / "partners" / "gozer.yaml").write_text(
        "id: gozer\nname: Gozer\nisa: {qualifier: ZZ, id: ABCDEFGHIJKLMNO}\nus: {qualifier: ZZ, id: ORDERHUB}\n"
        "gs: {partner_id: '4405197800', our_id: ORDERHUB}\n",
        encoding="utf-8",
    )
    # Adobe's sample: a SPACE segment terminator
    (tmp_path / "partners" / "adobe.yaml").write_text(
        "id: adobe\nname: Adobe\nisa: {qualifier: ZZ, id: PARTNER}\nus: {qualifier: ZZ, id: ORDERHUB}\n"
        "gs: {partner_id: PARTNER, our_id: ORDERHUB}\n",
        encoding="utf-8",
    )
    config = load_config(setup).model_copy(update={"normalize_workers": 0})
    hub = Hub(config)
    for sub in ("in", "archive", "error", "out"):
        (tmp_path / "edi" / sub).mkdir(parents=True, exist_ok=True)
    await hub.start()
    try:
        yield hub
    finally:
        await hub.stop()


async def wait_for(check: object, what: str, seconds: float = 15.0) -> None:
    assert callable(check)
    for _ in range(int(seconds / 0.05)):
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what} did not happen within {seconds} s")


def outbox(hub: Hub) -> list[Path]:
    return sorted(edi(hub).folder("outbox").glob("*.x12"))


async def test_an_850_becomes_an_order_of_the_partner_and_gets_its_997(hub: Hub, corpus: Path) -> None:
    body = (corpus / "x12/850/nodex12_vics.edi").read_bytes()
    drop(edi(hub), "po-1.edi", body)

    async def ordered() -> bool:
        return await hub.store.get_order("vics-buyer:08292233294") is not None

    async def acknowledged() -> bool:
        return len(outbox(hub)) == 1

    await wait_for(ordered, "the order")
    await wait_for(acknowledged, "the 997")
    order = await hub.store.get_order("vics-buyer:08292233294")
    assert order is not None
    assert order["source"]["account"] == "vics-buyer"
    assert order["totals"]["grand_total"] == {"amount": "13045.94", "currency": "USD"}
    [ack] = outbox(hub)
    segments = ack.read_text().strip().split("~")
    assert segments[0].startswith("ISA*00*          *00*          *01*999999999      *12*4405197800     *")
    assert segments[0].endswith("*U*00401*000001000*0*P*>")  # our first number: interchange_start 1000
    assert segments[1:3] == [
        "TA1*000003438*101127*1719*A*000",
        "GS*FA*999999999*4405197800*" + segments[2].split("*", 4)[4],
    ]
    assert [s.strip() for s in segments[3:11]] == [
        "ST*997*0001",
        "AK1*PO*1421",
        "AK2*850*000000010",
        "AK5*A",
        "AK9*A*1*1*1",
        "SE*6*0001",
        "GE*1*1",
        "IEA*1*000001000",
    ]

    # the partner sends the same interchange again: acknowledged again, no second order or revision
    drop(edi(hub), "po-1-again.edi", body)

    async def acknowledged_twice() -> bool:
        return len(outbox(hub)) == 2

    await wait_for(acknowledged_twice, "the second 997")
    second = next(path for path in outbox(hub) if path != ack).read_text()
    assert "*000001001*0*P*>" in second  # a new control number of ours, never reused
    again = await hub.store.get_order("vics-buyer:08292233294")
    assert again is not None and again["revision"] == 1
    timeline = [entry.event for entry in await hub.store.timeline("vics-buyer:08292233294")]
    assert timeline == ["created"]


async def test_a_rejected_set_is_reported_in_the_997_and_makes_no_order(hub: Hub, corpus: Path) -> None:
    # gozer's sample: SE01 says 33 segments, the set has 21
    body = (corpus / "x12/850/gozer_walmart_vics.txt").read_bytes()
    drop(edi(hub), "po-2.edi", body)

    async def acknowledged() -> bool:
        return len(outbox(hub)) == 1

    await wait_for(acknowledged, "the 997")
    lines = outbox(hub)[0].read_text().splitlines()  # the partner's own terminator (LF) is used
    assert lines[0].startswith("ISA*00*          *00*          *ZZ*123456789012345*ZZ*ABCDEFGHIJKLMNO*")
    assert lines[2:8] == ["ST*997*0001", "AK1*PO*1421", "AK2*850*000000010", "AK5*R*4", "AK9*R*1*1*0", "SE*6*0001"]
    assert await hub.store.list_orders() == []


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orderhub.cli", *args], capture_output=True, text=True, timeout=60, check=False
    )


async def test_855_previewed_then_sent_through_the_partners_folder(hub: Hub, corpus: Path, tmp_path: Path) -> None:
    drop(edi(hub), "po-1.edi", (corpus / "x12/850/nodex12_vics.edi").read_bytes())

    async def acknowledged() -> bool:
        return len(outbox(hub)) == 1

    await wait_for(acknowledged, "the 997")  # interchange 1000 went to the 997
    config = str(tmp_path / "orderhub.yaml")
    decisions = tmp_path / "decisions.json"
    decisions.write_text('[{"line_number": "2", "status": "IB", "quantity": "100"}]')
    shown = await asyncio.to_thread(
        run_cli, "x12", "emit", "855", "vics-buyer:08292233294", str(decisions), "--config", config
    )
    assert shown.returncode == 0, shown.stderr
    segments = shown.stdout.strip().split("~")
    assert segments[0].startswith("ISA*00*          *00*          *ZZ*ORDERHUB       *12*4405197800     *")
    assert segments[0].endswith("*U*00401*000001001*0*P*>")  # the next number after the 997's, previewed
    # the 997 took group numbers 1 and 2 and set number 1: the counters are shared per partner
    assert segments[1].startswith("GS*PR*ORDERHUB*4405197800*") and segments[1].endswith("*3*X*004010")
    assert segments[2:4] == ["ST*855*0002", "BAK*00*AC*08292233294*20101127***610385385**" + segments[3][-8:]]
    assert segments[12:15] == [
        "PID*F****MEDIUM WIDGET",
        "ACK*IB*100*EA",
        "PO1*3*126*EA*10.99*TE*CB*060733-110*PR*RO*VN*XY5266",
    ]
    assert segments[-4:] == ["SE*26*0002", "GE*1*3", "IEA*1*000001001", ""]
    again = await asyncio.to_thread(
        run_cli, "x12", "emit", "855", "vics-buyer:08292233294", str(decisions), "--config", config
    )
    assert "*000001001*" in again.stdout  # a preview consumes nothing

    sent = await asyncio.to_thread(
        run_cli, "x12", "emit", "855", "vics-buyer:08292233294", str(decisions), "--send", "--config", config
    )
    assert sent.returncode == 0, sent.stderr
    assert "queued vics-buyer-855-08292233294-1001.x12" in sent.stderr

    async def delivered() -> bool:
        return (edi(hub).folder("outbox") / "vics-buyer-855-08292233294-1001.x12").exists()

    await wait_for(delivered, "the 855 in the partner's outbox")
    text = (edi(hub).folder("outbox") / "vics-buyer-855-08292233294-1001.x12").read_text()
    assert "*000001001*" in text and "BAK*00*AC*08292233294" in text
    missing = await asyncio.to_thread(run_cli, "x12", "emit", "856", "vics-buyer:08292233294", "--config", config)
    assert missing.returncode == 1 and "needs its shipment record" in missing.stderr


async def test_a_partner_with_a_space_terminator_is_answered_with_standard_delimiters(hub: Hub, corpus: Path) -> None:
    # the blank-padded ISA fields of our answer cannot be written with a SPACE terminator
    drop(edi(hub), "po-3.edi", (corpus / "x12/850/oop_adobe_shrinkwrap_space_term.txt").read_bytes())

    async def acknowledged() -> bool:
        return len(outbox(hub)) == 1

    await wait_for(acknowledged, "the 997")
    text = outbox(hub)[0].read_text()
    assert text.startswith("ISA*00*          *00*          *16*102096559PROD  *ZZ*PARTNER        *")
    assert "~AK1*PO*4569~AK2*850*891325~AK5*A~AK9*A*1*1*1~" in text
    assert await hub.store.get_order("adobe:MH80312") is not None


async def test_the_same_interchange_twice_in_one_file_makes_its_order_and_two_acks(hub: Hub, corpus: Path) -> None:
    drop(edi(hub), "po-4.edi", (corpus / "x12/850/nodex12_two_interchanges.edi").read_bytes())

    async def acknowledged() -> bool:
        return len(outbox(hub)) == 2

    await wait_for(acknowledged, "both 997s")
    assert [path.name for path in outbox(hub)] == ["vics-buyer-ack-000001000.x12", "vics-buyer-ack-000001001.x12"]
    order = await hub.store.get_order("vics-buyer:08292233294")
    assert order is not None and order["revision"] == 1
