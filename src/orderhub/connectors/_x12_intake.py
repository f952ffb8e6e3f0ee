"""What every X12 transport (a folder, an SFTP server) does with a file it received from a partner.

The transport fetches the bytes; `X12Exchange.take_in` tells who sent them (the ISA sender matched to a
partner profile), stores them raw through the hub, and says what became of them: quarantined (unknown
sender or a partner this connector does not serve: nothing stored), ingested (stored and readable), or
unreadable (stored, reported, and rejected with a TA1 when the partner asks for one). The transport then
moves the file accordingly; it must not move a file out of its inbox before `take_in` returned.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

import structlog
from pydantic import Field, field_validator

from orderhub._sqlite import Database
from orderhub.connectors.base import Connector, ConnectorSettings, Intake, NotAnOrder
from orderhub.mapping import Mapping
from orderhub.store.base import RawIn, Receipt, StoredRaw
from orderhub.store.control_numbers import allocate
from orderhub.x12 import Delimiters, Interchange, Segment, SegmentReader, X12Error, parse
from orderhub.x12._acks import DEFAULT_DELIMITERS, InterchangeParties, build_ta1, render_interchange
from orderhub.x12.partners import PartnerDirectory, PartnerProfile

log = structlog.get_logger("orderhub.connectors.x12")

Problem = tuple[tuple[str | int, ...], str]  # a settings path and what is wrong there


class X12ExchangeSettings(ConnectorSettings):
    """Settings every X12 transport has."""

    poll_interval: float = Field(5.0, gt=0)
    partners: list[str] | None = None  # profile ids this connector serves; None: every profile

    @field_validator("account")
    @classmethod
    def _account_is_the_partner(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("an X12 connector takes each file's account from its partner profile id")
        return value


@dataclass
class Examined:
    """What a file is, as far as the connector needs to know before storing it."""

    profile: PartnerProfile | None = None
    interchanges: list[Interchange] = field(default_factory=list)
    isa: Segment | None = None  # the first ISA, when readable (the TA1 answers it)
    error: X12Error | None = None
    quarantine: str | None = None  # why the file is not ingested at all


@dataclass(frozen=True)
class Outcome:
    """What became of one file; `report` is the text an operator reads beside a quarantined or unreadable file."""

    kind: Literal["quarantined", "ingested", "unreadable"]
    report: str = ""
    receipt: Receipt | None = None
    partner: str | None = None

    def kept_name(self, name: str) -> str:
        """The name a stored file is kept under once it leaves the inbox: `{receipt:08d}-{name}`."""
        return name if self.receipt is None else f"{self.receipt.id:08d}-{name}"


class X12Exchange(Connector):
    """The partner-facing half of an X12 transport connector; subclasses fetch, move and send files."""

    channel: ClassVar[str] = "x12"
    runs = True
    transport: ClassVar[str] = "file"  # stored with each payload
    retry_hint: ClassVar[str] = "move the file back into the inbox"

    settings: X12ExchangeSettings

    def __init__(self, settings: ConnectorSettings, intake: Intake, base_dir: Path) -> None:
        super().__init__(settings, intake, base_dir)
        self.partners = PartnerDirectory({})
        self._database: Database | None = None

    # wiring: the partner profiles and the database that allocates our control numbers -------------
    def use_partners(self, directory: PartnerDirectory) -> list[Problem]:
        """Serve profiles from `directory`; returns the `partners` entries that name no profile."""
        self.partners = directory
        return [
            (("partners", index), f"no partner profile with id {partner!r}")
            for index, partner in enumerate(self.settings.partners or [])
            if partner not in directory
        ]

    def use_database(self, database: Database) -> None:
        self._database = database

    def serves(self, profile: PartnerProfile) -> bool:
        return self.settings.partners is None or profile.id in self.settings.partners

    def startup_notes(self) -> list[str]:
        served = [p.id for p in self.partners if self.serves(p)]
        if not served:
            return ["no partner profile is served: every file will be quarantined as from an unknown sender"]
        return [f"partners: {', '.join(served)}"]

    # what the hub asks of a stored payload ----------------------------------------------------------
    def mapping_for(self, raw: StoredRaw) -> Mapping:
        error = raw.headers.get("x12_error")
        if error:
            raise NotAnOrder(f"{raw.headers.get('filename', 'file')}: not a readable X12 file: {error}")
        partner = raw.headers.get("partner")
        if not partner:
            raise NotAnOrder("an X12 file without a partner profile makes no orders")
        return self.partners.mapping_for(partner)

    def account_for(self, raw: StoredRaw) -> str:
        """Order ids of an X12 file are `{partner profile id}:{PO number}`."""
        partner = raw.headers.get("partner")
        if not partner:
            raise NotAnOrder("an X12 file without a partner profile has no account")
        return partner

    # taking a file in -------------------------------------------------------------------------------
    async def send_outbound(self, filename: str, data: bytes) -> str:
        """Deliver a document to the partner (a TA1 rejection); returns where it went."""
        raise NotImplementedError

    async def take_in(self, name: str, body: bytes) -> Outcome:
        """Identify, store and judge one received file. Raises what the store raises (nothing stored then)."""
        # a large interchange takes a while to parse: off the event loop, which answers webhooks
        examined = await asyncio.to_thread(self._examine, body)
        if examined.quarantine is not None:
            return Outcome("quarantined", examined.quarantine)
        headers = {"filename": name, **self.stored_headers(name, examined)}
        receipt = await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport=self.transport,
                body=body,
                received_at=datetime.now(UTC),
                headers=headers,
                dedupe_key=None,
            )
        )
        partner = headers.get("partner")
        if examined.error is None:
            return Outcome("ingested", receipt=receipt, partner=partner)
        ta1_note = await self._reject_interchange(examined.profile, examined.isa, examined.error)
        report = _parse_report(name, examined.error, receipt, ta1_note, self.retry_hint)
        return Outcome("unreadable", report, receipt, partner)

    def stored_headers(self, name: str, examined: Examined) -> dict[str, str]:
        """What is kept with a received file: its partner, and its parse error or envelope ids."""
        headers: dict[str, str] = {}
        if examined.profile is not None:
            headers["partner"] = examined.profile.id
        if examined.error is not None:
            headers["x12_error"] = str(examined.error)
        elif examined.interchanges:
            if examined.profile is not None:
                self._warn_on_envelope_mismatch(name, examined.profile, examined.interchanges)
            first = examined.interchanges[0]
            headers["sender"] = f"{first.sender_qualifier.strip()}:{first.sender_id}"
            headers["receiver"] = f"{first.receiver_qualifier.strip()}:{first.receiver_id}"
            headers["interchange_control_numbers"] = ",".join(i.control_number for i in examined.interchanges)
        return headers

    def log_outcome(self, name: str, outcome: Outcome) -> None:
        """One line per file once the transport has moved it."""
        if outcome.kind == "ingested":
            log.info("x12 file ingested", connector=self.name, file=name, partner=outcome.partner)
        elif outcome.kind == "quarantined":
            log.warning("x12 file quarantined", connector=self.name, file=name, reason=outcome.report.splitlines()[0])
        else:
            log.warning("x12 file does not parse", connector=self.name, file=name, error=outcome.report.splitlines()[0])

    def _examine(self, body: bytes) -> Examined:
        result = _read(body, None)
        senders = {(i.sender_qualifier.strip(), i.sender_id) for i in result.interchanges}
        if not senders and result.isa is not None:
            senders = {(result.isa.element(5).strip(), result.isa.element(6).strip())}
        if not senders:  # not even an ISA to tell who sent it: kept, and reported as unreadable
            return result
        profiles: dict[str, PartnerProfile] = {}
        for qualifier, sender in sorted(senders):
            profile = self.partners.by_sender(qualifier, sender)
            if profile is None:
                return Examined(quarantine=_unknown_sender(qualifier, sender, self.retry_hint))
            if not self.serves(profile):
                return Examined(quarantine=self._not_served(qualifier, sender, profile))
            profiles[profile.id] = profile
        if len(profiles) > 1:
            return Examined(
                quarantine=f"interchanges from several partners in one file ({', '.join(sorted(profiles))}); "
                "send each partner's interchanges in files of their own"
            )
        profile = next(iter(profiles.values()))
        override = profile.delimiters.for_reading()
        if override is not None:
            result = _read(body, override)
        result.profile = profile
        return result

    def _warn_on_envelope_mismatch(self, name: str, profile: PartnerProfile, interchanges: list[Interchange]) -> None:
        """Ingested all the same (the orders carry ISA15 as `test`), but worth an operator's look."""
        for interchange in interchanges:
            receiver = f"{interchange.receiver_qualifier.strip()}:{interchange.receiver_id}"
            if receiver != str(profile.us):
                log.warning(
                    "x12 interchange addressed to another receiver",
                    connector=self.name,
                    file=name,
                    partner=profile.id,
                    receiver=receiver,
                    expected=str(profile.us),
                )
            if interchange.usage != profile.usage_indicator:
                log.warning(
                    "x12 interchange usage differs from the partner profile",
                    connector=self.name,
                    file=name,
                    partner=profile.id,
                    usage=interchange.usage,
                    expected=profile.usage_indicator,
                )

    def _not_served(self, qualifier: str, sender: str, profile: PartnerProfile) -> str:
        return (
            f"sender {qualifier}:{sender} is the partner {profile.id!r}, which connector {self.name!r} does not "
            f"serve (partners: {', '.join(self.settings.partners or [])}); add it to the connector's partners "
            "or deliver the file to a connector that serves it"
        )

    async def _reject_interchange(
        self, profile: PartnerProfile | None, isa: Segment | None, error: X12Error
    ) -> str | None:
        """Send a TA1 rejection when the partner asks for TA1s; returns a line for the report."""
        if profile is None or not profile.acks.ta1:
            return None
        if isa is None:
            return "No TA1 was sent: the ISA itself cannot be read, so there is nothing to answer."
        if self._database is None:
            log.warning("no TA1 sent: no database for control numbers", connector=self.name, partner=profile.id)
            return "No TA1 was sent: this connector runs without a store for control numbers."
        note = error.code if error.code_source == "TA1" and error.code else "022"  # 022: invalid control structure
        start = profile.control_numbers.start("interchange")
        [number] = await self._database.write(
            lambda conn: allocate(conn, profile.id, "outbound", "interchange", start=start)
        )
        delimiters = profile.delimiters.for_writing(DEFAULT_DELIMITERS)
        data = render_interchange(
            [],
            parties=InterchangeParties(
                profile.us.qualifier,
                profile.us.id,
                profile.isa.qualifier,
                profile.isa.id,
                profile.gs.our_id,
                profile.gs.partner_id,
            ),
            delimiters=delimiters,
            interchange_control_number=number,
            when=datetime.now(profile.zone),
            usage_indicator=profile.usage_indicator,
            ta1=build_ta1(isa, note, "R"),
            newline=profile.delimiters.segment_suffix,
        )
        name = f"{profile.id}-TA1-{number:09d}.x12"
        await self.send_outbound(name, data)
        return f"A TA1 rejection (note code {note}) was written to the outbox as {name}."


def check_outbound_name(filename: str) -> None:
    """An outbound document's name is a plain file name: no folders, not hidden."""
    if not filename or filename.startswith(".") or "/" in filename or "\\" in filename:
        raise ValueError(f"an outbound file name is a plain name, not {filename!r}")


def is_temporary(name: str) -> bool:
    """A name a sender uses while the file is still being written (or a hidden one): never taken."""
    return name.startswith(".") or name.endswith((".part", ".tmp", ".filepart"))


def free_path(target: Path) -> Path:
    """`target`, or `target` with a counter before its suffix when that name is taken."""
    candidate, counter = target, 1
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}.{counter}{target.suffix}")
        counter += 1
    return candidate


def with_newline(report: str) -> str:
    return report if report.endswith("\n") else report + "\n"


def _read(body: bytes, delimiters: Delimiters | None) -> Examined:
    """Parse the whole file; when it does not parse, still try to read its first ISA."""
    try:
        document = parse(body, delimiters)
    except X12Error as exc:
        try:
            isa = next(iter(SegmentReader(body, delimiters)), None)
        except X12Error:
            isa = None
        return Examined(isa=isa if isa is not None and isa.tag == "ISA" else None, error=exc)
    first = document.interchanges[0].isa if document.interchanges else None
    return Examined(interchanges=document.interchanges, isa=first)


def _unknown_sender(qualifier: str, sender: str, retry_hint: str) -> str:
    return (
        f"unknown sender {qualifier}:{sender}; add a partner profile with isa: {{qualifier: {qualifier}, id: "
        f"{sender}}}\nThe file was not ingested. Once the profile is in place, {retry_hint}.\n"
    )


def _parse_report(name: str, error: X12Error, receipt: Receipt, ta1_note: str | None, retry_hint: str) -> str:
    lines = [f"{name}: not a readable X12 file: {error.message}"]
    if error.line is not None:
        lines.append(f"line: {error.line}")
    if error.segment_ordinal is not None:
        lines.append(f"segment: {error.segment_ordinal} ({error.segment_tag or '?'})")
    elif error.segment_tag:
        lines.append(f"segment: {error.segment_tag}")
    if error.element is not None:
        lines.append(f"element: {error.element}")
    if error.code and error.code_source:
        lines.append(f"X12 code: {error.code_source} {error.code}")
    lines.append(
        f"The bytes are kept as {receipt.raw_ref} (receipt {receipt.id}); fix the file and {retry_hint} to retry."
    )
    if ta1_note:
        lines.append(ta1_note)
    return "\n".join(lines) + "\n"
