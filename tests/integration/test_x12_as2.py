"""The `x12-as2` connector through the whole hub over real HTTP: a trading partner simulated with
pyas2lib sends a signed, encrypted corpus 850 to `POST /as2/{connector}`; the hub stores it raw,
answers with a signed MDN whose MIC matches, makes the order under the partner's account and sends
the 997 back over AS2 to the partner's own AS2 endpoint (an aiohttp server in this test that decrypts,
verifies and answers with a signed MDN). Keys and certificates are generated for each test run."""

from __future__ import annotations

import asyncio
import datetime
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from orderhub.connectors import _as2lib
from orderhub.connectors._as2_messages import MdnNotPositive, raw_message
from orderhub.connectors.x12_as2 import X12As2Connector
from orderhub.service.config import ConfigErrors, load_config
from orderhub.service.http import make_app
from orderhub.service.hub import Hub
from tests.integration.test_x12_exchange import wait_for
from tests.integration.test_x12_folder import write_setup

pytestmark = pytest.mark.corpus

HUB_AS2 = "ORDERHUB-AS2"
PARTNER_AS2 = "SITESTUFF"
AOJUK = "x12/850/oop_aojuk.txt"  # from ZZ:SITESTUFFP2P (the `aojuk` profile), PO 6190


@dataclass(frozen=True)
class KeyPair:
    key: bytes  # PEM, unencrypted: generated for this test run only
    certificate: bytes


def key_pair(common_name: str) -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return KeyPair(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
        certificate.public_bytes(serialization.Encoding.PEM),
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, KeyPair]:
    return {"hub": key_pair(HUB_AS2), "partner": key_pair(PARTNER_AS2), "impostor": key_pair(PARTNER_AS2)}


@dataclass
class TradingPartner:
    """The partner's side of the AS2 relationship, with pyas2lib: sends 850s, receives our documents."""

    keys: dict[str, KeyPair]
    received: list[bytes] = field(default_factory=list)  # payloads of the messages the hub sent us
    refuse: bool = False  # answer the hub's messages with a negative MDN
    unavailable: int = 0  # answer this many of the hub's next messages with HTTP 503
    attempts: int = 0  # messages the hub posted to us
    mdns: list[bytes] = field(default_factory=list)  # asynchronous MDNs the hub posted to us
    posted: list[int] = field(default_factory=list)  # what the hub answered our asynchronous MDNs
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    def organization(self, pair: str = "partner", mdn_url: str | None = None) -> Any:
        as2 = _as2lib.load()
        both = self.keys[pair].key + self.keys[pair].certificate
        return as2.Organization(as2_name=PARTNER_AS2, sign_key=both, decrypt_key=both, mdn_url=mdn_url)

    def hub_side(self, mdn_mode: str = "SYNC", secured: bool = True) -> Any:
        as2 = _as2lib.load()
        cert = self.keys["hub"].certificate
        return as2.Partner(
            as2_name=HUB_AS2,
            verify_cert=cert,
            encrypt_cert=cert,
            sign=secured,
            encrypt=secured,
            compress=True,
            enc_alg="aes_256_cbc",
            mdn_mode=mdn_mode,
            mdn_digest_alg="sha256",
        )

    def build(
        self,
        data: bytes,
        pair: str = "partner",
        message_id: str | None = None,
        content_type: str = "application/edi-x12",
        async_mdn_url: str | None = None,
        secured: bool = True,
    ) -> Any:
        """A signed, compressed, encrypted message. A text type is sent with CRLF line ends (MIME
        canonical form), so a file with bare LFs arrives byte for byte only as application/octet-stream."""
        as2 = _as2lib.load()
        hub_side = self.hub_side("ASYNC" if async_mdn_url else "SYNC", secured)
        message = as2.Message(self.organization(pair, async_mdn_url), hub_side)
        message.build(data, filename="po-6190.edi", content_type=content_type, message_id=message_id)
        return message

    async def handle(self, request: web.Request) -> web.Response:
        as2 = _as2lib.load()
        self.attempts += 1
        if self.unavailable > 0:
            self.unavailable -= 1
            return web.Response(status=503, text="busy", headers={"Retry-After": "0"})
        raw = raw_message(request.headers.items(), await request.read())
        message = as2.Message()
        org, hub = self.organization(), self.hub_side()
        status, (error, _), mdn = message.parse(raw, find_org_partner_cb=lambda _to, _from: (org, hub))
        if error is None and status == "processed":
            self.received.append(message.content)
        if self.refuse:
            mdn = as2.Mdn(mdn_mode="SYNC", digest_alg="sha256")
            mdn.build(message=message, status="processed/Error", detailed_status="unexpected-processing-error")
        if mdn.mdn_mode == "ASYNC":  # answered now, the MDN posted to the hub's address afterwards
            task = asyncio.create_task(self._post_mdn(mdn))
            self.tasks.add(task)
            return web.Response(text="received")
        return web.Response(body=mdn.content, headers=dict(mdn.headers))

    async def _post_mdn(self, mdn: Any) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(mdn.mdn_url, headers=dict(mdn.headers), content=mdn.content)
        self.posted.append(response.status_code)

    async def take_mdn(self, request: web.Request) -> web.Response:
        self.mdns.append(raw_message(request.headers.items(), await request.read()))
        return web.Response(text="ok")


def check_mdn(sent: Any, response: httpx.Response) -> tuple[str, str | None]:
    as2 = _as2lib.load()
    answer = raw_message(response.headers.multi_items(), response.content)
    status, detail = as2.Mdn().parse(answer, find_message_cb=lambda mid, _: sent if mid == sent.message_id else None)
    return str(status), detail


@pytest.fixture
async def partner(keys: dict[str, KeyPair]) -> AsyncIterator[tuple[TradingPartner, str]]:
    trading = TradingPartner(keys)
    app = web.Application()
    app.router.add_post("/as2", trading.handle)
    app.router.add_post("/mdn", trading.take_mdn)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield trading, str(server.make_url("/as2"))
    finally:
        await server.close()
        for task in trading.tasks:
            task.cancel()


def write_as2_setup(root: Path, keys: dict[str, KeyPair], partner_url: str, **extra: Any) -> Path:
    config = write_setup(root)
    (root / "keys").mkdir()
    (root / "keys" / "hub.key.pem").write_bytes(keys["hub"].key)
    (root / "keys" / "hub.cert.pem").write_bytes(keys["hub"].certificate)
    (root / "keys" / "partner.cert.pem").write_bytes(keys["partner"].certificate)
    settings = {
        "name": "as2-aojuk",
        "kind": "x12-as2",
        "as2_id": HUB_AS2,
        "private_key": "../keys/hub.key.pem",
        "certificate": "../keys/hub.cert.pem",
        "partner_as2_id": PARTNER_AS2,
        "partner_certificate": "../keys/partner.cert.pem",
        "partner_url": partner_url,
        "compress": True,
        "partners": ["aojuk"],
        "timeout": 10,
        **extra,
    }
    (root / "connectors" / "as2-aojuk.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return config


@dataclass
class Running:
    hub: Hub
    url: str
    client: httpx.AsyncClient

    async def post(self, message: Any, connector: str = "as2-aojuk") -> httpx.Response:
        return await self.client.post(
            f"{self.url}/as2/{connector}", headers=dict(message.headers), content=message.content
        )

    async def raws(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        rows = await self.hub.db.read(lambda c: c.execute("SELECT id FROM raw_receipts ORDER BY id").fetchall())
        stored = await self.hub.store.load_raw([row[0] for row in rows])
        return [(raw.transport, raw.state, raw.headers, raw.body) for raw in sorted(stored, key=lambda r: r.receipt)]

    async def rejected(self) -> list[tuple[str, str]]:
        return await self.hub.db.read(lambda c: c.execute("SELECT connector, reason FROM rejected_attempts").fetchall())


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def connector_settings() -> dict[str, Any]:
    """Connector settings a test changes by parametrizing this; `{hub}` is the hub's address."""
    return {}


@pytest.fixture
async def running(
    connector_settings: dict[str, Any], tmp_path: Path, keys: dict[str, KeyPair], partner: tuple[TradingPartner, str]
) -> AsyncIterator[Running]:
    port = free_port()
    hub_url = f"http://127.0.0.1:{port}"
    extra = {
        key: value.format(hub=hub_url) if isinstance(value, str) else value for key, value in connector_settings.items()
    }
    config = load_config(write_as2_setup(tmp_path, keys, partner[1], **extra))
    hub = Hub(config.model_copy(update={"normalize_workers": 0}))
    await hub.start()
    server = TestServer(make_app(hub), host="127.0.0.1", port=port)
    await server.start_server()
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            yield Running(hub, f"http://127.0.0.1:{port}", client)
    finally:
        await server.close()
        await hub.stop()


async def test_an_850_is_stored_answered_with_a_signed_mdn_ordered_and_acknowledged_over_as2(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    body = (corpus / AOJUK).read_bytes()
    sent = trading.build(body)
    response = await running.post(sent)

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("multipart/signed")
    assert response.headers["AS2-From"] == HUB_AS2 and response.headers["AS2-To"] == PARTNER_AS2
    assert f"Received-content-MIC: {sent.mic.decode()}, sha256" in response.text
    assert check_mdn(sent, response) == ("processed", None)  # signature verified, MIC compared

    [(transport, _state, headers, stored)] = await running.raws()
    assert (transport, stored) == ("as2", body)  # the decrypted X12, byte for byte
    assert headers["as2_message_id"] == f"<{sent.message_id}>"
    assert (headers["as2_as2_from"], headers["as2_as2_to"]) == (PARTNER_AS2, HUB_AS2)
    assert headers["as2_mic"] == f"{sent.mic.decode()}, sha256"
    assert (headers["partner"], headers["filename"], headers["sender"]) == ("aojuk", "po-6190.edi", "ZZ:SITESTUFFP2P")

    async def ordered() -> bool:
        return await running.hub.store.get_order("aojuk:6190") is not None

    async def acknowledged() -> bool:
        return len(trading.received) == 1

    await wait_for(ordered, "the order")
    order = await running.hub.store.get_order("aojuk:6190")
    assert order is not None and order["source"]["account"] == "aojuk"
    assert order["source"]["connector"] == "as2-aojuk"
    await wait_for(acknowledged, "the 997 over AS2")
    segments = [s.strip() for s in trading.received[0].decode().split("~")]
    assert segments[0].startswith("ISA*00*          *00*          *ZZ*SUPPLIERID     *ZZ*SITESTUFFP2P   *")
    assert "ST*997*0001" in segments
    assert "AK1*PO*83" in segments


async def test_a_message_signed_with_another_key_is_refused_and_not_stored(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    forged = trading.build((corpus / AOJUK).read_bytes(), pair="impostor")
    response = await running.post(forged)

    assert response.status_code == 200  # AS2 answers a failed message with a negative MDN
    status, detail = check_mdn(forged, response)
    assert status == "processed/Error"
    assert detail == "authentication-failed"
    assert await running.raws() == []
    [(connector, reason)] = await running.rejected()
    assert connector == "as2-aojuk"
    assert reason.startswith("authentication-failed")
    assert await running.hub.store.list_orders() == []


async def test_a_message_neither_signed_nor_encrypted_is_refused(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    plain = trading.build((corpus / AOJUK).read_bytes(), secured=False)
    response = await running.post(plain)
    assert check_mdn(plain, response) == ("processed/Error", "insufficient-message-security")
    assert await running.raws() == []
    assert [reason.split(":")[0] for _, reason in await running.rejected()] == ["insufficient-message-security"]


async def test_a_message_sent_twice_is_stored_once_answered_twice_and_makes_one_order(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    sent = trading.build((corpus / AOJUK).read_bytes(), message_id="po-6190-first-try")
    first = await running.post(sent)
    again = await running.post(sent)  # the partner did not get our MDN and sends the same message

    assert check_mdn(sent, first) == ("processed", None)
    assert check_mdn(sent, again) == ("processed", None)
    assert [state for _, state, _, _ in await running.raws()][1] == "duplicate"

    async def ordered() -> bool:
        return await running.hub.store.get_order("aojuk:6190") is not None

    await wait_for(ordered, "the order")
    orders = await running.hub.store.list_orders()
    assert [order.id for order in orders] == ["aojuk:6190"]
    assert [entry.event for entry in await running.hub.store.timeline("aojuk:6190")] == ["created"]


async def test_an_unknown_isa_sender_is_kept_but_makes_no_order(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    body = (corpus / "x12/850/gozer_walmart_vics.txt").read_bytes()  # ZZ:ABCDEFGHIJKLMNO has no profile
    sent = trading.build(body, content_type="application/octet-stream")
    response = await running.post(sent)
    assert check_mdn(sent, response) == ("processed", None)  # the AS2 transfer itself succeeded

    async def judged() -> bool:
        return [state for _, state, _, _ in await running.raws()] == ["failed"]

    await wait_for(judged, "the quarantine")
    [(_, _, headers, stored)] = await running.raws()
    assert stored == body and "partner" not in headers
    assert headers["quarantine"].startswith("unknown sender ZZ:ABCDEFGHIJKLMNO; add a partner profile")
    assert "ask the partner to send it again" in headers["quarantine"]
    assert await running.hub.store.list_orders() == []

    # sent again (once the profile exists): taken as new, not as a duplicate of the quarantined one
    assert check_mdn(sent, await running.post(sent)) == ("processed", None)
    assert [state for _, state, _, _ in await running.raws()][1] != "duplicate"


async def test_the_route_answers_only_post_for_as2_connectors(running: Running) -> None:
    assert (await running.client.get(f"{running.url}/as2/as2-aojuk")).status_code == 405
    assert (await running.client.post(f"{running.url}/as2/nobody", content=b"x")).status_code == 404
    assert (await running.client.post(f"{running.url}/as2/edi", content=b"x")).status_code == 404  # x12-folder
    not_as2 = await running.client.post(f"{running.url}/as2/as2-aojuk", content=b"ISA*00*~")
    assert not_as2.status_code == 400
    assert await running.raws() == []


async def test_a_message_for_another_relationship_is_refused(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    sent = trading.build((corpus / AOJUK).read_bytes())
    headers = dict(sent.headers) | {"AS2-From": "SOMEONE-ELSE"}
    response = await running.client.post(f"{running.url}/as2/as2-aojuk", headers=headers, content=sent.content)
    assert response.status_code == 403
    assert await running.raws() == []
    assert len(await running.rejected()) == 1


async def test_a_store_that_cannot_write_answers_503(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    await running.hub.store.close()
    response = await running.post(trading.build((corpus / AOJUK).read_bytes()))
    assert response.status_code == 503  # the partner's AS2 software sends it again


async def test_sending_raises_when_the_partner_answers_a_negative_mdn(
    running: Running, partner: tuple[TradingPartner, str]
) -> None:
    trading, _ = partner
    connector = running.hub.connectors["as2-aojuk"]
    assert isinstance(connector, X12As2Connector)
    document = b"ISA*00*          *00*          *ZZ*ORDERHUB*ZZ*SITESTUFFP2P~IEA*0*000000001~"
    assert (await connector.deliver("aojuk-test.x12", document)).startswith("aojuk-test.x12.")
    assert trading.received == [document]

    trading.refuse = True
    with pytest.raises(MdnNotPositive, match="processed/Error: unexpected-processing-error"):
        await connector.deliver("aojuk-test-2.x12", document)


async def test_sending_raises_when_the_answer_is_not_an_mdn(running: Running, keys: dict[str, KeyPair]) -> None:
    async def not_an_mdn(_request: web.Request) -> web.Response:
        return web.Response(text="OK")

    app = web.Application()
    app.router.add_post("/as2", not_an_mdn)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        connector = running.hub.connectors["as2-aojuk"]
        assert isinstance(connector, X12As2Connector)
        connector.settings = connector.settings.model_copy(update={"partner_url": str(server.make_url("/as2"))})
        with pytest.raises(MdnNotPositive):
            await connector.deliver("aojuk-test.x12", b"ISA*~")
    finally:
        await server.close()


def test_unreadable_keys_stop_start_up(tmp_path: Path, keys: dict[str, KeyPair]) -> None:
    config = write_as2_setup(tmp_path, keys, "https://as2.example.com/as2")
    (tmp_path / "keys" / "hub.key.pem").write_bytes(b"-----BEGIN PRIVATE KEY-----\nnot a key\n")
    with pytest.raises(ConfigErrors) as caught:
        Hub(load_config(config))
    assert "as2-aojuk.yaml" in str(caught.value)
    assert "our private key and certificate cannot be used" in str(caught.value)


def test_asynchronous_mdns_need_our_mdn_url(tmp_path: Path, keys: dict[str, KeyPair]) -> None:
    config = write_as2_setup(tmp_path, keys, "https://as2.example.com/as2", mdn_mode="async")
    with pytest.raises(ConfigErrors, match="mdn_mode async needs mdn_url"):
        Hub(load_config(config))


async def test_a_partner_asking_for_an_asynchronous_mdn_gets_it_posted_after_the_answer(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, url = partner
    mdn_url = url.replace("/as2", "/mdn")
    sent = trading.build((corpus / AOJUK).read_bytes(), async_mdn_url=mdn_url)
    response = await running.post(sent)
    assert response.status_code == 200
    assert len(await running.raws()) == 1  # stored before the answer

    async def posted() -> bool:
        return len(trading.mdns) == 1

    await wait_for(posted, "the asynchronous MDN")
    status, detail = _as2lib.load().Mdn().parse(trading.mdns[0], find_message_cb=lambda mid, _: sent)
    assert (status, detail) == ("processed", None)


@pytest.mark.parametrize("connector_settings", [{"mdn_mode": "async", "mdn_url": "{hub}/as2/as2-aojuk"}])
async def test_an_asynchronous_mdn_for_what_we_sent_is_verified_when_it_arrives(
    running: Running, partner: tuple[TradingPartner, str]
) -> None:
    trading, _ = partner
    connector = running.hub.connectors["as2-aojuk"]
    assert isinstance(connector, X12As2Connector)
    message_id = await connector.deliver("aojuk-async.x12", b"ISA*00*~IEA*0*000000001~")
    assert trading.received == [b"ISA*00*~IEA*0*000000001~"]

    async def settled() -> bool:
        value = await running.hub.store.get_checkpoint("as2-aojuk", f"mdn:{message_id}")
        return value is not None and '"mdn":"awaited"' not in value

    await wait_for(settled, "the asynchronous MDN")
    assert trading.posted == [200]
    value = await running.hub.store.get_checkpoint("as2-aojuk", f"mdn:{message_id}")
    assert value is not None and '"mdn":"delivered"' in value and '"disposition":"processed"' in value
    assert await running.raws() == []  # an MDN is not a payload


@pytest.mark.parametrize("connector_settings", [{"partners": ["aojuk", "vics-buyer"]}])
async def test_an_interchange_that_does_not_parse_is_kept_and_rejected_with_a_ta1_over_as2(
    running: Running, partner: tuple[TradingPartner, str], corpus: Path
) -> None:
    trading, _ = partner
    whole = (corpus / "x12/850/nodex12_vics.edi").read_bytes()  # vics-buyer asks for TA1s
    body = whole[: whole.index(b"IEA*")]  # cut off before the interchange trailer
    sent = trading.build(body, content_type="application/octet-stream")
    assert check_mdn(sent, await running.post(sent)) == ("processed", None)

    [(_, _, headers, stored)] = await running.raws()
    assert stored == body and headers["partner"] == "vics-buyer"
    assert "IEA missing" in headers["x12_error"]

    async def rejected() -> bool:
        return len(trading.received) == 1

    await wait_for(rejected, "the TA1 over AS2")
    segments = [s.strip() for s in trading.received[0].decode().split("~")]
    assert segments[1].startswith("TA1*000003438*101127*1719*R*")
    assert await running.hub.store.list_orders() == []


async def test_sending_retries_a_partner_that_is_briefly_unavailable(
    running: Running, partner: tuple[TradingPartner, str]
) -> None:
    trading, _ = partner
    trading.unavailable = 2
    connector = running.hub.connectors["as2-aojuk"]
    assert isinstance(connector, X12As2Connector)
    document = b"ISA*00*~IEA*0*000000002~"
    await connector.deliver("aojuk-retried.x12", document)
    assert (trading.attempts, trading.received) == (3, [document])  # one message, posted three times
