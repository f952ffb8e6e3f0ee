"""X12 exchanged with one AS2 trading partner: messages received on `POST /as2/{connector}`, our
acknowledgments and documents sent to the partner's AS2 URL. Needs the `as2` extra (pyas2lib).

Receiving: the message is decrypted, its signature verified and its content decompressed; one that
fails is refused with the partner's negative MDN and only the attempt is recorded. The content is
then stored raw, byte for byte with its AS2 headers, before the partner is answered with the
(signed) MDN carrying the MIC; a store that cannot write answers 503 so the partner's AS2 software
sends the message again. A message received before (same Message-ID and content) is stored as a
duplicate and answered with the MDN again. Then the X12 handling every transport shares: the partner
profile found by the ISA sender, orders and the 997 through the hub. An interchange from a sender
without a profile is kept (the partner was told it arrived) but makes no orders: the normalize stage
puts it in the DLQ with the profile to add, and the partner's next sending of it, once the profile
exists, is taken as new.

Sending: `send_outbound` signs, encrypts and compresses as configured, POSTs with a timeout and
retries (transport errors, 429, 5xx), and verifies the synchronous MDN (signature and MIC). A
negative or missing MDN raises, so the dispatch stage delivers the document again later.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Literal

import httpx
import orjson
import structlog
from pydantic import Field, field_validator, model_validator

from orderhub.connectors import _as2lib
from orderhub.connectors._as2_messages import (
    As2Refused,
    KeyProblem,
    MdnMode,
    MdnNotPositive,
    Peers,
    Relationship,
    build_message,
    check_async_mdn,
    check_mdn,
    mdn_original,
    open_message,
    raw_message,
    unquote,
)
from orderhub.connectors._http import Api, ApiError
from orderhub.connectors._x12_intake import Problem, X12Exchange, X12ExchangeSettings, check_outbound_name
from orderhub.connectors.base import ConnectorSettings, Intake, NotAnOrder, Secret
from orderhub.mapping import Mapping
from orderhub.store.base import RawIn, Receipt, StoredRaw, sha256_hex
from orderhub.x12.partners import PartnerDirectory

log = structlog.get_logger("orderhub.connectors.x12_as2")

Digest = Literal["sha1", "sha256", "sha384", "sha512"]
Encryption = Literal["tripledes_192_cbc", "aes_128_cbc", "aes_192_cbc", "aes_256_cbc"]


class X12As2Settings(X12ExchangeSettings):
    as2_id: str = Field(min_length=1, max_length=128)  # ours: the partner's AS2-To
    private_key: Path  # PEM; our certificate may follow it in the same file
    private_key_password: Secret | None = None
    certificate: Path  # PEM, the one the partner has from us
    partner_as2_id: str = Field(min_length=1, max_length=128)
    partner_certificate: Path  # PEM: verifies their signatures, encrypts what we send them
    partner_ca_certificate: Path | None = None  # PEM chain, when their certificate is not self-signed
    partner_url: str | None = None  # where we send; without it nothing can be sent
    sign: bool = True  # ours signed, and theirs required to be
    encrypt: bool = True  # ours encrypted, and theirs required to be
    compress: bool = False
    digest: Digest = "sha256"
    encryption: Encryption = "aes_256_cbc"
    mdn_mode: MdnMode = "sync"  # the MDN we ask for when sending
    mdn_signed: bool = True
    mdn_url: str | None = None  # ours, for asynchronous MDNs: this connector's /as2/{name} address
    timeout: float = Field(60.0, gt=0)  # seconds, each HTTP call
    attempts: int = Field(4, ge=1, le=20)  # per delivery, before the dispatch stage tries again later

    @field_validator("as2_id", "partner_as2_id")
    @classmethod
    def _printable(cls, value: str) -> str:
        if not value.isprintable() or value != value.strip():
            raise ValueError("an AS2 id is printable text without surrounding spaces")
        return value

    @field_validator("partner_url", "mdn_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @model_validator(mode="after")
    def _usable(self) -> X12As2Settings:
        if self.mdn_mode == "async" and self.mdn_url is None:
            raise ValueError("mdn_mode async needs mdn_url: the address the partner posts its MDNs to")
        problem = _as2lib.available()
        if problem is not None:
            raise ValueError(problem)
        return self


@dataclass(frozen=True, slots=True)
class As2Reply:
    """What the HTTP side answers; `refused` is the reason of an attempt that was not accepted."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    refused: str | None = None
    receipt: Receipt | None = None


class X12As2Connector(X12Exchange):
    kind: ClassVar[str] = "x12-as2"
    settings_model = X12As2Settings
    runs = False  # messages arrive over HTTP; nothing to poll
    transport: ClassVar[str] = "as2"
    retry_hint: ClassVar[str] = "ask the partner to send it again"

    settings: X12As2Settings

    def __init__(self, settings: ConnectorSettings, intake: Intake, base_dir: Path) -> None:
        super().__init__(settings, intake, base_dir)
        self._peers: Peers | None = None
        self._background: set[asyncio.Task[None]] = set()

    # wiring ------------------------------------------------------------------------------------------
    def use_partners(self, directory: PartnerDirectory) -> list[Problem]:
        """Partner profiles, and the keys and certificates checked now so a bad one stops start-up."""
        problems = super().use_partners(directory)
        try:
            self._peers = self._relationship().load()
        except KeyProblem as exc:
            problems.append(((exc.setting,), str(exc)))
        return problems

    def _read(self, setting: str) -> bytes:
        value: Path = getattr(self.settings, setting)
        path = value if value.is_absolute() else (self.base_dir / value).resolve()
        try:
            return path.read_bytes()
        except OSError as exc:
            raise KeyProblem(setting, f"cannot read {path}: {exc.strerror or exc}") from None

    def _relationship(self) -> Relationship:
        s = self.settings
        key, certificate = self._read("private_key"), self._read("certificate")
        if b"CERTIFICATE-----" not in key:  # pyas2lib wants the key and its certificate together
            key = key.rstrip(b"\n") + b"\n" + certificate
        return Relationship(
            our_id=s.as2_id,
            our_key_pem=key,
            our_key_password=s.private_key_password.get_secret_value() if s.private_key_password else None,
            partner_id=s.partner_as2_id,
            partner_certificate_pem=self._read("partner_certificate"),
            partner_ca_pem=self._read("partner_ca_certificate") if s.partner_ca_certificate else None,
            sign=s.sign,
            encrypt=s.encrypt,
            compress=s.compress,
            digest=s.digest,
            encryption=s.encryption,
            mdn_mode=s.mdn_mode,
            mdn_signed=s.mdn_signed,
            mdn_url=s.mdn_url,
        )

    @property
    def peers(self) -> Peers:
        if self._peers is None:
            self._peers = self._relationship().load()
        return self._peers

    def startup_notes(self) -> list[str]:
        return [*super().startup_notes(), f"AS2 {self.settings.as2_id} <-> {self.settings.partner_as2_id}"]

    def mapping_for(self, raw: StoredRaw) -> Mapping:
        quarantine = raw.headers.get("quarantine")
        if quarantine:
            raise NotAnOrder(quarantine)
        return super().mapping_for(raw)

    # receiving ----------------------------------------------------------------------------------------
    async def receive_as2(self, headers: Iterable[tuple[str, str]], body: bytes) -> As2Reply:
        """One POSTed AS2 message. Raises StoreUnavailable (answer 503) when the store cannot write."""
        pairs = list(headers)
        named = {name.lower(): value for name, value in pairs}
        if "as2-from" not in named or "as2-to" not in named or "message-id" not in named:
            return _refuse(400, "not an AS2 message: AS2-From, AS2-To and Message-ID are required")
        sender, receiver = unquote(named["as2-from"]), unquote(named["as2-to"])
        if sender != self.settings.partner_as2_id or receiver != self.settings.as2_id:
            return _refuse(
                403,
                f"this address takes AS2 messages from {self.settings.partner_as2_id!r} to "
                f"{self.settings.as2_id!r}, not from {sender!r} to {receiver!r}",
            )
        raw = raw_message(pairs, body)
        original = await asyncio.to_thread(mdn_original, raw)
        if original is not None:
            return await self._receive_mdn(original, raw)
        try:
            opened = await asyncio.to_thread(open_message, self.peers, raw)
        except As2Refused as exc:
            log.warning("as2 message refused", connector=self.name, reason=exc.reason)
            if exc.mdn is not None and exc.mdn.mdn_mode == "SYNC":
                return As2Reply(200, *_mdn_parts(exc.mdn), refused=exc.reason)
            return _refuse(401 if "authentication" in exc.reason else 400, exc.reason)
        kept = opened.headers | ({"mic": opened.mic} if opened.mic else {})  # the MIC our MDN carries
        receipt = await self._store(opened.payload, opened.message_id, opened.filename, kept)
        log.info(
            "as2 message received",
            connector=self.name,
            message_id=opened.message_id,
            receipt=receipt.id,
            duplicate=receipt.duplicate,
        )
        async_url = opened.mdn_async_url
        if async_url is not None:
            self._spawn(self._post_async_mdn(async_url, opened.mdn, opened.message_id))
            return As2Reply(200, {"Content-Type": "text/plain"}, b"received\r\n", receipt=receipt)
        if opened.mdn is None:
            return As2Reply(200, {"Content-Type": "text/plain"}, b"received\r\n", receipt=receipt)
        return As2Reply(200, *_mdn_parts(opened.mdn), receipt=receipt)

    async def _receive_mdn(self, original: str, raw: bytes) -> As2Reply:
        """The partner's asynchronous MDN for a message we sent: verified against what we sent, kept."""
        key = f"mdn:{original}"
        pending = await self.intake.get_checkpoint(self.name, key)
        if pending is None:
            return _refuse(400, f"an MDN for {original}, which this connector did not send")
        sent = orjson.loads(pending)
        try:
            disposition = await asyncio.to_thread(check_async_mdn, self.peers, original, sent.get("mic"), raw)
        except MdnNotPositive as exc:
            # sent once already; the document is not sent again on its own: an operator looks at it
            log.error("as2 partner refused our message", connector=self.name, file=sent.get("file"), error=str(exc))
            disposition = str(exc)
            outcome = "refused"
        else:
            log.info("as2 message delivered", connector=self.name, file=sent.get("file"), disposition=disposition)
            outcome = "delivered"
        sent |= {"mdn": outcome, "disposition": disposition, "mdn_at": datetime.now(UTC).isoformat()}
        await self.intake.set_checkpoint(self.name, key, orjson.dumps(sent).decode())
        return As2Reply(200, {"Content-Type": "text/plain"}, b"MDN received\r\n")

    async def _store(self, body: bytes, message_id: str, filename: str | None, as2: dict[str, str]) -> Receipt:
        """Raw first: the X12 content with its AS2 headers, whatever the X12 inside turns out to be."""
        name = filename or f"{message_id}.x12"
        examined = await asyncio.to_thread(self._examine, body)
        headers = {"filename": name, **{f"as2_{key.replace('-', '_')}": value for key, value in as2.items()}}
        if examined.quarantine is not None:
            headers["quarantine"] = examined.quarantine.strip()
        headers.update(self.stored_headers(name, examined))
        receipt = await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport=self.transport,
                body=body,
                received_at=datetime.now(UTC),
                headers=headers,
                # a retransmission (same Message-ID, same content) is a duplicate; a quarantined one is
                # taken again, so the partner can send it again once its profile exists
                dedupe_key=None if examined.quarantine is not None else f"as2:{message_id}:{sha256_hex(body)[:32]}",
            )
        )
        if examined.quarantine is not None:
            log.warning(
                "x12 interchange quarantined",
                connector=self.name,
                file=name,
                reason=examined.quarantine.splitlines()[0],
            )
        elif examined.error is not None and not receipt.duplicate:
            self._spawn(self._reject(name, examined.profile, examined.isa, examined.error))
        return receipt

    async def _reject(self, name: str, profile: Any, isa: Any, error: Any) -> None:
        note = await self._reject_interchange(profile, isa, error)
        log.warning("x12 interchange does not parse", connector=self.name, file=name, error=str(error), ta1=note)

    async def _post_async_mdn(self, url: str, mdn: Any, message_id: str) -> None:
        headers, body = _mdn_parts(mdn)
        async with httpx.AsyncClient(timeout=self.settings.timeout) as client:
            response = await Api(client, attempts=self.settings.attempts).request(
                "POST", url, headers=headers, content=body
            )
        if not response.is_success:
            raise ApiError(f"the asynchronous MDN for {message_id} was answered HTTP {response.status_code}")
        log.info("as2 asynchronous mdn sent", connector=self.name, message_id=message_id)

    def _spawn(self, work: Any) -> None:
        """After the partner has its answer: follow-up work (a TA1, an asynchronous MDN), failures logged."""

        async def guarded() -> None:
            try:
                await work
            except Exception as exc:
                log.error("as2 follow-up failed", connector=self.name, error=f"{type(exc).__name__}: {exc}")

        task = asyncio.get_running_loop().create_task(guarded())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # sending ------------------------------------------------------------------------------------------
    async def send_outbound(self, filename: str, data: bytes) -> str:
        """Send one document to the partner; returns its Message-ID once the partner's MDN confirms it."""
        check_outbound_name(filename)
        url = self.settings.partner_url
        if url is None:
            raise ApiError(f"connector {self.name!r} has no partner_url to send {filename} to")
        outbound = await asyncio.to_thread(build_message, self.peers, self.settings.as2_id, filename, data)
        if self.settings.mdn_mode == "async":  # the MDN comes later, to /as2/{name}: what checks it is kept first
            mic = outbound.message.mic.decode() if outbound.message.mic else None
            pending = {"file": filename, "mic": mic, "sent_at": datetime.now(UTC).isoformat(), "mdn": "awaited"}
            await self.intake.set_checkpoint(self.name, f"mdn:{outbound.message_id}", orjson.dumps(pending).decode())
        async with httpx.AsyncClient(timeout=self.settings.timeout) as client:
            response = await Api(client, attempts=self.settings.attempts).request(
                "POST", url, headers=outbound.headers, content=outbound.body
            )
        if not response.is_success:
            raise ApiError(f"the partner answered {filename} with HTTP {response.status_code}", response.status_code)
        if self.settings.mdn_mode != "sync":
            log.info("as2 message sent", connector=self.name, file=filename, message_id=outbound.message_id)
            return outbound.message_id
        if not response.content.strip():
            raise MdnNotPositive(f"the partner answered {filename} without an MDN")
        answer = raw_message(response.headers.multi_items(), response.content)
        disposition = await asyncio.to_thread(check_mdn, outbound, answer)
        log.info(
            "as2 message delivered",
            connector=self.name,
            file=filename,
            message_id=outbound.message_id,
            disposition=disposition,
        )
        return outbound.message_id

    async def deliver(self, filename: str, data: bytes) -> str:
        return await self.send_outbound(filename, data)


def _refuse(status: int, reason: str) -> As2Reply:
    return As2Reply(status, {"Content-Type": "text/plain; charset=utf-8"}, (reason + "\r\n").encode(), refused=reason)


def _mdn_parts(mdn: Any) -> tuple[dict[str, str], bytes]:
    content = mdn.content
    body = content.encode() if isinstance(content, str) else bytes(content)
    return {str(k): str(v) for k, v in mdn.headers.items()}, body
