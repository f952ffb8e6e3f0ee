"""A folder exchange with X12 trading partners: files in `inbox/`, acknowledgments out to `outbox/`.

Each settled file in the inbox is read, its sender identified from the ISA and matched to a partner
profile. A file from a sender without a profile is quarantined in `error/` (never guessed, never
ingested). Every other file is stored raw first; only once the store has it does the file move to
`archive/`, or to `error/` with a report when it does not parse (plus a TA1 rejection in the outbox
when the partner asks for TA1s). A file still being written is skipped: a `.part` or dot-file name, or
one modified less than `settle_seconds` ago.

A crash between storing a file and moving it leaves the file in the inbox: it is stored again on
restart (at least once), and the interchange registry tells the repeat from new content downstream.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar, Literal

import structlog
from pydantic import Field, ValidationInfo, field_validator

from orderhub._sqlite import Database
from orderhub.connectors.base import Connector, ConnectorSettings, Intake, NotAnOrder
from orderhub.mapping import Mapping, builtin_mapping
from orderhub.store.base import RawIn, Receipt, StoredRaw
from orderhub.store.control_numbers import allocate
from orderhub.x12 import Delimiters, Interchange, Segment, SegmentReader, X12Error, parse
from orderhub.x12._acks import DEFAULT_DELIMITERS, InterchangeParties, build_ta1, render_interchange
from orderhub.x12.partners import PartnerDirectory, PartnerProfile

log = structlog.get_logger("orderhub.connectors.x12_folder")

Folder = Literal["inbox", "archive", "error", "outbox"]
Problem = tuple[tuple[str | int, ...], str]  # a settings path and what is wrong there


class X12FolderSettings(ConnectorSettings):
    inbox: Path
    archive: Path
    error: Path
    outbox: Path
    poll_interval: float = Field(5.0, gt=0)
    settle_seconds: float = Field(1.0, ge=0)  # a file modified more recently may still be being written
    partners: list[str] | None = None  # profile ids this connector serves; None: every profile

    @field_validator("archive", "error", "outbox")
    @classmethod
    def _not_the_inbox(cls, value: Path, info: ValidationInfo) -> Path:
        inbox = info.data.get("inbox")
        if inbox is not None and os.path.normpath(value) == os.path.normpath(inbox):
            raise ValueError("must not be the inbox: every file there is taken in")
        return value

    @field_validator("account")
    @classmethod
    def _account_is_the_partner(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError("an x12-folder connector takes each file's account from its partner profile id")
        return value


@dataclass
class _Examined:
    """What a file is, as far as the connector needs to know before storing it."""

    profile: PartnerProfile | None = None
    interchanges: list[Interchange] = field(default_factory=list)
    isa: Segment | None = None  # the first ISA, when readable (the TA1 answers it)
    error: X12Error | None = None
    quarantine: str | None = None  # why the file is not ingested at all


class X12FolderConnector(Connector):
    kind: ClassVar[str] = "x12-folder"
    channel: ClassVar[str] = "x12"
    settings_model = X12FolderSettings
    runs = True

    settings: X12FolderSettings

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

    def folder(self, which: Folder) -> Path:
        path: Path = getattr(self.settings, which)
        return path if path.is_absolute() else (self.base_dir / path).resolve()

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
        if not raw.headers.get("partner"):
            raise NotAnOrder("an X12 file without a partner profile makes no orders")
        return builtin_mapping("x12-850")

    def account_for(self, raw: StoredRaw) -> str:
        """Order ids of an X12 file are `{partner profile id}:{PO number}`."""
        partner = raw.headers.get("partner")
        if not partner:
            raise NotAnOrder("an X12 file without a partner profile has no account")
        return partner

    # the loop -----------------------------------------------------------------------------------------
    async def run(self) -> None:
        for which in ("inbox", "archive", "error", "outbox"):
            self.folder(which).mkdir(parents=True, exist_ok=True)
        while True:
            await self.scan_once()
            await asyncio.sleep(self.settings.poll_interval)

    async def scan_once(self) -> int:
        """Take every settled file now in the inbox; returns how many were taken.

        A store that cannot write (`StoreUnavailable`) stops the scan with the file left in the inbox.
        """
        taken = 0
        now = time.time()
        for file in sorted(self.folder("inbox").iterdir()):
            if file.name.startswith(".") or file.name.endswith(".part") or not file.is_file():
                continue
            try:
                if now - file.stat().st_mtime < self.settings.settle_seconds:
                    continue
                await self._take(file)
            except FileNotFoundError:  # taken away meanwhile (an operator, another poller of the folder)
                continue
            taken += 1
        return taken

    async def _take(self, file: Path) -> None:
        # a large interchange takes a while to read and parse: off the event loop, which answers webhooks
        body = await asyncio.to_thread(file.read_bytes)
        examined = await asyncio.to_thread(self._examine, body)
        if examined.quarantine is not None:
            self._move_with_report(file, self.folder("error") / file.name, examined.quarantine)
            log.warning(
                "x12 file quarantined", connector=self.name, file=file.name, reason=examined.quarantine.splitlines()[0]
            )
            return
        profile = examined.profile
        headers = {"filename": file.name}
        if profile is not None:
            headers["partner"] = profile.id
        if examined.error is not None:
            headers["x12_error"] = str(examined.error)
        else:
            if profile is not None:
                self._warn_on_envelope_mismatch(file.name, profile, examined.interchanges)
            first = examined.interchanges[0]
            headers["sender"] = f"{first.sender_qualifier.strip()}:{first.sender_id}"
            headers["receiver"] = f"{first.receiver_qualifier.strip()}:{first.receiver_id}"
            headers["interchange_control_numbers"] = ",".join(i.control_number for i in examined.interchanges)
        receipt = await self.intake.accept(
            RawIn(
                connector=self.name,
                channel=self.channel,
                transport="file",
                body=body,
                received_at=datetime.now(UTC),
                headers=headers,
                dedupe_key=None,
            )
        )
        # the bytes are durable now; only then does the file leave the inbox
        target_name = f"{receipt.id:08d}-{file.name}"
        if examined.error is None:
            archive = self.folder("archive")
            archive.mkdir(parents=True, exist_ok=True)
            file.replace(_free(archive / target_name))
            log.info("x12 file ingested", connector=self.name, file=file.name, partner=headers.get("partner"))
            return
        ta1_note = await self._reject_interchange(profile, examined.isa, examined.error)
        report = _parse_report(file.name, examined.error, receipt, ta1_note)
        self._move_with_report(file, self.folder("error") / target_name, report)
        log.warning("x12 file does not parse", connector=self.name, file=file.name, error=str(examined.error))

    def _examine(self, body: bytes) -> _Examined:
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
                return _Examined(quarantine=_unknown_sender(qualifier, sender))
            if not self.serves(profile):
                return _Examined(quarantine=self._not_served(qualifier, sender, profile))
            profiles[profile.id] = profile
        if len(profiles) > 1:
            return _Examined(
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
            "or deliver the file to the folder of a connector that serves it"
        )

    async def _reject_interchange(
        self, profile: PartnerProfile | None, isa: Segment | None, error: X12Error
    ) -> str | None:
        """Write a TA1 rejection to the outbox when the partner asks for TA1s; returns a line for the report."""
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
        self.write_outbound(name, data)
        return f"A TA1 rejection (note code {note}) was written to the outbox as {name}."

    # files ----------------------------------------------------------------------------------------------
    def write_outbound(self, filename: str, data: bytes) -> Path:
        """Write `data` to the outbox atomically: a hidden temporary name first, then a rename."""
        if not filename or filename.startswith(".") or "/" in filename or "\\" in filename:
            raise ValueError(f"an outbound file name is a plain name, not {filename!r}")
        outbox = self.folder("outbox")
        outbox.mkdir(parents=True, exist_ok=True)
        temporary = outbox / f".{filename}.{uuid.uuid4().hex}.part"
        with temporary.open("wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        target = outbox / filename
        os.replace(temporary, target)
        return target

    def _move_with_report(self, file: Path, target: Path, report: str) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target = _free(target)
        file.replace(target)
        text = report if report.endswith("\n") else report + "\n"
        target.with_name(target.name + ".error.txt").write_text(text, encoding="utf-8")


def _read(body: bytes, delimiters: Delimiters | None) -> _Examined:
    """Parse the whole file; when it does not parse, still try to read its first ISA."""
    try:
        document = parse(body, delimiters)
    except X12Error as exc:
        try:
            isa = next(iter(SegmentReader(body, delimiters)), None)
        except X12Error:
            isa = None
        return _Examined(isa=isa if isa is not None and isa.tag == "ISA" else None, error=exc)
    first = document.interchanges[0].isa if document.interchanges else None
    return _Examined(interchanges=document.interchanges, isa=first)


def _unknown_sender(qualifier: str, sender: str) -> str:
    return (
        f"unknown sender {qualifier}:{sender}; add a partner profile with isa: {{qualifier: {qualifier}, id: "
        f"{sender}}}\nThe file was not ingested. Once the profile is in place, move the file back into the inbox.\n"
    )


def _parse_report(name: str, error: X12Error, receipt: Receipt, ta1_note: str | None) -> str:
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
        f"The bytes are kept as {receipt.raw_ref} (receipt {receipt.id}); fix the file and move it back into the "
        "inbox to retry."
    )
    if ta1_note:
        lines.append(ta1_note)
    return "\n".join(lines) + "\n"


def _free(target: Path) -> Path:
    """`target`, or `target` with a counter before its suffix when that name is taken."""
    candidate, counter = target, 1
    while candidate.exists():
        candidate = target.with_name(f"{target.stem}.{counter}{target.suffix}")
        counter += 1
    return candidate
