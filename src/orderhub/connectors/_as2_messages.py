"""AS2 messages and MDNs for one trading relationship (us and one AS2 partner), through pyas2lib.

Opening a received message decrypts it, verifies its signature and decompresses it, and builds the
MDN the partner asked for; building an outbound message signs, encrypts and compresses it as the
relationship says; checking an MDN verifies its signature and compares its MIC with ours. Nothing
here touches the network or the store, and no payload or key material is logged.
"""

from __future__ import annotations

import email
import hashlib
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from orderhub.connectors import _as2lib

MdnMode = Literal["sync", "async", "none"]

# pyas2lib logs whole payloads at debug level: orders carry personal data, so its log stays at warnings
logging.getLogger("pyas2lib").setLevel(logging.WARNING)


class As2Refused(Exception):
    """A received message that is not accepted: not AS2, another relationship's, or failing its security."""

    def __init__(self, reason: str, mdn: Any | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.mdn = mdn  # pyas2lib's negative MDN for a partner that asked for one synchronously


class KeyProblem(ValueError):
    """A key or certificate that cannot be used; `setting` names the connector setting it came from."""

    def __init__(self, setting: str, message: str) -> None:
        super().__init__(message)
        self.setting = setting


class MdnNotPositive(Exception):
    """The partner's MDN is missing, unverifiable or says the message was not processed."""


@dataclass(frozen=True, slots=True)
class Relationship:
    """Who we are, who the partner is, and how messages between us are secured."""

    our_id: str
    our_key_pem: bytes  # our private key followed by our certificate, PEM
    our_key_password: str | None
    partner_id: str
    partner_certificate_pem: bytes
    partner_ca_pem: bytes | None
    sign: bool
    encrypt: bool
    compress: bool
    digest: str
    encryption: str
    mdn_mode: MdnMode
    mdn_signed: bool
    mdn_url: str | None  # where the partner posts asynchronous MDNs to us

    def organization(self) -> Any:
        as2 = _as2lib.load()
        return as2.Organization(
            as2_name=self.our_id,
            sign_key=self.our_key_pem,
            sign_key_pass=self.our_key_password,
            decrypt_key=self.our_key_pem,
            decrypt_key_pass=self.our_key_password,
            mdn_url=self.mdn_url,
            mdn_confirm_text="The AS2 message has been received and stored.",
            domain=message_id_domain(self.our_id),
        )

    def partner(self) -> Any:
        as2 = _as2lib.load()
        return as2.Partner(
            as2_name=self.partner_id,
            verify_cert=self.partner_certificate_pem,
            verify_cert_ca=self.partner_ca_pem,
            encrypt_cert=self.partner_certificate_pem,
            encrypt_cert_ca=self.partner_ca_pem,
            sign=self.sign,
            encrypt=self.encrypt,
            compress=self.compress,
            digest_alg=self.digest,
            enc_alg=self.encryption,
            mdn_mode={"sync": "SYNC", "async": "ASYNC", "none": None}[self.mdn_mode],
            mdn_digest_alg=self.digest if self.mdn_signed else None,
        )

    def load(self) -> Peers:
        """Keys and certificates loaded; raises KeyProblem saying which one is unusable."""
        try:
            org = self.organization()
        except Exception as exc:
            raise KeyProblem(
                "private_key", f"our private key and certificate cannot be used: {_first_line(exc)}"
            ) from None
        try:
            partner = self.partner()
            partner.load_verify_cert()
        except Exception as exc:
            raise KeyProblem("partner_certificate", f"cannot be used: {_first_line(exc)}") from None
        return Peers(org, partner)


@dataclass(frozen=True, slots=True)
class Peers:
    """pyas2lib's Organization (us) and Partner, loaded once per connector."""

    org: Any
    partner: Any


@dataclass(frozen=True, slots=True)
class Opened:
    """A received message that passed its security checks."""

    payload: bytes  # the decrypted, verified, decompressed content, byte for byte
    message_id: str
    filename: str | None
    content_type: str
    headers: dict[str, str]  # the AS2 headers worth keeping with the payload
    mic: str | None
    mdn: Any | None  # pyas2lib's MDN object, when the partner asked for one

    @property
    def mdn_async_url(self) -> str | None:
        return str(self.mdn.mdn_url) if self.mdn is not None and self.mdn.mdn_mode == "ASYNC" else None


KEPT_HEADERS = ("message-id", "as2-from", "as2-to", "as2-version", "subject", "date", "content-type")


def raw_message(headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """HTTP headers and body as the MIME message pyas2lib parses."""
    lines = b"".join(f"{name}: {value}\r\n".encode("utf-8", "replace") for name, value in headers)
    return lines + b"\r\n" + body


def unquote(name: str) -> str:
    """An AS2-From/AS2-To value without its quoting (RFC 4130 allows a quoted string)."""
    name = name.strip()
    if len(name) >= 2 and name[0] == name[-1] == '"':
        name = name[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return name


def open_message(peers: Peers, raw: bytes) -> Opened:
    """Decrypt, verify and decompress a received message; raises As2Refused when it is not accepted."""
    as2 = _as2lib.load()
    org, partner = peers.org, peers.partner
    message = as2.Message()
    status, (error, _trace), mdn = message.parse(raw, find_org_partner_cb=lambda _to, _from: (org, partner))
    if error is not None or status != "processed":
        modifier = getattr(error, "disposition_modifier", "") or "unexpected-processing-error"
        raise As2Refused(f"{modifier}: {_first_line(error)}", mdn)
    content = message.content
    payload = content.encode() if isinstance(content, str) else bytes(content)
    headers = {key.lower(): str(value) for key, value in message.headers.items()}
    return Opened(
        payload=payload,
        message_id=str(message.message_id),
        filename=message.payload.get_filename() if message.payload is not None else None,
        content_type=message.payload.get_content_type() if message.payload is not None else "",
        headers={name: headers[name] for name in KEPT_HEADERS if name in headers},
        mic=f"{message.mic.decode()}, {message.digest_alg}" if message.mic else None,
        mdn=mdn,
    )


@dataclass(frozen=True, slots=True)
class Outbound:
    message: Any  # pyas2lib's Message, kept to check the MDN against
    message_id: str
    headers: dict[str, str]
    body: bytes


def build_message(peers: Peers, our_id: str, filename: str, data: bytes) -> Outbound:
    """A signed/encrypted/compressed message for `data`; its Message-ID depends on the name and the
    bytes only, so a document sent again is recognised by the partner as the same message."""
    as2 = _as2lib.load()
    message = as2.Message(peers.org, peers.partner)
    stem = re.sub(r"[^A-Za-z0-9._-]", "_", filename)[:120]
    message.build(
        data,
        filename=filename,
        subject=f"EDI {filename}",
        content_type="application/edi-x12",
        disposition_notification_to=our_id,
        message_id=f"{stem}.{hashlib.sha256(data).hexdigest()[:24]}",
    )
    content = message.content
    return Outbound(
        message=message,
        message_id=str(message.message_id),
        headers={str(key): str(value) for key, value in message.headers.items()},
        body=content.encode() if isinstance(content, str) else bytes(content),
    )


def check_mdn(outbound: Outbound, raw: bytes) -> str:
    """Verify the partner's MDN for `outbound`; returns its disposition, raises MdnNotPositive."""
    as2 = _as2lib.load()
    mdn = as2.Mdn()

    def original(message_id: str, _recipient: str | None) -> Any:
        return outbound.message if message_id == outbound.message_id else None

    status, detail = mdn.parse(raw, find_message_cb=original)
    disposition = f"{status}: {detail}" if detail else str(status)
    if status == "processed":
        return disposition
    if status == "processed/Warning" and "duplicate" in str(detail).lower():
        return disposition  # the partner already has this message (a re-send of ours)
    raise MdnNotPositive(f"the partner's MDN for {outbound.message_id} is not positive: {disposition}")


def mdn_original(raw: bytes) -> str | None:
    """The Message-ID an MDN answers, or None when `raw` is not an MDN (an AS2 message, then)."""
    as2 = _as2lib.load()
    mdn = as2.Mdn()
    mdn.payload = email.message_from_bytes(raw)
    if mdn.payload.get_content_type() not in ("multipart/report", "multipart/signed"):
        return None
    try:
        original, _recipient = mdn.detect_mdn()
    except Exception:  # pyas2lib's MDNNotFound, or a report without Original-Message-ID
        return None
    return str(original) if original else None


def check_async_mdn(peers: Peers, original_id: str, mic: str | None, raw: bytes) -> str:
    """Verify an asynchronous MDN for a message we sent with `mic`; returns its disposition,
    raises MdnNotPositive."""
    as2 = _as2lib.load()
    sent = as2.Message(peers.org, peers.partner)
    sent.message_id = original_id
    sent.mic = mic.encode() if mic else None
    return check_mdn(Outbound(sent, original_id, {}, b""), raw)


def message_id_domain(as2_id: str) -> str:
    domain = re.sub(r"[^A-Za-z0-9.-]", "-", as2_id).strip(".-").lower()
    return domain or "orderhub"


def _first_line(error: object) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0][:300]
