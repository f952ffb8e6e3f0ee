"""Trading-partner profiles: one YAML file per partner in the `partners/` folder.

A profile says who the partner is in the envelopes (ISA05/06, GS02), who we are to them, which
version and acknowledgments they use, which sets go in which direction, and the cross-references
the 850 mapping applies. Problems are reported as `file:line: field: message`, like every config file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from orderhub._yaml import ConfigError, Document, expand_env, load_yaml
from orderhub.service.config import ConfigErrors, validation_errors
from orderhub.x12._segments import Delimiters

if TYPE_CHECKING:
    from orderhub.mapping import Mapping

MAX_CONTROL_NUMBER = 999_999_999  # ISA13, GS06 and ST02 are at most nine digits


def _text(value: Any) -> Any:
    # YAML reads 004010 as an octal number and 00123 as 83: a value that must stay text is refused
    # as a number rather than silently losing its leading zeros.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError(f"YAML reads {value!r} as a number; put it in quotes so leading zeros are kept")
    return value


Text = Annotated[str, BeforeValidator(_text)]
TextMap = Annotated[dict[Annotated[str, BeforeValidator(_text)], Text], Field(default_factory=dict)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IsaId(_Section):
    """An ISA05/06 (or ISA07/08) pair: the interchange id qualifier and the id, without padding."""

    qualifier: Text = Field(min_length=2, max_length=2)
    id: Text = Field(min_length=1, max_length=15)

    @field_validator("id")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    def __str__(self) -> str:
        return f"{self.qualifier}:{self.id}"


class GsIds(_Section):
    """Application ids of the functional groups: the partner's (GS02 inbound) and ours (GS03 inbound)."""

    partner_id: Text = Field(min_length=2, max_length=15)
    our_id: Text = Field(min_length=2, max_length=15)


def _one_char(value: str | None) -> str | None:
    if value is not None and (len(value) != 1 or value.isalnum() or value == " "):
        raise ValueError("must be one character that is not a letter, digit or space")
    return value


class DelimiterOverrides(_Section):
    """Delimiters that differ from what the partner's ISA declares, and how our segments end."""

    element: Text | None = None
    component: Text | None = None
    segment: Text | None = None  # the segment terminator
    repetition: Text | None = None
    segment_suffix: Text = ""  # written after each terminator, e.g. "\n"

    @field_validator("element", "component", "repetition")
    @classmethod
    def _single(cls, value: str | None) -> str | None:
        return _one_char(value)

    @field_validator("segment")
    @classmethod
    def _terminator(cls, value: str | None) -> str | None:
        if value is not None and (not value or len(value) > 4 or value.isalnum()):
            raise ValueError("must be one to four characters, not letters or digits")
        return value

    @field_validator("segment_suffix")
    @classmethod
    def _suffix(cls, value: str) -> str:
        if value.strip(" \r\n\t"):
            raise ValueError("may only hold line breaks, spaces or tabs")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> DelimiterOverrides:
        chosen = [c for c in (self.element, self.component, self.repetition) if c]
        if len(set(chosen)) != len(chosen) or (self.segment and any(c in self.segment for c in chosen)):
            raise ValueError("element, component, repetition and segment delimiters must all differ")
        return self

    def for_reading(self) -> Delimiters | None:
        """The override the tokenizer applies instead of the ISA's: only when element and segment are set."""
        if not self.element or not self.segment:
            return None
        return Delimiters(self.element, self.component or "", self.segment, self.repetition)

    def for_writing(self, default: Delimiters) -> Delimiters:
        return Delimiters(
            self.element or default.element,
            self.component or default.component,
            self.segment or default.segment,
            self.repetition or default.repetition,
        )


SetId = Annotated[Text, Field(pattern=r"^\d{3}$")]


class Exchanges(_Section):
    inbound: list[SetId] = Field(default_factory=lambda: ["850"])
    outbound: list[SetId] = Field(default_factory=list)


def _duration(value: Any) -> Any:
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d+)\s*([smhd])\s*", value)
        if match is None:
            raise ValueError('a duration like "90s", "30m", "24h" or "2d"')
        amount, unit = int(match.group(1)), match.group(2)
        return timedelta(**{{"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}[unit]: amount})
    return value


def _ack_kind(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


class Acks(_Section):
    # None: 997 for versions up to 004xxx, 999 from 005010 on
    functional: Annotated[Literal["997", "999", "none"] | None, BeforeValidator(_ack_kind)] = None
    ta1: bool = False
    due_within: Annotated[timedelta, BeforeValidator(_duration)] = timedelta(hours=24)


class ControlNumberStarts(_Section):
    """First numbers we send, for a partner moving over from another translator."""

    interchange_start: int = Field(1, ge=1, le=MAX_CONTROL_NUMBER)
    group_start: int = Field(1, ge=1, le=MAX_CONTROL_NUMBER)
    set_start: int = Field(1, ge=1, le=MAX_CONTROL_NUMBER)

    def start(self, kind: str) -> int:
        value: int = getattr(self, f"{kind}_start")
        return value


class PartnerProfile(_Section):
    id: Text
    name: Text
    isa: IsaId
    us: IsaId
    gs: GsIds
    version: Text = Field("004010", pattern=r"^\d{6}[A-Z0-9]*$")
    delimiters: DelimiterOverrides = Field(default_factory=DelimiterOverrides)
    exchanges: Exchanges = Field(default_factory=Exchanges)
    acks: Acks = Field(default_factory=Acks)
    usage: Literal["production", "test"] = "production"
    timezone: Text = "UTC"
    currency: Text = Field("USD", pattern=r"^[A-Z]{3}$")
    sku_xref: TextMap
    uom_xref: TextMap
    control_numbers: ControlNumberStarts = Field(default_factory=ControlNumberStarts)
    transport: dict[str, Any] = Field(default_factory=dict)  # validated by the transport connector
    # this partner's own 850 mapping: a file (relative to this profile; in a subfolder such as
    # mappings/, since every YAML file of the partners folder is a profile) that `extends: x12-850`
    # and changes only what differs, or a built-in mapping name; the built-in x12-850 when left out
    mapping: Text | None = None

    @field_validator("id")
    @classmethod
    def _account(cls, value: str) -> str:
        if not value.strip() or ":" in value or "/" in value or value != value.strip():
            raise ValueError("must be non-empty, without surrounding spaces, and may not contain ':' or '/'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (an IANA name such as America/Chicago)") from None
        return value

    @model_validator(mode="after")
    def _ack_fits_version(self) -> PartnerProfile:
        if self.acks.functional == "999" and not self.uses_999_version:
            raise ValueError(f"a 999 acknowledges 005010 and later; version {self.version} gets a 997")
        return self

    @property
    def uses_999_version(self) -> bool:
        return self.version[:6] >= "005010"

    @property
    def functional_ack(self) -> Literal["997", "999"] | None:
        """The acknowledgment set we send for each group received, None for none."""
        if self.acks.functional == "none":
            return None
        if self.acks.functional is not None:
            return self.acks.functional
        return "999" if self.uses_999_version else "997"

    @property
    def usage_indicator(self) -> Literal["P", "T"]:
        """ISA15 we send and expect."""
        return "P" if self.usage == "production" else "T"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def order_id(self, po_number: str) -> str:
        """Orders of this partner are `{id}:{PO number}` (the profile id is the account)."""
        return f"{self.id}:{po_number}"

    def receives(self, set_id: str) -> bool:
        return set_id in self.exchanges.inbound

    def sends(self, set_id: str) -> bool:
        return set_id in self.exchanges.outbound


class PartnerDirectory:
    """All profiles, looked up by id or by the ISA sender of an inbound interchange."""

    def __init__(self, profiles: dict[str, PartnerProfile], files: dict[str, str] | None = None) -> None:
        self._profiles = dict(profiles)
        self._files = dict(files or {})
        self._senders = {(p.isa.qualifier, p.isa.id): p for p in profiles.values()}
        self._mappings: dict[str, Mapping] = {}

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(self._profiles.values())

    def __len__(self) -> int:
        return len(self._profiles)

    def __contains__(self, partner_id: object) -> bool:
        return partner_id in self._profiles

    def get(self, partner_id: str) -> PartnerProfile | None:
        return self._profiles.get(partner_id)

    def file_of(self, partner_id: str) -> str | None:
        return self._files.get(partner_id)

    def mapping_for(self, partner_id: str) -> Mapping:
        """The partner's 850 mapping (its profile's `mapping`, else the built-in x12-850), loaded once."""
        mapping = self._mappings.get(partner_id)
        if mapping is None:
            profile, file = self._profiles.get(partner_id), self._files.get(partner_id)
            setting = profile.mapping if profile is not None and profile.mapping else "x12-850"
            mapping = self._mappings[partner_id] = _load_mapping(setting, Path(file).parent if file else Path("."))
        return mapping

    def by_sender(self, qualifier: str, sender_id: str) -> PartnerProfile | None:
        """The profile whose `isa` is this ISA05/ISA06; padding trimmed, case kept (X12 ids are case-sensitive)."""
        return self._senders.get((qualifier.strip(), sender_id.strip()))


def parse_profile(doc: Document, data: Any) -> PartnerProfile:
    if not isinstance(data, dict):
        raise ConfigErrors([doc.error((), "a partner file is a mapping with id, name, isa, us and gs")])
    try:
        return PartnerProfile.model_validate(data)
    except ValidationError as exc:
        raise ConfigErrors(validation_errors(doc, exc)) from None


def _load_mapping(setting: str, base_dir: Path) -> Mapping:
    from orderhub.mapping import Mapping, UnknownMappingError, builtin_mapping

    if setting.endswith((".yaml", ".yml")):
        path = Path(setting)
        return Mapping.load(path if path.is_absolute() else base_dir / path)
    try:
        return builtin_mapping(setting)
    except UnknownMappingError as exc:
        raise ValueError(str(exc)) from None


def load_partners(directory: Path) -> PartnerDirectory:
    """Every `*.yaml`/`*.yml` in `directory` (none when it does not exist); raises `ConfigErrors`."""
    if not directory.is_dir():
        return PartnerDirectory({})
    profiles: dict[str, PartnerProfile] = {}
    files: dict[str, str] = {}
    senders: dict[tuple[str, str], str] = {}
    errors: list[ConfigError] = []
    for file in sorted([*directory.glob("*.yaml"), *directory.glob("*.yml")]):
        try:
            doc = load_yaml(file)
            profile = parse_profile(doc, expand_env(doc))
        except ConfigError as exc:
            errors.append(exc)
            continue
        except ConfigErrors as exc:
            errors.extend(exc.errors)
            continue
        if profile.id in profiles:
            errors.append(doc.error(("id",), f"partner id {profile.id!r} is already used in {files[profile.id]}"))
            continue
        sender = (profile.isa.qualifier, profile.isa.id)
        if sender in senders:
            errors.append(
                doc.error(("isa", "id"), f"ISA sender {profile.isa} is already the partner {senders[sender]!r}")
            )
            continue
        if profile.mapping is not None:
            try:
                _load_mapping(profile.mapping, Path(doc.file).parent)
            except ValueError as exc:  # a MappingFileError names the mapping file, line and field
                errors.append(doc.error(("mapping",), str(exc)))
                continue
        profiles[profile.id] = profile
        files[profile.id] = doc.file
        senders[sender] = profile.id
    if errors:
        raise ConfigErrors(errors)
    return PartnerDirectory(profiles, files)
